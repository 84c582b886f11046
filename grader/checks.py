"""What rubric tests are made of: the `check` marker and comparisons that teach.

    @check("tp1_manual::sgd::update", points=2, question="1-ab Q10-11")
    def test_sgd(student):
        expect_close(got, expected, "Wh after one step", diagnoses={...})

Checks that differ by one value only are a table: `@pytest.mark.parametrize` over
`pytest.param(value, marks=check(...))`, one check a row; the docstring's `{name}`
fields take each row's values.

A failed comparison raises `CheckFailed` with a message (what was expected, what came
back, where) and, when the value matches a known mistake, a diagnosis naming it.
Every comparison runs here, in the trusted process, on tensors rebuilt from bytes.
"""

from __future__ import annotations

import math
import numbers
from typing import NoReturn

import pytest
import torch

MARKER = (
    "grader_check(id, points, question, hidden, follows): a rubric check; declare it with "
    "grader.checks.check"
)


def check(
    id: str,
    points: float,
    question: str | None = None,
    hidden: bool = False,
    follows: tuple[str, ...] = (),
):
    """Declare a rubric test: its stable id `part::topic::check`, its points, its handout
    question. The part is the id's first field; the lab gives the part's assignment.
    A `hidden` check runs in the instructor edition only: `grade release` leaves it out.
    `follows` names the topics of the part whose functions the check runs together (a
    training run: `("forward", "backward", "sgd")`): when it fails without naming a mistake
    of its own after one of their checks failed, the report says it counts that mistake again."""
    part, sep, _ = id.partition("::")
    if not (part and sep):
        raise ValueError(f"check id {id!r} should start with its part: 'part::topic::check'")
    return pytest.mark.grader_check(
        id=id, part=part, points=points, question=question, hidden=hidden, follows=tuple(follows)
    )


class Mistake(str):
    """A diagnosis text that names coding mistakes which more than one check of a part
    charges (a sign error in ∇Ỹ fails all four gradients): `causes` are their ids. The
    report notes, at each failed check after the first that names one of them, that the
    mistake is counted again there."""

    causes: frozenset[str]

    def __new__(cls, text: str, *causes: str):
        mistake = super().__new__(cls, text)
        mistake.causes = frozenset(causes)
        return mistake


class CheckFailed(AssertionError):
    def __init__(self, message: str, diagnosis: str | None = None):
        super().__init__(message)
        self.message, self.diagnosis = message, diagnosis


def fail(message: str, diagnosis: str | None = None) -> NoReturn:
    raise CheckFailed(message, diagnosis)


def came_back(value) -> str:
    """A short description of what came back, for messages."""
    if isinstance(value, torch.Tensor):
        return f"a {str(value.dtype).removeprefix('torch.')} tensor of shape {tuple(value.shape)}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)} items"
    if value is None:
        return "None"
    return f"{type(value).__name__} {value!r}"[:120]


def shape_text(shape) -> str:
    return str(tuple(shape))


def as_tensor(value, what: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.detach()
    fail(f"{what} should be a tensor; got {came_back(value)}.")


def as_number(value, what: str) -> float:
    """A Python number, a 0-d tensor or a one-element tensor, as a float."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value.detach().reshape(()).item())
    fail(
        f"{what} should be a number (a float, or a tensor with one element); got {came_back(value)}."
    )


def number_or_none(value) -> float | None:
    """`as_number`'s float, or None where the value is not a number (a bool is not one)."""
    try:
        return as_number(value, "")
    except CheckFailed:
        return None


def expect_type(value, types, what: str, expected: str):
    if not isinstance(value, types):
        fail(f"{what} should be {expected}; got {came_back(value)}.")
    return value


def expect_keys(value, keys, what: str) -> dict:
    expect_type(value, dict, what, f"a dict with keys {', '.join(keys)}")
    missing = [k for k in keys if k not in value]
    if missing:
        fail(
            f"{what} should have the keys {', '.join(keys)}; "
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing (it has {', '.join(map(str, value)) or 'none'})."
        )
    return value


def expect_shape(value, shape, what: str, why: str = "") -> torch.Tensor:
    tensor = as_tensor(value, what)
    if tuple(tensor.shape) != tuple(shape):
        fail(
            f"{what} should have shape {shape_text(shape)}{' (' + why + ')' if why else ''}; "
            f"got shape {shape_text(tensor.shape)}."
        )
    return tensor


def close(a: torch.Tensor, b: torch.Tensor, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    """Whether two tensors agree, with `atol` relative to the scale of `b`."""
    if a.shape != b.shape:
        return False
    a, b = a.double(), b.double()
    scale = max(1.0, float(b.abs().max())) if b.numel() else 1.0
    return bool(torch.isfinite(a).all()) and bool(
        ((a - b).abs() <= atol * scale + rtol * b.abs()).all()
    )


def diagnose(
    got: torch.Tensor, diagnoses: dict, rtol: float = 1e-4, atol: float = 1e-5
) -> str | None:
    """The diagnosis of the first known mistake whose value `got` matches."""
    for candidate, text in diagnoses.values():
        if candidate is not None and close(
            got, candidate.to(got.dtype if got.is_floating_point() else torch.float64), rtol, atol
        ):
            return text
    return None


def _where_differ(got: torch.Tensor, expected: torch.Tensor, rtol: float, atol: float) -> str:
    g, e = got.double(), expected.double()
    scale = max(1.0, float(e.abs().max())) if e.numel() else 1.0
    bad = ~((g - e).abs() <= atol * scale + rtol * e.abs())
    n_bad = int(bad.sum())
    first = tuple(int(i) for i in bad.nonzero()[0]) if n_bad else ()
    abs_err = (g - e).abs()
    rel_err = abs_err / e.abs().clamp_min(1e-12)
    index = list(first) if first else []
    at = f"[{', '.join(map(str, index))}]" if index else ""
    return (
        f"{n_bad} of {e.numel()} entries differ (first at {at or 'the value'}: expected "
        f"{float(e[first]) if first else float(e.reshape(-1)[0]):.6g}, got "
        f"{float(g[first]) if first else float(g.reshape(-1)[0]):.6g}); largest absolute error "
        f"{float(abs_err.max()):.3g}, largest relative error {float(rel_err.max()):.3g}"
    )


def expect_close(
    got,
    expected: torch.Tensor,
    what: str,
    *,
    rtol: float = 1e-4,
    atol: float = 1e-5,
    diagnoses: dict | None = None,
    why_shape: str = "",
) -> torch.Tensor:
    """`got` must be a tensor of `expected`'s shape and values.

    `diagnoses` maps a mistake's name to `(its value, the diagnosis text)`; when the
    shape or the values are wrong and `got` equals one of those values, the failure
    names that mistake.
    """
    tensor = as_tensor(got, what)
    found = diagnose(tensor, diagnoses or {}, rtol, atol) if tensor.is_floating_point() else None
    if tuple(tensor.shape) != tuple(expected.shape):
        fail(
            f"{what} should have shape {shape_text(expected.shape)}{' (' + why_shape + ')' if why_shape else ''}; "
            f"got shape {shape_text(tensor.shape)}.",
            found,
        )
    if not torch.isfinite(tensor.double()).all():
        fail(
            f"{what} contains NaN or infinite values "
            f"({int((~torch.isfinite(tensor.double())).sum())} of {tensor.numel()} entries).",
            found,
        )
    if not close(tensor, expected, rtol, atol):
        fail(
            f"{what} has the right shape {shape_text(expected.shape)} but wrong values: "
            f"{_where_differ(tensor, expected, rtol, atol)}.",
            found,
        )
    return tensor


def expect_number(
    got,
    expected: float,
    what: str,
    *,
    rtol: float = 1e-4,
    atol: float = 1e-6,
    diagnoses: dict | None = None,
) -> float:
    """`got` must be a number (float, 0-d or one-element tensor) close to `expected`."""
    value = as_number(got, what)
    if abs(value - expected) > atol + rtol * abs(expected):
        found = next(
            (
                text
                for candidate, text in (diagnoses or {}).values()
                if candidate is not None and abs(value - candidate) <= atol + rtol * abs(candidate)
            ),
            None,
        )
        fail(f"{what} should be {expected:.6g}; got {value:.6g}.", found)
    return value


def expect_accuracy(got, expected_fraction: float, what: str, *, atol: float = 1e-4) -> float:
    """An accuracy may be a fraction in [0, 1] or a percentage in [0, 100] (contract)."""
    value = as_number(got, what)
    for scale in (1.0, 100.0):
        if abs(value - expected_fraction * scale) <= atol * scale:
            return value / scale
    fail(
        f"{what} should be {expected_fraction:.4g} (or {expected_fraction * 100:.4g} as a percentage); got {value:.6g}."
    )


# -- known mistakes ----------------------------------------------------------------


def fit(candidate: torch.Tensor | None, shape) -> torch.Tensor | None:
    """A known-mistake value in the shape of what came back, when it can be."""
    if candidate is None:
        return None
    shape = tuple(shape)
    if tuple(candidate.shape) == shape:
        return candidate
    if candidate.dim() == 2 and tuple(candidate.t().shape) == shape:
        return candidate.t()
    if candidate.dim() <= 1 and candidate.numel() == math.prod(shape):
        return candidate.reshape(shape)
    return candidate


def fitted(diagnoses: dict, shape) -> dict:
    return {name: (fit(value, shape), text) for name, (value, text) in diagnoses.items()}


def number_diagnosis(value: float, diagnoses: dict, rtol=1e-4, atol=1e-6) -> str | None:
    for candidate, text in diagnoses.values():
        if candidate is not None and abs(value - candidate) <= atol + rtol * abs(candidate):
            return text
    return None


def expect_accuracy_diagnosed(got, expected: float, what: str, diagnoses: dict) -> float:
    """expect_accuracy, naming a known mistake when the value matches one."""
    try:
        return expect_accuracy(got, expected, what)
    except CheckFailed as e:
        value = as_number(got, what)
        raise CheckFailed(e.message, number_diagnosis(value, diagnoses)) from None


def pair(result, what: str, names=("L", "acc")):
    """A function's `(L, acc)`-like result, or a failure saying what came back."""
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        fail(
            f"{what} should return {len(names)} values ({', '.join(names)}); got {came_back(result)}."
        )
    return result
