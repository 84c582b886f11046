"""The TP 1-ab rubric: the reference scores full marks, each named mistake fails the right
check with the right diagnosis (and nothing else), and correct variants keep full marks.

Each folder is graded once (a grade starts a worker) and holds one variant of each of the
four parts; several mistakes that belong to different functions share a file, which also
tests that one mistake costs only the checks of its function.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REFERENCE, by_id, reference_source

from grader.artifacts import Boundary, Curves
from grader.runner import grade
from grader.sandbox import Limits
from grader.submission import open_submission

TP1 = ("tp1_manual", "tp1_autograd", "tp1_nn", "tp1_optim")
VARIANTS = Path(__file__).parent / "tp1_variants"


def mutated(part: str, *edits: tuple[str, str]) -> str:
    """The reference of `part` with several exact snippets replaced (each must occur once)."""
    source = reference_source(part)
    for old, new in edits:
        assert source.count(old) == 1, f"{old!r} must occur exactly once in reference/{part}.py"
        source = source.replace(old, new)
    return source


def run(folder: Path, parts=TP1, seed: int = 0):
    return grade(open_submission(folder), seed=seed, limits=Limits(call_seconds=60.0), parts=parts)


# -- the mistakes, grouped into rounds: one folder (one grade) per round -------------------------
# Each entry: part -> (edits, {check id: diagnosis substring, or "" for "fails, any message"}).
# Every other check of that part must pass.

LOSS = "L = -torch.sum(Y * torch.log(Yhat), dim=1).mean()"
SOFTMAX_OUT = 'outputs["yhat"] = exps / exps.sum(dim=1, keepdim=True)'
GRAD_WY = 'grads["Wy"] = torch.mm(grad_ytilde.t(), outputs["h"])'
MANUAL_SGD = "        params[name] = params[name] - eta * grads[name]\n    return params"
AG_SGD = (
    "            params[name] -= eta * params[name].grad\n            params[name].grad.zero_()"
)
OPTIM = "optim = torch.optim.SGD(model.parameters(), lr=eta)"

ROUNDS = {
    "round_a": (
        0,
        {
            "tp1_manual": (
                [
                    (SOFTMAX_OUT, 'outputs["yhat"] = torch.sigmoid(outputs["ytilde"])'),
                    (LOSS, "L = -torch.sum(Y * torch.log(Yhat))"),
                    (GRAD_WY, 'grads["Wy"] = torch.mm(outputs["h"].t(), grad_ytilde)'),
                    (
                        "params[name] = params[name] - eta * grads[name]",
                        "params[name] = params[name] + eta * grads[name]",
                    ),
                ],
                {
                    "tp1_manual::forward::yhat": "sigmoid(Ỹ)",
                    "tp1_manual::forward::outputs": "",
                    "tp1_manual::loss_accuracy::loss": "SUM over the batch",
                    "tp1_manual::backward::grad_Wy": "came back transposed",
                    "tp1_manual::sgd::update": "UP the gradient",
                    "tp1_manual::training::curves": "",
                },
            ),
            "tp1_autograd": (
                [(LOSS, "L = (-torch.sum(Y * Yhat, dim=1) + torch.logsumexp(Yhat, dim=1)).mean()")],
                {"tp1_autograd::loss_accuracy::loss": "Q14", "tp1_autograd::training::curves": ""},
            ),
            "tp1_nn": (
                [
                    (
                        "torch.nn.Linear(nh, ny),\n    )",
                        "torch.nn.Linear(nh, ny),\n        torch.nn.Softmax(dim=1),\n    )",
                    )
                ],
                {
                    "tp1_nn::init_model::logits": "ends with a Softmax",
                    "tp1_nn::training::curves": "",
                },
            ),
            "tp1_optim": (
                [(OPTIM, "optim = torch.optim.SGD(model.parameters(), lr=eta, momentum=0.9)")],
                {
                    "tp1_optim::init_model::plain_sgd": "momentum",
                    "tp1_optim::training::curves": "your optimizer's settings",
                },
            ),
        },
    ),
    "round_b": (
        1,
        {
            "tp1_manual": (
                [
                    (
                        'outputs["h"] = torch.tanh(outputs["htilde"])',
                        'outputs["h"] = torch.relu(outputs["htilde"])',
                    ),
                    (
                        LOSS,
                        "L = (-torch.sum(Y * Yhat, dim=1) + torch.logsumexp(Yhat, dim=1)).mean()",
                    ),
                    ('grads["by"] = grad_ytilde.sum(dim=0)', 'grads["by"] = grad_ytilde'),
                    (
                        'grads["bh"] = grad_htilde.sum(dim=0)',
                        'grads["bh"] = grad_htilde.sum(dim=1)',
                    ),
                    (MANUAL_SGD, "        params[name] -= eta * grads[name]"),
                ],
                {
                    "tp1_manual::forward::yhat": "ReLU",
                    "tp1_manual::forward::outputs": "ReLU",
                    "tp1_manual::loss_accuracy::loss": "Q14",
                    "tp1_manual::backward::grad_by": "not summed over the batch",
                    "tp1_manual::backward::grad_bh": "wrong axis",
                    "tp1_manual::sgd::update": "returns nothing",
                    "tp1_manual::training::curves": "",
                },
            ),
            "tp1_autograd": (
                [
                    (
                        'outputs["h"] = torch.tanh(outputs["htilde"])',
                        'outputs["h"] = torch.relu(outputs["htilde"])',
                    ),
                    (
                        "    with torch.no_grad():\n        for name in params:\n" + AG_SGD,
                        "    for name in params:\n        params[name] = params[name] - eta * params[name].grad",
                    ),
                ],
                {
                    "tp1_autograd::forward::yhat": "ReLU",
                    "tp1_autograd::sgd::leaves": "outside torch.no_grad()",
                    "tp1_autograd::training::curves": "",
                },
            ),
            "tp1_nn": (
                [
                    ("L = loss(Yhat, indsY)", "L = loss(torch.softmax(Yhat, dim=1), indsY)"),
                    ("param -= eta * param.grad", "param += eta * param.grad"),
                ],
                {
                    "tp1_nn::loss_accuracy::loss": "applied to SoftMax outputs",
                    "tp1_nn::sgd::update": "UP the gradient",
                    "tp1_nn::training::curves": "",
                },
            ),
            "tp1_optim": (
                [(OPTIM, "optim = torch.optim.SGD(model.parameters(), lr=0.01)")],
                {
                    "tp1_optim::init_model::lr_is_eta": "fixed at 0.01",
                    "tp1_optim::training::curves": "your optimizer's settings",
                },
            ),
        },
    ),
    "round_c": (
        2,
        {
            "tp1_manual": (
                [
                    (' * (1 - outputs["h"] ** 2)', ""),
                    (LOSS, "L = -torch.mean(Y * torch.log(Yhat))"),
                    (
                        'params["Wh"] = torch.randn(nh, nx) * 0.3',
                        'params["Wh"] = torch.randn(nh, nx) * 0.09',
                    ),
                    (
                        "acc = torch.sum(indsY == indsYhat).item() / Y.shape[0]",
                        "acc = torch.sum(indsY == indsYhat).item()",
                    ),
                ],
                {
                    "tp1_manual::backward::grad_Wh": "missing the tanh derivative",
                    "tp1_manual::backward::grad_bh": "missing the tanh derivative",
                    "tp1_manual::loss_accuracy::loss": "every entry",
                    "tp1_manual::init_params::weights": "0.09 = 0.3²",
                    "tp1_manual::loss_accuracy::accuracy": "NUMBER of good predictions",
                    "tp1_manual::training::curves": "",
                },
            ),
            "tp1_autograd": (
                [
                    (AG_SGD, "            params[name] = params[name] - eta * params[name].grad"),
                    (LOSS, "L = -torch.sum(Y * torch.log(Yhat))"),
                ],
                {
                    "tp1_autograd::sgd::leaves": "made under torch.no_grad()",
                    "tp1_autograd::loss_accuracy::loss": "SUM over the batch",
                    "tp1_autograd::training::curves": "",
                },
            ),
            "tp1_nn": (
                [
                    ("torch.nn.Tanh(),", "torch.nn.ReLU(),"),
                    (
                        "loss = torch.nn.CrossEntropyLoss()",
                        'loss = torch.nn.CrossEntropyLoss(reduction="sum")',
                    ),
                ],
                {
                    "tp1_nn::init_model::logits": "ReLU",
                    "tp1_nn::init_model::loss": "SUM over the batch",
                    "tp1_nn::training::curves": "",
                },
            ),
            "tp1_optim": (
                [(OPTIM, "optim = torch.optim.Adam(model.parameters(), lr=eta)")],
                {
                    "tp1_optim::init_model::optimizer_sgd": "another optimizer",
                    "tp1_optim::training::curves": "",
                },
            ),
        },
    ),
    "round_d": (
        0,
        {
            "tp1_manual": (
                [
                    (
                        'grad_ytilde = (outputs["yhat"] - Y) / bsize',
                        'grad_ytilde = (Y - outputs["yhat"]) / bsize',
                    )
                ],
                {
                    f"tp1_manual::backward::grad_{k}": "opposite sign"
                    for k in ("Wy", "by", "Wh", "bh")
                }
                | {"tp1_manual::training::curves": "climbs the loss"},
            ),
            "tp1_autograd": (
                [("            params[name].grad.zero_()\n", "")],
                {
                    "tp1_autograd::sgd::reset_grads": "not reset",
                    "tp1_autograd::training::curves": "never reset",
                },
            ),
            "tp1_nn": (
                [("    model.zero_grad()\n", "")],
                {
                    "tp1_nn::sgd::reset_grads": "missing zero_grad",
                    "tp1_nn::training::curves": "never reset",
                },
            ),
            "tp1_optim": (
                [(OPTIM, "optim = torch.optim.SGD(model[0].parameters(), lr=eta)")],
                {
                    "tp1_optim::init_model::all_params": "part of the parameters",
                    "tp1_optim::training::curves": "",
                },
            ),
        },
    ),
    "round_e": (
        0,
        {
            "tp1_manual": (
                [
                    (
                        'grads["by"] = grad_ytilde.sum(dim=0)',
                        'grads["by"] = grad_ytilde.sum(dim=0) * bsize',
                    )
                ],
                {
                    "tp1_manual::backward::grad_by": "your other gradients",
                    "tp1_manual::training::curves": "",
                },
            ),
            "tp1_autograd": (
                [
                    (
                        'params["Wh"] = (torch.randn(nh, nx) * 0.3).requires_grad_(True)',
                        'params["Wh"] = torch.randn(nh, nx, requires_grad=True) * 0.3',
                    )
                ],
                {"tp1_autograd::init_params::leaves": "makes a non-leaf"},
            ),
        },
    ),
}

NAMED_MISTAKES = sum(len(edits) for _, parts in ROUNDS.values() for edits, _ in parts.values())


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade each round's folder once; {round: Report}."""
    reports = {}

    def get(name):
        if name not in reports:
            seed, parts = ROUNDS[name]
            folder = tmp_path_factory.mktemp(name)
            for part, (edits, _) in parts.items():
                (folder / f"{part}.py").write_text(mutated(part, *edits))
            reports[name] = by_id(run(folder, tuple(parts), seed))
        return reports[name]

    return get


@pytest.mark.parametrize("round_name", sorted(ROUNDS))
def test_mistakes_are_named(graded, round_name):
    tests = graded(round_name)
    problems = []
    for part, (_, expected) in ROUNDS[round_name][1].items():
        for tid, result in tests.items():
            if result.part != part:
                continue
            if tid in expected:
                if result.status == "passed":
                    problems.append(f"{tid} passed; expected a failure")
                elif expected[tid] and expected[tid] not in (result.diagnosis or ""):
                    problems.append(
                        f"{tid}: diagnosis {result.diagnosis!r} lacks {expected[tid]!r} "
                        f"(message: {result.message[:200]!r})"
                    )
            elif result.status != "passed":
                problems.append(
                    f"{tid} {result.status} but its function is right: {result.message[:300]!r}"
                )
        missing = set(expected) - set(tests)
        problems += [f"{tid} did not run" for tid in missing]
    assert not problems, "\n".join(problems)


# Checks that count a mistake an earlier check of the part already named, by the same diagnosis or, for a
# training run that names none, as the first failed check of the functions it runs: {round: {check: earlier}}.
# A run that stops on an exception (round_a's and round_b's tp1_manual) says where instead.
COUNTED_AGAIN = {
    "round_a": {
        "tp1_autograd::training::curves": "tp1_autograd::loss_accuracy::loss",
        "tp1_nn::training::curves": "tp1_nn::init_model::logits",
        "tp1_optim::training::curves": "tp1_optim::init_model::plain_sgd",
    },
    "round_b": {
        "tp1_manual::forward::outputs": "tp1_manual::forward::yhat",
        "tp1_nn::training::curves": "tp1_nn::loss_accuracy::loss",
        "tp1_optim::training::curves": "tp1_optim::init_model::lr_is_eta",
    },
    "round_c": {
        "tp1_manual::backward::grad_bh": "tp1_manual::backward::grad_Wh",
        "tp1_manual::training::curves": "tp1_manual::backward::grad_Wh",
        "tp1_nn::training::curves": "tp1_nn::init_model::logits",
        "tp1_optim::training::curves": "tp1_optim::init_model::optimizer_sgd",
    },
    "round_d": {
        **{
            f"tp1_manual::backward::grad_{k}": "tp1_manual::backward::grad_Wy"
            for k in ("by", "Wh", "bh")
        },
        "tp1_manual::training::curves": "tp1_manual::backward::grad_Wy",
        "tp1_autograd::training::curves": "tp1_autograd::sgd::reset_grads",
        "tp1_nn::training::curves": "tp1_nn::sgd::reset_grads",
        "tp1_optim::training::curves": "tp1_optim::init_model::all_params",
    },
    "round_e": {"tp1_manual::training::curves": "tp1_manual::backward::grad_by"},
}


@pytest.mark.parametrize("round_name", sorted(COUNTED_AGAIN))
def test_one_mistake_counted_again_is_said(graded, round_name):
    """Exactly the checks whose diagnosis repeats an earlier check's mistake name that check."""
    noted = {tid: t.same_mistake_as for tid, t in graded(round_name).items() if t.same_mistake_as}
    assert noted == COUNTED_AGAIN[round_name]


def test_reference_full_marks():
    report = run(REFERENCE)
    assert {p.part for p in report.parts if p.found} >= set(TP1)
    not_passed = [(t.id, t.status, t.message[:300]) for t in report.tests if t.status != "passed"]
    assert not not_passed
    assert report.score == report.max_score > 0
    curves, boundary = by_id(report)["tp1_manual::training::curves"].artifacts
    assert isinstance(curves, Curves) and isinstance(boundary, Boundary)
    assert len(curves.student["test_acc"]) == len(curves.reference["test_acc"]) > 0


@pytest.mark.parametrize("folder,seed", [("correct_a", 3), ("correct_b", 5)])
def test_correct_variants_full_marks(folder, seed):
    report = run(VARIANTS / folder, seed=seed)
    not_passed = [
        (t.id, t.status, t.message[:300], t.diagnosis) for t in report.tests if t.status != "passed"
    ]
    assert not not_passed
    assert report.score == report.max_score > 0


def test_counts():
    """Keep the named-mistake corpus from shrinking unnoticed."""
    assert NAMED_MISTAKES >= 30
