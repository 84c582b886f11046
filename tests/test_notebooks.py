"""Notebooks as students hand them in (contract, "Submission layout"): the course's TP 1-ab
notebook with its noise scores exactly what the same functions score as the four modules,
renamed or not, with or without cell ids; messages point at the cell and line.

The corpus is built by tests/course_notebooks.py. Each grade starts a worker, so there are
five: a correct notebook and its modules, per-part notebooks of the same code, and a
renamed notebook with mistakes (through the command line) and its modules.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import course_notebooks as corpus
import nbformat
import pytest

from grader.render import json as json_render
from grader.render import terminal
from grader.results import Report
from grader.runner import grade
from grader.sandbox import Limits
from grader.submission import open_submission
from grader.submission.notebook import Notebook
from grader.worker.loader import load

TP1 = ("tp1_manual", "tp1_autograd", "tp1_nn", "tp1_optim")
COURSE = str(
    Path(corpus.__file__).resolve().parents[1] / "grader" / "labs" / "rdfia" / "worker" / "course"
)
RENAMED = "TP1_Dupont_final(2).ipynb"


def run(path: Path) -> Report:
    return grade(open_submission(path), limits=Limits(call_seconds=60.0), parts=TP1)


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def verdicts(tests) -> dict[str, tuple[str, float]]:
    """id -> (status, score) of a Report's tests or of the JSON's."""
    pairs = [
        (t["id"], t["status"], t["score"]) if isinstance(t, dict) else (t.id, t.status, t.score)
        for t in tests
    ]
    return {id_: (status, score) for id_, status, score in pairs}


def no_temp_paths(root: Path, *texts: str):
    """Messages name the notebook's cells, never a file of the grader's or the worker's."""
    for text in texts:
        assert "/tmp" not in text and str(root) not in text, text


# -- the split, without grading ------------------------------------------------------------------


def test_course_notebook_split_into_parts(tmp_path):
    text = corpus.course_notebook()
    sub = open_submission(
        write(tmp_path / "a", {"1_ab_Intro_to_NNs.ipynb": text}) / "1_ab_Intro_to_NNs.ipynb"
    )
    assert list(sub.parts) == list(TP1) and sub.name == "1_ab_Intro_to_NNs"
    assert sub.sources["tp1_optim"] == "1_ab_Intro_to_NNs.ipynb, Part 4"
    cells = nbformat.reads(text, as_version=4).cells
    number = lambda chunk: int(chunk.origin.rsplit("cell ", 1)[1])  # noqa: E731
    part5 = corpus.cell_of(text, "Part 5 : MNIST")[0]
    assert max(number(c) for c in sub.parts["tp1_optim"]) < part5  # MNIST and SVM are not Part 4
    assert all(cells[number(c) - 1].cell_type == "code" for c in sub.parts["tp1_optim"])
    # part k runs from the top: Part 2 still holds Part 1's cells, then replaces its names
    assert sub.parts["tp1_autograd"][: len(sub.parts["tp1_manual"])] == sub.parts["tp1_manual"]

    # the same notebook without cell ids (nbformat 4.4) and renamed: the same chunks
    old = corpus.course_notebook(with_ids=False)
    assert (
        all("id" not in c for c in json.loads(old)["cells"])
        and json.loads(old)["nbformat_minor"] == 4
    )
    renamed = open_submission(write(tmp_path / "b", {RENAMED: old}) / RENAMED)
    assert (
        renamed.name == "TP1_Dupont_final(2)" and renamed.sources["tp1_nn"] == f"{RENAMED}, Part 3"
    )
    assert [(c.origin.replace(RENAMED, "x"), c.code) for c in renamed.parts["tp1_optim"]] == [
        (c.origin.replace("1_ab_Intro_to_NNs.ipynb", "x"), c.code) for c in sub.parts["tp1_optim"]
    ]


def test_french_headings_split_the_same_parts(tmp_path):
    """`# Partie 1` .. `# Partie 6`, roman numerals and a title alone head the parts as the
    English headings do (the lab declares the words): the same chunks, Parts 5 and 6 left out."""
    english, french = (
        open_submission(
            write(tmp_path / name, {"tp1.ipynb": corpus.course_notebook(headings=h)}) / "tp1.ipynb"
        )
        for name, h in (("en", corpus.HEADINGS), ("fr", corpus.FRENCH_HEADINGS))
    )
    assert list(french.parts) == list(TP1) and french.sources["tp1_nn"] == "tp1.ipynb, Part 3"
    assert {p: [(c.origin, c.code) for c in french.parts[p]] for p in TP1} == {
        p: [(c.origin, c.code) for c in english.parts[p]] for p in TP1
    }


def test_course_notebook_loads_definitions_only(tmp_path, monkeypatch):
    """In this process: the noise runs nothing, later parts replace earlier names, and the cell
    that does not parse is named by its number."""
    monkeypatch.syspath_prepend(COURSE)
    text = corpus.course_notebook()
    sub = open_submission(write(tmp_path / "a", {"nb.ipynb": text}) / "nb.ipynb")
    bad = "nb.ipynb, cell {}, line {}".format(*corpus.cell_of(text, "for eta in [0.01"))
    manual, autograd = (load(sub.parts[p], p) for p in ("tp1_manual", "tp1_autograd"))
    for loaded in (manual, autograd):
        assert [s["where"] for s in loaded.skipped] == [bad]
        assert "does not parse" in loaded.skipped[0]["error"]
        ns = loaded.namespace
        assert {"CirclesData", "Variable", "data", "accuracy_on"} <= set(
            ns
        )  # %run, imports, indented cell
        assert not {"params", "Yhat", "iteration", "clf", "MNISTData"} & set(ns)
    assert not manual.namespace["init_params"](2, 10, 2)["Wh"].requires_grad
    assert autograd.namespace["init_params"](2, 10, 2)[
        "Wh"
    ].requires_grad  # Part 2's replaces Part 1's


def test_cell_lines_keep_their_numbers(monkeypatch):
    """IPython drops a cell's blank top lines and the notebook drops `%%time`: the lines
    that follow still have the numbers Jupyter shows."""
    monkeypatch.syspath_prepend(COURSE)
    cells = [
        "\n\n  x = 1\n  y = (",
        "%%time\n\ndef g():\n    pass\nz = 1 / 0",
        "\n%%capture\nw = 1 / 0",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    notebook = Notebook("x.ipynb", nbformat.writes(nb).encode())
    assert [s["where"] for s in load(notebook.all_chunks(), "p").skipped] == [
        "x.ipynb, cell 1, line 4",
        "x.ipynb, cell 2, line 5",
        "x.ipynb, cell 3, line 3",
    ]


def test_automagics_without_percent_are_magics(monkeypatch):
    """`cd folder` is no Python, but IPython runs it as `%cd folder`; a name the cell assigns stays Python."""
    monkeypatch.syspath_prepend(COURSE)
    cells = [
        "cd drive/MyDrive/RDFIA\nls\nrun utils.py\nX = AverageMeter()",
        "ls = [1, 2]\ncd = len(ls)",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    loaded = load(Notebook("x.ipynb", nbformat.writes(nb).encode()).all_chunks(), "p")
    assert loaded.skipped == [] and loaded.namespace["X"].count == 0 and loaded.namespace["cd"] == 2


# -- grades: a notebook scores what its modules score ---------------------------------------------


@pytest.fixture(scope="module")
def correct(tmp_path_factory):
    """The correct notebook, the same code as modules, and as per-part notebooks: three grades."""
    root = tmp_path_factory.mktemp("correct")
    notebook = (
        write(root / "nb", {"1_ab_Intro_to_NNs.ipynb": corpus.course_notebook()})
        / "1_ab_Intro_to_NNs.ipynb"
    )
    modules = write(root / "modules", corpus.modules())
    per_part = write(
        root / "per_part",
        {
            f"{Path(name).stem}.ipynb": corpus.part_notebook(text)
            for name, text in corpus.modules().items()
        },
    )
    return {
        "notebook": run(notebook),
        "modules": run(modules),
        "per_part": run(per_part),
        "root": root,
    }


def test_course_notebook_scores_full_marks_like_its_modules(correct):
    notebook, modules = correct["notebook"], correct["modules"]
    bad = [f"{t.id}: {t.status} {t.message}" for t in notebook.tests if t.status != "passed"]
    assert not bad, "\n".join(bad)
    assert (
        verdicts(notebook.tests) == verdicts(modules.tests) == verdicts(correct["per_part"].tests)
    )
    assert notebook.score == modules.score == notebook.max_score > 0
    assert [p.source for p in correct["per_part"].parts] == [f"{p}.ipynb" for p in TP1]


def test_course_notebook_names_the_bad_cell_in_every_part(correct):
    notebook = correct["notebook"]
    cell, line = corpus.cell_of(corpus.course_notebook(), "for eta in [0.01")
    first, *others = notebook.parts  # the note comes once, with the first part that reads the cell
    assert [s["where"] for s in first.skipped] == [
        f"1_ab_Intro_to_NNs.ipynb, cell {cell}, line {line}"
    ]
    assert all(p.skipped == [] for p in others + correct["modules"].parts)
    text = "\n".join(terminal.lines(notebook))
    assert (
        text.count(
            f"skipped at load time: 1_ab_Intro_to_NNs.ipynb, cell {cell}, line {line}: does not parse"
        )
        == 1
    )
    no_temp_paths(correct["root"], text, json.dumps(json_render.as_dict(notebook)))


@pytest.fixture(scope="module")
def mistaken(tmp_path_factory):
    """The renamed notebook with mistakes, graded by `grade check` as a student runs it, and
    the same code as modules, graded here."""
    root = tmp_path_factory.mktemp("mistaken")
    text = corpus.course_notebook(mistakes=True, with_ids=False)
    path = write(root / "nb", {RENAMED: text}) / RENAMED
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader.cli",
            "check",
            str(path),
            "--json",
            "out.json",
            "--parts",
            *TP1,
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 1, done.stderr
    return {
        "root": root,
        "text": text,
        "terminal": done.stdout + done.stderr,
        "json": json.loads((root / "out.json").read_text()),
        "modules": run(write(root / "modules", corpus.modules(mistakes=True))),
    }


def test_renamed_notebook_with_mistakes_scores_like_its_modules(mistaken):
    got, modules = mistaken["json"], mistaken["modules"]
    assert got["submission"] == "TP1_Dupont_final(2)"
    assert verdicts(got["tests"]) == verdicts(modules.tests)
    assert got["score"] == modules.score < got["max_score"]
    assert [p["part"] for p in got["parts"] if p["found"]] == list(TP1)
    no_temp_paths(mistaken["root"], mistaken["terminal"], json.dumps(got))


def test_french_notebook_with_mistakes_scores_like_its_modules(mistaken):
    """A wrong function under a French heading still loses its points, and only those."""
    text = corpus.course_notebook(mistakes=True, headings=corpus.FRENCH_HEADINGS)
    report = run(write(mistaken["root"] / "fr", {"TP1_Partie.ipynb": text}) / "TP1_Partie.ipynb")
    assert verdicts(report.tests) == verdicts(mistaken["modules"].tests)
    assert report.score == mistaken["modules"].score < report.max_score


def test_near_miss_names(mistaken):
    messages = {t["id"]: t["message"] for t in mistaken["json"]["tests"]}
    assert (
        messages["tp1_manual::sgd::update"]
        == "`sgd` not found in tp1_manual; did you mean `sgd_step`?"
    )
    assert (
        messages["tp1_manual::forward::yhat"]
        == "`forward` not found in tp1_manual; did you mean `Forward`?"
    )
    assert "did you mean `loss_acc`" in messages["tp1_manual::loss_accuracy::loss"]


def test_messages_point_at_the_cell_and_line(mistaken):
    text, tests = mistaken["text"], {t["id"]: t for t in mistaken["json"]["tests"]}
    cell, line = corpus.cell_of(text, 'raise NotImplementedError("sgd: to do")')
    assert (
        f"({RENAMED}, cell {cell}, line {line}, in sgd)" in tests["tp1_nn::sgd::update"]["message"]
    )
    cell, line = corpus.cell_of(text, "params[k].grad.zero()")
    crash = tests["tp1_autograd::sgd::update"]
    assert crash["status"] == "error"
    assert f'File "{RENAMED}, cell {cell}", line {line}, in sgd' in crash["message"]
    assert "params[k].grad.zero()" in crash["message"]  # the line itself, though no file holds it
    bad = "{}, cell {}, line {}".format(RENAMED, *corpus.cell_of(text, "for eta in [0.01"))
    assert f"skipped at load time: {bad}: does not parse" in mistaken["terminal"]


# -- TP 1-cd: the course's 1_cd_CNNs.ipynb with its noise, recognised and loaded -----------------


def test_course_cnn_notebook_with_noise(tmp_path, monkeypatch):
    """The rubric grades this code to full marks (test_rubric_tp2); here, the noise around it."""
    monkeypatch.syspath_prepend(COURSE)
    source = (Path(__file__).parent / "tp2_course_variant.py").read_text()
    cells = [
        "!wget https://github.com/cdancette/deep-learning-polytech-tp6-7/raw/master/tp7/utils.py\n"
        "%matplotlib inline\n%run 'utils.py'",
        "import torchvision\nimport torchvision.transforms as transforms",
    ]
    cells += [chunk for chunk in source.split("\n\n\n") if chunk.strip()]
    cells += ["main(batch_size=128, lr=0.1, epochs=5, cuda=False)"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    sub = open_submission(
        write(tmp_path / "s", {"1_cd_CNNs.ipynb": nbformat.writes(nb)}) / "1_cd_CNNs.ipynb"
    )
    assert sub.sources == {"tp2_cnn": "1_cd_CNNs.ipynb"}
    loaded = load(sub.parts["tp2_cnn"], "tp2_cnn", provided=sub.lab.provided("tp2_cnn"))
    assert all("torchvision" in s["error"] for s in loaded.skipped)  # absent here, or installed
    ns = loaded.namespace
    assert {"ConvNet", "ConvNetImproved", "epoch", "main", "AverageMeter", "accuracy"} <= set(ns)
    assert (
        ns["PRINT_INTERVAL"] == 50 and type(ns["loss_plot"]).__name__ == "TrainLossPlot"
    )  # main never ran
