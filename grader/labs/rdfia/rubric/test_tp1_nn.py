"""TP 1-ab, part 3 (section 2.3): the network with torch.nn layers.

The model is judged by what it computes: the grader loads its own weights into the
model's two Linear layers (found by their shapes) and compares the output with the
reference's logits. `loss_accuracy` gets a correct CrossEntropyLoss, `sgd` gets the
grader's model with the grader's gradients.
"""

from __future__ import annotations

import torch

from grader.checks import Mistake, check, expect_close, fail
from grader.expected import ask
from grader.labs.rdfia.inputs.tp1 import (
    BATCH,
    ETA,
    KEYS,
    NN_SIZES,
    SGD_ETA,
    training_setup,
    unit_inputs,
)
from grader.labs.rdfia.rubric import mistakes, tp1_checks, tp1_runs


@check("tp1_nn::init_model::architecture", points=1, question="1-ab 2.3")
def test_architecture(student):
    """init_model(nx, nh, ny)'s model holds Linear(nx, nh) and Linear(nh, ny), with biases, and nothing else to learn."""
    student.require("init_model")
    inp = unit_inputs(student.seed)
    tp1_checks.expect_architecture(
        student.probe("tp1.model_logits", NN_SIZES, inp.params, inp.X), "init_model(2, 10, 2)"
    )


@check("tp1_nn::init_model::logits", points=2, question="1-ab 2.3")
def test_logits(student):
    """The model computes the logits Ỹ: Linear, Tanh, Linear, no SoftMax."""
    tp1_checks.expect_logits(student)


@check("tp1_nn::init_model::loss", points=1, question="1-ab Q14")
def test_loss_object(student):
    """The loss init_model returns is the mean cross-entropy of logits (CrossEntropyLoss)."""
    tp1_checks.expect_loss_object(student)


@check("tp1_nn::loss_accuracy::loss", points=2, question="1-ab Q8-9")
def test_loss(student):
    """loss_accuracy(loss, Yhat, Y), Yhat the logits and Y one-hot, returns the batch mean cross-entropy."""
    tp1_checks.expect_logits_loss(student)


@check("tp1_nn::loss_accuracy::accuracy", points=1, question="1-ab 2.1")
def test_accuracy(student):
    """loss_accuracy returns the rate of good predictions (argmax of the logits equals argmax of Y)."""
    tp1_checks.expect_logits_accuracy(student)


def sgd_result(student, eta=SGD_ETA):
    student.require("sgd")
    inp = unit_inputs(student.seed)
    return inp, eta, student.probe("tp1.nn_sgd", NN_SIZES, inp.params, inp.grads, eta)


@check("tp1_nn::sgd::update", points=2, question="1-ab Q10-11")
def test_sgd_update(student):
    """sgd(model, eta) makes one gradient-descent step of size eta on every parameter of the model."""
    inp, eta, result = sgd_result(student)
    steps = ask("tp1.sgd_step", student.seed, eta)
    for k in KEYS:
        values = dict(steps[k])
        texts = mistakes.sgd_step(
            f"the model's {k}",
            f"of {k}",
            "update it in place under torch.no_grad(), for "
            "every p in model.parameters() (handout 2.3).",
        )
        expect_close(
            result["after"][k],
            values.pop("expected"),
            f"the model's {k} after sgd",
            diagnoses=mistakes.diagnosed(values, texts),
        )


@check("tp1_nn::sgd::reset_grads", points=1, question="1-ab 2.3")
def test_sgd_reset(student):
    """sgd resets the gradients after the update (model.zero_grad()), so they do not accumulate."""
    inp, eta, result = sgd_result(student)
    for k in KEYS:
        g = result["grads"][k]
        if g is not None and not torch.all(g == 0):
            fail(
                f"after sgd, the gradient of the model's {k} is still there.",
                Mistake(
                    "the gradients are not reset (missing zero_grad): each L.backward() ADDS to .grad, so the "
                    "next steps use the sum of all past gradients. Call model.zero_grad() after the update "
                    "(handout 2.3).",
                    mistakes.NOT_RESET,
                ),
            )


@check(
    "tp1_nn::training::curves",
    points=3,
    question="1-ab 2.3",
    follows=("init_model", "loss_accuracy", "sgd"),
)
def test_training(student, record):
    """The training loop with your model, loss, loss_accuracy and sgd follows the reference run."""
    student.require("init_model", "loss_accuracy", "sgd")
    setup = training_setup(student.seed)
    curves = tp1_runs.expect_curves(
        student.probe("tp1.train_nn", NN_SIZES, setup.init, setup.data, setup.perms, ETA, BATCH),
        "the training curves",
    )
    tp1_runs.expect_same_run(
        curves,
        tp1_runs.reference_curves(student.seed),
        record,
        "Training with your model and functions",
        {
            "accumulate": (
                lambda: tp1_runs.reference_curves(student.seed, accumulate=True),
                Mistake(
                    "the run matches the reference with gradients that are never reset (missing "
                    "zero_grad): call model.zero_grad() in sgd after the update (handout 2.3).",
                    mistakes.NOT_RESET,
                ),
            ),
            "sum": (
                lambda: tp1_runs.reference_curves(student.seed, scale=float(BATCH)),
                "the run matches the reference trained on the batch SUM of the loss: CrossEntropyLoss's default "
                "mean reduction is the handout's.",
            ),
            "uphill": tp1_runs.uphill(student.seed),
        },
    )
