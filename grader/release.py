"""`grade release OUT`: build the student edition, a wheel that installs as `rdfia-grader`.

The same grader and the installed lab's rubric, with the lab's oracle replaced by its
answers recorded at the public seed (`grader/expectations.pt`, data only), and without
what the lab keeps to the instructor (`grader.labs.instructor_only`: its oracle, reference
and written questions' rubric), the rubric's conftest.py, or any check marked
`hidden=True`; with the student template, as `grader/student_template` (`grade init`).
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
from grader.expected import PUBLIC_SEED, RECORDED
from grader.labs import current, instructor_only, oracle
from grader.submission.template import template_folder

SOURCE = Path(grader.__file__).parent


def strip_hidden(source: str) -> str:
    """`source` without its functions decorated `@check(..., hidden=True)`, decorators included.
    A hidden check elsewhere (a row of a table of checks) cannot be cut out alone: refused."""
    tree = ast.parse(source)
    decorators = {
        id(d)
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        for d in node.decorator_list
    }
    stray = [
        n.lineno
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and _is_hidden(n) and id(n) not in decorators
    ]
    if stray:
        raise ValueError(
            f"a hidden check at line {stray[0]} is not a test's own decorator: declare it as its own test"
        )
    lines = source.splitlines(keepends=True)
    for node in reversed(tree.body):
        if isinstance(node, ast.FunctionDef) and any(_is_hidden(d) for d in node.decorator_list):
            del lines[node.decorator_list[0].lineno - 1 : node.end_lineno]
    return "".join(lines)


def _is_hidden(decorator: ast.expr) -> bool:
    return isinstance(decorator, ast.Call) and any(
        k.arg == "hidden" and isinstance(k.value, ast.Constant) and k.value.value is True
        for k in decorator.keywords
    )


def _left_out() -> set[Path]:
    """What the student edition leaves out: the lab's instructor-only paths, and the
    rubric's conftest.py, which runs it against the reference (`pytest <rubric>`)."""
    lab = current()
    return {p.resolve() for p in [*instructor_only(lab), Path(lab.rubric) / "conftest.py"]}


def _copy_tree(dest: Path) -> None:
    left_out = _left_out()
    cache = shutil.ignore_patterns("__pycache__", "*.pyc", RECORDED.name)

    def ignore(folder: str, names: list[str]) -> set[str]:
        return set(cache(folder, names)) | {
            n for n in names if (Path(folder) / n).resolve() in left_out
        }

    shutil.copytree(SOURCE, dest, ignore=ignore)
    rubric = Path(current().rubric).resolve()
    if rubric.is_relative_to(SOURCE.resolve()):
        for test in (dest / rubric.relative_to(SOURCE.resolve())).glob("test_*.py"):
            test.write_text(strip_hidden(test.read_text()))
    torch.save(_recorded(), dest / RECORDED.name)
    template = template_folder(current())  # for `grade init`, and to tell a part not started
    if template is None:
        raise OSError("the student template is missing: the student edition's grade init needs it")
    shutil.copytree(
        template,
        dest / "student_template",
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )


def _recorded() -> dict:
    return oracle().recorded(PUBLIC_SEED)


def _pyproject(tree: Path) -> str:
    """The student edition's project: the instructor's name, version and dependencies,
    the packages found in `tree`, the recorded expectations as package data."""
    project = _instructor_project()
    packages = sorted(
        {".".join(p.parent.relative_to(tree).parts) for p in (tree / "grader").rglob("__init__.py")}
        | {"grader.student_template"}
    )
    toml = json.dumps  # a TOML basic string or array of strings is written as JSON writes it
    return "\n".join(
        [
            "[build-system]",
            'requires = ["setuptools>=64"]',
            'build-backend = "setuptools.build_meta"',
            "",
            "[project]",
            f"name = {toml(project['name'])}",
            f"version = {toml(project['version'])}",
            f"description = {toml(project['description'] + ' (student edition)')}",
            f"requires-python = {toml(project['requires-python'])}",
            f"dependencies = {toml(project['dependencies'])}",
            "",
            "[project.scripts]",
            'grade = "grader.cli:main"',
            "",
            "[tool.setuptools]",
            f"packages = {toml(packages)}",
            "",
            "[tool.setuptools.package-data]",
            f'"grader" = {toml([RECORDED.name])}',
            *[f'{toml(p)} = ["*.py"]' for p in packages if p == _rubric_package()],
            '"grader.render" = ["templates/*.j2"]',
            '"grader.student_template" = ["*.py", "notebooks/*.ipynb"]',
            "",
        ]
    )


def _rubric_package() -> str:
    """The installed lab's rubric as a package name: its test modules ship as data too."""
    rubric = Path(current().rubric).resolve()
    inside = rubric.is_relative_to(SOURCE.resolve())
    return ".".join(("grader", *rubric.relative_to(SOURCE.resolve()).parts)) if inside else ""


def _instructor_project() -> dict:
    """The [project] table of the instructor's pyproject.toml, else of the installed metadata."""
    pyproject = SOURCE.parent / "pyproject.toml"
    if pyproject.exists():
        return tomllib.loads(pyproject.read_text())["project"]
    from importlib.metadata import metadata

    meta = metadata("rdfia-grader")
    return {
        "name": meta["Name"],
        "version": meta["Version"],
        "description": meta["Summary"],
        "requires-python": meta["Requires-Python"],
        "dependencies": meta.get_all("Requires-Dist") or [],
    }


def build(out: Path) -> Path:
    """Write the student edition's wheel into `out`; return its path."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp)
        _copy_tree(tree / "grader")
        (tree / "pyproject.toml").write_text(_pyproject(tree))
        return wheel(tree, out)


def wheel(tree: Path, out: Path) -> Path:
    """The wheel of the project in `tree`, built into `out` (no build isolation: the build
    needs nothing the grader's own environment lacks); its path."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "--wheel-dir",
            str(out),
            str(tree),
        ],
        check=True,
    )
    return out / f"rdfia_grader-{_instructor_project()['version']}-py3-none-any.whl"
