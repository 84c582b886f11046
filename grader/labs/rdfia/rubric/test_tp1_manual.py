"""TP 1-ab, part 1 (section 2.1): forward and backward passes by hand.

Each function is judged on its own: `backward` gets the reference's forward outputs,
`sgd` gets the reference's gradients, all in the shapes of the student's own
`init_params`. The training run uses the student's whole chain.
"""

from __future__ import annotations

import math
import weakref

import pytest
import torch

from grader import static
from grader.artifacts import Gradient
from grader.checks import (
    CheckFailed,
    check,
    close,
    expect_close,
    expect_keys,
    fail,
    fit,
    fitted,
    pair,
)
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
from grader.sandbox import StudentFault

OUTPUT_KEYS = ("X", "htilde", "h", "ytilde", "yhat")


# -- init_params --------------------------------------------------------------------------


@check("tp1_manual::init_params::shapes", points=2, question="1-ab 2.1")
def test_init_shapes(student):
    """init_params(nx, nh, ny) returns Wh (nh, nx), bh (nh,), Wy (ny, nh), by (ny,) (or an accepted layout)."""
    tp1_checks.expect_init_shapes(
        student.call("init_params", *NN_SIZES), student.call("init_params", *OTHER_SIZES)
    )


@check("tp1_manual::init_params::weights", points=1, question="1-ab 2.1")
def test_init_weights(student):
    """init_params draws the weights from N(0, 0.3²) (plain torch.randn is accepted)."""
    params = student.call("init_params", *BIG_SIZES)
    tp1_layout.read_layout(params, f"init_params{BIG_SIZES}", BIG_SIZES)
    tp1_checks.expect_init_weights(params)


# -- forward ---------------------------------------------------------------------------


def student_forward(student):
    inp = unit_inputs(student.seed)
    layout = tp1_layout.student_layout(student)
    return inp, layout, student.call("forward", layout.params_to_student(inp.params), inp.X)


@check("tp1_manual::forward::yhat", points=3, question="1-ab Q7")
def test_forward_yhat(student):
    """forward(params, X) returns Ŷ, the network's class probabilities, one row per sample."""
    inp, layout, result = student_forward(student)
    pair(result, "forward(params, X)", ("Yhat", "outputs"))
    Yhat = result[0]
    diagnoses = tp1_checks.forward_candidates(student.seed)
    diagnoses["transposed"] = (inp.outputs["yhat"].t(), mistakes.FORWARD["transposed"])
    expect_close(
        Yhat,
        inp.outputs["yhat"],
        "Ŷ (the first value forward returns)",
        diagnoses=diagnoses,
        why_shape=f"B = {B} samples, ny = {NY} classes",
    )


@check("tp1_manual::forward::outputs", points=1, question="1-ab Q7")
def test_forward_outputs(student):
    """forward keeps X, htilde, h, ytilde and yhat in its outputs dict, with the forward's values."""
    inp, layout, result = student_forward(student)
    outputs = expect_keys(
        pair(result, "forward(params, X)", ("Yhat", "outputs"))[1],
        OUTPUT_KEYS,
        "outputs (the second value forward returns)",
    )
    h_diag = mistakes.diagnosed(ask("tp1.hidden_mistakes", student.seed), mistakes.HIDDEN)
    for key in OUTPUT_KEYS:
        got, want = outputs[key], inp.outputs[key]
        if (
            isinstance(got, torch.Tensor)
            and got.dim() == 2
            and tuple(got.shape) == tuple(want.t().shape) != tuple(want.shape)
        ):
            got = got.t()  # a forward that works in columns keeps its outputs transposed
        expect_close(
            got,
            want,
            f"outputs[{key!r}]",
            diagnoses=fitted(h_diag, want.shape) if key == "h" else None,
        )


# -- loss and accuracy -------------------------------------------------------------------


@check("tp1_manual::loss_accuracy::loss", points=2, question="1-ab Q8-9")
def test_loss(student):
    """loss_accuracy returns the batch mean of the cross-entropy."""
    tp1_checks.expect_softmax_loss(student)


@check("tp1_manual::loss_accuracy::accuracy", points=1, question="1-ab 2.1")
def test_accuracy(student):
    """loss_accuracy returns the rate of good predictions (argmax of Ŷ equals argmax of Y)."""
    tp1_checks.expect_softmax_accuracy(student)


# -- backward ----------------------------------------------------------------------------

_backward: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def outputs_for(student, layout, params_s, inp) -> dict:
    """The reference's forward outputs, in the shapes the student's own forward keeps
    (so that backward is judged on correct inputs, whatever forward does)."""
    outputs = {k: v.clone() for k, v in inp.outputs.items()}
    try:
        result = student.call("forward", params_s, inp.X)
        theirs = result[1] if isinstance(result, (tuple, list)) and len(result) == 2 else None
    except StudentFault:
        theirs = None  # forward's own check reports it
    if isinstance(theirs, dict):
        extra = {k: v for k, v in theirs.items() if k not in outputs}
        for key, want in outputs.items():
            got = theirs.get(key)
            if (
                isinstance(got, torch.Tensor)
                and want.dim() == 2
                and tuple(got.shape) == tuple(want.t().shape) != tuple(want.shape)
            ):
                outputs[key] = want.t().contiguous()
        outputs.update(extra)
    return outputs


class Backward:
    """The student's gradients for the unit inputs and their convention, detected once."""

    def __init__(self, student):
        inp = unit_inputs(student.seed)
        self.inp, self.inp_seed, self.layout = inp, student.seed, tp1_layout.student_layout(student)
        params_s = self.layout.params_to_student(inp.params)
        self.args = params_s, outputs_for(student, self.layout, params_s, inp), inp.Y
        grads = student.call("backward", *self.args)
        self.grads = expect_keys(grads, KEYS, "backward(params, outputs, Y)")
        self.scale, self.per_grad = self.detect()

    def normal(self, key):
        return self.layout.from_student(key, self.grads[key])

    def detect(self):
        """1 (gradients of the batch mean) or B (of the batch sum), from all four gradients."""
        votes, per = {1: 0, B: 0}, {}
        for key in KEYS:
            g = self.normal(key)
            for s in (1, B):
                if g is not None and close(g.double(), self.inp.grads[key].double() * s):
                    votes[s] += 1
                    per[key] = s
        if votes[B] != votes[1]:
            return (B if votes[B] > votes[1] else 1), per
        ratios = []
        for key in KEYS:
            g = self.normal(key)
            if g is not None and torch.isfinite(g).all():
                r = float(g.double().norm()) / max(
                    float(self.inp.grads[key].double().norm()), 1e-12
                )
                if r > 0:
                    ratios.append(math.log(r))
        if votes[1] == 0 and ratios:
            ratios.sort()
            median = ratios[len(ratios) // 2]
            return (B if abs(median - math.log(B)) < abs(median) else 1), per
        return 1, per

    def convention(self, scale=None) -> str:
        return "batch sum" if (scale or self.scale) == B else "batch mean"


def backward_of(student) -> Backward:
    if student not in _backward:
        _backward[student] = Backward(student)
    return _backward[student]


def grad_candidates(bw: Backward, key: str) -> tuple[torch.Tensor, dict]:
    """The expected gradient (reference layout, student convention) and known mistakes."""
    layout, sym = bw.layout, "∇" + key
    answer = ask("tp1.grad", bw.inp_seed, key, bw.scale)
    expected, values = answer["expected"], dict(answer["mistakes"])
    rows = values.get("not-summed")
    if key.startswith("W"):
        values["transposed"] = layout.to_student(
            key, expected
        ).t()  # the student's own layout, transposed
    texts = mistakes.gradient(
        sym,
        "1-ab Q16" if key in ("Wy", "by") else "1-ab Q17",
        bw.convention(),
        bw.convention(B if bw.scale == 1 else 1),
        B,
        shape=layout.shape(key),
        got_shape=tuple(values["transposed"].shape) if "transposed" in values else None,
        rows_shape=tuple(rows.shape) if rows is not None else None,
    )
    return expected, mistakes.diagnosed(values, texts)


NAME_N = {"by": "ny", "bh": "nh"}


def check_grad(student, key):
    bw = backward_of(student)
    expected, diag = grad_candidates(bw, key)
    got, layout, sym = bw.grads[key], bw.layout, "∇" + key
    what = f"{sym} (backward's {key!r}, gradient of the {bw.convention()})"
    if key.startswith("W"):
        want = layout.to_student(key, expected)
        shape = got.shape if isinstance(got, torch.Tensor) else want.shape
        expect_close(
            got,
            want,
            what,
            diagnoses={
                k: (fit(layout.to_student(key, v) if k != "transposed" else v, shape), t)
                for k, (v, t) in diag.items()
            },
            why_shape=f"it has the shape of {key}: " + tp1_layout.why_shape(key, layout),
        )
        return
    flat = layout.from_student(key, got)
    if flat is not None:
        expect_close(flat, expected, what, diagnoses=fitted(diag, flat.shape))
        return
    want = layout.to_student(key, expected)
    shape = got.shape if isinstance(got, torch.Tensor) else want.shape
    expect_close(
        got,
        want,
        what,
        diagnoses=fitted(diag, shape),
        why_shape=f"it has the shape of {key}: " + tp1_layout.why_shape(key, layout),
    )


def check_grad_recorded(student, key, record):
    """check_grad; when it fails, keep both gradients for the report's heatmap."""
    try:
        check_grad(student, key)
    except CheckFailed:
        record_gradient(student, key, record)
        raise


def record_gradient(student, key, record) -> None:
    """The expected and the received gradient, when they can be compared entry by entry
    (the same shape, or one the transpose of the other). Never raises: a plot only."""
    try:
        bw = backward_of(student)
        expected, _ = grad_candidates(bw, key)
        got, layout = bw.grads[key], bw.layout
        flat = None if key.startswith("W") else layout.from_student(key, got)
        got, want = (
            (flat, expected) if flat is not None else (got, layout.to_student(key, expected))
        )
        if not isinstance(got, torch.Tensor) or got.dim() > 2 or got.numel() > 2500:
            return
        got, want = got.detach().double(), want.double()
        if tuple(got.shape) != tuple(want.shape) and not (
            got.dim() == 2 and tuple(got.t().shape) == tuple(want.shape)
        ):
            return
        if got.dim() == 1:  # a bias: one row
            got, want = got[None], want[None]
        record(Gradient(name="∇" + key, expected=want.tolist(), received=got.tolist()))
    except Exception:  # noqa: BLE001
        pass


@check("tp1_manual::backward::by_hand", points=2, question="1-ab 2.1")
def test_backward_by_hand(student):
    """backward computes its gradients by hand: neither it nor what it calls uses autograd (judged on
    its source), and it returns the same gradients where autograd cannot record (judged on its values)."""
    bw = backward_of(student)  # it runs: a backward not written yet is not one done by hand
    if uses := static.autograd_uses(student.sandbox.source(student.name), "backward"):
        fail(
            f"backward uses autograd ({uses[0].where}: {uses[0].what}"
            f"{f', and {len(uses) - 1} more' if len(uses) > 1 else ''}): in this part the gradients are computed by hand."
        )
    try:
        again = student.probe("tp1.backward_without_autograd", *bw.args)
    except StudentFault as e:
        fail(
            f"backward fails where autograd cannot record ({(e.message or '').split(chr(10))[0][:200]}): "
            "it uses autograd; in this part the gradients are computed by hand."
        )

    def same(a, b) -> bool:
        return (
            isinstance(a, torch.Tensor)
            and isinstance(b, torch.Tensor)
            and a.shape == b.shape
            and torch.allclose(a.double(), b.double(), rtol=1e-5, atol=1e-7, equal_nan=True)
        )

    if not isinstance(again, dict):
        again = {}
    if not all(same(again.get(k), bw.grads[k]) for k in KEYS if bw.grads.get(k) is not None):
        fail(
            "backward returns other gradients where autograd cannot record: it uses autograd; in this part "
            "the gradients are computed by hand."
        )


# One check per gradient that backward returns.
@pytest.mark.parametrize(
    "key",
    [
        pytest.param(
            "Wy", marks=check("tp1_manual::backward::grad_Wy", points=2, question="1-ab Q16")
        ),
        pytest.param(
            "by", marks=check("tp1_manual::backward::grad_by", points=2, question="1-ab Q15-16")
        ),
        pytest.param(
            "Wh", marks=check("tp1_manual::backward::grad_Wh", points=2, question="1-ab Q17")
        ),
        pytest.param(
            "bh", marks=check("tp1_manual::backward::grad_bh", points=2, question="1-ab Q17")
        ),
    ],
)
def test_grad(student, record, key):
    """backward returns ∇{key}, the gradient of the loss with respect to {key} (of the batch sum or mean)."""
    check_grad_recorded(student, key, record)


# -- sgd -----------------------------------------------------------------------------


@check("tp1_manual::sgd::update", points=2, question="1-ab Q10-11")
def test_sgd(student):
    """sgd(params, grads, eta) returns the parameters after one gradient-descent step of size eta."""
    student.require("sgd")
    inp, layout, eta = unit_inputs(student.seed), tp1_layout.student_layout(student), SGD_ETA
    params = layout.params_to_student(inp.params)
    grads = layout.params_to_student(inp.grads)
    result = student.probe("tp1.manual_sgd", params, grads, eta)
    returned = result["returned"]
    if returned is None:
        moved = any(
            not torch.equal(result["after"][k], params[k])
            for k in KEYS
            if isinstance(result["after"].get(k), torch.Tensor)
        )
        fail(
            f"sgd(params, grads, eta) should return the params dict; it returned {result['returned_type']}.",
            "sgd updates the dict in place but returns nothing: the handout's loop does "
            "params = sgd(params, grads, eta), so end sgd with `return params`."
            if moved
            else None,
        )
    expect_keys(returned, KEYS, "the dict sgd returns")
    steps = ask("tp1.sgd_step", student.seed, eta)
    for key in KEYS:
        values = {name: layout.to_student(key, v) for name, v in steps[key].items()}
        texts = mistakes.sgd_step(
            key, f"∇{key}", "sgd must return the updated parameters (1-ab Q10-11)."
        )
        expect_close(
            returned[key],
            values.pop("expected"),
            f"sgd's {key!r}",
            diagnoses=mistakes.diagnosed(values, texts),
        )


# -- the training loop ---------------------------------------------------------------------


def scale_of(student) -> float:
    """The gradient scale of the training batch in the student's convention (1 or the batch size)."""
    try:
        return float(BATCH) if backward_of(student).scale == B else 1.0
    except (StudentFault, CheckFailed):
        return 1.0


@check(
    "tp1_manual::training::curves",
    points=3,
    question="1-ab 2.1",
    follows=("forward", "backward", "sgd"),
)
def test_training(student, record):
    """The handout's training loop with your forward, backward and sgd follows the reference run."""
    student.require("forward", "backward", "sgd")
    setup, layout, scale = (
        training_setup(student.seed),
        tp1_layout.student_layout(student),
        scale_of(student),
    )
    curves = tp1_runs.expect_curves(
        student.probe(
            "tp1.train_manual",
            layout.params_to_student(setup.init),
            setup.data,
            setup.perms,
            ETA,
            BATCH,
        ),
        "the training curves",
    )
    want = tp1_runs.reference_curves(student.seed, scale=scale)
    other = BATCH if scale == 1 else 1.0
    tp1_runs.expect_same_run(
        curves,
        want,
        record,
        "Training with your functions",
        {
            "convention": (
                lambda: tp1_runs.reference_curves(student.seed, scale=other),
                "the run matches the reference with the other gradient convention "
                "(sum vs mean over the batch) than your backward's: check how sgd or "
                "backward scales the gradients.",
            ),
            "uphill": tp1_runs.uphill(student.seed, scale),
        },
    )
