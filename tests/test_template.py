"""The student template declares every name of the contract and answers none of them."""

import importlib.util
import inspect
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import torch

ROOT = Path(__file__).parents[1]
TEMPLATE = ROOT / "student_template"
NOTEBOOKS = TEMPLATE / "notebooks"
BUILDER = ROOT / "tools" / "build_template_notebooks.py"

# Each part's names and, for functions, their parameters (LAB_CONTRACT.md).
CONTRACT = {
    "tp1_manual": {
        "init_params": ["nx", "nh", "ny"],
        "forward": ["params", "X"],
        "loss_accuracy": ["Yhat", "Y"],
        "backward": ["params", "outputs", "Y"],
        "sgd": ["params", "grads", "eta"],
    },
    "tp1_autograd": {
        "init_params": ["nx", "nh", "ny"],
        "forward": ["params", "X"],
        "loss_accuracy": ["Yhat", "Y"],
        "sgd": ["params", "eta"],
    },
    "tp1_nn": {
        "init_model": ["nx", "nh", "ny"],
        "loss_accuracy": ["loss", "Yhat", "Y"],
        "sgd": ["model", "eta"],
    },
    "tp1_optim": {
        "init_model": ["nx", "nh", "ny", "eta"],
        "loss_accuracy": ["loss", "Yhat", "Y"],
    },
    "tp2_cnn": {
        "ConvNet": "class",
        "ConvNetImproved": "class",
        "epoch": ["data", "model", "criterion", "optimizer", "cuda"],
        "compute_mean_std": ["images"],
        "get_transforms": ["train", "mean", "std"],
        "make_scheduler": ["optimizer"],
    },
    "answers": {
        "FIGURE1_SIZES": "constant",
        "conv_output_size": ["size", "kernel", "padding", "stride"],
        "conv_params": ["in_channels", "out_channels", "kernel"],
        "fc_params": ["n_in", "n_out"],
        "receptive_field": ["kernels", "strides"],
        "SAME_CONV_5x5": "constant",
        "HALVING_POOL_2x2": "constant",
        "LAYER_TABLE": "constant",
        "TOTAL_PARAMS": "constant",
    },
}
NAMES = [(part, name) for part, names in CONTRACT.items() for name in names]


def load(part):
    spec = importlib.util.spec_from_file_location(f"student_template_{part}", TEMPLATE / f"{part}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("part", CONTRACT)
def test_module_imports_and_declares_nothing_else(part):
    module = load(part)
    own = {name for name, value in vars(module).items()
           if not name.startswith("_") and not inspect.ismodule(value)}
    assert own == set(CONTRACT[part])


@pytest.mark.parametrize("part,name", NAMES)
def test_name_is_declared_and_unanswered(part, name):
    value = getattr(load(part), name)
    kind = CONTRACT[part][name]
    if kind == "constant":
        assert value is None
    elif kind == "class":
        assert issubclass(value, torch.nn.Module)
        with pytest.raises(NotImplementedError):
            value()
    else:
        assert list(inspect.signature(value).parameters) == kind
        with pytest.raises(NotImplementedError):
            value(*[None] * len(kind))
        assert inspect.getdoc(value), f"{name} has no instructions"


def test_epoch_defaults():
    parameters = inspect.signature(load("tp2_cnn").epoch).parameters
    assert parameters["optimizer"].default is None and parameters["cuda"].default is False


EXPECTED_NOTEBOOKS = [f"{part}.ipynb" for part in CONTRACT] + ["tp1.ipynb"]


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


def test_tp1_notebook_headings_in_order():
    nb = nbformat.read(NOTEBOOKS / "tp1.ipynb", as_version=4)
    headings = [cell.source.splitlines()[0] for cell in nb.cells
                if cell.cell_type == "markdown" and cell.source.startswith("# Part")]
    assert headings == [
        '# Part 1 : Forward and backward passes "by hands"',
        "# Part 2 : Simplification of the backward pass with torch.autograd",
        "# Part 3 : Simplification of the forward pass with torch.nn",
        "# Part 4 : Simplification of the SGD with torch.optim",
    ]


def test_notebooks_are_up_to_date():
    result = subprocess.run([sys.executable, str(BUILDER), "--check"],
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
