"""The student edition (`grade release`): it holds no answer, and it grades as the
instructor's edition does at the public seed.

The wheel is built once per session and installed in a fresh venv that sees the
grader's dependencies but no other copy of the grader (the system's editable install
of the project maps `grader.reference` to a source tree: its finder must stay off).
"""

from __future__ import annotations

import ast
import importlib.metadata
import io
import json
import marshal
import os
import pickle
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import REFERENCE, ROOT, full_marks
from filled import filled
from test_rubric_tp1 import ROUNDS, VARIANTS, mutated

from grader import release
from grader.labs.rdfia.inputs.answers import CASES
from grader.reference import answers as ref_answers

# Where the student edition gives a plainer diagnosis (README, "For students").
PLAINER = {"tp1_optim::training::curves"}
ANSWER_MISTAKES = [
    (
        "return (size + 2 * padding - kernel) // stride + 1",
        "return (size + 2 * padding - kernel) // stride",
    ),
    ("TOTAL_PARAMS = 1191170", "TOTAL_PARAMS = 1190000"),
    ('SAME_CONV_5x5 = {"padding": 2, "stride": 1}', 'SAME_CONV_5x5 = {"padding": 4, "stride": 1}'),
]


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    return release.build(tmp_path_factory.mktemp("release"))


@pytest.fixture(scope="session")
def files(wheel) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as z:
        return {name: z.read(name) for name in z.namelist()}


@pytest.fixture(scope="session")
def student_python(wheel, tmp_path_factory) -> Path:
    """A venv with the student edition; the dependencies' own directories on its path by a .pth."""
    venv = tmp_path_factory.mktemp("student") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    dirs = {str(importlib.metadata.distribution(name).locate_file("")) for name in _dependencies()}
    assert not any((Path(d) / "grader").exists() for d in dirs), (
        "a dependency directory holds a grader"
    )
    (Path(site) / "grader-dependencies.pth").write_text("\n".join(sorted(dirs)) + "\n")
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True,
    )
    return python


def _dependencies() -> set[str]:
    """The distributions the grader needs, with theirs."""
    seen, todo = set(), ["rdfia-grader"]
    while todo:
        name = todo.pop()
        for req in importlib.metadata.requires(name) or []:
            dep = req.split(";")[0].split("[")[0].split(" ")[0]
            for op in "<>=!~":
                dep = dep.split(op)[0]
            if "extra ==" in req or dep.lower() in seen:
                continue
            try:
                importlib.metadata.distribution(dep)
            except importlib.metadata.PackageNotFoundError:
                continue
            seen.add(dep.lower())
            todo.append(dep)
    return seen


# -- what the wheel holds --------------------------------------------------------------------


def test_no_oracle_or_reference_file(files):
    assert "grader/expectations.pt" in files
    leaked = [
        n
        for n in files
        if n.startswith(("grader/labs/rdfia/oracle/", "grader/reference/"))
        or "reference" in Path(n).name
    ]
    assert not leaked


def _function_bodies(tree: ast.AST) -> set[str]:
    return {
        ast.dump(ast.Module(body=node.body, type_ignores=[]))
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }


def _code_objects(code):
    yield code
    for const in code.co_consts:
        if hasattr(const, "co_code"):
            yield from _code_objects(const)


def test_no_function_of_the_reference(files):
    sources = {p: p.read_text() for p in REFERENCE.glob("*.py")}
    bodies = set().union(*(_function_bodies(ast.parse(s)) for s in sources.values()))
    codes = {
        c.co_code
        for s in sources.values()
        for c in _code_objects(compile(s, "ref", "exec"))
        if c.co_name != "<module>"
    }
    assert bodies and codes
    for name, data in files.items():
        if name.endswith(".py"):
            assert not _function_bodies(ast.parse(data)) & bodies, (
                f"{name} holds a function of reference/"
            )
        if name.endswith(".pyc"):
            assert not {c.co_code for c in _code_objects(marshal.loads(data[16:]))} & codes, name


def test_no_hidden_check(files):
    rubric = [
        n for n in files if n.startswith("grader/labs/rdfia/rubric/test_") and n.endswith(".py")
    ]
    assert rubric
    for name in rubric:
        decorators = [
            d
            for node in ast.walk(ast.parse(files[name]))
            if isinstance(node, ast.FunctionDef)
            for d in node.decorator_list
        ]
        assert not any(release._is_hidden(d) for d in decorators), name


def test_strip_hidden_removes_the_check_whole():
    source = (
        '@check("p::a", points=1)\ndef test_a(student):\n    pass\n\n\n'
        '@check("p::b", points=1, hidden=True)\ndef test_b(student):\n    """Secret."""\n    return 1\n'
    )
    stripped = release.strip_hidden(source)
    assert (
        "test_a" in stripped
        and "test_b" not in stripped
        and "p::b" not in stripped
        and "Secret" not in stripped
    )


def test_a_hidden_row_of_a_table_of_checks_is_refused():
    source = (
        '@pytest.mark.parametrize("k", [pytest.param(1, marks=check("p::a", points=1)),\n'
        '                               pytest.param(2, marks=check("p::b", points=1, hidden=True))])\n'
        "def test_k(student, k):\n    pass\n"
    )
    with pytest.raises(ValueError, match="line 2 is not a test's own decorator"):
        release.strip_hidden(source)


def _answer_values() -> set[int]:
    """TOTAL_PARAMS, the Q10 table's counts, and the answers' outputs on the rubric's test inputs
    (those large enough to mean something when found in a file)."""
    values = {ref_answers.TOTAL_PARAMS} | {n for _, _, n in ref_answers.LAYER_TABLE}
    values |= {
        int(getattr(ref_answers, name)(*args)) for name, cases in CASES.items() for args in cases
    }
    inputs = {
        v
        for cases in CASES.values()
        for args in cases
        for a in args
        for v in (a if isinstance(a, list) else [a])
    }
    return {v for v in values - inputs if v >= 100}


def _forms(v: int) -> list[bytes]:
    """`v` as text (a whole word: not inside a hex digest), and, where it is long enough not to
    occur by chance, as pickle's int opcode (the recorded data, and any pickled constant)."""
    text = [
        rb"(?<![0-9A-Za-z,])" + re.escape(t.encode()) + rb"(?![0-9A-Za-z])"
        for t in {str(v), f"{v:,}"}
    ]
    return text + ([re.escape(pickle.dumps(v)[2:-1])] if v >= 1000 else [])


def test_no_answer_value_in_clear(files):
    values = _answer_values()
    assert {1191170, 2432, 136} <= values
    for name, data in _unpacked(files).items():
        for v in values:
            assert not any(re.search(form, data) for form in _forms(v)), (
                f"{name} holds the answer value {v}"
            )


def _unpacked(files: dict[str, bytes]) -> dict[str, bytes]:
    """The wheel's files, with the members of the recorded data (a zip) in its place."""
    out = {}
    for name, data in files.items():
        if name.endswith(".pt"):
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                out |= {f"{name}:{member}": z.read(member) for member in z.namelist()}
        else:
            out[name] = data
    return out


# -- how it grades ----------------------------------------------------------------------------

GRADE = """
import json, sys
from pathlib import Path
from grader.render import html
from grader.runner import grade
from grader.sandbox import Limits
from grader.submission import open_submission
out, reports = {}, Path(sys.argv[1])
for n, path in enumerate(sys.argv[2:]):
    r = grade(open_submission(path), seed=0, limits=Limits(call_seconds=60.0))
    (reports / f"{n}.html").write_text(html.render(r))
    out[path] = {"score": r.score, "max": r.max_score,
                 "failed": {t.id: t.diagnosis for t in r.tests if t.status != "passed"}}
print(json.dumps(out))
"""


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> list[str]:
    """The reference, the template, the correct variants, every round of named tp1 mistakes and wrong answers."""
    folders = [REFERENCE, ROOT / "student_template", VARIANTS / "correct_a", VARIANTS / "correct_b"]
    for name, (_, parts) in ROUNDS.items():
        folder = tmp_path_factory.mktemp(name)
        for part, (edits, _) in parts.items():
            (folder / f"{part}.py").write_text(mutated(part, *edits))
        folders.append(folder)
    answers = tmp_path_factory.mktemp("answers_mistakes")
    (answers / "answers.py").write_text(mutated("answers", *ANSWER_MISTAKES))
    return [str(f) for f in folders + [answers]]


@pytest.fixture(scope="session")
def reports(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("reports")


@pytest.fixture(scope="session")
def both_editions(student_python, corpus, reports) -> tuple[dict, dict]:
    """Every corpus submission graded by each edition (HTML reports under `reports`), the two
    in parallel, outside the source tree."""
    runs = []
    # The student venv reaches torch through a .pth, which the worker's allow-list root leaves out (it binds
    # only the packages of each site dir): its worker runs without the namespaces. Verdicts do not depend on them.
    for edition, python, env in (
        ("student", student_python, {"GRADER_ISOLATION": "0"}),
        ("instructor", sys.executable, {}),
    ):
        (reports / edition).mkdir()
        runs.append(
            subprocess.Popen(
                [python, "-c", GRADE, str(reports / edition), *corpus],
                cwd=reports,
                stdout=subprocess.PIPE,
                text=True,
                env=os.environ | env,
            )
        )
    student, instructor = (json.loads(run.communicate(timeout=900)[0]) for run in runs)
    return student, instructor


def test_student_edition_has_no_solution(student_python, tmp_path):
    probe = (
        "import importlib.util, grader; print(grader.edition(), "
        "importlib.util.find_spec('grader.reference') is None, importlib.util.find_spec('grader.labs.rdfia.oracle') is None)"
    )
    out = subprocess.run(
        [student_python, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["student", "True", "True"]


def test_student_edition_grades_seed_zero_only(student_python, tmp_path):
    out = subprocess.run(
        [student_python, "-m", "grader.cli", "check", str(REFERENCE), "--seed", "3"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert (
        out.returncode == 2
        and "graded by the instructor" in out.stderr
        and "Traceback" not in out.stderr
    )
    state = tmp_path / "config"  # without --seed: the public seed, and no instructor's seed drawn
    out = subprocess.run(
        [
            student_python,
            "-m",
            "grader.cli",
            "check",
            str(REFERENCE),
            "--parts",
            "answers",
            "--quiet",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=os.environ | {"XDG_CONFIG_HOME": str(state), "GRADER_ISOLATION": "0"},
    )
    assert out.returncode == 0 and out.stdout.endswith("points (seed 0)\n"), out.stderr
    assert not (state / "rdfia-grader").exists()


def test_same_verdicts_as_the_instructor(both_editions, corpus):
    student, instructor = both_editions
    reference, template = corpus[0], corpus[1]
    assert (
        instructor[reference]["score"] == instructor[reference]["max"] > 0
        and not instructor[reference]["failed"]
    )
    assert instructor[template]["score"] == 0
    for path in corpus:
        s, i = student[path], instructor[path]
        assert (s["score"], s["max"], set(s["failed"])) == (
            i["score"],
            i["max"],
            set(i["failed"]),
        ), path
        for tid, diagnosis in i["failed"].items():
            if tid in PLAINER:
                assert (s["failed"][tid] is None) == (diagnosis is None), (path, tid)
            else:
                assert s["failed"][tid] == diagnosis, (path, tid)
    assert any(i["failed"].get(t) for i in instructor.values() for t in PLAINER), (
        "the corpus shows a plainer diagnosis"
    )


# Handout formulas (1-ab Q7-17, 1-cd Q1-Q11) as the rubric used to print them.
FORMULAS = [
    "1 − H²",
    "1 - H²",
    "∇Ỹᵀ",
    "Hᵀ ∇Ỹ",
    "∇H̃ᵀ",
    "Xᵀ ∇H̃",
    "Σ_rows",
    "Ŷ − Y",
    "Y − Ŷ",
    "← p",
    "− eta·",
    "-= eta",
    "log ŷ",
    "Σ y",
    "SoftMax(tanh",
    "X Whᵀ",
    "floor(",
    "size + 2",
    "k·k·C_in",
    "n_in·n_out",
    "(k − 1)",
]


def test_feedback_is_not_the_answer_sheet(both_editions, reports):
    """No check name, message or diagnosis of any report (template, mistakes, variants) holds a
    handout formula or an answer value."""
    pages = sorted(reports.rglob("*.html"))
    assert len(pages) == 2 * len(both_editions[0])
    values = _answer_values()
    for page in pages:
        text = html_text(page.read_text())
        assert not [f for f in FORMULAS if f in text], page
        assert not [
            v for v in values if any(re.search(form, text.encode()) for form in _forms(v)[:2])
        ], page


def html_text(page: str) -> str:
    """The grader's words in a report: without its style sheet, its plots' drawing and the
    tracebacks that quote the student's own code (here, the reference with a mistake)."""
    page = re.sub(r"<pre>your code raised an exception:.*?</pre>", "", page, flags=re.S)
    return re.sub(r"<(style|svg)\b.*?</\1>", "", page, flags=re.S)


def test_the_student_edition_holds_no_rubric_of_the_written_answers(files):
    """The written questions' key points and phrases are the answers: the wheel has none."""
    from grader.labs.rdfia import LAB
    from grader.written.questions import load

    assert not any(name.endswith(LAB.questions.name) for name in files)
    questions = load(LAB.questions)
    phrases = {
        p.encode()
        for q in questions.questions
        for k in q.key_points
        for p in k.phrases
        if len(p) > 15
    }
    texts = {k.text.encode() for q in questions.questions for k in q.key_points}
    assert phrases and texts
    assert not [
        name
        for name, data in files.items()
        if b"[[question" in data or any(t in data for t in texts)
    ]
    # the template's own words ("mini-batch gradient descent") are the course's, not the rubric's
    grader_code = {name: data for name, data in files.items() if "student_template" not in name}
    assert not [name for name, data in grader_code.items() if any(p in data for p in phrases)]


# -- the student's path, from the wheel (README, "For students") ------------------------------


def _grade(python: Path, *args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [python, "-m", "grader.cli", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=os.environ | {"GRADER_ISOLATION": "0", "NO_COLOR": "1"},
        timeout=600,
    )


def test_every_student_command_from_the_wheel(student_python, tmp_path):
    """grade --version, list, init (each layout), check and release, as the README's student
    section runs them: TP 1-ab filled in its notebook, TP 1-cd untouched, exits 0 with TP 1-ab's
    full marks; the modules layout, untouched, exits 1 and says nothing is started."""
    version = _grade(student_python, "--version", cwd=tmp_path)
    assert version.returncode == 0 and "(student edition)" in version.stdout
    listed = _grade(student_python, "list", cwd=tmp_path)
    assert listed.returncode == 0 and "tp1_manual::backward::grad_Wy" in listed.stdout
    init = _grade(student_python, "init", "my-tp", cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    assert sorted(p.name for p in (tmp_path / "my-tp").iterdir()) == [
        "1-ab.ipynb",
        "answers.ipynb",
        "tp2_cnn.ipynb",
    ]
    notebook = tmp_path / "my-tp" / "1-ab.ipynb"
    notebook.write_text(filled(notebook))
    done = _grade(student_python, "check", "my-tp", "--json", "r.json", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        "hold `" not in done.stderr
        and "judges TP 1-ab only; TP 1-cd not started yet" in done.stdout
    )
    result = json.loads((tmp_path / "r.json").read_text())
    ab = [p for p in result["parts"] if p["part"].startswith("tp1_")]
    full = full_marks(*(p["part"] for p in ab), student=True)
    assert sum(p["score"] for p in ab) == sum(p["max_score"] for p in ab) == full
    assert {
        p["part"]: p["status"] for p in result["parts"] if not p["part"].startswith("tp1_")
    } == {"tp2_cnn": "not started", "answers": "not started"}
    modules = _grade(student_python, "init", "mods", "--layout", "modules", cwd=tmp_path)
    assert modules.returncode == 0 and len(list((tmp_path / "mods").glob("*.py"))) == 6
    untouched = _grade(student_python, "check", "mods", "--quiet", cwd=tmp_path)
    assert untouched.returncode == 1 and "nothing is started yet" in untouched.stderr
    release_ = _grade(student_python, "release", "out", cwd=tmp_path)
    assert release_.returncode == 2 and release_.stderr.rstrip().endswith(
        "(the course's grader repository)"
    )
