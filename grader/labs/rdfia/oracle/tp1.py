"""TP 1-ab's answers: the reference forward, gradients, losses and training runs at the
grader's inputs, and the known mistakes as values (their names are the rubric's
catalogue keys, `grader.labs.rdfia.rubric.mistakes`)."""

from __future__ import annotations

import torch

from grader.labs.rdfia.inputs import tp1 as tp1_inputs
from grader.labs.rdfia.oracle.registry import question
from grader.reference import tp1_manual as ref
from grader.worker.artifacts import CURVE_KEYS


@question("tp1.unit")
def unit(seed: int) -> dict:
    """Parameters, a batch and its targets for the checks of single functions, with the
    reference's forward outputs and gradients of the batch mean."""
    g = torch.Generator().manual_seed(1_000_003 * (seed + 1))
    params = {
        "Wh": torch.randn(tp1_inputs.NH, tp1_inputs.NX, generator=g),
        "bh": 0.5 * torch.randn(tp1_inputs.NH, generator=g),
        "Wy": torch.randn(tp1_inputs.NY, tp1_inputs.NH, generator=g),
        "by": 0.5 * torch.randn(tp1_inputs.NY, generator=g),
    }
    X = torch.randn(tp1_inputs.B, tp1_inputs.NX, generator=g)
    Yhat, outputs = ref.forward(params, X)
    pred = Yhat.argmax(dim=1)
    right = torch.zeros(tp1_inputs.B, dtype=torch.bool)
    right[torch.randperm(tp1_inputs.B, generator=g)[:5]] = True  # 5 of 8 right: accuracy 0.625
    labels = torch.where(
        right,
        pred,
        (pred + 1 + torch.randint(tp1_inputs.NY - 1, (tp1_inputs.B,), generator=g)) % tp1_inputs.NY,
    )
    Y = torch.nn.functional.one_hot(labels, tp1_inputs.NY).float()
    grads = ref.backward(params, outputs, Y)
    return {
        "params": params,
        "X": X,
        "Y": Y,
        "outputs": outputs,
        "grads": grads,
        "acc": float(right.float().mean()),
    }


def _parts(seed: int):
    u = unit(seed)
    return u, u["params"], u["X"], u["Y"], u["outputs"]


@question("tp1.forward_mistakes")
def forward_mistakes(seed: int) -> dict:
    """Ŷ of known wrong forwards with the unit parameters."""
    _, p, X, _, o = _parts(seed)
    htilde = o["htilde"]

    def head(h, out=lambda t: torch.softmax(t, dim=1), biases=True):
        return out(h @ p["Wy"].t() + (p["by"] if biases else 0))

    return {
        "sigmoid": head(torch.tanh(htilde), torch.sigmoid),
        "no-softmax": head(torch.tanh(htilde), lambda t: t),
        "softmax-dim0": head(torch.tanh(htilde), lambda t: torch.softmax(t, dim=0)),
        "log-softmax": head(torch.tanh(htilde), lambda t: torch.log_softmax(t, dim=1)),
        "relu": head(torch.relu(htilde)),
        "sigmoid-hidden": head(torch.sigmoid(htilde)),
        "no-activation": head(htilde),
        "no-bias": torch.softmax(torch.tanh(X @ p["Wh"].t()) @ p["Wy"].t(), dim=1),
    }


@question("tp1.hidden_mistakes")
def hidden_mistakes(seed: int) -> dict:
    """The hidden layer's output h with another activation than the handout's."""
    htilde = unit(seed)["outputs"]["htilde"]
    return {"relu": torch.relu(htilde), "sigmoid": torch.sigmoid(htilde), "none": htilde.clone()}


@question("tp1.logits_mistakes")
def logits_mistakes(seed: int) -> dict:
    """Outputs of known wrong torch.nn models with the unit weights."""
    _, p, _, _, o = _parts(seed)
    htilde, ytilde = o["htilde"], o["ytilde"]
    return {
        "softmax": torch.softmax(ytilde, dim=1),
        "log-softmax": torch.log_softmax(ytilde, dim=1),
        "sigmoid": torch.sigmoid(ytilde),
        "relu": torch.relu(htilde) @ p["Wy"].t() + p["by"],
        "sigmoid-hidden": torch.sigmoid(htilde) @ p["Wy"].t() + p["by"],
        "no-activation": htilde @ p["Wy"].t() + p["by"],
    }


@question("tp1.loss")
def loss(seed: int) -> dict:
    """The batch mean cross-entropy of the unit Ŷ, and known wrong values of it."""
    _, _, _, Y, o = _parts(seed)
    Yhat, (b, ny) = o["yhat"], Y.shape
    L = float(ref.loss_accuracy(Yhat, Y)[0])
    return {
        "expected": L,
        "mistakes": {
            "sum": L * b,
            "all-mean": L / ny,
            "sign": -L,
            "q14-on-yhat": float((-(Y * Yhat).sum(1) + torch.logsumexp(Yhat, dim=1)).mean()),
            "mse": float(((Yhat - Y) ** 2).sum(1).mean()),
            "mse-mean": float(((Yhat - Y) ** 2).mean()),
        },
    }


@question("tp1.accuracy_mistakes")
def accuracy_mistakes(seed: int) -> dict:
    u, _, _, Y, o = _parts(seed)
    Yhat, acc = o["yhat"], u["acc"]
    return {
        "count": acc * Y.shape[0],
        "error": 1 - acc,
        "axis0": float((Yhat.argmax(0)[None] == Y.argmax(0)[None]).float().mean()),
    }


@question("tp1.nn_loss")
def nn_loss(seed: int) -> dict:
    """CrossEntropyLoss of the unit logits, and known wrong losses of torch.nn."""
    _, _, _, Y, o = _parts(seed)
    logits, labels = o["ytilde"], Y.argmax(1)
    L = float(torch.nn.functional.cross_entropy(logits, labels))
    p = torch.softmax(logits, dim=1)
    return {
        "expected": L,
        "mistakes": {
            "softmax-then-ce": float(torch.nn.functional.cross_entropy(p, labels)),
            "sum": L * Y.shape[0],
            "nll-on-logits": float(torch.nn.functional.nll_loss(logits, labels)),
            "nll-on-probs": float(torch.nn.functional.nll_loss(p, labels)),
            "sign": -L,
        },
    }


@question(
    "tp1.grad", lambda seed: [(seed, k, s) for k in tp1_inputs.KEYS for s in (1, tp1_inputs.B)]
)
def grad(seed: int, key: str, scale: int) -> dict:
    """The gradient of `key` (reference layout) of the batch mean (`scale` 1) or sum (B),
    and known wrong gradients."""
    u, p, X, Y, o = _parts(seed)
    d = (o["yhat"] - Y) / tp1_inputs.B * scale
    dh_raw = d @ p["Wy"]
    dh = dh_raw * (1 - o["h"] ** 2)
    expected = {"Wy": d.t() @ o["h"], "by": d.sum(0), "Wh": dh.t() @ X, "bh": dh.sum(0)}[key]
    mistakes = {
        "sign": -expected,
        "mixed": expected * (tp1_inputs.B if scale == 1 else 1 / tp1_inputs.B),
    }
    if key in ("by", "bh"):
        rows = d if key == "by" else dh
        mistakes |= {"not-summed": rows, "wrong-axis": rows.sum(1)}
    if key in ("Wh", "bh"):

        def back(delta):
            return delta.t() @ X if key == "Wh" else delta.sum(0)

        mistakes |= {
            "no-tanh-derivative": back(dh_raw),
            "htilde-derivative": back(dh_raw * (1 - o["htilde"] ** 2)),
            "sigmoid-derivative": back(dh_raw * o["h"] * (1 - o["h"])),
        }
    return {"expected": expected, "mistakes": mistakes}


@question("tp1.sgd_step", lambda seed: [(seed, tp1_inputs.SGD_ETA)])
def sgd_step(seed: int, eta: float) -> dict:
    """Per parameter, the unit parameters after one step along the unit gradients, and known wrong steps."""
    u = unit(seed)
    return {
        k: {
            "expected": p - eta * g,
            "uphill": p + eta * g,
            "no-eta": p - g,
            "unchanged": p.clone(),
            "grad": g.clone(),
        }
        for k, p, g in ((k, u["params"][k], u["grads"][k]) for k in tp1_inputs.KEYS)
    }


def _curves_domain(seed: int):
    return [
        (seed, scale, accumulate, eta, 0.0)
        for scale in (1.0, float(tp1_inputs.BATCH))
        for accumulate in (False, True)
        for eta in (tp1_inputs.ETA, -tp1_inputs.ETA)
    ]


@question("tp1.curves", _curves_domain)
def curves(seed: int, scale: float, accumulate: bool, eta: float, momentum: float) -> dict:
    """The reference trained from the grader's initial weights on the grader's batches.

    `scale` B gives the gradients of the batch sum (a student's convention); `accumulate`
    and `momentum` give known wrong runs (gradients never reset, an optimizer with momentum).
    """
    with torch.no_grad():
        setup = tp1_inputs.training_setup(seed)
        params = {k: v.clone() for k, v in setup.init.items()}
        acc_grads = {k: torch.zeros_like(v) for k, v in params.items()}
        velocity = {k: torch.zeros_like(v) for k, v in params.items()}
        run = {k: [] for k in CURVE_KEYS}
        Xtrain, Ytrain = setup.data[0], setup.data[1]
        for perm in setup.perms:
            for i in range(0, len(perm), tp1_inputs.BATCH):
                idx = perm[i : i + tp1_inputs.BATCH]
                _, outputs = ref.forward(params, Xtrain[idx])
                grads = ref.backward(params, outputs, Ytrain[idx])
                for k in params:
                    g = grads[k] * scale
                    if accumulate:
                        acc_grads[k] += g
                        g = acc_grads[k]
                    if momentum:
                        velocity[k] = momentum * velocity[k] + g
                        g = velocity[k]
                    params[k] = params[k] - eta * g
            _evaluate(params, setup.data, run)
        return run


def _evaluate(params, data, run) -> None:
    for split, X, Y in (("train", data[0], data[1]), ("test", data[2], data[3])):
        Yhat, _ = ref.forward(params, X)
        run[f"{split}_loss"].append(float(-(Y * torch.log(Yhat.clamp_min(1e-30))).sum(1).mean()))
        run[f"{split}_acc"].append(float((Yhat.argmax(1) == Y.argmax(1)).float().mean()))
