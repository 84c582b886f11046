"""TP 1-ab's inputs, drawn from the seed: the course's sizes, the unit checks' batch (with the
oracle's forward outputs and gradients on it), and the training runs' data, weights and batches."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch

from grader.expected import ask

NX, NH, NY = 2, 10, 2  # the course's Circles sizes; the layout is read at these sizes
B = 8  # batch of the unit checks: differs from nx, nh, ny
KEYS = ("Wh", "bh", "Wy", "by")
ETA, BATCH, EPOCHS = 0.03, 10, 30
SGD_ETA = 0.05  # the step of the unit checks of sgd
OTHER_SIZES = (3, 7, 4)  # a second call of init_params, to see that the shapes follow the arguments
BIG_SIZES = (40, 50, 30)  # enough entries to estimate the weights' distribution
NN_SIZES = (NX, NH, NY)


@dataclass
class Inputs:
    params: dict  # reference layout: Wh (nh, nx), bh (nh,), Wy (ny, nh), by (ny,)
    X: torch.Tensor  # (B, nx)
    Y: torch.Tensor  # one-hot (B, ny), some predictions right and some wrong
    outputs: dict  # the reference forward's outputs
    grads: dict  # the reference gradients of the batch MEAN loss
    acc: float


@lru_cache(maxsize=8)
def unit_inputs(seed: int) -> Inputs:
    """Parameters, a batch and its targets for the checks of single functions."""
    return Inputs(**ask("tp1.unit", seed))


@dataclass
class Training:
    data: tuple  # Xtrain, Ytrain, Xtest, Ytest (float32, one-hot)
    init: dict  # reference layout; weights N(0, 0.3²), biases zero
    perms: list  # one permutation of the training set per epoch


@lru_cache(maxsize=4)
def training_setup(seed: int) -> Training:
    from grader.labs.rdfia.data.circles import make_circles

    data = tuple(make_circles(seed))
    g = torch.Generator().manual_seed(7_000_001 * (seed + 1))
    init = {
        "Wh": 0.3 * torch.randn(NH, NX, generator=g),
        "bh": torch.zeros(NH),
        "Wy": 0.3 * torch.randn(NY, NH, generator=g),
        "by": torch.zeros(NY),
    }
    perms = [torch.randperm(data[0].shape[0], generator=g) for _ in range(EPOCHS)]
    return Training(data, init, perms)
