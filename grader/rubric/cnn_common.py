"""Trusted-side helpers of the TP 1-cd rubric: shared probe results, seeded inputs,
crops recognised in a transform's outputs (expected values come from the oracle).

Not a test module (pytest collects `test_*.py` only)."""
from __future__ import annotations

import torch

from grader.rubric.checks import fail
from grader.worker.probes.tp2_cnn import TinyNet, describe, is_bad

__all__ = ["memo", "seeded", "param_layers",
           "tiny_state", "crops", "identify", "values", "TinyNet", "describe", "is_bad"]


def memo(student, key: str, compute):
    """`compute()` once per graded part: several checks read the same probe.

    A failure (the student's exception, a failed check) is kept and raised again in
    every check that asks for the value."""
    store = student.__dict__.setdefault("_tp2_memo", {})
    if key not in store:
        try:
            store[key] = ("ok", compute())
        except Exception as e:  # noqa: BLE001 - re-raised below, in every check that needs it
            store[key] = ("error", e)
    kind, value = store[key]
    if kind == "error":
        raise value
    return value


def seeded(seed: int, build):
    """`build()` under `torch.manual_seed(seed)`, leaving the global RNG as it was."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return build()


def generator(seed: int, salt: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 1000 + salt)


def param_layers(description: dict) -> list[dict]:
    """The convolutions and linear layers, in the order the forward ran them (or, when
    the forward failed before the end, in definition order)."""
    kinds = ("Conv2d", "Linear")
    traced = [t for t in description["trace"] if t["type"] in kinds]
    defined = [m for m in description["modules"] if m["type"] in kinds]
    config = {m["name"]: m for m in defined}
    if description["error"] is None and traced:
        return [dict(config.get(t["name"], {}), **t) for t in traced]
    done = {t["name"] for t in traced}
    return [dict(config[t["name"]], **t) for t in traced] + [m for m in defined if m["name"] not in done]


# -- epoch ---------------------------------------------------------------------------

def tiny_state(seed: int) -> dict:
    """Initial weights of the grader's TinyNet, with running statistics that are not the
    defaults, so that an evaluation in train mode shows."""
    def build():
        net = TinyNet()
        net.bn.running_mean.uniform_(-0.5, 0.5)
        net.bn.running_var.uniform_(0.5, 2.0)
        net.bn.weight.data.uniform_(0.5, 1.5)
        return {k: v.detach().clone() for k, v in net.state_dict().items()}
    return seeded(seed, build)


def values(results, what: str) -> list[float]:
    """The three results of `epoch` as numbers, or a failure that says what came back."""
    if isinstance(results, dict) and "$bad" in results:
        fail(f"{what} should return (top1, top5, loss); it returned {results['$bad']}.")
    names = ("top1", "top5", "loss")
    for name, v in zip(names, results):
        if is_bad(v):
            fail(f"{what}: {name} should be a number or an object with a numeric `.avg` "
                 f"(an AverageMeter); got {v['$bad'] if isinstance(v, dict) else v}.")
    return list(results)


# -- transforms ----------------------------------------------------------------------

def crops(image: torch.Tensor, size: int = 28) -> tuple[torch.Tensor, list[tuple[int, int, bool]]]:
    """Every size x size crop of `image`, unflipped and flipped, with (top, left, flipped)."""
    h, w = image.shape[-2:]
    out, keys = [], []
    for flipped in (False, True):
        for top in range(h - size + 1):
            for left in range(w - size + 1):
                c = image[:, top:top + size, left:left + size]
                out.append(c.flip(-1) if flipped else c)
                keys.append((top, left, flipped))
    return torch.stack(out), keys


def _standardise(x: torch.Tensor) -> torch.Tensor:
    flat = x.reshape(*x.shape[:-2], -1).double()
    flat = flat - flat.mean(-1, keepdim=True)
    return flat / flat.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def identify(outputs: torch.Tensor, image: torch.Tensor, size: int = 28):
    """For each output, the crop of `image` it was made from, `(top, left, flipped)`, or
    None: matched by correlation channel by channel, so a wrong normalisation does not
    hide the crop. Returns (keys, the raw crops that matched)."""
    candidates, keys = crops(image, size)
    if outputs.dim() != 4 or tuple(outputs.shape[1:]) != tuple(candidates.shape[1:]):
        return [None] * len(outputs), None
    corr = torch.einsum("ncp,mcp->nm", _standardise(outputs), _standardise(candidates)) / outputs.shape[1]
    best, index = corr.max(dim=1)
    found = [keys[i] if b > 0.99 else None for b, i in zip(best.tolist(), index.tolist())]
    return found, candidates[index]
