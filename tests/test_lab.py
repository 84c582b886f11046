"""The lab declared once: the engine reads it, a toy lab runs through the same engine,
and the contract document and the README say what the declaration says."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

import grader.labs.rdfia.worker
from grader import cli
from grader.commands.batch import _parts as batch_parts
from grader.lab import CLASS, CONSTANT, Assignment
from grader.labs import LabError, load
from grader.labs.rdfia import LAB
from grader.runner import declared_checks, grade
from grader.submission import open_submission
from grader.worker import loader

TOY_FILE = Path(__file__).parent / "toy_lab" / "lab.py"
TOY = load(str(TOY_FILE))
CONTRACT = (ROOT / "docs" / "CONTRACT.md").read_text()
README = (ROOT / "README.md").read_text()


def test_declaration_needs_neither_torch_nor_the_trusted_side():
    code = (
        "import sys, grader.labs.rdfia; "
        "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith(('torch.', 'grader.'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert (
        out.strip()
        == "['grader.lab', 'grader.labs', 'grader.labs.rdfia', 'grader.labs.rdfia.versions']"
    )


@pytest.mark.parametrize(
    "assignments",
    [
        (Assignment("a", ("tp1_manual",)),),  # parts in no assignment
        LAB.assignments + (Assignment("again", ("answers",)),),  # a part in two
        LAB.assignments + (Assignment("ghost", ("tp3",)),),  # no such part
    ],
    ids=["uncovered", "twice", "unknown"],
)
def test_an_inconsistent_declaration_is_refused(assignments):
    with pytest.raises(ValueError, match="lab rdfia"):
        dataclasses.replace(LAB, assignments=assignments)


def test_an_unreadable_lab_is_one_clear_line(capsys, monkeypatch):
    monkeypatch.setenv("GRADER_LAB", "no_such_lab_module")
    assert cli.main(["check", "."]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("grade: cannot read the lab 'no_such_lab_module'") and err.count("\n") == 1
    )
    with pytest.raises(LabError):
        load(str(TOY_FILE.with_name("missing.py")))


# -- assignments ---------------------------------------------------------------------------
AB, CD = (LAB.assignment(name).parts for name in ("1-ab", "1-cd"))


@pytest.mark.parametrize(
    "found,tp,parts,line",
    [
        ({"tp1_nn"}, None, AB, "graded TP 1-ab; left out TP 1-cd (none of its parts found)"),
        ({"answers"}, None, CD, "graded TP 1-cd; left out TP 1-ab (none of its parts found)"),
        ({"tp1_nn", "tp2_cnn"}, None, AB + CD, "graded TP 1-ab and TP 1-cd"),
        (set(), None, AB + CD, "graded TP 1-ab and TP 1-cd"),  # nothing found: all, each part 0
        ({"tp1_nn"}, "1-cd", CD, "graded TP 1-cd; left out TP 1-ab (--tp 1-cd)"),
        ({"tp1_nn"}, "all", AB + CD, "graded TP 1-ab and TP 1-cd"),
    ],
)
def test_the_assignments_graded_are_those_found_or_named(found, tp, parts, line):
    assert LAB.selection(found, tp) == (parts, line)


def test_parts_named_outright_are_graded_whatever_is_found():
    assert LAB.selection({"tp1_nn"}, None, ["answers"])[0] == ("answers",)


def test_batch_grades_everyone_on_the_same_parts():
    def parts(*options):
        return batch_parts(cli.parser().parse_args(["batch", "class", "--out", "out", *options]))

    assert parts() == LAB.part_names
    assert parts("--tp", "1-ab") == AB
    assert parts("--tp", "1-cd", "--parts", "answers", "tp1_nn") == ("answers",)
    assert parts("--parts", "answers", "tp1_nn") == ("tp1_nn", "answers")


def test_a_tp1_ab_submission_alone_is_graded_out_of_its_points_and_passes(tmp_path):
    folder = tmp_path / "ab"
    folder.mkdir()
    for part in AB:
        (folder / f"{part}.py").write_text((LAB.reference / f"{part}.py").read_text())
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader.cli",
            "check",
            str(folder),
            "--json",
            "r.json",
            "--html",
            "r.html",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert result.stdout.startswith(
        "grade: graded TP 1-ab; left out TP 1-cd (none of its parts found)\n"
    )
    points = sum(c["points"] for c in declared_checks(LAB) if c["part"] in AB)
    assert f"ab: {points:g} / {points:g} points" in result.stdout
    report = (tmp_path / "r.json").read_text()
    assert all(part not in report for part in CD)  # the JSON counts only what was graded


# -- a second lab, through the same engine --------------------------------------------------
def toy_submission(folder: Path, code: str):
    folder.mkdir()
    (folder / "double.py").write_text(code)
    return open_submission(folder, TOY)


def test_a_toy_lab_is_graded_by_the_same_engine(tmp_path):
    right = grade(toy_submission(tmp_path / "right", "def double(x):\n    return x + x\n"))
    assert [(t.id, t.part, t.status, t.score, t.question) for t in right.tests] == [
        ("double::values", "double", "passed", 2.0, "toy Q1")
    ]
    assert [(p.part, p.found) for p in right.parts] == [("double", True)]
    wrong = grade(toy_submission(tmp_path / "wrong", "def double(x):\n    return x * x\n"))
    assert wrong.score == 0 and wrong.max_score == 2
    assert wrong.tests[0].message == "double(1.5) should be 3; got 2.25."


def test_failed_checks_are_reported_without_formatting_a_traceback(tmp_path, monkeypatch):
    """The results come from the exceptions: pytest never formats a failed check's traceback
    (it cost more than the check), whether the check failed, the student's code raised, or
    the fixture found no part."""
    import _pytest.nodes

    def formatted(*args, **kwargs):
        raise AssertionError("pytest formatted a traceback")

    monkeypatch.setattr(_pytest.nodes.Node, "_repr_failure_py", formatted)
    codes = {
        "wrong": "def double(x):\n    return x * x\n",
        "raises": "def double(x):\n    return x / 0\n",
    }
    reports = {name: grade(toy_submission(tmp_path / name, code)) for name, code in codes.items()}
    (tmp_path / "none").mkdir()
    reports["none"] = grade(open_submission(tmp_path / "none", TOY))
    results = {
        name: (r.tests[0].status, r.tests[0].message.splitlines()[0]) for name, r in reports.items()
    }
    assert results == {
        "wrong": ("failed", "double(1.5) should be 3; got 2.25."),
        "raises": ("error", "your code raised an exception:"),
        "none": ("failed", reports["none"].parts[0].note),
    }


def test_the_cli_names_the_lab_by_environment(tmp_path):
    (tmp_path / "double.py").write_text("def double(x):\n    return 2 * x\n")
    env = {**os.environ, "GRADER_LAB": str(TOY_FILE)}
    result = subprocess.run(
        [sys.executable, "-m", "grader.cli", "check", str(tmp_path), "--html", "r.html"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "grade: graded the toy lab\n" in result.stdout and "2 / 2 points" in result.stdout
    page = (tmp_path / "r.html").read_text()
    assert "— Toy practical</title>" in page and "RDFIA" not in page
    usage = subprocess.run(
        [sys.executable, "-m", "grader.cli", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    ).stdout
    assert "Autograder for the Toy practical: the toy lab." in usage and "RDFIA" not in usage


# -- the declaration, the contract document, the README -------------------------------------
def contract_names(part: str) -> dict[str, tuple[str, ...] | str]:
    """The names that open the bullets of `part`'s section, as the lab declares them:
    a function's parameters, CLASS for `Name()`, CONSTANT for a bare or assigned name."""
    heading = re.search(rf"^(#+) .*`{part}`.*$", CONTRACT, re.MULTILINE)
    end = re.compile(rf"^#{{1,{len(heading.group(1))}}} ", re.MULTILINE).search(
        CONTRACT, heading.end()
    )
    section = CONTRACT[heading.end() : end.start() if end else len(CONTRACT)]
    names = {}
    for bullet in re.split(r"\n(?=- )", section):
        if not bullet.startswith("- "):
            continue
        # The leading run of `...` spans: "`forward(params, X)`, `loss_accuracy(Yhat, Y)`: as above".
        lead = re.match(r"- ((?:`[^`]+`(?:\s*\(Q\d+\))?(?:,|\s+and)?\s*)*)", bullet).group(1)
        for span in lead.split("`")[1::2]:
            name, params = re.match(r"(\w+)(?:\((.*?)\))?", span).groups()
            if params is None:
                names[name] = CONSTANT
            elif not params:
                names[name] = CLASS
            else:
                names[name] = tuple(p.split("=")[0].strip() for p in params.split(","))
    return names


@pytest.mark.parametrize("part", LAB.parts, ids=LAB.part_names)
def test_the_contract_document_names_each_part_functions(part):
    assert contract_names(part.name) == part.defines


def test_the_contract_document_names_the_assignments():
    said = re.search(r"`1-ab` is (.+?); `1-cd` is (.+?)\.", CONTRACT.replace("\n", " "))
    assert [tuple(re.findall(r"`(\w+)`", text)) for text in said.groups()] == [
        a.parts for a in LAB.assignments
    ]


def test_the_docs_totals_are_derived_from_the_declaration():
    """The README's and the contract's generated regions (tables, totals, the sample report)
    say what the rubric declares: one test, so that adding a check changes code only."""
    spec = importlib.util.spec_from_file_location("derive_docs", ROOT / "tools" / "derive_docs.py")
    derive_docs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(derive_docs)
    stale = [str(path.relative_to(ROOT)) for path in derive_docs.stale(LAB)]
    assert stale == [], f"{stale} out of date: run python tools/derive_docs.py to update"


def test_no_check_fails_by_a_bare_assert():
    """The grader runs the rubric with --assert=plain: a bare `assert` would fail with no message."""
    asserts = [
        f"{path.name}, line {node.lineno}"
        for path in sorted(LAB.rubric.glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Assert)
    ]
    assert asserts == []


def test_pytest_runs_the_rubric_on_its_own():
    """`pytest grader/labs/rdfia/rubric` collects every check and runs it against the reference (one here)."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "grader/labs/rdfia/rubric",
            "-k",
            "figure1_sizes",
            "-W",
            "error::pytest.PytestUnknownMarkWarning",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert f"1 passed, {len(declared_checks(LAB)) - 1} deselected" in result.stdout


# -- the course helpers, under every name the lab gives them --------------------------------
@pytest.mark.parametrize("name,module", sorted(LAB.course_modules().items()))
def test_each_name_of_a_course_helper_finds_it(name, module, monkeypatch):
    monkeypatch.syspath_prepend(grader.labs.rdfia.worker.COURSE_DIR)
    helper = importlib.import_module(module)
    expected = set(getattr(helper, "__all__", [n for n in vars(helper) if not n.startswith("_")]))
    runs = [f"get_ipython().run_line_magic('run', \"'{name}.py'\")"]
    if name.isidentifier():
        runs.append(f"from {name} import *")
    for code in runs:
        loaded = loader.load([loader.Chunk("nb.ipynb, cell 1", code)], "p")
        assert not loaded.skipped and expected <= set(loaded.namespace), code
