"""What the grader's course helpers share: headless matplotlib (or none) and safe numbers."""

import contextlib
import math
import numbers

import torch

try:
    import matplotlib

    matplotlib.use("Agg")  # headless: never opens a window
    import matplotlib.pyplot as plt
except ImportError:
    matplotlib = plt = None


@contextlib.contextmanager
def figure(**kwargs):
    """A figure that is closed once drawn, or None without matplotlib."""
    if plt is None:
        yield None
        return
    fig = plt.figure(**kwargs)
    try:
        yield fig
    finally:
        plt.close(fig)


def as_float(value) -> float:
    """A number, 0-d or one-element tensor as a float; NaN (a gap in a curve) otherwise."""
    if isinstance(value, numbers.Number):
        return float(value)
    try:
        return float(torch.as_tensor(value).detach().reshape(-1)[0])
    except (TypeError, ValueError, RuntimeError, IndexError):
        return math.nan
