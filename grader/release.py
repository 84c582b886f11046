"""`grade release OUT`: build the student edition, a wheel that installs as `rdfia-grader`.

The same grader and rubric, with the oracle replaced by its answers recorded at the
public seed (`grader/expectations.pt`, data only), and without `grader/oracle`,
`grader/reference` or any check marked `hidden=True`; with the student template, as
`grader/student_template` (`grade init`).
"""
from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import tomllib
import torch

import grader
from grader.expected import PUBLIC_SEED, RECORDED, edition
from grader.labs import current
from grader.submission.template import template_folder

SOURCE = Path(grader.__file__).parent
INSTRUCTOR_ONLY = ("oracle", "reference")


def strip_hidden(source: str) -> str:
    """`source` without its functions decorated `@check(..., hidden=True)`, decorators included.
    A hidden check elsewhere (a row of a table of checks) cannot be cut out alone: refused."""
    tree = ast.parse(source)
    decorators = {id(d) for node in tree.body if isinstance(node, ast.FunctionDef) for d in node.decorator_list}
    stray = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Call) and _is_hidden(n) and id(n) not in decorators]
    if stray:
        raise ValueError(f"a hidden check at line {stray[0]} is not a test's own decorator: declare it as its own test")
    lines = source.splitlines(keepends=True)
    for node in reversed(tree.body):
        if isinstance(node, ast.FunctionDef) and any(_is_hidden(d) for d in node.decorator_list):
            del lines[node.decorator_list[0].lineno - 1:node.end_lineno]
    return "".join(lines)


def _is_hidden(decorator: ast.expr) -> bool:
    return isinstance(decorator, ast.Call) and any(
        k.arg == "hidden" and isinstance(k.value, ast.Constant) and k.value.value is True for k in decorator.keywords)


def _written_questions() -> tuple[str, ...]:
    """The lab's written questions file: its rubric and key phrases are the answers."""
    from grader.labs import current
    path = current().questions
    return (Path(path).name,) if path else ()


def _copy_tree(dest: Path) -> None:
    # The rubric's conftest.py runs it against the reference (`pytest grader/rubric`): instructor-only too.
    shutil.copytree(SOURCE, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", RECORDED.name,
                                                                 "conftest.py", *INSTRUCTOR_ONLY,
                                                                 *_written_questions()))
    for test in (dest / "rubric").glob("test_*.py"):
        test.write_text(strip_hidden(test.read_text()))
    torch.save(_recorded(), dest / RECORDED.name)
    template = template_folder(current())  # for `grade init`, and to tell a part not started
    if template is None:
        raise OSError("the student template is missing: the student edition's grade init needs it")
    shutil.copytree(template, dest / "student_template", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def _recorded() -> dict:
    from grader import oracle
    return oracle.recorded(PUBLIC_SEED)


def _pyproject(tree: Path) -> str:
    """The student edition's project: the instructor's name, version and dependencies,
    the packages found in `tree`, the recorded expectations as package data."""
    project = _instructor_project()
    packages = sorted({".".join(p.parent.relative_to(tree).parts) for p in (tree / "grader").rglob("__init__.py")}
                      | {"grader.student_template"})
    toml = json.dumps  # a TOML basic string or array of strings is written as JSON writes it
    return "\n".join([
        "[build-system]", 'requires = ["setuptools>=64"]', 'build-backend = "setuptools.build_meta"', "",
        "[project]", f"name = {toml(project['name'])}", f"version = {toml(project['version'])}",
        f"description = {toml(project['description'] + ' (student edition)')}",
        f"requires-python = {toml(project['requires-python'])}", f"dependencies = {toml(project['dependencies'])}",
        "", "[project.scripts]", 'grade = "grader.cli:main"', "",
        "[tool.setuptools]", f"packages = {toml(packages)}", "",
        "[tool.setuptools.package-data]", f'"grader" = {toml([RECORDED.name])}', '"grader.rubric" = ["*.py"]',
        '"grader.render" = ["templates/*.j2"]', '"grader.student_template" = ["*.py", "notebooks/*.ipynb"]', ""])


def _instructor_project() -> dict:
    """The [project] table of the instructor's pyproject.toml, else of the installed metadata."""
    pyproject = SOURCE.parent / "pyproject.toml"
    if pyproject.exists():
        return tomllib.loads(pyproject.read_text())["project"]
    from importlib.metadata import metadata
    meta = metadata("rdfia-grader")
    return {"name": meta["Name"], "version": meta["Version"], "description": meta["Summary"],
            "requires-python": meta["Requires-Python"], "dependencies": meta.get_all("Requires-Dist") or []}


def build(out: Path) -> Path:
    """Write the student edition's wheel into `out`; return its path."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp)
        _copy_tree(tree / "grader")
        (tree / "pyproject.toml").write_text(_pyproject(tree))
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                        "--wheel-dir", str(out), str(tree)], check=True)
    return out / f"rdfia_grader-{_instructor_project()['version']}-py3-none-any.whl"


def main(args) -> int:
    if edition() != "instructor":
        print("grade release: this is the student edition, which cannot build a release; your "
              "instructors build the student edition from the instructor edition (the course's "
              "grader repository)", file=sys.stderr)
        return 2
    try:
        wheel = build(Path(args.out))
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"grade release: the wheel could not be built ({e})", file=sys.stderr)
        return 2
    print(f"Student edition: {wheel}\nPublish it where the students' CI installs it from "
          "(GRADER_WHEEL in examples/student-repository-workflow.yml).")
    return 0
