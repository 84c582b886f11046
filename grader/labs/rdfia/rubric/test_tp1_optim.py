"""TP 1-ab, part 4 (section 2.4): the update by torch.optim.

`init_model(nx, nh, ny, eta)` must return plain `torch.optim.SGD(model.parameters(),
lr=eta)`; the model is judged by its output with the grader's weights; the training run
uses the grader's loop (`zero_grad`, forward, `loss_accuracy`, `backward`, `step`).
"""

from __future__ import annotations

from grader.checks import CheckFailed, Mistake, check, fail
from grader.expected import ask_optional
from grader.labs.rdfia.inputs.tp1 import BATCH, ETA, NN_SIZES, training_setup
from grader.labs.rdfia.rubric import mistakes, tp1_checks, tp1_runs
from grader.sandbox import StudentFault

ETAS = (0.03, 0.7)  # two rates, so that a fixed lr shows


def optim_info(student, eta=ETA):
    """The optimizer's description (raw: its classes, settings, the tensors it holds), judged here."""
    student.require("init_model")
    info = student.probe("tp1.optim_info", NN_SIZES, eta)
    held = [n for n in info["held"] if n is not None]
    info.update(
        is_optimizer="torch.optim.optimizer.Optimizer" in info["classes"],
        is_sgd="torch.optim.sgd.SGD" in info["classes"],
        missing=sorted(set(info["model_params"]) - set(held)),
        foreign=len(info["held"]) - len(held),
    )
    if not info["is_optimizer"]:
        fail(
            f"the third value init_model(nx, nh, ny, eta) returns should be a torch.optim optimizer; got "
            f"{info['type']}."
        )
    return info


@check("tp1_optim::init_model::logits", points=2, question="1-ab 2.3-2.4")
def test_logits(student):
    """The model computes the logits Ỹ: Linear, Tanh, Linear, no SoftMax."""
    tp1_checks.expect_logits(student, eta=ETA)


@check("tp1_optim::init_model::loss", points=1, question="1-ab Q14")
def test_loss_object(student):
    """The loss init_model returns is the mean cross-entropy of logits (CrossEntropyLoss)."""
    tp1_checks.expect_loss_object(student, eta=ETA)


@check("tp1_optim::init_model::optimizer_sgd", points=1, question="1-ab 2.4")
def test_optimizer_sgd(student):
    """The optimizer is torch.optim.SGD."""
    info = optim_info(student)
    if not info["is_sgd"]:
        fail(
            f"the optimizer is {info['module']}.{info['type']}; the handout asks for torch.optim.SGD "
            "(plain stochastic gradient descent).",
            f"{info['type']} is another optimizer than the handout's: torch.optim.SGD(model.parameters(), lr=eta) "
            "(handout 2.4).",
        )


@check("tp1_optim::init_model::all_params", points=1, question="1-ab 2.4")
def test_all_params(student):
    """The optimizer updates every parameter of the model (model.parameters())."""
    info = optim_info(student)
    if info["missing"]:
        fail(
            f"the optimizer does not update {', '.join(info['missing'])} of the model (it holds "
            f"{len(info['model_params']) - len(info['missing'])} of its {len(info['model_params'])} parameters).",
            "the optimizer is built over part of the parameters (one layer, or weights without biases): give it "
            "all of them, torch.optim.SGD(model.parameters(), lr=eta) (handout 2.4).",
        )
    if info["foreign"]:
        fail(
            f"the optimizer holds {info['foreign']} tensor(s) that are not parameters of the model it returns.",
            "the optimizer was built over another model's parameters (a second model created in init_model): "
            "build it over the returned model's model.parameters() (handout 2.4).",
        )


@check("tp1_optim::init_model::lr_is_eta", points=1, question="1-ab Q10-11")
def test_lr(student):
    """The optimizer's learning rate is the eta given to init_model."""
    for eta in ETAS:
        info = optim_info(student, eta)
        lrs = sorted({g.get("lr") for g in info["groups"]}, key=str)
        if lrs != [eta]:
            fixed = optim_info(student, ETAS[0] if eta != ETAS[0] else ETAS[1])
            same = sorted({g.get("lr") for g in fixed["groups"]}, key=str) == lrs
            fail(
                f"init_model(2, 10, 2, eta={eta}) made an optimizer with lr = {', '.join(map(str, lrs))}; "
                f"it should be lr = eta = {eta}.",
                Mistake(
                    f"the learning rate is fixed at {lrs[0]} whatever eta is: pass lr=eta "
                    "(handout 2.4, 1-ab Q11).",
                    mistakes.OPTIMIZER_LR,
                )
                if same and len(lrs) == 1
                else None,
            )


@check("tp1_optim::init_model::plain_sgd", points=1, question="1-ab 2.4")
def test_plain(student):
    """The optimizer is plain SGD as the handout writes it: no momentum, no weight decay, no Nesterov."""
    info = optim_info(student)
    for g in info["groups"]:
        if g.get("momentum"):
            fail(
                f"the optimizer has momentum = {g['momentum']:g}.",
                Mistake(
                    "momentum, which the handout does not ask for here: torch.optim.SGD(model.parameters(), "
                    "lr=eta) is plain gradient descent (handout 2.4).",
                    mistakes.OPTIMIZER_MOMENTUM,
                ),
            )
        if g.get("weight_decay"):
            fail(
                f"the optimizer has weight_decay = {g['weight_decay']:g}.",
                "weight decay (L2 regularisation), which the handout does not ask for here: "
                "torch.optim.SGD(model.parameters(), lr=eta) (handout 2.4).",
            )
        if g.get("nesterov") or g.get("maximize"):
            fail(
                "the optimizer has nesterov or maximize set; the handout's is torch.optim.SGD(model.parameters(), lr=eta)."
            )


@check("tp1_optim::loss_accuracy::loss", points=1, question="1-ab Q8-9")
def test_loss(student):
    """loss_accuracy(loss, Yhat, Y), Yhat the logits and Y one-hot, returns the batch mean cross-entropy."""
    tp1_checks.expect_logits_loss(student)


@check("tp1_optim::loss_accuracy::accuracy", points=1, question="1-ab 2.1")
def test_accuracy(student):
    """loss_accuracy returns the rate of good predictions (argmax of the logits equals argmax of Y)."""
    tp1_checks.expect_logits_accuracy(student)


@check(
    "tp1_optim::training::curves",
    points=3,
    question="1-ab 2.4",
    follows=("init_model", "loss_accuracy"),
)
def test_training(student, record):
    """The training loop (zero_grad, forward, loss_accuracy, backward, step) with your objects follows the reference."""
    student.require("init_model", "loss_accuracy")
    setup = training_setup(student.seed)
    curves = tp1_runs.expect_curves(
        student.probe("tp1.train_optim", NN_SIZES, setup.init, setup.data, setup.perms, ETA, BATCH),
        "the training curves",
    )

    try:
        groups = optim_info(student)["groups"]
    except (CheckFailed, StudentFault):  # init_model's own checks report it
        groups = []
    settings = groups[0] if groups else {}
    lr, momentum = float(settings.get("lr", ETA)), float(settings.get("momentum") or 0.0)
    differ = lr != ETA or momentum != 0.0
    settings_mistakes = [
        m
        for m, wrong in (
            (mistakes.OPTIMIZER_LR, lr != ETA),
            (mistakes.OPTIMIZER_MOMENTUM, momentum != 0.0),
        )
        if wrong
    ]
    # The student edition holds no run at the student's own settings: it says only that they differ.
    theirs = ask_optional("tp1.curves", student.seed, 1.0, False, lr, momentum) if differ else None
    tp1_runs.expect_same_run(
        curves,
        tp1_runs.reference_curves(student.seed),
        record,
        "Training with your model, loss and optimizer",
        {
            "optimizer": (
                theirs,
                Mistake(
                    "the run matches the reference with your optimizer's settings (its lr or "
                    "momentum): the handout's optimizer is torch.optim.SGD(model.parameters(), "
                    "lr=eta) (handout 2.4).",
                    *settings_mistakes,
                ),
            ),
            "sum": (
                lambda: tp1_runs.reference_curves(student.seed, scale=float(BATCH)),
                "the run matches the reference trained on the batch SUM of the loss: CrossEntropyLoss's default "
                "mean reduction is the handout's.",
            ),
        },
        fallback=Mistake(
            f"your optimizer's settings (lr = {lr:g}, momentum = {momentum:g}) are not the handout's "
            "torch.optim.SGD(model.parameters(), lr=eta), which changes the run (handout 2.4).",
            *settings_mistakes,
        )
        if differ
        else None,
    )
