"""What a check keeps for the report's plots: one frozen dataclass per kind of artifact.

The rubric's checks build them (`record(Curves(...))`) from what the worker's probes
return as plain values; `TestResult.artifacts` holds them; the plots dispatch on their
type. They stay out of the contract's JSON: an expected gradient or the reference's curves
are drawn in the HTML report, never written out as numbers. Values are plain lists and
numbers; the plots accept odd ones (a diverged run, a wrong shape) and then draw nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from grader.worker.artifacts import CURVE_KEYS

__all__ = ["CURVE_KEYS", "Artifact", "Curves", "Boundary", "Gradient"]


class Artifact:
    """What every artifact is; `kind` names its type in the report's plots (their CSS class)."""

    kind: ClassVar[str]


@dataclass(frozen=True)
class Curves(Artifact):
    """A training run: one value an epoch for each of CURVE_KEYS."""

    kind: ClassVar[str] = "curves"
    student: dict  # {key: [one value an epoch]} of the student's run
    reference: dict | None = None  # the reference's run from the same start, when compared with one
    before: dict | None = None  # {"test_loss", "test_acc"} of the untrained network (epoch 0)


@dataclass(frozen=True)
class Boundary(Artifact):
    """A trained network's decision boundary on a 2-D data set."""

    kind: ClassVar[str] = "boundary"
    axis: list  # the course grid's values along each axis
    prob: list  # P(class 1) on the grid: one row per x2 value of `axis`
    points: list  # the training points, [[x1, x2], ...]
    labels: list  # their classes, 0 or 1
    data: str = ""  # the data set's name, in the caption
    classes: list = field(
        default_factory=lambda: ["class 0", "class 1"]
    )  # each class, in the caption


@dataclass(frozen=True)
class Gradient(Artifact):
    """A wrong gradient beside the right one."""

    kind: ClassVar[str] = "gradient"
    name: str  # what it is the gradient of, as the report says it ("∇Wy")
    expected: list  # rows of the expected gradient (a bias: one row)
    received: list  # rows of the student's: the same shape, or its transpose
