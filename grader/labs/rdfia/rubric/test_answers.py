"""The handout questions whose answer is a number or a formula (contract, "answers").

Each function is called on several inputs; a wrong formula is told the inputs where it
is wrong and what it returned, and named when it matches a known mistake. The answers
are sealed by the oracle: a check learns which label a value matches, never the value.
"""

from __future__ import annotations

from grader.checks import came_back, check, fail, number_or_none
from grader.expected import ask, ask_optional, matches
from grader.labs.rdfia.inputs.answers import CASES
from grader.labs.rdfia.rubric import mistakes


def _answer(student, name: str):
    """The student's constant `name`; None (the template's placeholder) is not an answer yet."""
    value = student.get(name)
    if value is None:
        fail(f"`{name}` is not answered yet: it is None.")
    return value


def _show(value) -> str:
    return (
        repr(value)
        if number_or_none(value) is not None and not hasattr(value, "shape")
        else came_back(value)
    )


def _formula(student, name: str, question: str):
    """Judge a function of integers: where it is wrong, and which known mistake it matches."""
    results = [
        (args, got, matches(sealed, number_or_none(got)))
        for args, sealed, got in _calls(student, name)
    ]
    wrong = [(args, got) for args, got, labels in results if "right" not in labels]
    if not wrong:
        return
    # The inputs and what came back, never the expected value: that would be the answer.
    shown = "; ".join(f"{name}{args} returned {_show(got)}" for args, got in wrong[:4])
    more = f" (and {len(wrong) - 4} more)" if len(wrong) > 4 else ""
    found = next(
        (m for m in mistakes.FORMULA[name] if all(m in labels for _, _, labels in results)), None
    )
    fail(
        f"{name} is wrong on {len(wrong)} of {len(results)} inputs: {shown}{more}.",
        f"{mistakes.FORMULA[name][found]} ({question})" if found else None,
    )


def _calls(student, name: str):
    """(inputs, the oracle's sealed verdicts, what the student's function returned) per test input."""
    for args, sealed in zip(CASES[name], ask("answers.formula", name), strict=True):
        yield args, sealed, student.call(name, *args)


@check("answers::figure1_sizes", points=1, question="1-ab Q4")
def test_figure1_sizes(student):
    """FIGURE1_SIZES gives the sizes nx, nh, ny of figure 1."""
    _expect_dict(_answer(student, "FIGURE1_SIZES"), "FIGURE1_SIZES")


@check("answers::conv_output_size", points=2, question="1-cd Q1")
def test_conv_output_size(student):
    """conv_output_size gives the output size of a convolution on several inputs."""
    _formula(student, "conv_output_size", "1-cd Q1")


@check("answers::conv_params", points=2, question="1-cd Q1")
def test_conv_params(student):
    """conv_params counts a convolution's weights and biases on several inputs."""
    _formula(student, "conv_params", "1-cd Q1")


@check("answers::fc_params", points=1, question="1-cd Q10")
def test_fc_params(student):
    """fc_params counts a fully connected layer's weights and biases on several inputs."""
    _formula(student, "fc_params", "1-cd Q10")


@check("answers::receptive_field", points=2, question="1-cd Q7")
def test_receptive_field(student):
    """receptive_field gives the receptive field of several stacks of layers."""
    _formula(student, "receptive_field", "1-cd Q7")


def _expect_dict(got, name: str, effect: str = ""):
    """A dict answer: every key present, every value the sealed answer's."""
    sealed = ask("answers.constant", name)
    keys = sealed["keys"]
    if not isinstance(got, dict):
        fail(f"{name} should be a dict with the keys {', '.join(keys)}; got {came_back(got)}.")
    missing = [k for k in keys if k not in got]
    if missing:
        fail(f"{name} should have the keys {', '.join(keys)}; {', '.join(missing)} missing.")
    wrong = [
        f"{k} = {got[k]!r}"
        for k in keys
        if number_or_none(got[k]) is None
        or "right" not in matches(sealed["values"][k], number_or_none(got[k]))
    ]
    if wrong:
        fail(
            f"{name} is wrong: {'; '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} not right{effect}."
        )


def _window(got) -> dict | None:
    """The (padding, stride) of a dict answer as numbers, or None."""
    if not isinstance(got, dict):
        return None
    window = {k: number_or_none(got.get(k)) for k in ("padding", "stride")}
    return window if None not in window.values() else None


@check("answers::same_conv_5x5", points=1, question="1-cd Q8")
def test_same_conv(student):
    """SAME_CONV_5x5: the padding and stride with which a 5×5 convolution keeps the size."""
    got = _answer(student, "SAME_CONV_5x5")
    window = _window(got)
    known = [
        m
        for m in matches(ask("answers.constant", "SAME_CONV_5x5")["whole"], window)
        if m != "right"
    ]
    if window is not None and known:
        fail(
            f"SAME_CONV_5x5 = {got} is not right{_effect(got, 5, 32)}.",
            mistakes.SAME_CONV[known[0]],
        )
    _expect_dict(got, "SAME_CONV_5x5", _effect(got, 5, 32))


@check("answers::halving_pool_2x2", points=1, question="1-cd Q9")
def test_halving_pool(student):
    """HALVING_POOL_2x2: the padding and stride with which a 2×2 pooling halves the size."""
    got = _answer(student, "HALVING_POOL_2x2")
    _expect_dict(got, "HALVING_POOL_2x2", _effect(got, 2, 32))


def _effect(got, kernel: int, size: int) -> str:
    """What a padding and stride do to a `size`×`size` input: feedback that is not the answer.
    The student edition cannot compute it (it would be Q1's formula) and says nothing."""
    window = _window(got)
    if window is None or window["stride"] == 0:
        return ""
    out = ask_optional(
        "answers.effect", size, kernel, int(window["padding"]), int(window["stride"])
    )
    return (
        ""
        if out is None
        else f": with them a {kernel}×{kernel} window turns a {size}×{size} input into {out}×{out}"
    )


def _shape(value):
    if isinstance(value, (tuple, list)) and all(number_or_none(v) is not None for v in value):
        return tuple(int(number_or_none(v)) for v in value)
    if number_or_none(value) is not None:
        return (int(number_or_none(value)),)
    return None


@check("answers::layer_table", points=3, question="1-cd Q10")
def test_layer_table(student):
    """LAYER_TABLE: each layer's output shape and number of weights, as in the Q10 table."""
    got = _answer(student, "LAYER_TABLE")
    if not isinstance(got, (list, tuple)):
        fail(
            f"LAYER_TABLE should be a list of (name, output_shape, n_params); got {came_back(got)}."
        )
    rows = {}
    for row in got:
        if not (isinstance(row, (list, tuple)) and len(row) == 3 and isinstance(row[0], str)):
            fail(
                f"each entry of LAYER_TABLE should be (name, output_shape, n_params); got {row!r}"[
                    :300
                ]
                + "."
            )
        rows[row[0].strip().lower()] = row
    table = ask("answers.layer_table")
    problems, diagnoses = [], []
    for name in table["names"]:
        if name not in rows:
            problems.append(f"{name} is missing")
            continue
        _, g_shape, g_n = rows[name]
        shape_labels = matches(table["rows"][name]["shape"], _shape(g_shape))
        if "right" not in shape_labels:
            problems.append(f"{name}: the output shape {g_shape!r} is not right")
            diagnoses += [mistakes.LAYER_SHAPE[m] for m in shape_labels]
        count_labels = matches(table["rows"][name]["n"], number_or_none(g_n))
        if "right" not in count_labels:
            problems.append(f"{name}: {g_n!r} weights is not right")
            diagnoses += [
                mistakes.LAYER_COUNT["fc" if name.startswith("fc") else "conv"][m]
                for m in count_labels
            ]
    if problems:
        fail(
            "LAYER_TABLE differs from the Q10 table: " + "; ".join(problems) + ".",
            "; ".join(dict.fromkeys(diagnoses)) + " (Q10)." if diagnoses else None,
        )


@check("answers::total_params", points=2, question="1-cd Q11")
def test_total_params(student):
    """TOTAL_PARAMS: the network's total number of weights (Q11)."""
    got = _answer(student, "TOTAL_PARAMS")
    labels = matches(ask("answers.total_params"), number_or_none(got))
    if "right" in labels:
        return
    fail(
        f"TOTAL_PARAMS = {got!r} is not the network's number of weights: add up each layer's weights "
        "and biases (your LAYER_TABLE's last column).",
        f"{mistakes.TOTAL[labels[0]]} (Q11)." if labels else None,
    )
