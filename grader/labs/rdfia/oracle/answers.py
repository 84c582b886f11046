"""The `answers` part's answers, sealed (`grader.expected.seal`): a check learns which
label a student's value matches ("right" or a known mistake), never the value."""

from __future__ import annotations

import math

from grader.expected import seal
from grader.labs.rdfia.inputs.answers import CASES
from grader.labs.rdfia.oracle.registry import question
from grader.reference import answers as ref

# Known wrong formulas, by the rubric catalogue's keys.
FORMULA_MISTAKES = {
    "conv_output_size": {
        "one-side-padding": lambda x, k, p, s: (x + p - k) // s + 1,
        "no-plus-one": lambda x, k, p, s: (x + 2 * p - k) // s,
        "no-floor": lambda x, k, p, s: (x + 2 * p - k) / s + 1,
        "no-stride": lambda x, k, p, s: x + 2 * p - k + 1,
        "no-padding": lambda x, k, p, s: (x - k) // s + 1,
    },
    "conv_params": {
        "no-bias": lambda i, o, k: o * i * k * k,
        "bias-per-input": lambda i, o, k: o * i * k * k + i,
        "kernel-not-squared": lambda i, o, k: o * (i * k + 1),
        "no-input-channels": lambda i, o, k: o * (k * k + 1),
    },
    "fc_params": {"bias-per-input": lambda i, o: i * o + i, "no-bias": lambda i, o: i * o},
    "receptive_field": {
        "no-strides": lambda ks, ss: 1 + sum(k - 1 for k in ks),
        "kernels-added": lambda ks, ss: sum(ks),
        "kernels-multiplied": lambda ks, ss: math.prod(ks),
    },
}


@question("answers.formula", lambda seed: [(name,) for name in CASES])
def formula(name: str) -> list[dict]:
    """One sealed verdict per test input of CASES[name], in order."""
    right = getattr(ref, name)
    return [
        seal({"right": right(*args)} | {m: f(*args) for m, f in FORMULA_MISTAKES[name].items()})
        for args in CASES[name]
    ]


@question(
    "answers.constant", lambda seed: [("FIGURE1_SIZES",), ("SAME_CONV_5x5",), ("HALVING_POOL_2x2",)]
)
def constant(name: str) -> dict:
    """A dict answer: its keys, a sealed value per key, and the whole (padding, stride) sealed with known mistakes."""
    want = getattr(ref, name)
    whole = {"right": want}
    if name == "SAME_CONV_5x5":
        whole |= {
            "one-side-padding": {"padding": 4, "stride": 1},
            "no-padding": {"padding": 0, "stride": 1},
        }
    return {
        "keys": list(want),
        "values": {k: seal({"right": v}) for k, v in want.items()},
        "whole": seal(whole),
    }


@question("answers.effect", lambda seed: [])
def effect(size: int, kernel: int, padding: int, stride: int) -> int:
    """The output size of a window with a student's padding and stride: never recorded (it is Q1's formula)."""
    return ref.conv_output_size(size, kernel, padding, stride)


@question("answers.layer_table", lambda seed: [()])
def layer_table() -> dict:
    """Per layer of the Q10 table, its output shape and its count of weights, sealed with known mistakes."""
    rows = {}
    for name, shape, n in ref.LAYER_TABLE:
        shapes = {"right": shape}
        counts = {"right": n}
        if len(shape) == 3:
            shapes["hwc"] = (shape[1], shape[2], shape[0])
        if name.startswith("conv"):
            shapes["no-padding"] = (shape[0], shape[1] - 4, shape[2] - 4)
            counts["no-bias"] = n - shape[0]
        if name.startswith("fc"):
            n_in = n // shape[0] - 1
            counts |= {"no-bias": n - shape[0], "bias-per-input": n - shape[0] + n_in}
        rows[name] = {"shape": seal(shapes), "n": seal(counts)}
    return {"names": [name for name, _, _ in ref.LAYER_TABLE], "rows": rows}


@question("answers.total_params", lambda seed: [()])
def total_params() -> dict:
    """TOTAL_PARAMS sealed with the totals of known miscounts."""
    biases = sum(shape[0] for name, shape, _ in ref.LAYER_TABLE if name[:2] in ("co", "fc"))
    fc_inputs = sum(
        n // shape[0] - 1 for name, shape, n in ref.LAYER_TABLE if name.startswith("fc")
    )
    fc_outputs = sum(shape[0] for name, shape, _ in ref.LAYER_TABLE if name.startswith("fc"))
    return seal(
        {
            "right": ref.TOTAL_PARAMS,
            "no-bias": ref.TOTAL_PARAMS - biases,
            "bias-per-input": ref.TOTAL_PARAMS - fc_outputs + fc_inputs,
        }
    )
