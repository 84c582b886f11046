"""Check bodies that several TP 1-ab parts share: init_params, the loss and accuracy of
loss_accuracy, and the torch.nn model of tp1_nn and tp1_optim."""

from __future__ import annotations

from grader.checks import expect_accuracy_diagnosed, expect_close, expect_number, fail, pair
from grader.expected import ask
from grader.labs.rdfia.inputs.tp1 import (
    BIG_SIZES,
    KEYS,
    NH,
    NN_SIZES,
    NX,
    NY,
    OTHER_SIZES,
    B,
    unit_inputs,
)
from grader.labs.rdfia.rubric import mistakes
from grader.labs.rdfia.rubric.mistakes import diagnosed
from grader.labs.rdfia.rubric.tp1_layout import Layout, read_layout


def loss_candidates(seed: int) -> tuple[float, dict]:
    """The batch mean cross-entropy of the unit Ŷ and its known wrong values."""
    loss = ask("tp1.loss", seed)
    return loss["expected"], diagnosed(loss["mistakes"], mistakes.loss(B))


def accuracy_candidates(seed: int) -> dict:
    inp = unit_inputs(seed)
    return diagnosed(ask("tp1.accuracy_mistakes", seed), mistakes.accuracy(inp.acc * B, B))


def expect_init_shapes(first, second, what: str = "init_params") -> Layout:
    """init_params(2, 10, 2) and init_params(3, 7, 4) have the contract's shapes, in one layout."""
    layout = read_layout(first, f"{what}(2, 10, 2)")
    nx, nh, ny = OTHER_SIZES
    read_layout(second, f"{what}{OTHER_SIZES}", OTHER_SIZES)
    for key in KEYS:
        want = layout.shape(key, nx, nh, ny)
        got = tuple(second[key].shape)
        if got != want:
            fail(
                f"{what}{OTHER_SIZES}[{key!r}] has shape {got}, but init_params(2, 10, 2) used "
                f"{layout.label()}, which gives {want} here: the shapes must follow nx, nh, ny."
            )
    return layout


def expect_init_weights(params, what: str = "init_params") -> None:
    """Weights drawn from N(0, 0.3²) (or the plain torch.randn, std 1); biases anything."""
    for key in ("Wh", "Wy"):
        w = params[key].detach().double().reshape(-1)
        mean, std = float(w.mean()), float(w.std())
        call = f"{what}{BIG_SIZES}[{key!r}]"
        if std == 0:
            fail(
                f"{call} has all its entries equal to {mean:.3g}.",
                "the weights are constant: every hidden unit then computes the same thing and receives the "
                "same gradient, so they never differ (symmetry). Draw them from N(0, 0.3²): "
                "torch.randn(...) * 0.3 (handout 2.1).",
            )
        ok = any(abs(std - s) <= 0.1 * s and abs(mean) <= 0.15 * s for s in (0.3, 1.0))
        if not ok:
            diagnosis = None
            if abs(std - 0.09) <= 0.01 and abs(mean) < 0.02:
                diagnosis = (
                    "the weights have standard deviation 0.09 = 0.3²: N(0, 0.3²) has VARIANCE 0.3², "
                    "so its standard deviation is 0.3: torch.randn(...) * 0.3 (handout 2.1)."
                )
            elif abs(mean - 0.5 * std / 0.2887) < 0.1 and mean > 0:
                diagnosis = (
                    "the weights are all positive with a mean near half their range: torch.rand draws "
                    "from a uniform law; N(0, 0.3²) is torch.randn(...) * 0.3 (handout 2.1)."
                )
            fail(
                f"{call} has mean {mean:.3g} and standard deviation {std:.3g}; weights drawn from N(0, 0.3²) "
                f"have mean 0 and standard deviation 0.3 (plain torch.randn, standard deviation 1, is accepted "
                f"too).",
                diagnosis,
            )


# -- forward ------------------------------------------------------------------------


def forward_candidates(seed: int) -> dict:
    """Known wrong forwards: {name: (Ŷ, text)}."""
    return diagnosed(ask("tp1.forward_mistakes", seed), mistakes.FORWARD)


def nn_loss_candidates(seed: int) -> tuple[float, dict]:
    """CrossEntropyLoss of the unit logits and the known wrong losses of torch.nn."""
    loss = ask("tp1.nn_loss", seed)
    return loss["expected"], diagnosed(loss["mistakes"], mistakes.nn_loss(B))


def expect_architecture(info, call: str) -> None:
    if info["missing"]:
        fail(
            f"{call}'s model should hold Linear({NX}, {NH}) and Linear({NH}, {NY}) (weights "
            f"({NH}, {NX}) and ({NY}, {NH}), with biases); its parameters are "
            f"{', '.join(info['params']) or 'none'}, so {', '.join(info['missing'])} "
            f"{'is' if len(info['missing']) == 1 else 'are'} missing.",
            "a Linear layer without bias (bias=False): the handout's layers have biases."
            if set(info["missing"]) <= {"bh", "by"}
            else None,
        )
    if info["extra"]:
        fail(
            f"{call}'s model has parameters besides the two Linear layers: {', '.join(info['extra'])}. "
            "The handout's model is Linear(nx, nh), Tanh, Linear(nh, ny)."
        )


def expect_logits(student, eta=None) -> None:
    """tp1_nn and tp1_optim (which passes `eta`): init_model's model, given the grader's
    weights, outputs the logits Ỹ."""
    inp = unit_inputs(student.seed)
    call = "init_model(2, 10, 2)" if eta is None else "init_model(2, 10, 2, eta)"
    student.require("init_model")
    info = student.probe("tp1.model_logits", NN_SIZES, inp.params, inp.X, eta)
    expect_architecture(info, call)
    expect_close(
        info["output"],
        inp.outputs["ytilde"],
        f"the output of {call}'s model (with the grader's weights)",
        diagnoses=diagnosed(ask("tp1.logits_mistakes", student.seed), mistakes.LOGITS),
        why_shape=f"B = {B} samples, ny = {NY} logits",
    )


def expect_loss_object(student, eta=None) -> None:
    """tp1_nn and tp1_optim: the loss init_model returns is the mean cross-entropy of logits."""
    inp = unit_inputs(student.seed)
    student.require("init_model")
    ytilde = inp.outputs["ytilde"]
    want, diagnoses = nn_loss_candidates(student.seed)
    result = student.probe("tp1.model_loss", NN_SIZES, ytilde, inp.Y, eta)
    values = [result[f] for f in ("index", "onehot") if result.get(f) is not None]
    if not values:
        fail(
            f"the loss that init_model returns ({result['type']}) fails on logits with class indices "
            f"({result.get('index_error')}) and with one-hot targets ({result.get('onehot_error')})."
        )
    for value in values[:-1]:
        try:
            expect_number(value, want, "the loss on the logits", diagnoses=diagnoses)
            return
        except AssertionError:
            pass
    expect_number(
        values[-1],
        want,
        f"the loss that init_model returns ({result['type']}), on logits and targets",
        diagnoses=diagnoses,
    )


def _logits_loss_accuracy(student):
    student.require("loss_accuracy")
    inp = unit_inputs(student.seed)
    return inp, student.probe("tp1.nn_loss_accuracy", inp.outputs["ytilde"], inp.Y)


def expect_logits_loss(student):
    """tp1_nn and tp1_optim: loss_accuracy(loss, Ỹ, Y) returns the batch mean cross-entropy."""
    _, result = _logits_loss_accuracy(student)
    want, diagnoses = nn_loss_candidates(student.seed)
    expect_number(
        result["L"],
        want,
        "L (loss_accuracy(loss, Yhat, Y) with Yhat the logits and a CrossEntropyLoss)",
        diagnoses=diagnoses,
    )


def expect_logits_accuracy(student):
    """tp1_nn and tp1_optim: loss_accuracy(loss, Ỹ, Y) returns the rate of good predictions."""
    inp, result = _logits_loss_accuracy(student)
    expect_accuracy_diagnosed(
        result["acc"], inp.acc, "the accuracy", accuracy_candidates(student.seed)
    )


def expect_softmax_loss(student, leaf: bool = False):
    """tp1_manual and tp1_autograd: loss_accuracy(Ŷ, Y) returns the batch mean cross-entropy.
    `leaf`: Ŷ requires grad, as autograd's forward gives it."""
    _, (L, _) = _softmax_loss_accuracy(student, leaf)
    want, diagnoses = loss_candidates(student.seed)
    expect_number(L, want, "L (the loss)", diagnoses=diagnoses)


def expect_softmax_accuracy(student, leaf: bool = False):
    """tp1_manual and tp1_autograd: loss_accuracy(Ŷ, Y) returns the rate of good predictions."""
    inp, (_, acc) = _softmax_loss_accuracy(student, leaf)
    expect_accuracy_diagnosed(acc, inp.acc, "the accuracy", accuracy_candidates(student.seed))


def _softmax_loss_accuracy(student, leaf: bool):
    inp = unit_inputs(student.seed)
    yhat = inp.outputs["yhat"].clone().requires_grad_(True) if leaf else inp.outputs["yhat"]
    return inp, pair(student.call("loss_accuracy", yhat, inp.Y), "loss_accuracy(Yhat, Y)")
