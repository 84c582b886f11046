"""Probes for TP 1-ab: grader code that runs INSIDE the worker, beside the student's.

Each probe receives `ns`, the dict of the student's names for one part, drives the
student's functions and objects, and returns plain data (tensors, numbers, lists,
str-keyed dicts) that the trusted rubric compares with the reference. Nothing here
trusts the student: probes only call, read and set tensors.
"""

from __future__ import annotations

import torch

from grader.worker.artifacts import BOUNDARY, CURVE_KEYS

# -- helpers ------------------------------------------------------------------------


def _metrics(Yhat, Y, logits: bool) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of predictions, computed by the grader."""
    Yhat = torch.as_tensor(Yhat).detach().double()
    Y = Y.double()
    if Yhat.shape != Y.shape and Yhat.dim() == 2 and Yhat.t().shape == Y.shape:
        Yhat = Yhat.t()  # a forward that works in columns
    logp = torch.log_softmax(Yhat, dim=1) if logits else torch.log(Yhat.clamp_min(1e-30))
    loss = float(-(Y * logp).sum(dim=1).mean())
    acc = float((Yhat.argmax(dim=1) == Y.argmax(dim=1)).double().mean())
    return loss, acc


def _first(value):
    """`Yhat` of a forward that returns (Yhat, outputs), or the value itself."""
    return value[0] if isinstance(value, (tuple, list)) else value


def _evaluate(curves: dict, predict, data, logits: bool) -> None:
    Xtrain, Ytrain, Xtest, Ytest = data
    with torch.no_grad():
        for split, X, Y in (("train", Xtrain, Ytrain), ("test", Xtest, Ytest)):
            loss, acc = _metrics(predict(X), Y, logits)
            curves[f"{split}_loss"].append(loss)
            curves[f"{split}_acc"].append(acc)


def _boundary(predict, points, logits: bool):
    """The trained network's probability of class 1 on the course grid (40×40 over [-2, 2))
    and the training points, for the report's decision-boundary plot. Best effort: a
    forward that fails or gives odd values on the grid gives no plot, never a failed check."""
    try:
        from grader.labs.rdfia.data.circles import make_grid

        X, labels = points
        with torch.no_grad():
            out = torch.as_tensor(predict(make_grid())).detach().double()
        if out.dim() == 2 and out.shape[0] != 1600 and out.shape[1] == 1600:
            out = out.t()  # a forward that works in columns
        if out.shape != (1600, 2):
            return None
        valid = bool(((out >= 0) & (out <= 1)).all()) and bool(
            torch.allclose(out.sum(1), torch.ones(1600, dtype=out.dtype), atol=1e-3)
        )
        prob = out if (valid and not logits) else torch.softmax(out, dim=1)
        if not torch.isfinite(prob).all():
            return None
        return {"prob": prob[:, 1].float(), "points": X, "labels": labels}
    except Exception:  # noqa: BLE001 - a plot only
        return None


def _points(data):
    """The training points and their classes, copied before any student code sees them."""
    return data[0].detach().clone(), data[1].argmax(dim=1)


def _batches(perm, batch):
    for i in range(0, len(perm), batch):
        yield perm[i : i + batch]


def _params_by_shape(model, sizes):
    """The model's parameters as Wh, bh, Wy, by, recognised by their shapes."""
    nx, nh, ny = sizes
    wanted = {"Wh": (nh, nx), "bh": (nh,), "Wy": (ny, nh), "by": (ny,)}
    found, extra = {}, []
    for name, p in model.named_parameters():
        key = next((k for k, s in wanted.items() if k not in found and tuple(p.shape) == s), None)
        if key is None:
            extra.append(f"{name} {tuple(p.shape)}")
        else:
            found[key] = p
    return found, extra


def _architecture(model, sizes) -> dict:
    found, extra = _params_by_shape(model, sizes)
    linears = [
        (tuple(m.weight.shape), m.bias is not None)
        for m in model.modules()
        if isinstance(m, torch.nn.Linear)
    ]
    return {
        "modules": [type(m).__name__ for m in model.modules()][1:]
        if hasattr(model, "modules")
        else [],
        "linears": [[list(s), b] for s, b in linears],
        "params": [f"{n} {tuple(p.shape)}" for n, p in model.named_parameters()],
        "missing": [k for k in ("Wh", "bh", "Wy", "by") if k not in found],
        "extra": extra,
    }


def _load(model, weights: dict, sizes) -> dict:
    """Copy the grader's weights into the model; return the description of the model."""
    info = _architecture(model, sizes)
    if not info["missing"]:
        found, _ = _params_by_shape(model, sizes)
        with torch.no_grad():
            for key, p in found.items():
                p.copy_(weights[key].to(p.dtype))
    return info


def _grader_model(sizes):
    nx, nh, ny = sizes
    return torch.nn.Sequential(torch.nn.Linear(nx, nh), torch.nn.Tanh(), torch.nn.Linear(nh, ny))


def _unpack_model(value, n: int, what: str):
    if not isinstance(value, (tuple, list)) or len(value) != n:
        got = (
            f"a {type(value).__name__} of {len(value)} items"
            if isinstance(value, (tuple, list))
            else type(value).__name__
        )
        raise TypeError(f"{what} should return {n} values; it returned {got}")
    if not isinstance(value[0], torch.nn.Module):
        raise TypeError(
            f"{what} should return a torch.nn.Module first; it returned {type(value[0]).__name__}"
        )
    return value


def _init_model(ns, sizes, eta=None):
    if eta is None:
        return _unpack_model(ns["init_model"](*sizes), 2, "init_model(nx, nh, ny)")
    return _unpack_model(ns["init_model"](*sizes, eta), 3, "init_model(nx, nh, ny, eta)")


# -- tp1_manual -----------------------------------------------------------------------


def _inference(value):
    """`value` with every tensor copied as an inference tensor (autograd can never record it)."""
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, dict):
        return {k: _inference(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_inference(v) for v in value)
    return value


def backward_without_autograd(ns, params, outputs, Y):
    """What the student's backward returns where autograd cannot record: in inference mode, on
    inputs made there. By hand, it returns what it returns anywhere; with autograd, it raises or
    differs (the trusted side compares)."""
    with torch.inference_mode():
        return ns["backward"](_inference(params), _inference(outputs), _inference(Y))


def manual_sgd(ns, params, grads, eta):
    """Call the student's sgd; report what it returned and the params dict afterwards."""
    returned = ns["sgd"](params, grads, eta)
    return {
        "returned": returned if isinstance(returned, dict) else None,
        "returned_type": type(returned).__name__,
        "after": dict(params),
    }


def _train(data, perms, batch, step, predict, logits: bool) -> dict:
    """The handout's loop: `step(X, Y)` on every batch of every epoch, then the curves of
    `predict(X)` on train and test after each epoch, and its decision boundary at the end."""
    Xtrain, Ytrain = data[0], data[1]
    points = _points(data)
    curves: dict[str, list] = {k: [] for k in CURVE_KEYS}
    for perm in perms:
        for idx in _batches(perm, batch):
            step(Xtrain[idx], Ytrain[idx])
        _evaluate(curves, predict, data, logits=logits)
    curves[BOUNDARY] = _boundary(predict, points, logits=logits)
    return curves


def train_manual(ns, params, data, perms, eta, batch):
    """The handout's loop with the student's forward, backward and sgd."""
    forward, backward, sgd = ns["forward"], ns["backward"], ns["sgd"]
    state = {"params": params}

    def step(X, Y):
        Yhat, outputs = forward(state["params"], X)
        grads = backward(state["params"], outputs, Y)
        new = sgd(state["params"], grads, eta)
        state["params"] = new if isinstance(new, dict) else state["params"]

    return _train(
        data, perms, batch, step, lambda X: _first(forward(state["params"], X)), logits=False
    )


# -- tp1_autograd ---------------------------------------------------------------------


def _leaves(params):
    return {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}


def autograd_init(ns, nx, nh, ny):
    params = ns["init_params"](nx, nh, ny)
    if not isinstance(params, dict):
        return {"type": type(params).__name__}
    info = {}
    for k, v in params.items():
        if isinstance(v, torch.Tensor):
            info[k] = {
                "value": v.detach(),
                "requires_grad": bool(v.requires_grad),
                "is_leaf": bool(v.is_leaf),
            }
    return {"type": "dict", "keys": list(params), "tensors": info}


def autograd_forward_grads(ns, params, X):
    """Student forward, grader loss: does every parameter receive a gradient?"""
    leaves = _leaves(params)
    Yhat = _first(ns["forward"](leaves, X))
    if not isinstance(Yhat, torch.Tensor):
        return {"yhat_type": type(Yhat).__name__}
    info = {"yhat_type": "Tensor", "requires_grad": bool(Yhat.requires_grad)}
    if Yhat.requires_grad:
        torch.log(Yhat.clamp_min(1e-30)).sum().backward()
    info["grads"] = {k: (None if p.grad is None else p.grad) for k, p in leaves.items()}
    return info


def autograd_loss_grad(ns, Yhat, Y):
    """Student loss on a leaf Yhat: is L differentiable with respect to Yhat?"""
    leaf = Yhat.detach().clone().requires_grad_(True)
    out = ns["loss_accuracy"](leaf, Y)
    L = _first(out)
    if not isinstance(L, torch.Tensor):
        return {"type": type(L).__name__, "requires_grad": False, "grad": None}
    info = {"type": "Tensor", "requires_grad": bool(L.requires_grad), "grad": None}
    if L.requires_grad and L.numel() == 1:
        L.reshape(()).backward()
        info["grad"] = leaf.grad
    return info


def autograd_sgd(ns, params, grads, eta):
    """Set .grad on fresh leaves, call the student's sgd(params, eta), read the leaves back."""
    leaves = _leaves(params)
    for k, g in grads.items():
        leaves[k].grad = g.clone().to(leaves[k].dtype)
    originals = dict(leaves)
    returned = ns["sgd"](leaves, eta)
    result = returned if isinstance(returned, dict) else leaves
    after = {}
    for k in params:
        v = result.get(k)
        if not isinstance(v, torch.Tensor):
            after[k] = {"type": type(v).__name__}
            continue
        after[k] = {
            "type": "Tensor",
            "value": v.detach(),
            "is_leaf": bool(v.is_leaf),
            "requires_grad": bool(v.requires_grad),
            "grad": v.grad if v.is_leaf else None,
            "same": v is originals[k],
            "original_value": originals[k].detach(),
            "original_grad": originals[k].grad,
        }
    return {"returned_type": type(returned).__name__, "after": after}


def train_autograd(ns, params, data, perms, eta, batch):
    forward, loss_accuracy, sgd = ns["forward"], ns["loss_accuracy"], ns["sgd"]
    state = {"params": _leaves(params)}

    def step(X, Y):
        Yhat, outputs = forward(state["params"], X)
        L, acc = loss_accuracy(Yhat, Y)
        L.backward()
        new = sgd(state["params"], eta)
        state["params"] = new if isinstance(new, dict) else state["params"]

    return _train(
        data, perms, batch, step, lambda X: _first(forward(state["params"], X)), logits=False
    )


# -- tp1_nn and tp1_optim -------------------------------------------------------------


def model_logits(ns, sizes, weights, X, eta=None):
    """Build the student's model, load the grader's weights by shape, return its output."""
    model = _init_model(ns, sizes, eta)[0]
    info = _load(model, weights, sizes)
    info["output"] = None
    if not info["missing"]:
        with torch.no_grad():
            info["output"] = model(X)
    return info


def model_loss(ns, sizes, logits, Y, eta=None):
    """The student's loss object on logits, with index targets and with one-hot targets."""
    loss = _init_model(ns, sizes, eta)[1]
    result = {"type": type(loss).__name__}
    for form, target in (("index", Y.argmax(dim=1)), ("onehot", Y)):
        try:
            value = loss(logits, target)
            result[form] = value.detach() if isinstance(value, torch.Tensor) else value
        except Exception as e:  # noqa: BLE001 - one target form may not be the student's
            result[form] = None
            result[form + "_error"] = f"{type(e).__name__}: {e}"
    return result


def nn_loss_accuracy(ns, Yhat, Y):
    """The student's loss_accuracy, given a correct CrossEntropyLoss and logits."""
    L, acc = ns["loss_accuracy"](torch.nn.CrossEntropyLoss(), Yhat, Y)
    return {
        "L": L.detach() if isinstance(L, torch.Tensor) else L,
        "acc": acc.detach() if isinstance(acc, torch.Tensor) else acc,
    }


def nn_sgd(ns, sizes, weights, grads, eta):
    """The student's sgd(model, eta) on the grader's model with the grader's gradients."""
    model = _grader_model(sizes)
    _load(model, weights, sizes)
    found, _ = _params_by_shape(model, sizes)
    for key, p in found.items():
        p.grad = grads[key].clone()
    returned = ns["sgd"](model, eta)
    return {
        "returned_type": type(returned).__name__,
        "returned_model": returned is model or returned is None,
        "after": {k: p.detach().clone() for k, p in found.items()},
        "grads": {k: p.grad for k, p in found.items()},
    }


def _model_with_weights(model, weights, sizes):
    info = _load(model, weights, sizes)
    if info["missing"]:
        raise TypeError(
            f"the model has no parameters of the shapes of Linear({sizes[0]}, {sizes[1]}) "
            f"and Linear({sizes[1]}, {sizes[2]}): {', '.join(info['params']) or 'none'}"
        )
    return model


def _evaluated(model):
    """The model in eval mode, as the curves are measured."""
    model.eval()
    return model


def train_nn(ns, sizes, weights, data, perms, eta, batch):
    model, loss = _init_model(ns, sizes)
    loss_accuracy, sgd = ns["loss_accuracy"], ns["sgd"]
    state = {"model": _model_with_weights(model, weights, sizes)}

    def step(X, Y):
        state["model"].train()
        L, acc = loss_accuracy(loss, state["model"](X), Y)
        L.backward()
        new = sgd(state["model"], eta)
        state["model"] = new if isinstance(new, torch.nn.Module) else state["model"]

    return _train(data, perms, batch, step, lambda X: _evaluated(state["model"])(X), logits=True)


def optim_info(ns, sizes, eta):
    """What the student's optimizer is (its classes), its groups' settings, and which of the
    model's parameters each tensor it holds is (None: not one of the model's)."""
    model, loss, optim = _init_model(ns, sizes, eta)
    info = {
        "type": type(optim).__name__,
        "module": type(optim).__module__,
        "classes": [f"{c.__module__}.{c.__qualname__}" for c in type(optim).__mro__],
        "groups": [],
    }
    model_ids = {id(p): n for n, p in model.named_parameters()}
    info["model_params"] = sorted(model_ids.values())
    info["held"] = []
    groups = optim.param_groups if isinstance(optim, torch.optim.Optimizer) else []
    for group in groups:
        g = {}
        for k, v in group.items():
            if k == "params":
                continue
            if isinstance(v, torch.Tensor) and v.numel() == 1:
                v = float(v)
            if v is None or isinstance(v, bool):
                g[k] = v
            elif isinstance(v, (int, float)):
                g[k] = float(v)
        info["groups"].append(g)
        info["held"] += [model_ids.get(id(p)) for p in group["params"]]
    return info


def train_optim(ns, sizes, weights, data, perms, eta, batch):
    model, loss, optim = _init_model(ns, sizes, eta)
    model, loss_accuracy = _model_with_weights(model, weights, sizes), ns["loss_accuracy"]

    def step(X, Y):
        model.train()
        optim.zero_grad()
        L, acc = loss_accuracy(loss, model(X), Y)
        L.backward()
        optim.step()

    return _train(data, perms, batch, step, lambda X: _evaluated(model)(X), logits=True)
