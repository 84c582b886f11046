"""The Sorbonne RDFIA practicals on neural networks, declared once (docs/CONTRACT.md):
TP 1-ab, an MLP on Circles written four ways, and TP 1-cd, a CNN for CIFAR-10."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from grader.lab import CLASS, CONSTANT, Assignment, Helper, Lab, NotebookSplit, Part
from grader.labs.rdfia.versions import UTILS_VERSIONS

HERE = Path(__file__).resolve().parent
GRADER = HERE.parents[1]
# Installed as `grader.reference`: `reference/` beside `grader/` in a source tree, inside it in a wheel.
# The student edition (`grade release`) holds none: the lab then names where it would be.
_REFERENCE = importlib.util.find_spec("grader.reference")
REFERENCE = (
    Path(_REFERENCE.submodule_search_locations[0])
    if _REFERENCE and _REFERENCE.submodule_search_locations
    else GRADER / "reference"
)

LAB = Lab(
    name="rdfia",
    title="RDFIA practicals",
    parts=(
        Part(
            "tp1_manual",
            {
                "init_params": ("nx", "nh", "ny"),
                "forward": ("params", "X"),
                "loss_accuracy": ("Yhat", "Y"),
                "backward": ("params", "outputs", "Y"),
                "sgd": ("params", "grads", "eta"),
            },
            "section 2.1: forward and backward by hand",
        ),
        Part(
            "tp1_autograd",
            {
                "init_params": ("nx", "nh", "ny"),
                "forward": ("params", "X"),
                "loss_accuracy": ("Yhat", "Y"),
                "sgd": ("params", "eta"),
            },
            "section 2.2: backward by autograd",
        ),
        Part(
            "tp1_nn",
            {
                "init_model": ("nx", "nh", "ny"),
                "loss_accuracy": ("loss", "Yhat", "Y"),
                "sgd": ("model", "eta"),
            },
            "section 2.3: torch.nn layers",
        ),
        Part(
            "tp1_optim",
            {
                "init_model": ("nx", "nh", "ny", "eta"),
                "loss_accuracy": ("loss", "Yhat", "Y"),
            },
            "section 2.4: torch.optim",
        ),
        Part(
            "tp2_cnn",
            {
                "ConvNet": CLASS,
                "ConvNetImproved": CLASS,
                "epoch": ("data", "model", "criterion", "optimizer", "cuda"),
                "compute_mean_std": ("images",),
                "get_transforms": ("train", "mean", "std"),
                "make_scheduler": ("optimizer",),
            },
            "TP 1-cd: the CNN, its training epoch, its data pipeline",
        ),
        Part(
            "answers",
            {
                "FIGURE1_SIZES": CONSTANT,
                "conv_output_size": ("size", "kernel", "padding", "stride"),
                "conv_params": ("in_channels", "out_channels", "kernel"),
                "fc_params": ("n_in", "n_out"),
                "receptive_field": ("kernels", "strides"),
                "SAME_CONV_5x5": CONSTANT,
                "HALVING_POOL_2x2": CONSTANT,
                "LAYER_TABLE": CONSTANT,
                "TOTAL_PARAMS": CONSTANT,
            },
            "the handout questions whose answer is a number or a formula",
        ),
    ),
    assignments=(
        # Each helper under its name of 2018-2022 too: `tme5`, `tme6`.
        Assignment(
            "1-ab",
            ("tp1_manual", "tp1_autograd", "tp1_nn", "tp1_optim"),
            "TP 1-ab",
            Helper("utils_data", ("utils-data", "tme5")),
        ),
        Assignment(
            "1-cd",
            ("tp2_cnn", "answers"),
            "TP 1-cd",
            Helper(
                "utils",
                ("tme6",),
                provides=("PRINT_INTERVAL", "loss_plot"),
                versions=UTILS_VERSIONS,
            ),
        ),
    ),
    # The course's 1_ab_Intro_to_NNs.ipynb: "# Part 1 : Forward and backward passes ...";
    # its Part 5 and later (MNIST, SVM bonus) end Part 4. Students head them in French too
    # ("# Partie 1"), or with the title alone.
    split=NotebookSplit(
        "Part",
        ("tp1_manual", "tp1_autograd", "tp1_nn", "tp1_optim"),
        (
            'Forward and backward passes "by hands"',
            "Simplification of the backward pass with torch.autograd",
            "Simplification of the forward pass with torch.nn",
            "Simplification of the SGD with torch.optim",
        ),
        words=("Partie",),
    ),
    rubric=HERE / "rubric",
    reference=REFERENCE,
    template=GRADER.parent / "student_template",
    # The course's notebooks import matplotlib first (half a second): a worker has it before
    # its first request.
    worker_imports=("matplotlib.pyplot",),
    questions=HERE / "questions.toml",
    oracle="grader.labs.rdfia.oracle",
    # The worker's side of the lab (its probes, course helpers, Colab and torchvision
    # stand-ins) and the data it draws from: all the worker sees of it.
    worker="grader.labs.rdfia.worker",
    worker_folders=(HERE / "worker", HERE / "data"),
)
