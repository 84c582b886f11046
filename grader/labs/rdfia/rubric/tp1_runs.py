"""TP 1-ab's training runs: the reference's (from the oracle), and whether a student's run
follows it, with its decision boundary for the report."""

from __future__ import annotations

import math

import torch

from grader.artifacts import Boundary, Curves
from grader.checks import expect_keys, fail
from grader.expected import ask
from grader.labs.rdfia.inputs.tp1 import BATCH, EPOCHS, ETA, NH
from grader.labs.rdfia.rubric import mistakes
from grader.worker.artifacts import BOUNDARY, CURVE_KEYS


def reference_curves(
    seed: int, scale: float = 1.0, accumulate: bool = False, eta: float = ETA, momentum: float = 0.0
) -> dict:
    """The reference trained from the grader's initial weights on the grader's batches
    (the oracle's `tp1.curves`): `scale` B gives the gradients of the batch sum,
    `accumulate` a run whose gradients are never reset, `eta` < 0 one that climbs."""
    return ask("tp1.curves", seed, float(scale), bool(accumulate), float(eta), float(momentum))


LOSS_TOL = (0.01, 0.03)  # absolute, relative
ACC_TOL = 0.03  # 6 of 200 points


def curves_agree(got: dict, want: dict) -> tuple[bool, str]:
    """Whether two runs agree at every epoch; else where they first part."""
    for epoch in range(len(want["train_loss"])):
        for key in CURVE_KEYS:
            try:
                s = float(got[key][epoch])
            except (KeyError, IndexError, TypeError, ValueError):
                return False, f"the run has no {key} at epoch {epoch + 1}"
            r = float(want[key][epoch])
            if not math.isfinite(s):
                return (
                    False,
                    f"the {key.replace('_', ' ')} became {s} at epoch {epoch + 1}: the run diverged",
                )
            tol = LOSS_TOL[0] + LOSS_TOL[1] * abs(r) if key.endswith("loss") else ACC_TOL
            if abs(s - r) > tol:
                return False, (
                    f"at epoch {epoch + 1} the {key.replace('_', ' ')} is {s:.4g}, "
                    f"the reference's {r:.4g}"
                )
    return True, ""


def expect_same_run(
    got: dict,
    want: dict,
    record,
    what: str,
    candidates: dict | None = None,
    fallback: str | None = None,
) -> None:
    """The student's training curves must follow the reference's; keep both for the report,
    and the trained network's decision boundary when the probe could compute it.
    A failed run is diagnosed by the first known wrong run it follows, else by `fallback`."""
    got = dict(got)
    boundary = boundary_artifact(got.pop(BOUNDARY, None))
    record(Curves(student=got, reference=want))
    if boundary:
        record(boundary)
    ok, where = curves_agree(got, want)
    if ok:
        return
    diagnosis = fallback
    for curves, text in (candidates or {}).values():
        curves = curves() if callable(curves) else curves
        if curves is not None and curves_agree(got, curves)[0]:
            diagnosis = text
            break
    final = ""
    try:
        final = (
            f" Final test accuracy {float(got['test_acc'][-1]):.3f} "
            f"(reference {float(want['test_acc'][-1]):.3f})."
        )
    except (KeyError, IndexError, TypeError, ValueError):
        pass
    fail(
        f"{what} does not follow the reference run from the same initial weights on the same batches "
        f"(nh = {NH}, batch {BATCH}, eta = {ETA}, {EPOCHS} epochs): {where}.{final} "
        "A training run fails only when a function in the chain is wrong; the checks of the single "
        "functions above say which.",
        diagnosis,
    )


def boundary_artifact(value) -> Boundary | None:
    """The probe's predictions on the course grid as plain lists for the report: `prob`
    the probability of class 1, one row per x2 value of `axis` (the grid's order), and
    the training `points` with their `labels`. None when the value is not that."""
    try:
        from grader.labs.rdfia.data.circles import make_grid

        prob = torch.as_tensor(value["prob"]).double().reshape(40, 40)
        points = torch.as_tensor(value["points"]).double()
        labels = torch.as_tensor(value["labels"]).long().reshape(-1)
        if (
            points.dim() != 2
            or points.shape[1] != 2
            or len(points) != len(labels)
            or not torch.isfinite(prob).all()
            or not torch.isfinite(points).all()
        ):
            return None
        axis = make_grid()[:40, 0].double()
        return Boundary(
            axis=axis.tolist(),
            prob=prob.tolist(),
            points=points.tolist(),
            labels=labels.tolist(),
            data="Circles",
            classes=["outer class 0", "inner class 1"],
        )
    except Exception:  # noqa: BLE001 - a plot only: missing or odd values give no plot
        return None


def expect_curves(value, what: str) -> dict:
    expect_keys(value, CURVE_KEYS, what)
    return value


def uphill(seed: int, scale: float = 1.0) -> tuple:
    """The known wrong run of a descent that climbs: for `expect_same_run`'s mistakes."""
    return lambda: reference_curves(seed, scale=scale, eta=-ETA), mistakes.UPHILL_RUN
