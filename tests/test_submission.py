"""Finding the parts of a submission: folders, notebooks, zips, and what is refused."""

from __future__ import annotations

import itertools
import json
import sys
import zipfile
from pathlib import Path

import pytest

import grader.labs.rdfia.worker
from grader.submission import SubmissionError, open_submission
from grader.submission import files as files_module
from grader.worker.loader import load

COURSE = grader.labs.rdfia.worker.COURSE_DIR

IDS = itertools.count()
MANUAL = "import torch\ndef init_params(nx, nh, ny):\n    return {}\ndef forward(params, X):\n    return X, {}\n"


def code(source: str, with_id: bool = True, **extra) -> dict:
    cell = {
        "cell_type": "code",
        "metadata": {},
        "source": source,
        "outputs": [],
        "execution_count": None,
    }
    if with_id:
        cell["id"] = f"c{next(IDS)}"
    cell.update(extra)
    return cell


def markdown(source: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": source, "id": f"m{next(IDS)}"}


def notebook(cells: list[dict], minor: int = 5) -> str:
    if minor < 5:
        cells = [{k: v for k, v in c.items() if k != "id"} for c in cells]
    return json.dumps(
        {
            "nbformat": 4,
            "nbformat_minor": minor,
            "cells": cells,
            "metadata": {
                "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
            },
        }
    )


COMBINED = [
    code("import torch\n%matplotlib inline"),
    markdown('# Part 1 : Forward and backward passes "by hands"\nSome text'),
    code(
        "def init_params(nx, nh, ny):\n    return 'manual'\ndef loss_accuracy(Yhat, Y):\n    return 1"
    ),
    code("params = init_params(2, 10, 2)\nfor i in range(3):\n    pass"),
    markdown("## Part 2 : Simplification of the backward pass with `torch.autograd`"),
    code("def init_params(nx, nh, ny):\n    return 'autograd'"),
    markdown("## Part 3 : Simplification of the forward pass with `torch.nn`"),
    code(
        "def init_model(nx, nh, ny):\n    return 'nn'\ndef loss_accuracy(loss, Yhat, Y):\n    return 3"
    ),
    markdown("### Part 4 : Simplification of the SGD with `torch.optim`"),
    code("def init_model(nx, nh, ny, eta):\n    return 'optim'"),
    markdown("# Part 5 : MNIST"),
    code("def mnist_only():\n    pass"),
]


@pytest.fixture
def folder(tmp_path):
    def make(files: dict[str, str | bytes], name: str = "sub") -> Path:
        root = tmp_path / name
        for rel, content in files.items():
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            (target.write_bytes if isinstance(content, bytes) else target.write_text)(content)
        root.mkdir(exist_ok=True)
        return root

    return make


def origins(chunks) -> list[str]:
    return [c.origin for c in chunks]


def loaded(chunks, part="p"):
    sys.path.insert(0, COURSE)
    try:
        return load(chunks, part).namespace
    finally:
        sys.path.remove(COURSE)


def test_folder_of_modules(folder):
    sub = open_submission(
        folder(
            {
                "tp1_manual.py": MANUAL,
                "answers.py": "TOTAL_PARAMS = 1191170\n",
                "notes.txt": "ignored",
                "helper.py": "X = 1\n",
            }
        )
    )
    assert set(sub.parts) == {"tp1_manual", "answers"}
    assert sub.sources["tp1_manual"] == "tp1_manual.py"
    assert origins(sub.parts["tp1_manual"]) == ["tp1_manual.py"]
    assert set(sub.files) == {
        "tp1_manual.py",
        "answers.py",
        "helper.py",
    }  # helpers go to the worker
    assert sub.name == "sub" and len(sub.digest) == 16 and sub.notes == []


def test_ignored_folders_and_subfolder_copies(folder):
    sub = open_submission(
        folder(
            {
                "tp1_nn.py": "A = 1\n",
                "old/tp1_nn.py": "A = 2\n",
                ".ipynb_checkpoints/tp1_manual.py": MANUAL,
                "__pycache__/tp1_optim.py": "",
            }
        )
    )
    assert set(sub.parts) == {"tp1_nn"} and sub.sources["tp1_nn"] == "tp1_nn.py"


def test_module_in_a_subfolder_is_found(folder):
    sub = open_submission(folder({"code/tp1_nn.py": "A = 1\n"}))
    assert sub.sources["tp1_nn"] == "code/tp1_nn.py"


def test_per_part_notebook_in_folder_and_alone(folder):
    root = folder(
        {"tp1_autograd.ipynb": notebook([code("def init_params(nx, nh, ny):\n    pass")])}
    )
    sub = open_submission(root)
    assert (
        set(sub.parts) == {"tp1_autograd"} and sub.sources["tp1_autograd"] == "tp1_autograd.ipynb"
    )
    sub = open_submission(root / "tp1_autograd.ipynb")
    assert set(sub.parts) == {"tp1_autograd"} and sub.name == "tp1_autograd"
    assert origins(sub.parts["tp1_autograd"]) == ["tp1_autograd.ipynb, cell 1"]


@pytest.mark.parametrize("name", ["1_ab_Intro_to_NNs.ipynb", "my work.ipynb"])
def test_combined_notebook(folder, name):
    sub = open_submission(folder({name: notebook(COMBINED)}) / name)
    assert list(sub.parts) == ["tp1_manual", "tp1_autograd", "tp1_nn", "tp1_optim"]
    assert sub.sources["tp1_nn"] == f"{name}, Part 3"
    cell = lambda i: f"{name}, cell {i}"  # noqa: E731
    assert origins(sub.parts["tp1_manual"]) == [cell(1), cell(3), cell(4)]
    assert origins(sub.parts["tp1_optim"]) == [
        cell(1),
        cell(3),
        cell(4),
        cell(6),
        cell(8),
        cell(10),
    ]
    # as if run top to bottom: later definitions replace earlier ones; Part 5 is not Part 4
    assert loaded(sub.parts["tp1_manual"])["init_params"](2, 10, 2) == "manual"
    assert loaded(sub.parts["tp1_autograd"])["init_params"](2, 10, 2) == "autograd"
    ns = loaded(sub.parts["tp1_optim"])
    assert ns["init_model"](2, 10, 2, 0.1) == "optim" and ns["loss_accuracy"](None, None, None) == 3
    assert (
        "mnist_only" not in ns and "params" not in ns.keys()
    )  # top-level work: deferred, never run here


def test_combined_notebook_without_part_5(folder):
    sub = open_submission(folder({"tp.ipynb": notebook(COMBINED[:-2])}) / "tp.ipynb")
    assert origins(sub.parts["tp1_optim"])[-1] == "tp.ipynb, cell 10"


def test_headings_out_of_order_are_not_a_combined_notebook(folder):
    cells = [
        markdown("# Part 2"),
        code("X = 1"),
        markdown("# Part 1"),
        markdown("# Part 3"),
        markdown("# Part 4"),
    ]
    sub = open_submission(folder({"odd.ipynb": notebook(cells)}))
    assert sub.parts == {}


def test_notebook_of_any_name_recognised_by_its_names(folder):
    cnn = notebook(
        [
            code("import torch.nn as nn\nclass ConvNet(nn.Module):\n    pass"),
            code("def epoch(data, model, criterion, optimizer=None, cuda=False):\n    pass"),
            code("def main(batch_size=128, lr=0.1, epochs=5):\n    pass\nmain()"),
        ]
    )
    sub = open_submission(folder({"1_cd_CNNs.ipynb": cnn, "tp1_manual.py": MANUAL}))
    assert sub.sources["tp2_cnn"] == "1_cd_CNNs.ipynb" and set(sub.parts) == {
        "tp1_manual",
        "tp2_cnn",
    }


def test_notebook_cells_as_ipython_runs_them(folder):
    cells = [
        code("!wget https://example.com/utils-data.py\n%matplotlib inline\n%run 'utils-data.py'"),
        code("    def indented():\n        return 1"),
        code("%%time\ndef timed():\n    return 2"),
        code(
            "print('x')",
            outputs=[{"output_type": "stream", "name": "stdout", "text": "y" * (4 << 20)}],
        ),
        code("X = 5", with_id=False),
        code(""),
        {"cell_type": "raw", "metadata": {}, "source": "raw text"},
    ]
    for minor in (4, 5):
        sub = open_submission(
            folder({"tp1_manual.ipynb": notebook(cells, minor)}, name=f"m{minor}")
            / "tp1_manual.ipynb"
        )
        ns = loaded(sub.parts["tp1_manual"])
        assert ns["indented"]() == 1 and ns["timed"]() == 2 and ns["X"] == 5 and "CirclesData" in ns


def test_notebook_source_as_list_of_lines(folder):
    data = notebook([code(["def f():\n", "    return 1\n"])])
    sub = open_submission(folder({"tp1_nn.ipynb": data}) / "tp1_nn.ipynb")
    assert loaded(sub.parts["tp1_nn"])["f"]() == 1


def test_notebook_with_schema_slips_is_read(folder):
    data = json.dumps(
        {
            "nbformat": 4,
            "nbformat_minor": 2,
            "metadata": {},
            "cells": [{"cell_type": "code", "source": "A = 1"}],
        }
    )  # no metadata, no outputs
    sub = open_submission(folder({"tp1_nn.ipynb": data}) / "tp1_nn.ipynb")
    assert loaded(sub.parts["tp1_nn"])["A"] == 1


@pytest.mark.parametrize("data", ["{not json", "[]", "{}", b"\xff\xfe bad bytes"])
def test_malformed_notebook(folder, data):
    root = folder({"tp1_nn.ipynb": data, "answers.py": "X = 1\n"})
    sub = open_submission(root)
    assert set(sub.parts) == {"answers"}
    assert len(sub.notes) == 1 and "tp1_nn.ipynb" in sub.notes[0]
    with pytest.raises(SubmissionError, match="tp1_nn.ipynb"):
        open_submission(root / "tp1_nn.ipynb")


def test_non_utf8_module_is_read(folder):
    latin = "# r\u00e9seau \u00e0 une couche cach\u00e9e\nX = 'caf\u00e9'\n".encode("cp1252")
    cookie = "# -*- coding: latin-1 -*-\nX = 'caf\u00e9'\n".encode("latin-1")
    sub = open_submission(folder({"tp1_nn.py": latin, "tp1_optim.py": cookie}))
    assert set(sub.parts) == {"tp1_nn", "tp1_optim"}
    assert (
        loaded(sub.parts["tp1_nn"])["X"] == "caf\u00e9"
        and loaded(sub.parts["tp1_optim"])["X"] == "caf\u00e9"
    )
    assert len(sub.notes) == 1 and "tp1_nn.py" in sub.notes[0]  # the cookie is fine: no note


def test_utf8_bom_module(folder):
    sub = open_submission(folder({"tp1_nn.py": "\ufeffA = 1\n".encode()}))
    assert loaded(sub.parts["tp1_nn"])["A"] == 1 and sub.notes == []


def test_single_module_of_another_name(folder):
    sub = open_submission(
        folder({"mine.py": MANUAL + "def backward(p, o, Y):\n    pass\n"}) / "mine.py"
    )
    assert sub.sources == {"tp1_manual": "mine.py"} and sub.name == "mine"


def make_zip(path: Path, entries: dict[str, bytes | str], compress=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compress) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def test_zip_of_a_folder(tmp_path):
    path = make_zip(
        tmp_path / "sub.zip",
        {
            "student/": b"",
            "student/tp1_manual.py": MANUAL,
            "student/nb/answers.ipynb": notebook([code("TOTAL_PARAMS = 1")]),
            "__MACOSX/student/._tp1_manual.py": b"\0\0",
        },
    )
    sub = open_submission(path)
    assert sub.name == "sub" and set(sub.parts) == {"tp1_manual", "answers"}
    assert sub.sources == {"tp1_manual": "tp1_manual.py", "answers": "nb/answers.ipynb"}


def test_zip_at_top_level(tmp_path):
    sub = open_submission(
        make_zip(tmp_path / "s.zip", {"tp1_manual.py": MANUAL, "x/tp1_nn.py": "A = 1\n"})
    )
    assert sub.sources == {"tp1_manual": "tp1_manual.py", "tp1_nn": "x/tp1_nn.py"}


@pytest.mark.parametrize("entry", ["../x.py", "a/../../x.py", "/etc/x.py", "C:/x.py", "..\\x.py"])
def test_zip_slip_refused(tmp_path, entry):
    path = make_zip(tmp_path / "evil.zip", {"tp1_manual.py": MANUAL, entry: "X = 1\n"})
    with pytest.raises(SubmissionError, match="outside"):
        open_submission(path)


def test_zip_bomb_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(files_module, "MAX_FILE", 1 << 20)
    path = make_zip(tmp_path / "bomb.zip", {"tp1_manual.py": b"#" * (4 << 20)})
    assert path.stat().st_size < 64 << 10
    with pytest.raises(SubmissionError, match="inflates"):
        open_submission(path)


def test_zip_total_cap(tmp_path, monkeypatch):
    monkeypatch.setattr(files_module, "MAX_TOTAL", 3 << 20)
    path = make_zip(tmp_path / "many.zip", {f"m{i}.py": b"#" * (1 << 20) for i in range(4)})
    with pytest.raises(SubmissionError, match="inflates"):
        open_submission(path)


def test_zip_whose_header_lies_about_size(tmp_path, monkeypatch):
    monkeypatch.setattr(files_module, "MAX_FILE", 1 << 20)
    path = make_zip(tmp_path / "liar.zip", {"tp1_manual.py": b"#" * (2 << 20)})
    data = bytearray(path.read_bytes())
    size = (2 << 20).to_bytes(4, "little")
    small = (10).to_bytes(4, "little")
    path.write_bytes(bytes(data).replace(size, small))  # both headers now claim 10 bytes
    with pytest.raises(SubmissionError):
        open_submission(path)


@pytest.mark.parametrize("content", [b"not a zip at all", b"PK\x03\x04truncated", b""])
def test_not_a_zip(tmp_path, content):
    path = tmp_path / "broken.zip"
    path.write_bytes(content)
    with pytest.raises(SubmissionError, match="zip"):
        open_submission(path)


def test_missing_path(tmp_path):
    with pytest.raises(SubmissionError, match="no such file"):
        open_submission(tmp_path / "nothing")


def test_unsupported_file(tmp_path):
    (tmp_path / "report.pdf").write_bytes(b"%PDF")
    with pytest.raises(SubmissionError):
        open_submission(tmp_path / "report.pdf")


def test_near_miss_file_name(folder):
    sub = open_submission(folder({"tp1-manual.py": MANUAL, "tp1_nn.py": "A = 1\n"}))
    assert "tp1_manual" not in sub.parts
    note = sub.missing_note("tp1_manual")
    assert "not found" in note and "did you mean `tp1-manual`" in note
    assert "did you mean" not in sub.missing_note("tp2_cnn")


def test_precedence_module_then_part_notebook_then_combined(folder):
    files = {
        "tp1_manual.py": MANUAL,
        "tp1_manual.ipynb": notebook([code("X = 'per-part manual'")]),
        "tp1_nn.ipynb": notebook([code("X = 'per-part nn'")]),
        "tp1.ipynb": notebook(COMBINED),
    }
    sub = open_submission(folder(files))
    assert sub.sources == {
        "tp1_manual": "tp1_manual.py",
        "tp1_nn": "tp1_nn.ipynb",
        "tp1_autograd": "tp1.ipynb, Part 2",
        "tp1_optim": "tp1.ipynb, Part 4",
    }


def test_empty_folder(folder):
    sub = open_submission(folder({}))
    assert sub.parts == {} and "not found" in sub.missing_note("answers")


def test_suggest_near_misses():
    from grader.suggest import did_you_mean, suggest

    assert suggest("sgd", ["sgd_step", "forward", "init_params"]) == ["sgd_step"]
    assert suggest("forward", ["Forward", "backward_pass"]) == ["Forward"]
    assert suggest("backward", ["init_params", "X", "b"]) == []
    assert did_you_mean("epoch", ["train_epoch", "epochs"]).startswith("; did you mean `epochs`")
    assert did_you_mean("ConvNet", []) == ""


def test_a_part_identical_to_the_template_is_not_started(tmp_path):
    """Whitespace, comments and docstrings do not start a part; a changed body, or a near miss
    of one of its names (`sgd_step` for `sgd`), does; a filled Part 1 of the combined notebook
    does not start its Part 2."""
    from conftest import ROOT
    from filled import filled

    template = (ROOT / "student_template" / "tp1_manual.py").read_text()
    touched = template.replace("def sgd(", "# my notes\n\n\ndef sgd(", 1)
    assert touched != template
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "tp1_manual.py").write_text(touched)
    assert open_submission(tmp_path / "a").not_started == {"tp1_manual"}
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "tp1_manual.py").write_text(
        template + "\n\ndef sgd_step(params, grads, eta):\n    return params\n"
    )
    assert open_submission(tmp_path / "b").not_started == set()
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "1-ab.ipynb").write_text(
        filled(ROOT / "student_template" / "notebooks" / "1-ab.ipynb", ("tp1_manual",))
    )
    sub = open_submission(tmp_path / "c")
    assert sub.not_started == {"tp1_autograd", "tp1_nn", "tp1_optim"} and "tp1_manual" in sub.parts


def test_a_notebooks_own_check_is_not_graded_but_other_uses_of_the_grader_are_flagged(tmp_path):
    from grader import static

    cells = [
        code(
            "import torch\nfrom grader import check\n\ndef sgd(params, grads, eta):\n    return params"
        ),
        code("result = check('tp1_manual')\nprint(result)"),
    ]
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "tp1_manual.ipynb").write_text(notebook(cells))
    sub = open_submission(tmp_path / "a")
    first, second = (c.code for c in sub.parts["tp1_manual"])
    assert first.splitlines()[1] == "" and "def sgd" in first and second.splitlines()[0] == ""
    assert static.cheat_report(sub) == []
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "tp1_manual.ipynb").write_text(
        notebook([code("import grader\ncheck = 1\nx = check")])
    )
    flags = static.cheat_report(open_submission(tmp_path / "b"))
    assert [f.what for f in flags] == ["imports the grader"]
