"""The handout questions whose answer is a number or a formula (contract, "answers").

Each function is called on several inputs; a wrong formula is told the inputs where it
is wrong and what it returned, and named when it matches a known mistake.
"""
from __future__ import annotations

import math
import numbers

from grader.reference import answers as ref
from grader.rubric.checks import check, describe, fail


def _number(value):
    """An int or float answer (a one-element tensor counts), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Real):
        return float(value)
    try:
        import torch
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            return float(value.reshape(()).item())
    except ImportError:  # pragma: no cover
        pass
    return None


def _answer(student, name: str):
    """The student's constant `name`; None (the template's placeholder) is not an answer yet."""
    value = student.get(name)
    if value is None:
        fail(f"`{name}` is not answered yet: it is None.")
    return value


def _show(value) -> str:
    return repr(value) if _number(value) is not None and not hasattr(value, "shape") else describe(value)


def _call_all(student, name: str, cases: list[tuple], expected) -> list[tuple]:
    """Call `name` on every case: [(args, got, want)]."""
    return [(args, student.call(name, *args), expected(*args)) for args in cases]


def _formula(student, name: str, cases: list[tuple], expected, mistakes: dict, question: str):
    """Judge a function of integers: where it is wrong, and which known mistake it matches."""
    results = _call_all(student, name, cases, expected)
    wrong = [(args, got, want) for args, got, want in results
             if _number(got) is None or not math.isclose(_number(got), want, rel_tol=0, abs_tol=1e-9)]
    if not wrong:
        return
    # The inputs and what came back, never the expected value: that would be the answer.
    shown = "; ".join(f"{name}{args} returned {_show(got)}" for args, got, want in wrong[:4])
    more = f" (and {len(wrong) - 4} more)" if len(wrong) > 4 else ""
    diagnosis = None
    for text, formula in mistakes.items():
        if all(_number(got) is not None and math.isclose(_number(got), formula(*args), abs_tol=1e-9)
               for args, got, _ in results):
            diagnosis = f"{text} ({question})"
            break
    fail(f"{name} is wrong on {len(wrong)} of {len(results)} inputs: {shown}{more}.", diagnosis)


@check("answers::figure1_sizes", points=1, question="1-ab Q4")
def test_figure1_sizes(student):
    """FIGURE1_SIZES gives the sizes nx, nh, ny of figure 1."""
    got = _answer(student, "FIGURE1_SIZES")
    _expect_dict(got, ref.FIGURE1_SIZES, "FIGURE1_SIZES")


@check("answers::conv_output_size", points=2, question="1-cd Q1")
def test_conv_output_size(student):
    """conv_output_size gives floor((size + 2·padding − kernel) / stride) + 1."""
    cases = [(32, 5, 2, 1), (32, 5, 0, 1), (32, 2, 0, 2), (28, 3, 1, 2), (7, 3, 0, 2), (15, 4, 1, 3),
             (227, 11, 0, 4), (8, 3, 1, 1)]
    _formula(student, "conv_output_size", cases, ref.conv_output_size, {
        "padding counted on one side only: a padding p adds p pixels on each side, 2·p in all":
            lambda x, k, p, s: (x + p - k) // s + 1,
        "the +1 is missing: the first position of the kernel counts":
            lambda x, k, p, s: (x + 2 * p - k) // s,
        "no floor: a kernel that does not fit at the last stride is not applied, so round down":
            lambda x, k, p, s: (x + 2 * p - k) / s + 1,
        "the stride is ignored: with stride s the kernel moves s pixels at a time":
            lambda x, k, p, s: x + 2 * p - k + 1,
        "the padding is ignored": lambda x, k, p, s: (x - k) // s + 1,
    }, "1-cd Q1")


@check("answers::conv_params", points=2, question="1-cd Q1")
def test_conv_params(student):
    """conv_params counts k·k·C_in weights per filter plus one bias per filter."""
    cases = [(3, 32, 5), (32, 64, 5), (64, 64, 5), (1, 1, 3), (16, 8, 1), (3, 10, 7)]
    _formula(student, "conv_params", cases, ref.conv_params, {
        "the biases are missing: each filter has one": lambda i, o, k: o * i * k * k,
        "one bias per input channel: a filter has one bias, whatever its input channels":
            lambda i, o, k: o * i * k * k + i,
        "the kernel counted as k weights, not k×k": lambda i, o, k: o * (i * k + 1),
        "the input channels are missing: a filter spans all C_in input channels":
            lambda i, o, k: o * (k * k + 1),
    }, "1-cd Q1")


@check("answers::fc_params", points=1, question="1-cd Q10")
def test_fc_params(student):
    """fc_params counts n_in·n_out weights plus one bias per output."""
    cases = [(1024, 1000), (1000, 10), (2, 4), (7, 3), (1, 1)]
    _formula(student, "fc_params", cases, ref.fc_params, {
        "fc bias counted per input: a fully connected layer has one bias per output":
            lambda i, o: i * o + i,
        "the biases are missing: one per output": lambda i, o: i * o,
    }, "1-cd Q10")


@check("answers::receptive_field", points=2, question="1-cd Q7")
def test_receptive_field(student):
    """receptive_field of a stack of layers: each adds (k − 1) times the product of the strides before it."""
    cases = [([3], [1]), ([3, 3], [1, 1]), ([5, 2], [1, 2]), ([3, 2, 3], [1, 2, 1]),
             ([5, 2, 5, 2, 5, 2], [1, 2, 1, 2, 1, 2]), ([7, 3, 3], [2, 2, 1])]
    _formula(student, "receptive_field", cases, ref.receptive_field, {
        "receptive field that ignores strides: after a stride-s layer, each further pixel covers s "
        "input pixels": lambda ks, ss: 1 + sum(k - 1 for k in ks),
        "the kernels added up": lambda ks, ss: sum(ks),
        "the kernels multiplied": lambda ks, ss: math.prod(ks),
    }, "1-cd Q7")


def _expect_dict(got, want: dict, what: str, effect: str = ""):
    if not isinstance(got, dict):
        fail(f"{what} should be a dict with the keys {', '.join(want)}; got {describe(got)}.")
    missing = [k for k in want if k not in got]
    if missing:
        fail(f"{what} should have the keys {', '.join(want)}; {', '.join(missing)} missing.")
    wrong = [f"{k} = {got[k]!r}" for k, v in want.items() if _number(got[k]) is None or _number(got[k]) != v]
    if wrong:
        fail(f"{what} is wrong: {'; '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} not right{effect}.")


@check("answers::same_conv_5x5", points=1, question="1-cd Q8")
def test_same_conv(student):
    """SAME_CONV_5x5: the padding and stride with which a 5×5 convolution keeps the size."""
    got = _answer(student, "SAME_CONV_5x5")
    if isinstance(got, dict) and got.get("padding") in (0, 4) and got.get("stride") == 1:
        fail(f"SAME_CONV_5x5 = {got} is not right{_effect(got, 5, 32)}.",
             "padding counted on one side only: the padding is added on each side of the image (Q8)."
             if got.get("padding") == 4 else "convolution without padding: it shrinks the image (Q8).")
    _expect_dict(got, ref.SAME_CONV_5x5, "SAME_CONV_5x5", _effect(got, 5, 32))


@check("answers::halving_pool_2x2", points=1, question="1-cd Q9")
def test_halving_pool(student):
    """HALVING_POOL_2x2: the padding and stride with which a 2×2 pooling halves the size."""
    got = _answer(student, "HALVING_POOL_2x2")
    _expect_dict(got, ref.HALVING_POOL_2x2, "HALVING_POOL_2x2", _effect(got, 2, 32))


def _effect(got, kernel: int, size: int) -> str:
    """What a padding and stride do to a `size`×`size` input: feedback that is not the answer."""
    try:
        out = ref.conv_output_size(size, kernel, int(got["padding"]), int(got["stride"]))
    except (TypeError, KeyError, ValueError, ZeroDivisionError):
        return ""
    return f": with them a {kernel}×{kernel} window turns a {size}×{size} input into {out}×{out}"


def _shape(value):
    if isinstance(value, (tuple, list)) and all(_number(v) is not None for v in value):
        return tuple(int(_number(v)) for v in value)
    if _number(value) is not None:
        return (int(_number(value)),)
    return None


@check("answers::layer_table", points=3, question="1-cd Q10")
def test_layer_table(student):
    """LAYER_TABLE: each layer's output shape and number of weights, as in the Q10 table."""
    got = _answer(student, "LAYER_TABLE")
    if not isinstance(got, (list, tuple)):
        fail(f"LAYER_TABLE should be a list of (name, output_shape, n_params); got {describe(got)}.")
    rows = {}
    for row in got:
        if not (isinstance(row, (list, tuple)) and len(row) == 3 and isinstance(row[0], str)):
            fail(f"each entry of LAYER_TABLE should be (name, output_shape, n_params); got {row!r}"[:300] + ".")
        rows[row[0].strip().lower()] = row
    problems, diagnoses = [], []
    for name, shape, n in ref.LAYER_TABLE:
        if name not in rows:
            problems.append(f"{name} is missing")
            continue
        _, g_shape, g_n = rows[name]
        s = _shape(g_shape)
        if s != shape:
            problems.append(f"{name}: the output shape {g_shape!r} is not right")
            if s is not None and len(s) == 3 and (s[2], s[0], s[1]) == shape:
                diagnoses.append("shapes written (H, W, C): the table is (C, H, W)")
            elif s is not None and len(s) == 3 and name.startswith("conv") and s[1] == shape[1] - 4:
                diagnoses.append("convolution without padding: the handout's convolutions keep the size (Q8)")
        if _number(g_n) != n:
            problems.append(f"{name}: {g_n!r} weights is not right")
            if name.startswith("fc"):
                n_in = 1024 if name == "fc4" else 1000
                if _number(g_n) == n - shape[0] + n_in:
                    diagnoses.append("fc bias counted per input: a fully connected layer has one bias per output")
                elif _number(g_n) == n - shape[0]:
                    diagnoses.append("the biases are missing")
            elif name.startswith("conv") and _number(g_n) == n - shape[0]:
                diagnoses.append("the biases are missing: one per filter")
    if problems:
        fail("LAYER_TABLE differs from the Q10 table: " + "; ".join(problems) + ".",
             "; ".join(dict.fromkeys(diagnoses)) + " (Q10)." if diagnoses else None)


@check("answers::total_params", points=2, question="1-cd Q11")
def test_total_params(student):
    """TOTAL_PARAMS: the network's total number of weights (Q11)."""
    got = _answer(student, "TOTAL_PARAMS")
    value = _number(got)
    if value == ref.TOTAL_PARAMS:
        return
    known = {1190000: "the biases are missing: each convolution filter and each fully connected output has one",
             1191170 - 1010 + 1024 + 1000: "fc bias counted per input: one bias per output, not per input"}
    fail(f"TOTAL_PARAMS = {got!r} is not the network's number of weights: add up each layer's weights "
         "and biases (your LAYER_TABLE's last column).", f"{known[value]} (Q11)." if value in known else None)
