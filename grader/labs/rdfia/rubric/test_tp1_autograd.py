"""TP 1-ab, part 2 (section 2.2): the backward pass by autograd.

The student's `forward` and `loss_accuracy` must be differentiable; `sgd(params, eta)`
updates the leaves under `torch.no_grad()` and resets their gradients.
"""

from __future__ import annotations

import torch

from grader.checks import Mistake, check, expect_close, fail, pair
from grader.expected import ask
from grader.labs.rdfia.inputs.tp1 import (
    BATCH,
    BIG_SIZES,
    ETA,
    KEYS,
    NN_SIZES,
    NY,
    OTHER_SIZES,
    SGD_ETA,
    B,
    training_setup,
    unit_inputs,
)
from grader.labs.rdfia.rubric import mistakes, tp1_checks, tp1_layout, tp1_runs


def init_info(student, sizes):
    student.require("init_params")
    info = student.probe("tp1.autograd_init", *sizes)
    if info.get("type") != "dict":
        fail(
            f"init_params{tuple(sizes)} should return a dict with keys Wh, bh, Wy, by; got {info.get('type')}."
        )
    params = {k: v["value"] for k, v in info["tensors"].items()}
    for k in KEYS:
        if k in info["keys"] and k not in params:
            fail(f"init_params{tuple(sizes)}[{k!r}] should be a tensor.")
    return info, params


@check("tp1_autograd::init_params::shapes", points=1, question="1-ab 2.2")
def test_init_shapes(student):
    """init_params(nx, nh, ny) returns Wh (nh, nx), bh (nh,), Wy (ny, nh), by (ny,) (or an accepted layout)."""
    tp1_checks.expect_init_shapes(
        init_info(student, NN_SIZES)[1], init_info(student, OTHER_SIZES)[1]
    )


@check("tp1_autograd::init_params::leaves", points=2, question="1-ab 2.2")
def test_init_leaves(student):
    """Each tensor init_params returns is a leaf with requires_grad=True, so that autograd fills its .grad."""
    info, params = init_info(student, NN_SIZES)
    tp1_layout.read_layout(params, "init_params(2, 10, 2)")
    for k in KEYS:
        t = info["tensors"][k]
        if not t["requires_grad"]:
            fail(
                f"init_params(2, 10, 2)[{k!r}] does not require a gradient.",
                f"create {k} with requires_grad=True (or call .requires_grad_() on it): autograd only computes "
                f".grad for the tensors that require it (handout 2.2).",
            )
        if not t["is_leaf"]:
            fail(
                f"init_params(2, 10, 2)[{k!r}] requires a gradient but is not a leaf: it is the result of an "
                f"operation, so its .grad stays None after L.backward().",
                "`torch.randn(n, m, requires_grad=True) * 0.3` makes a non-leaf (the product); write "
                "`(torch.randn(n, m) * 0.3).requires_grad_()` (handout 2.2).",
            )


@check("tp1_autograd::init_params::weights", points=1, question="1-ab 2.1")
def test_init_weights(student):
    """init_params draws the weights from N(0, 0.3²) (plain torch.randn is accepted)."""
    params = init_info(student, BIG_SIZES)[1]
    tp1_layout.read_layout(params, f"init_params{BIG_SIZES}", BIG_SIZES)
    tp1_checks.expect_init_weights(params)


def student_forward(student):
    inp, layout = unit_inputs(student.seed), tp1_layout.student_layout(student)
    params = {
        k: v.clone().requires_grad_(True) for k, v in layout.params_to_student(inp.params).items()
    }
    return (
        inp,
        layout,
        pair(student.call("forward", params, inp.X), "forward(params, X)", ("Yhat", "outputs")),
    )


@check("tp1_autograd::forward::yhat", points=2, question="1-ab Q7")
def test_forward(student):
    """forward(params, X) returns Ŷ, the network's class probabilities, one row per sample."""
    inp, layout, (Yhat, _) = student_forward(student)
    expect_close(
        Yhat,
        inp.outputs["yhat"],
        "Ŷ (the first value forward returns)",
        diagnoses=tp1_checks.forward_candidates(student.seed),
        why_shape=f"B = {B} samples, ny = {NY} classes",
    )


@check("tp1_autograd::forward::differentiable", points=1, question="1-ab 2.2")
def test_forward_differentiable(student):
    """forward is differentiable: a loss on Ŷ sends a gradient back to each of Wh, bh, Wy, by."""
    student.require("forward")
    inp, layout = unit_inputs(student.seed), tp1_layout.student_layout(student)
    info = student.probe("tp1.autograd_forward_grads", layout.params_to_student(inp.params), inp.X)
    if info["yhat_type"] != "Tensor":
        fail(f"forward's Ŷ should be a tensor; got {info['yhat_type']}.")
    if not info["requires_grad"]:
        fail(
            "forward's Ŷ does not require a gradient: it was computed outside autograd's graph.",
            "the forward leaves the graph somewhere (.detach(), .data, .item(), numpy, torch.no_grad(), or a new "
            "tensor built from values): compute Ŷ with torch operations on the parameters (handout 2.2).",
        )
    missing = [k for k in KEYS if info["grads"].get(k) is None]
    if missing:
        fail(
            f"after a backward through forward's Ŷ, {', '.join(missing)} received no gradient.",
            "those parameters do not take part in the graph of Ŷ (a .detach(), .data, or a copy breaks it) "
            "(handout 2.2).",
        )


@check("tp1_autograd::loss_accuracy::loss", points=1, question="1-ab Q8-9")
def test_loss(student):
    """loss_accuracy returns the batch mean of the cross-entropy."""
    tp1_checks.expect_softmax_loss(student, leaf=True)


@check("tp1_autograd::loss_accuracy::accuracy", points=1, question="1-ab 2.1")
def test_accuracy(student):
    """loss_accuracy returns the rate of good predictions (argmax of Ŷ equals argmax of Y)."""
    tp1_checks.expect_softmax_accuracy(student, leaf=True)


@check("tp1_autograd::loss_accuracy::differentiable", points=1, question="1-ab 2.2")
def test_loss_differentiable(student):
    """The loss is a tensor in autograd's graph: L.backward() sends a gradient to Ŷ."""
    student.require("loss_accuracy")
    inp = unit_inputs(student.seed)
    info = student.probe("tp1.autograd_loss_grad", inp.outputs["yhat"], inp.Y)
    if info["type"] != "Tensor":
        fail(
            f"L should be a tensor, so that L.backward() can run; got {info['type']}.",
            "the loss was turned into a Python number (.item() or float()): keep it a tensor; call .item() "
            "only to print or plot it (handout 2.2).",
        )
    if not info["requires_grad"] or info["grad"] is None:
        fail(
            "L does not depend on Ŷ in autograd's graph: L.backward() sends no gradient to Ŷ.",
            "the loss leaves the graph (.detach(), .data, numpy, or a new tensor built from values) (handout 2.2).",
        )


# -- sgd ---------------------------------------------------------------------------------------


def sgd_result(student, eta=SGD_ETA):
    student.require("sgd")
    inp, layout = unit_inputs(student.seed), tp1_layout.student_layout(student)
    params, grads = layout.params_to_student(inp.params), layout.params_to_student(inp.grads)
    result = student.probe("tp1.autograd_sgd", params, grads, eta)
    for k in KEYS:
        if result["after"][k].get("type") != "Tensor":
            fail(
                f"after sgd, params[{k!r}] is {result['after'][k].get('type')}, not a tensor "
                f"(sgd returned {result['returned_type']})."
            )
    return params, grads, eta, result


@check("tp1_autograd::sgd::update", points=2, question="1-ab Q10-11")
def test_sgd_update(student):
    """sgd(params, eta) makes one gradient-descent step of size eta on each parameter, from its .grad."""
    params, grads, eta, result = sgd_result(student)
    if result["returned_type"] != "dict":
        fail(
            f"sgd(params, eta) should return the params dict; it returned {result['returned_type']}.",
            "sgd updates the parameters but returns nothing: the handout's loop does params = sgd(params, eta), "
            "so end sgd with `return params`."
            if result["returned_type"] == "NoneType"
            else None,
        )
    steps = ask("tp1.sgd_step", student.seed, eta)
    layout = tp1_layout.student_layout(student)
    for k in KEYS:
        values = {name: layout.to_student(k, v) for name, v in steps[k].items()}
        texts = mistakes.sgd_step(
            k,
            f"{k}.grad",
            "update it under torch.no_grad() in place, which changes the "
            "leaf itself (handout 2.2).",
        )
        expect_close(
            result["after"][k]["value"],
            values.pop("expected"),
            f"params[{k!r}] after sgd",
            diagnoses=mistakes.diagnosed(values, texts),
        )


@check("tp1_autograd::sgd::reset_grads", points=1, question="1-ab 2.2")
def test_sgd_reset(student):
    """sgd resets the gradients after the update (zeroed or set to None), so they do not accumulate."""
    params, grads, eta, result = sgd_result(student)
    for k in KEYS:
        a = result["after"][k]
        grad = a["grad"] if a["same"] or a["is_leaf"] else None
        if a["same"] and grad is not None and not torch.all(grad == 0):
            fail(
                f"after sgd, params[{k!r}].grad still holds the gradient.",
                Mistake(
                    "the gradients are not reset: autograd ADDS each L.backward() to .grad, so the next steps "
                    "use the sum of all past gradients. After the update, call p.grad.zero_() (or set "
                    "p.grad = None) (handout 2.2).",
                    mistakes.NOT_RESET,
                ),
            )
        if (
            not a["same"]
            and a["original_grad"] is not None
            and not torch.all(a["original_grad"] == 0)
            and a["is_leaf"]
            and a["requires_grad"]
            and grad is not None
            and not torch.all(grad == 0)
        ):
            fail(
                f"after sgd, params[{k!r}].grad still holds a gradient.",
                Mistake(
                    "the gradients are not reset: call p.grad.zero_() (or set p.grad = None) after the update "
                    "(handout 2.2).",
                    mistakes.NOT_RESET,
                ),
            )


@check("tp1_autograd::sgd::leaves", points=1, question="1-ab 2.2")
def test_sgd_leaves(student):
    """After sgd each parameter is still a leaf that requires a gradient (updated in place under no_grad)."""
    params, grads, eta, result = sgd_result(student)
    for k in KEYS:
        a = result["after"][k]
        if not a["is_leaf"]:
            fail(
                f"after sgd, params[{k!r}] is no longer a leaf: it is the result of an operation that autograd "
                "recorded, so the next L.backward() will not fill its .grad.",
                f"sgd rebinds the parameter (params[{k!r}] = params[{k!r}] - eta * grad) outside torch.no_grad(): "
                "update the leaf in place under torch.no_grad() (handout 2.2).",
            )
        if not a["requires_grad"]:
            fail(
                f"after sgd, params[{k!r}] no longer requires a gradient, so the next L.backward() cannot "
                "reach it.",
                f"sgd rebinds the parameter to a new tensor made under torch.no_grad() (params[{k!r}] = "
                f"params[{k!r}] - ...): update the leaf in place (an in-place operator on it), so that it stays "
                "the same tensor with requires_grad=True (handout 2.2).",
            )


# -- training ------------------------------------------------------------------------------------


@check(
    "tp1_autograd::training::curves",
    points=3,
    question="1-ab 2.2",
    follows=("forward", "loss_accuracy", "sgd"),
)
def test_training(student, record):
    """The training loop with your forward, loss_accuracy, L.backward() and sgd follows the reference run."""
    student.require("forward", "loss_accuracy", "sgd")
    setup, layout = training_setup(student.seed), tp1_layout.student_layout(student)
    curves = tp1_runs.expect_curves(
        student.probe(
            "tp1.train_autograd",
            layout.params_to_student(setup.init),
            setup.data,
            setup.perms,
            ETA,
            BATCH,
        ),
        "the training curves",
    )
    tp1_runs.expect_same_run(
        curves,
        tp1_runs.reference_curves(student.seed),
        record,
        "Training with your functions",
        {
            "accumulate": (
                lambda: tp1_runs.reference_curves(student.seed, accumulate=True),
                Mistake(
                    "the run matches the reference with gradients that are never reset: each "
                    "L.backward() adds to .grad, so reset it in sgd (p.grad.zero_() or p.grad = None) "
                    "(handout 2.2).",
                    mistakes.NOT_RESET,
                ),
            ),
            "sum": (
                lambda: tp1_runs.reference_curves(student.seed, scale=float(BATCH)),
                "the run matches the reference trained on the batch SUM of the loss: the loss is the batch mean "
                "(1-ab Q8-9).",
            ),
            "uphill": tp1_runs.uphill(student.seed),
        },
    )
