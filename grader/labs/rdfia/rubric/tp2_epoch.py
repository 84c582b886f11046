"""Trusted-side reading of what `epoch` did, from the raw values its probe returns.

The probe (`grader.labs.rdfia.worker.probes.tp2_cnn.run_epoch`) runs beside student code, which can
replace it: it only returns values (each forward's input, output and the model's state
before it; the state and gradients after the epoch). Here, in the trusted process, the
grader's TinyNet is run again on those values to tell the mode of each forward, and the
parameters between forwards are the steps, compared with the reference's replay from the
same initial weights and batches. A forged answer must hold the very values a right epoch
produces at the grader's seed: it gains nothing over writing the epoch.

Not a test module (pytest collects `test_*.py` only)."""

from __future__ import annotations

import torch

from grader.labs.rdfia.worker.probes.tp2_cnn import TinyNet

RTOL, ATOL = 1e-4, 1e-6


def _close(a, b) -> bool:
    return (
        isinstance(a, torch.Tensor)
        and isinstance(b, torch.Tensor)
        and a.shape == b.shape
        and torch.allclose(a.double(), b.double(), rtol=RTOL, atol=ATOL)
    )


def mode(forward: dict) -> bool | None:
    """True when the forward's output is TinyNet's in train mode from the state before it,
    False when in eval mode, None when neither (not the model's output on that input)."""
    x, out = forward.get("input"), forward.get("output")
    if not isinstance(x, torch.Tensor) or not isinstance(out, torch.Tensor):
        return None
    for train in (True, False):
        net = TinyNet()
        try:
            net.load_state_dict(forward["state"])
        except (RuntimeError, KeyError, TypeError):
            return None
        net.train(train)
        with torch.no_grad():
            if _close(net(x.float()), out):
                return train
    return None


def modes(got: dict) -> list[bool | None]:
    return [mode(f) for f in got["forwards"]]


def params(state: dict) -> dict:
    """The parameters of a TinyNet state (its running statistics apart)."""
    names = {n for n, _ in TinyNet().named_parameters()}
    return {k: v for k, v in state.items() if k in names}


def steps(got: dict, x: torch.Tensor, batch: int) -> list[dict] | None:
    """The parameters after each step: before the forward on the next batch, and after the
    epoch for the last. None when a batch never went through the model."""
    before = []
    for k in range(0, len(x), batch):
        chunk = x[k : k + batch]
        found = next((f for f in got["forwards"] if _same(f.get("input"), chunk)), None)
        if found is None:
            return None
        before.append(params(found["state"]))
    return before[1:] + [params(got["final"])]


def _same(x, chunk: torch.Tensor) -> bool:
    return isinstance(x, torch.Tensor) and x.shape == chunk.shape and torch.equal(x.float(), chunk)


def same_steps(got: list[dict], want: list[dict]) -> bool:
    return len(got) == len(want) and all(
        set(g) == set(w) and all(_close(g[n], w[n]) for n in w)
        for g, w in zip(got, want, strict=True)
    )


def first_different(got: list[dict], want: list[dict]) -> int:
    """The index of the first step whose parameters differ from `want`'s."""
    differ = (
        k for k, (g, w) in enumerate(zip(got, want, strict=False)) if not same_steps([g], [w])
    )
    return next(differ, len(want))


def changed(initial: dict, final: dict, buffers: bool) -> list[str]:
    """The parameters (or, with `buffers`, the running statistics) that the epoch changed."""
    names = set(params(initial))
    keys = [k for k in initial if (k not in names) == buffers and k != "bn.num_batches_tracked"]
    return [
        k
        for k in keys
        if not (isinstance(final.get(k), torch.Tensor) and torch.equal(final[k], initial[k]))
    ]
