"""The 2-D "Circles" data of TP 1-ab, generated like the course's circles.mat.

The course file (2016) holds 200 training and 200 test points drawn the way
scikit-learn's ``make_circles(noise=0.2, factor=0.3, shuffle=False)`` draws them:
each class has its points at evenly spaced angles on a circle (radius 1 for class 0,
0.3 for class 1) plus isotropic Gaussian noise of standard deviation 0.2. Rows are not
shuffled: all of class 0 first, then class 1, each in order of increasing angle. Train
and test are two independent draws from the same distribution.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

NOISE = 0.2
INNER_RADIUS = 0.3


class Circles(NamedTuple):
    Xtrain: torch.Tensor
    Ytrain: torch.Tensor
    Xtest: torch.Tensor
    Ytest: torch.Tensor


def _draw(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """n points, the first n // 2 on the outer circle (class 0), the rest inside."""
    n_out = n // 2
    n_in = n - n_out
    radii = torch.cat(
        [
            torch.ones(n_out, dtype=torch.float64),
            torch.full((n_in,), INNER_RADIUS, dtype=torch.float64),
        ]
    )
    angles = torch.cat(
        [
            torch.arange(n_out, dtype=torch.float64) * (2 * math.pi / max(n_out, 1)),
            torch.arange(n_in, dtype=torch.float64) * (2 * math.pi / n_in),
        ]
    )
    X = torch.stack([radii * torch.cos(angles), radii * torch.sin(angles)], dim=1)
    X += NOISE * torch.randn(X.shape, generator=generator, dtype=torch.float64)
    labels = torch.cat([torch.zeros(n_out, dtype=torch.long), torch.ones(n_in, dtype=torch.long)])
    Y = torch.nn.functional.one_hot(labels, 2)
    # Drawn in float64 and stored in float32, as the course's loader casts the .mat file.
    return X.float(), Y.float()


def make_circles(seed: int = 0, n_train: int = 200, n_test: int = 200) -> Circles:
    """Train and test sets: X (N, 2) float32, Y one-hot (N, 2) float32. Deterministic in seed."""
    generator = torch.Generator().manual_seed(seed)
    Xtrain, Ytrain = _draw(n_train, generator)
    Xtest, Ytest = _draw(n_test, generator)
    return Circles(Xtrain, Ytrain, Xtest, Ytest)


def make_grid() -> torch.Tensor:
    """The course's Xgrid: 40 x 40 points over [-2, 2) by 0.1, shape (1600, 2) float32.

    Ordered as ``np.meshgrid(a, a)`` flattened: the first coordinate varies fastest, so
    ``Ygrid.reshape(40, 40)`` has one row per value of the second coordinate.
    """
    # np.arange(-2, 2, 0.1) bit for bit: numpy steps by (start + step) - start, in float64.
    step = (-2 + 0.1) - (-2)
    axis = -2 + step * torch.arange(40, dtype=torch.float64)
    x2, x1 = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([x1.reshape(-1), x2.reshape(-1)], dim=1).float()
