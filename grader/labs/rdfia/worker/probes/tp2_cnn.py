"""Probes for TP 1-cd: grader code that runs INSIDE the worker, beside the student's.

Each probe receives `ns`, the dict of the student's names for `tp2_cnn`, drives the
student's classes and functions, watches them from the inside (module hooks, an
optimizer wrapper, gradient hooks) and returns plain data that the trusted rubric
compares with the reference. The trusted side also imports `TinyNet` and `describe`
from here: they are grader code, and computing the expected values with the very same
definitions keeps the two sides in step.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import numbers
import sys

import torch
import torch.nn as nn

from grader.worker.artifacts import CURVE_KEYS

# A module's settings worth reporting, when it has them.
CONFIG = (
    "in_channels",
    "out_channels",
    "kernel_size",
    "stride",
    "padding",
    "dilation",
    "groups",
    "ceil_mode",
    "in_features",
    "out_features",
    "num_features",
    "p",
    "track_running_stats",
)


def _plain(value):
    """A module setting as data: ints, floats, str, bools and lists of them."""
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return repr(value)[:80]


def _epoch_value(value):
    """A result of `epoch`: a number, a one-element tensor, or an object with `.avg`."""
    if hasattr(value, "avg") and not isinstance(value, torch.Tensor):
        value = value.avg
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value.detach().reshape(()).item())
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    return {"$bad": f"{type(value).__name__} {str(value)[:80]}"}


def _leaves(model: nn.Module):
    return [(name, m) for name, m in model.named_modules() if not list(m.children())]


def describe(model: nn.Module, x: torch.Tensor | None = None) -> dict:
    """The model's leaf modules in definition order, its trainable parameter count, and,
    when `x` is given, the modules in the order the forward ran them (input and output
    shapes, smallest input value, train mode) or the error that stopped the forward."""
    modules = []
    for name, m in _leaves(model):
        own = sum(p.numel() for p in m.parameters(recurse=False) if p.requires_grad)
        config = {k: _plain(getattr(m, k)) for k in CONFIG if hasattr(m, k)}
        modules.append(
            {"name": name, "type": type(m).__name__, "params": int(own), "config": config}
        )
    out = {
        "modules": modules,
        "total": int(sum(p.numel() for p in model.parameters() if p.requires_grad)),
        "trace": [],
        "error": None,
        "output_shape": None,
    }
    if x is None:
        return out
    names = {id(m): name for name, m in _leaves(model)}
    trace = out["trace"]

    def hook(module, inputs, output):
        first = inputs[0] if inputs and isinstance(inputs[0], torch.Tensor) else None
        trace.append(
            {
                "name": names.get(id(module), "?"),
                "type": type(module).__name__,
                "in_shape": list(first.shape) if first is not None else None,
                "in_min": float(first.detach().min())
                if first is not None and first.numel()
                else None,
                "out_shape": list(output.shape) if isinstance(output, torch.Tensor) else None,
                "training": bool(module.training),
            }
        )

    handles = [m.register_forward_hook(hook) for _, m in _leaves(model)]
    try:
        with torch.no_grad():
            y = model(x)
        out["output_shape"] = list(y.shape) if isinstance(y, torch.Tensor) else None
    except Exception as e:  # noqa: BLE001 - the forward's failure is part of the description
        out["error"] = f"{type(e).__name__}: {e}"
    finally:
        for h in handles:
            h.remove()
    return out


def _class(ns: dict, ref):
    """The class `ref` names: `"ConvNet"` (its last version) or `["ConvNet", k]` (its k-th)."""
    if isinstance(ref, str):
        return ns[ref]
    name, index = ref
    return ns.versions(name)[index]


def class_versions(ns: dict) -> list[dict]:
    """Every class the part defined, every version, in definition order: where, and whether
    it is an nn.Module."""
    out: list[dict] = []
    counts: dict[str, int] = {}
    for name, cls in ns.classes:
        index = counts[name] = counts.get(name, -1) + 1
        code = next((f.__code__ for f in vars(cls).values() if hasattr(f, "__code__")), None)
        out.append(
            {
                "name": name,
                "index": index,
                "module": issubclass(cls, nn.Module),
                "where": f"{code.co_filename}, line {code.co_firstlineno}" if code else None,
            }
        )
    return out


def build(ns: dict, ref):
    """An instance of the student's class `ref`, held by the worker."""
    return _class(ns, ref)()


def describe_model(ns: dict, ref, x: torch.Tensor, train: bool = False) -> dict:
    """Instantiate the student's class `ref` and describe it on input `x`."""
    model = _class(ns, ref)()
    model.train(train)
    return describe(model, x)


def parameters_and_output(ns: dict, ref, x: torch.Tensor) -> dict:
    """A fresh class `ref`'s trainable parameters (in the order parameters() yields them) and
    its eval-mode output on `x` (None when the forward fails): the trusted side counts the
    one and checks that it gives the other."""
    model = _class(ns, ref)()
    model.eval()
    params = [p.detach() for p in model.parameters() if p.requires_grad]
    try:
        with torch.no_grad():
            out = model(x)
    except Exception:  # noqa: BLE001 - the forward's failure is judged from the description
        out = None
    return {"params": params, "out": out}


def state(ns: dict, ref) -> dict:
    """A fresh class `ref`'s state (parameters and buffers), in state order."""
    return {k: v.detach().clone() for k, v in _class(ns, ref)().state_dict().items()}


def output_with_state(ns: dict, ref, values: list, x: torch.Tensor) -> torch.Tensor | None:
    """The eval-mode output on `x` of a fresh class `ref` given the state `values` (in state
    order); None when a forward fails: the trusted side runs the same state through the
    handout's network and compares."""
    model = _class(ns, ref)()
    try:
        with torch.no_grad():
            for t, v in zip(model.state_dict().values(), values, strict=True):
                t.copy_(v)
            return model.eval()(x)
    except Exception:  # noqa: BLE001 - the forward's failure is judged from the description
        return None


def _buffers(model: nn.Module) -> dict:
    return {name: b.detach().clone() for name, b in model.named_buffers()}


def improved_behaviour(ns: dict, ref, x: torch.Tensor) -> dict:
    """Eval mode: two passes, a pass on a sub-batch, buffers kept; train mode: two passes."""
    model = _class(ns, ref)()
    model.eval()
    before = _buffers(model)
    with torch.no_grad():
        eval1, eval2 = model(x), model(x)
        sub = model(x[:2])
    after = _buffers(model)
    model.train()
    with torch.no_grad():
        train1, train2 = model(x), model(x)
    return {
        "eval1": eval1,
        "eval2": eval2,
        "eval_sub": sub,
        "train1": train1,
        "train2": train2,
        "buffers_before": before,
        "buffers_after_eval": after,
    }


# -- epoch --------------------------------------------------------------------------


class TinyNet(nn.Module):
    """A small grader-owned model with batch norm, so that `epoch` is judged alone."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, kernel_size=3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 4 * 4, 10)

    def forward(self, x):
        x = torch.relu(self.bn(self.conv(x)))
        x = nn.functional.max_pool2d(x, 2)
        return self.fc(x.flatten(1))


def loader(x: torch.Tensor, y: torch.Tensor, batch: int, shuffle: bool = False, seed: int = 0):
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x, y), batch_size=batch, shuffle=shuffle, generator=generator
    )


def _flushed(probe):
    """Flush what the student's code printed before the answer goes back."""

    def run(*args, **kwargs):
        try:
            return probe(*args, **kwargs)
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush(), sys.stderr.flush()

    run.__name__, run.__doc__ = probe.__name__, probe.__doc__
    return run


def _state(model: nn.Module) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@_flushed
def run_epoch(
    ns: dict, state: dict, x: torch.Tensor, y: torch.Tensor, batch: int, lr: float | None = None
) -> dict:
    """Call the student's `epoch` on a TinyNet with weights `state` over the batches of
    (x, y): a training pass when `lr` is given (with plain SGD), an evaluation pass otherwise.
    The model starts in the opposite mode, so that `epoch` must set its own.

    Returns raw values only: for each forward of the model, its input, output and the
    model's state before it; the state and gradients after the epoch; what `epoch` returned.
    The trusted side replays them (the forward in either mode, the reference's steps)."""
    model = TinyNet()
    model.load_state_dict(state)
    train = lr is not None
    model.train(not train)
    forwards = []

    def before(m, i):
        first = i[0] if i and isinstance(i[0], torch.Tensor) else None
        forwards.append(
            {"state": _state(m), "input": None if first is None else first.detach().clone()}
        )

    model.register_forward_pre_hook(before)
    model.register_forward_hook(
        lambda m, i, out: forwards[-1].update(
            output=out.detach().clone() if isinstance(out, torch.Tensor) else None
        )
    )
    data = loader(x, y, batch)
    criterion = nn.CrossEntropyLoss()
    if train:
        result = ns["epoch"](data, model, criterion, torch.optim.SGD(model.parameters(), lr=lr))
    else:
        result = ns["epoch"](data, model, criterion)
    if not isinstance(result, (tuple, list)):
        results = {"$bad": f"a {type(result).__name__}, not a tuple (top1, top5, loss)"}
    elif len(result) != 3:
        results = {
            "$bad": f"a {type(result).__name__} of {len(result)} items, not (top1, top5, loss)"
        }
    else:
        results = [_epoch_value(v) for v in result]
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}
    return {
        "results": results,
        "forwards": forwards[: 4 * len(data)],
        "final": _state(model),
        "grads": grads,
    }


# -- data pipeline ------------------------------------------------------------------


def compute_mean_std(ns: dict, images: torch.Tensor) -> dict:
    result = ns["compute_mean_std"](images)
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        bad = f"{type(result).__name__} {str(result)[:80]}"
        return {"mean": bad, "std": bad}
    mean, std = result

    def tensor(v):
        if isinstance(v, (list, tuple)) and all(
            isinstance(e, numbers.Real) or (isinstance(e, torch.Tensor) and e.numel() == 1)
            for e in v
        ):
            return torch.tensor([float(e) for e in v])
        if isinstance(v, torch.Tensor):
            return v.detach().float()
        return (
            torch.as_tensor(v).float()
            if hasattr(v, "__array__")
            else f"{type(v).__name__} {str(v)[:80]}"
        )

    return {"mean": tensor(mean), "std": tensor(std)}


def transform_outputs(
    ns: dict, train: bool, mean: torch.Tensor, std: torch.Tensor, image: torch.Tensor, n: int
) -> dict:
    """Apply the student's transform `n` times to copies of one image."""
    transform = ns["get_transforms"](train, mean, std)
    return _stacked([transform(image.clone()) for _ in range(n)], "the transform")


def _stacked(outputs: list, what: str) -> dict:
    tensors = []
    for out in outputs:
        if not isinstance(out, torch.Tensor):
            try:
                out = torch.as_tensor(out)
            except Exception:  # noqa: BLE001
                return {"bad": f"{what} returned {type(out).__name__}, not a tensor"}
        tensors.append(out.detach().float())
    shapes = {tuple(o.shape) for o in tensors}
    if len(shapes) != 1:
        return {"bad": f"{what} returned images of different shapes {sorted(shapes)[:3]}"}
    return {"outputs": torch.stack(tensors)}


@_flushed
def loader_outputs(ns: dict, batch_size: int, draws: dict) -> dict:
    """The first image of each loader that `get_dataset(batch_size)` returns, drawn through its
    dataset (so its transform) `draws[split]` times, and which CIFAR-10 split the dataset holds."""
    loaders = ns["get_dataset"](batch_size)
    if not (isinstance(loaders, (tuple, list)) and len(loaders) >= 2):
        return {
            "bad": f"get_dataset returned {type(loaders).__name__} {str(loaders)[:60]}, not "
            "(train_loader, test_loader)"
        }
    out = {}
    for split, loader in zip(("train", "test"), loaders, strict=False):
        dataset = getattr(loader, "dataset", None)
        if dataset is None:
            return {
                "bad": f"get_dataset's {split} loader is a {type(loader).__name__}, not a DataLoader"
            }
        items = [dataset[0] for _ in range(draws[split])]
        got = _stacked(
            [i[0] if isinstance(i, (tuple, list)) else i for i in items],
            f"the {split} loader's dataset",
        )
        if "bad" in got:
            return got
        out[split] = dict(got, train_split=getattr(dataset, "train", None))
    return out


@_flushed
def main_lrs(ns: dict, batch_size: int, lr: float, epochs: int) -> dict:
    """Run the student's `main` (with `cuda=True`, as Colab's notebooks do) and note the learning
    rate of the optimizer at each training call of `epoch`."""
    main, epoch = ns["main"], ns["epoch"]
    lrs = []

    def watched(*args, **kwargs):
        optimizer = kwargs.get("optimizer", args[3] if len(args) > 3 else None)
        if isinstance(optimizer, torch.optim.Optimizer):
            lrs.append(float(optimizer.param_groups[0]["lr"]))
        return epoch(*args, **kwargs)

    wanted = {"batch_size": batch_size, "lr": lr, "epochs": epochs, "cuda": True}
    params = list(inspect.signature(main).parameters)
    ns["epoch"] = watched  # `main` finds it by name, as it finds the student's
    try:
        if {"lr", "epochs"} <= set(params):
            main(**{k: v for k, v in wanted.items() if k in params})
        else:  # other names: the course's order
            main(*list(wanted.values())[: len(params)])
    finally:
        ns["epoch"] = epoch
    return {"lrs": lrs}


def scheduler_lrs(ns: dict, lr0: float, steps: int) -> dict:
    """The learning rate of an SGD optimizer under the student's scheduler, epoch by epoch."""
    weight = nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([weight], lr=lr0)
    scheduler = ns["make_scheduler"](optimizer)
    lrs = [float(optimizer.param_groups[0]["lr"])]
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
        lrs.append(float(optimizer.param_groups[0]["lr"]))
    return {"lrs": lrs, "type": type(scheduler).__name__}


# -- a short training run -------------------------------------------------------------


@_flushed
def short_run(ns: dict, ref, x, y, xt, yt, epochs: int, batch: int, lr: float, seed: int) -> dict:
    """The student's ConvNet (class `ref`) trained by the student's epoch with plain SGD; the
    curves as `epoch` reports them (test first measured before any training), and the model's
    outputs on the test images in each test epoch."""
    model = _class(ns, ref)()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    criterion = nn.CrossEntropyLoss()
    train_data = loader(x, y, batch, shuffle=True, seed=seed)
    test_data = loader(xt, yt, 100)
    curves: dict[str, list] = {k: [] for k in CURVE_KEYS}
    logits, seen = [], []
    # The model's outputs in each test epoch, as it gave them: the trusted side computes the accuracy.
    model.register_forward_hook(
        lambda m, i, out: (
            seen.append(out.detach()) if isinstance(out, torch.Tensor) and out.dim() == 2 else None
        )
    )

    def record(split, result):
        values = (
            [_epoch_value(v) for v in result]
            if isinstance(result, (tuple, list)) and len(result) == 3
            else [{"$bad": "not (top1, top5, loss)"}] * 3
        )
        curves[f"{split}_acc"].append(values[0])
        curves[f"{split}_loss"].append(values[2])
        if split == "test":
            try:
                logits.append(torch.cat(seen)[-len(xt) :])
            except (RuntimeError, ValueError):  # none, or outputs of other widths: judged as none
                logits.append(None)
        seen.clear()

    record("test", ns["epoch"](test_data, model, criterion))
    for _ in range(epochs):
        record("train", ns["epoch"](train_data, model, criterion, optimizer))
        record("test", ns["epoch"](test_data, model, criterion))
    return dict(curves, test_logits=logits)


def is_bad(value) -> bool:
    return (
        isinstance(value, dict)
        and "$bad" in value
        or (isinstance(value, float) and not math.isfinite(value))
    )
