"""The student template declares every name of the contract and answers none of them."""

import importlib.util
import inspect
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import torch

from grader.lab import CLASS, CONSTANT
from grader.labs.rdfia import LAB
from grader.submission.notebook import Notebook

ROOT = Path(__file__).parents[1]
TEMPLATE = LAB.template
NOTEBOOKS = TEMPLATE / "notebooks"
COMBINED = f"{LAB.assignment_of(LAB.split.parts[0]).name}.ipynb"
BUILDER = ROOT / "tools" / "build_template_notebooks.py"

# Each part's names and, for functions, their parameters, as the lab declares them.
CONTRACT = {part.name: part.defines for part in LAB.parts}
NAMES = [(part, name) for part, names in CONTRACT.items() for name in names]


def load(part):
    spec = importlib.util.spec_from_file_location(
        f"student_template_{part}", TEMPLATE / f"{part}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("part", CONTRACT)
def test_module_imports_and_declares_nothing_else(part):
    module = load(part)
    own = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert own == set(CONTRACT[part])


@pytest.mark.parametrize("part,name", NAMES)
def test_name_is_declared_and_unanswered(part, name):
    value = getattr(load(part), name)
    kind = CONTRACT[part][name]
    if kind == CONSTANT:
        assert value is None
    elif kind == CLASS:
        assert issubclass(value, torch.nn.Module)
        with pytest.raises(NotImplementedError):
            value()
    else:
        assert tuple(inspect.signature(value).parameters) == kind
        with pytest.raises(NotImplementedError):
            value(*[None] * len(kind))
        assert inspect.getdoc(value), f"{name} has no instructions"


def test_epoch_defaults():
    parameters = inspect.signature(load("tp2_cnn").epoch).parameters
    assert parameters["optimizer"].default is None and parameters["cuda"].default is False


EXPECTED_NOTEBOOKS = [f"{part}.ipynb" for part in CONTRACT] + [COMBINED]


@pytest.mark.parametrize("name", EXPECTED_NOTEBOOKS)
def test_notebook_is_valid(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    assert all(cell.cell_type != "code" or not cell.outputs for cell in nb.cells)


@pytest.mark.parametrize("part", CONTRACT)
def test_part_notebook_defines_the_part(part):
    nb = nbformat.read(NOTEBOOKS / f"{part}.ipynb", as_version=4)
    code = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")
    namespace = {}
    exec(compile(code, f"{part}.ipynb", "exec"), namespace)
    assert set(CONTRACT[part]) <= set(namespace)


def test_combined_notebook_splits_into_its_parts():
    nb = Notebook(COMBINED, (NOTEBOOKS / COMBINED).read_bytes())
    headings = [
        cell.source.splitlines()[0]
        for cell in nb.cells
        if cell.cell_type == "markdown" and cell.source.startswith("# Part")
    ]
    assert headings[0] == '# Part 1 : Forward and backward passes "by hands"'  # the course's own
    parts = nb.split_parts(LAB.split)
    assert list(parts) == list(LAB.split.parts)
    for part, chunks in parts.items():  # each part sees its own names, and those above it
        code = "\n".join(c.code for c in chunks if "run_line_magic" not in c.code)
        assert set(CONTRACT[part]) <= set(compile(code, COMBINED, "exec").co_names)


def test_notebooks_are_up_to_date():
    result = subprocess.run(
        [sys.executable, str(BUILDER), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
