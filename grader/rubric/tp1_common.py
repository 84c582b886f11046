"""What the four TP 1-ab rubric modules share: inputs from the seed, the student's
parameter layout, gradient conventions, the reference training run and curve checks.

Everything here runs in the trusted process. Student code is reached only through the
`student` proxy (`grader.sandbox.Part`); expected values come from the oracle
(`grader.expected.ask`), the texts of known mistakes from `grader.rubric.mistakes`.
"""
from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from functools import lru_cache

import torch

from grader.expected import ask
from grader.rubric import mistakes
from grader.rubric.checks import (CheckFailed, as_number, describe, expect_accuracy, expect_close,
                                  expect_keys, expect_number, fail)
from grader.sandbox import StudentFault

NX, NH, NY = 2, 10, 2          # the course's Circles sizes; the layout is read at these sizes
B = 8                           # batch of the unit checks: differs from nx, nh, ny
KEYS = ("Wh", "bh", "Wy", "by")
ETA, BATCH, EPOCHS = 0.03, 10, 30
SGD_ETA = 0.05                  # the step of the unit checks of sgd
CURVE_KEYS = ("train_loss", "train_acc", "test_loss", "test_acc")
SYMBOL = {"Wh": "Wh", "bh": "bh", "Wy": "Wy", "by": "by"}


# -- inputs drawn from the seed ------------------------------------------------------

@dataclass
class Inputs:
    params: dict        # reference layout: Wh (nh, nx), bh (nh,), Wy (ny, nh), by (ny,)
    X: torch.Tensor     # (B, nx)
    Y: torch.Tensor     # one-hot (B, ny), some predictions right and some wrong
    outputs: dict       # the reference forward's outputs
    grads: dict         # the reference gradients of the batch MEAN loss
    acc: float


@lru_cache(maxsize=8)
def unit_inputs(seed: int) -> Inputs:
    """Parameters, a batch and its targets for the checks of single functions."""
    return Inputs(**ask("tp1.unit", seed))


def diagnosed(values: dict, texts: dict) -> dict:
    """The oracle's known-mistake values with the catalogue's texts: {name: (value, text)}."""
    return {name: (value, texts[name]) for name, value in values.items()}


# -- the student's layout -------------------------------------------------------------

BIAS_KINDS = {"vector": lambda n: (n,), "row": lambda n: (1, n), "column": lambda n: (n, 1)}


class Layout:
    """The shapes the student's init_params uses: weights as in the handout or transposed,
    biases (n,), (1, n) or (n, 1). Converts the reference's tensors to and from them."""

    def __init__(self, transposed: dict | None = None, bias: dict | None = None):
        self.transposed = transposed or {"Wh": False, "Wy": False}
        self.bias = bias or {"bh": "vector", "by": "vector"}

    @staticmethod
    def shapes(nx, nh, ny) -> dict:
        return {"Wh": (nh, nx), "bh": (nh,), "Wy": (ny, nh), "by": (ny,)}

    def shape(self, key, nx=NX, nh=NH, ny=NY) -> tuple:
        s = self.shapes(nx, nh, ny)[key]
        if key in self.transposed:
            return s[::-1] if self.transposed[key] else s
        return BIAS_KINDS[self.bias[key]](s[0])

    def to_student(self, key, tensor: torch.Tensor) -> torch.Tensor:
        if key in self.transposed:
            return tensor.t().contiguous() if self.transposed[key] else tensor.clone()
        return tensor.reshape(BIAS_KINDS[self.bias[key]](tensor.numel())).clone()

    def params_to_student(self, params: dict) -> dict:
        return {k: self.to_student(k, params[k]) for k in KEYS}

    def from_student(self, key, value, n: int | None = None) -> torch.Tensor | None:
        """A student's tensor for `key` (a parameter or its gradient) in the reference
        layout, or None when its shape is not one the contract accepts."""
        if not isinstance(value, torch.Tensor):
            return None
        value = value.detach()
        if key in self.transposed:
            want = self.shape(key)
            if tuple(value.shape) != want:
                return None
            return value.t() if self.transposed[key] else value
        n = n or (NH if key == "bh" else NY)
        if tuple(value.shape) in [f(n) for f in BIAS_KINDS.values()]:
            return value.reshape(n)
        return None

    def describe(self) -> str:
        parts = []
        if any(self.transposed.values()):
            parts.append("the transposed weight layout")
        kinds = {self.bias[k] for k in self.bias}
        if kinds != {"vector"}:
            parts.append("biases as " + " / ".join(sorted(kinds)) + "s")
        return ", ".join(parts) or "the handout's layout"


def why_shape(key: str, layout: Layout, nx=NX, nh=NH, ny=NY) -> str:
    sizes = {"nx": nx, "nh": nh, "ny": ny}
    dims = {"Wh": ("nh", "nx"), "Wy": ("ny", "nh"), "bh": ("nh",), "by": ("ny",)}[key]
    if key in layout.transposed and layout.transposed[key]:
        dims = dims[::-1]
    if key in layout.transposed:
        what = "in your transposed layout" if layout.transposed[key] else "as in the handout"
        return f"{key} is ({', '.join(dims)}) = {tuple(sizes[d] for d in dims)} {what}"
    n = sizes[dims[0]]
    return f"{key} is ({dims[0]},) = ({n},), or ({n}, 1) or (1, {n})"


def read_layout(params, what: str, sizes=(NX, NH, NY)) -> Layout:
    """The layout of a student's init_params result; fails with the expected shapes."""
    nx, nh, ny = sizes
    expect_keys(params, KEYS, what)
    ref_shapes = Layout.shapes(nx, nh, ny)
    transposed, bias = {}, {}
    for key in KEYS:
        value = params[key]
        if not isinstance(value, torch.Tensor):
            fail(f"{what}[{key!r}] should be a tensor; got {describe(value)}.")
        shape, s = tuple(value.shape), ref_shapes[key]
        if key.startswith("W"):
            if shape == s:
                transposed[key] = False
            elif shape == s[::-1]:
                transposed[key] = True
            else:
                fail(f"{what}[{key!r}] should have shape {s} (handout: {key} is "
                     f"{'(nh, nx)' if key == 'Wh' else '(ny, nh)'}), or {s[::-1]} in the transposed layout; "
                     f"got {shape}.")
        else:
            kind = next((k for k, f in BIAS_KINDS.items() if f(s[0]) == shape), None)
            if kind is None:
                fail(f"{what}[{key!r}] should have shape ({s[0]},) ({'nh' if key == 'bh' else 'ny'} = {s[0]}), "
                     f"or (1, {s[0]}) or ({s[0]}, 1); got {shape}.")
            bias[key] = kind
    return Layout(transposed, bias)


_layouts: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def student_layout(student) -> Layout:
    """The layout of the student's init_params(2, 10, 2); the handout's layout when
    init_params fails (its own check reports that, and the other functions are still
    judged: one mistake costs one function)."""
    if student not in _layouts:
        try:
            _layouts[student] = read_layout(student.call("init_params", NX, NH, NY), "init_params(2, 10, 2)")
        except (StudentFault, CheckFailed):
            return Layout()
    return _layouts[student]


# -- comparisons -----------------------------------------------------------------------

def fit(candidate: torch.Tensor | None, shape) -> torch.Tensor | None:
    """A known-mistake value in the shape of what came back, when it can be."""
    if candidate is None:
        return None
    shape = tuple(shape)
    if tuple(candidate.shape) == shape:
        return candidate
    if candidate.dim() == 2 and tuple(candidate.t().shape) == shape:
        return candidate.t()
    if candidate.dim() <= 1 and candidate.numel() == math.prod(shape):
        return candidate.reshape(shape)
    return candidate


def fitted(diagnoses: dict, shape) -> dict:
    return {name: (fit(value, shape), text) for name, (value, text) in diagnoses.items()}


def number_diagnosis(value: float, diagnoses: dict, rtol=1e-4, atol=1e-6) -> str | None:
    for candidate, text in diagnoses.values():
        if candidate is not None and abs(value - candidate) <= atol + rtol * abs(candidate):
            return text
    return None


def expect_accuracy_diagnosed(got, expected: float, what: str, diagnoses: dict) -> float:
    """expect_accuracy, naming a known mistake when the value matches one."""
    try:
        return expect_accuracy(got, expected, what)
    except CheckFailed as e:
        value = as_number(got, what)
        raise CheckFailed(e.message, number_diagnosis(value, diagnoses)) from None


def pair(result, what: str, names=("L", "acc")):
    """A function's `(L, acc)`-like result, or a failure saying what came back."""
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        fail(f"{what} should return {len(names)} values ({', '.join(names)}); got {describe(result)}.")
    return result


def loss_candidates(seed: int, question: str) -> tuple[float, dict]:
    """The batch mean cross-entropy of the unit Ŷ and its known wrong values."""
    loss = ask("tp1.loss", seed)
    return loss["expected"], diagnosed(loss["mistakes"], mistakes.loss(B, question))


def accuracy_candidates(seed: int) -> dict:
    inp = unit_inputs(seed)
    return diagnosed(ask("tp1.accuracy_mistakes", seed), mistakes.accuracy(inp.acc * B, B))


# -- training runs -------------------------------------------------------------------

@dataclass
class Training:
    data: tuple          # Xtrain, Ytrain, Xtest, Ytest (float32, one-hot)
    init: dict           # reference layout; weights N(0, 0.3²), biases zero
    perms: list          # one permutation of the training set per epoch


@lru_cache(maxsize=4)
def training_setup(seed: int) -> Training:
    from grader.data.circles import make_circles
    data = tuple(make_circles(seed))
    g = torch.Generator().manual_seed(7_000_001 * (seed + 1))
    init = {"Wh": 0.3 * torch.randn(NH, NX, generator=g), "bh": torch.zeros(NH),
            "Wy": 0.3 * torch.randn(NY, NH, generator=g), "by": torch.zeros(NY)}
    perms = [torch.randperm(data[0].shape[0], generator=g) for _ in range(EPOCHS)]
    return Training(data, init, perms)


def reference_curves(seed: int, scale: float = 1.0, accumulate: bool = False, eta: float = ETA,
                     momentum: float = 0.0) -> dict:
    """The reference trained from the grader's initial weights on the grader's batches
    (the oracle's `tp1.curves`): `scale` B gives the gradients of the batch sum,
    `accumulate` a run whose gradients are never reset, `eta` < 0 one that climbs."""
    return ask("tp1.curves", seed, float(scale), bool(accumulate), float(eta), float(momentum))


LOSS_TOL = (0.01, 0.03)   # absolute, relative
ACC_TOL = 0.03            # 6 of 200 points


def curves_agree(got: dict, want: dict) -> tuple[bool, str]:
    """Whether two runs agree at every epoch; else where they first part."""
    for epoch in range(len(want["train_loss"])):
        for key in CURVE_KEYS:
            try:
                s = float(got[key][epoch])
            except (KeyError, IndexError, TypeError, ValueError):
                return False, f"the run has no {key} at epoch {epoch + 1}"
            r = float(want[key][epoch])
            if not math.isfinite(s):
                return False, f"the {key.replace('_', ' ')} became {s} at epoch {epoch + 1}: the run diverged"
            tol = LOSS_TOL[0] + LOSS_TOL[1] * abs(r) if key.endswith("loss") else ACC_TOL
            if abs(s - r) > tol:
                return False, (f"at epoch {epoch + 1} the {key.replace('_', ' ')} is {s:.4g}, "
                               f"the reference's {r:.4g}")
    return True, ""


def expect_same_run(got: dict, want: dict, record: dict, what: str, candidates: dict | None = None,
                    fallback: str | None = None) -> None:
    """The student's training curves must follow the reference's; keep both for the report,
    and the trained network's decision boundary when the probe could compute it.
    A failed run is diagnosed by the first known wrong run it follows, else by `fallback`."""
    got = dict(got)
    boundary = boundary_artifact(got.pop("boundary", None))
    record["curves"] = {"student": got, "reference": want}
    if boundary:
        record["boundary"] = boundary
    ok, where = curves_agree(got, want)
    if ok:
        return
    diagnosis = fallback
    for curves, text in (candidates or {}).values():
        curves = curves() if callable(curves) else curves
        if curves is not None and curves_agree(got, curves)[0]:
            diagnosis = text
            break
    final = ""
    try:
        final = (f" Final test accuracy {float(got['test_acc'][-1]):.3f} "
                 f"(reference {float(want['test_acc'][-1]):.3f}).")
    except (KeyError, IndexError, TypeError, ValueError):
        pass
    fail(f"{what} does not follow the reference run from the same initial weights on the same batches "
         f"(nh = {NH}, batch {BATCH}, eta = {ETA}, {EPOCHS} epochs): {where}.{final} "
         "A training run fails only when a function in the chain is wrong; the checks of the single "
         "functions above say which.", diagnosis)


def boundary_artifact(value) -> dict | None:
    """The probe's predictions on the course grid as plain lists for the report: `prob`
    the probability of class 1, one row per x2 value of `axis` (the grid's order), and
    the training `points` with their `labels`. None when the value is not that."""
    try:
        from grader.data.circles import make_grid
        prob = torch.as_tensor(value["prob"]).double().reshape(40, 40)
        points = torch.as_tensor(value["points"]).double()
        labels = torch.as_tensor(value["labels"]).long().reshape(-1)
        if points.dim() != 2 or points.shape[1] != 2 or len(points) != len(labels) \
                or not torch.isfinite(prob).all() or not torch.isfinite(points).all():
            return None
        axis = make_grid()[:40, 0].double()
        return {"axis": axis.tolist(), "prob": prob.tolist(), "points": points.tolist(), "labels": labels.tolist()}
    except Exception:  # noqa: BLE001 - a plot only: missing or odd values give no plot
        return None


def expect_curves(value, what: str) -> dict:
    expect_keys(value, CURVE_KEYS, what)
    return value


# -- init_params ----------------------------------------------------------------------

OTHER_SIZES = (3, 7, 4)     # a second call, to see that the shapes follow the arguments
BIG_SIZES = (40, 50, 30)    # enough entries to estimate the weights' distribution


def expect_init_shapes(first, second, what: str = "init_params") -> Layout:
    """init_params(2, 10, 2) and init_params(3, 7, 4) have the contract's shapes, in one layout."""
    layout = read_layout(first, f"{what}(2, 10, 2)")
    nx, nh, ny = OTHER_SIZES
    read_layout(second, f"{what}{OTHER_SIZES}", OTHER_SIZES)
    for key in KEYS:
        want = layout.shape(key, nx, nh, ny)
        got = tuple(second[key].shape)
        if got != want:
            fail(f"{what}{OTHER_SIZES}[{key!r}] has shape {got}, but init_params(2, 10, 2) used "
                 f"{layout.describe()}, which gives {want} here: the shapes must follow nx, nh, ny.")
    return layout


def expect_init_weights(params, what: str = "init_params") -> None:
    """Weights drawn from N(0, 0.3²) (or the plain torch.randn, std 1); biases anything."""
    for key in ("Wh", "Wy"):
        w = params[key].detach().double().reshape(-1)
        mean, std = float(w.mean()), float(w.std())
        call = f"{what}{BIG_SIZES}[{key!r}]"
        if std == 0:
            fail(f"{call} has all its entries equal to {mean:.3g}.",
                 "the weights are constant: every hidden unit then computes the same thing and receives the "
                 "same gradient, so they never differ (symmetry). Draw them from N(0, 0.3²): "
                 "torch.randn(...) * 0.3 (handout 2.1).")
        ok = any(abs(std - s) <= 0.1 * s and abs(mean) <= 0.15 * s for s in (0.3, 1.0))
        if not ok:
            diagnosis = None
            if abs(std - 0.09) <= 0.01 and abs(mean) < 0.02:
                diagnosis = ("the weights have standard deviation 0.09 = 0.3²: N(0, 0.3²) has VARIANCE 0.3², "
                             "so its standard deviation is 0.3: torch.randn(...) * 0.3 (handout 2.1).")
            elif abs(mean - 0.5 * std / 0.2887) < 0.1 and mean > 0:
                diagnosis = ("the weights are all positive with a mean near half their range: torch.rand draws "
                             "from a uniform law; N(0, 0.3²) is torch.randn(...) * 0.3 (handout 2.1).")
            fail(f"{call} has mean {mean:.3g} and standard deviation {std:.3g}; weights drawn from N(0, 0.3²) "
                 f"have mean 0 and standard deviation 0.3 (plain torch.randn, standard deviation 1, is accepted "
                 f"too).", diagnosis)


# -- forward ------------------------------------------------------------------------

def forward_candidates(seed: int) -> dict:
    """Known wrong forwards: {name: (Ŷ, text)}."""
    return diagnosed(ask("tp1.forward_mistakes", seed), mistakes.FORWARD)


def nn_loss_candidates(seed: int) -> tuple[float, dict]:
    """CrossEntropyLoss of the unit logits and the known wrong losses of torch.nn."""
    loss = ask("tp1.nn_loss", seed)
    return loss["expected"], diagnosed(loss["mistakes"], mistakes.nn_loss(B))


# -- torch.nn models (tp1_nn, tp1_optim) ------------------------------------------------

NN_SIZES = (NX, NH, NY)


def expect_architecture(info, call: str) -> None:
    if info["missing"]:
        fail(f"{call}'s model should hold Linear({NX}, {NH}) and Linear({NH}, {NY}) (weights "
             f"({NH}, {NX}) and ({NY}, {NH}), with biases); its parameters are "
             f"{', '.join(info['params']) or 'none'}, so {', '.join(info['missing'])} "
             f"{'is' if len(info['missing']) == 1 else 'are'} missing.",
             "a Linear layer without bias (bias=False): the handout's layers have biases."
             if set(info["missing"]) <= {"bh", "by"} else None)
    if info["extra"]:
        fail(f"{call}'s model has parameters besides the two Linear layers: {', '.join(info['extra'])}. "
             "The handout's model is Linear(nx, nh), Tanh, Linear(nh, ny).")


def check_logits(student, eta=None) -> None:
    inp = unit_inputs(student.seed)
    call = "init_model(2, 10, 2)" if eta is None else "init_model(2, 10, 2, eta)"
    student.require("init_model")
    info = student.probe("tp1.model_logits", NN_SIZES, inp.params, inp.X, eta)
    expect_architecture(info, call)
    expect_close(info["output"], inp.outputs["ytilde"], f"the output of {call}'s model (with the grader's weights)",
                 diagnoses=diagnosed(ask("tp1.logits_mistakes", student.seed), mistakes.LOGITS), why_shape=f"B = {B} samples, ny = {NY} logits")


def check_loss(student, eta=None) -> None:
    inp = unit_inputs(student.seed)
    student.require("init_model")
    ytilde = inp.outputs["ytilde"]
    want, diagnoses = nn_loss_candidates(student.seed)
    result = student.probe("tp1.model_loss", NN_SIZES, ytilde, inp.Y, eta)
    values = [result[f] for f in ("index", "onehot") if result.get(f) is not None]
    if not values:
        fail(f"the loss that init_model returns ({result['type']}) fails on logits with class indices "
             f"({result.get('index_error')}) and with one-hot targets ({result.get('onehot_error')}).")
    for value in values[:-1]:
        try:
            expect_number(value, want, "the loss on the logits", diagnoses=diagnoses)
            return
        except AssertionError:
            pass
    expect_number(values[-1], want, f"the loss that init_model returns ({result['type']}), on logits and targets",
                  diagnoses=diagnoses)


def check_loss_accuracy(student):
    student.require("loss_accuracy")
    inp = unit_inputs(student.seed)
    ytilde = inp.outputs["ytilde"]
    result = student.probe("tp1.nn_loss_accuracy", ytilde, inp.Y)
    return inp, ytilde, result


def loss_value(student):
    inp, ytilde, result = check_loss_accuracy(student)
    want, diagnoses = nn_loss_candidates(student.seed)
    expect_number(result["L"], want, "L (loss_accuracy(loss, Yhat, Y) with Yhat the logits and a CrossEntropyLoss)",
                  diagnoses=diagnoses)


def accuracy_value(student):
    inp, ytilde, result = check_loss_accuracy(student)
    expect_accuracy_diagnosed(result["acc"], inp.acc, "the accuracy", accuracy_candidates(student.seed))


def softmax_loss_value(student, leaf: bool = False):
    """tp1_manual and tp1_autograd: loss_accuracy(Ŷ, Y) returns the batch mean cross-entropy.
    `leaf`: Ŷ requires grad, as autograd's forward gives it."""
    _, (L, _) = _softmax_loss_accuracy(student, leaf)
    want, diagnoses = loss_candidates(student.seed, "1-ab Q8-9")
    expect_number(L, want, "L (the loss)", diagnoses=diagnoses)


def softmax_accuracy_value(student, leaf: bool = False):
    """tp1_manual and tp1_autograd: loss_accuracy(Ŷ, Y) returns the rate of good predictions."""
    inp, (_, acc) = _softmax_loss_accuracy(student, leaf)
    expect_accuracy_diagnosed(acc, inp.acc, "the accuracy", accuracy_candidates(student.seed))


def _softmax_loss_accuracy(student, leaf: bool):
    inp = unit_inputs(student.seed)
    yhat = inp.outputs["yhat"].clone().requires_grad_(True) if leaf else inp.outputs["yhat"]
    return inp, pair(student.call("loss_accuracy", yhat, inp.Y), "loss_accuracy(Yhat, Y)")


def uphill(seed: int, scale: float = 1.0) -> tuple:
    """The known wrong run of a descent that climbs: for `expect_same_run`'s mistakes."""
    return lambda: reference_curves(seed, scale=scale, eta=-ETA), mistakes.UPHILL_RUN
