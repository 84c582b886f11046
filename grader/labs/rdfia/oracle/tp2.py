"""TP 1-cd's answers: the reference network's layers, the reference epoch on the
grader's TinyNet, the reference mean and standard deviation of the grader's images."""

from __future__ import annotations

import torch
import torch.nn as nn

from grader.expected import seal
from grader.labs.rdfia.data.cifar import make_synthetic
from grader.labs.rdfia.inputs import tp2 as tp2_inputs
from grader.labs.rdfia.inputs.tp2 import inputs
from grader.labs.rdfia.oracle.registry import question
from grader.labs.rdfia.rubric.cnn_common import param_layers, signature
from grader.labs.rdfia.worker.colab import cifar_split
from grader.labs.rdfia.worker.probes.tp2_cnn import TinyNet, describe, loader
from grader.reference import tp2_cnn as ref

LAYER_FIELDS = ("type", "in_shape")
CONFIG_FIELDS = ("in_channels", "out_channels", "in_features", "out_features")


@question("tp2.convnet_layers")
def convnet_layers(seed: int) -> list[dict]:
    """The reference ConvNet's layers with weights as the probe describes them, with only
    what the layers check compares (not their counts, paddings or strides: answers)."""
    model = ref.ConvNet()
    model.eval()
    return [
        {
            **{k: layer[k] for k in LAYER_FIELDS},
            "config": {k: v for k, v in layer["config"].items() if k in CONFIG_FIELDS},
        }
        for layer in param_layers(describe(model, inputs(seed, 2, 32)))
    ]


@question("tp2.convnet_steps")
def convnet_steps(seed: int) -> dict:
    """The steps (layer, input and output shapes) of the reference ConvNet's forward, sealed."""
    model = ref.ConvNet()
    model.eval()
    return seal({"right": tp2_inputs.steps(describe(model, inputs(seed, 2, 32)))})


@question("tp2.handout_output", lambda seed: [])
def handout_output(params: list, x: torch.Tensor) -> torch.Tensor | None:
    """The handout's network run with a student's parameters (matched by shape) on `x`;
    None when they do not fit it."""
    net = ref.ConvNet().eval()
    weights = {tuple(p.shape): p for p in params if isinstance(p, torch.Tensor) and p.dim() > 1}
    pairs = [
        (w, params[i + 1])
        for i, w in enumerate(params[:-1])
        if isinstance(w, torch.Tensor) and w.dim() > 1
    ]
    bias = {tuple(w.shape): b for w, b in pairs if isinstance(b, torch.Tensor) and b.dim() == 1}
    try:
        with torch.no_grad():
            for layer in (
                m for m in net.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))
            ):
                layer.weight.copy_(weights[tuple(layer.weight.shape)])
                layer.bias.copy_(bias[tuple(layer.weight.shape)])
            return net(x)
    except (KeyError, RuntimeError, TypeError):
        return None


@question("tp2.improved_steps", lambda seed: [])
def improved_steps(seed: int) -> list:
    """The steps of the reference ConvNetImproved's forward on 28×28 crops."""
    return tp2_inputs.steps(describe(ref.ConvNetImproved().eval(), inputs(seed, 2, 28)))


@question("tp2.improved_output", lambda seed: [])
def improved_output(state: dict, x: torch.Tensor) -> torch.Tensor | None:
    """The handout's improved network in eval mode with a student's state on `x`; None when
    the state does not fit it. The state's tensors are grouped by module (state order); a
    layer takes the first group of its shapes. A layer without bias, a batch norm without
    affine parameters or running statistics fit it too: those settings are carried over."""
    groups: dict[str, list] = {}
    for name, t in state.items():
        if isinstance(t, torch.Tensor):
            groups.setdefault(name.rpartition(".")[0], []).append(t)
    held = list(groups.values())
    net = ref.ConvNetImproved()

    def take(fits) -> list:
        k = next((k for k, g in enumerate(held) if fits(g)), None)
        return [] if k is None else held.pop(k)

    try:
        with torch.no_grad():
            for m in net.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    w, *b = take(lambda g, m=m: len(g) <= 2 and g[0].shape == m.weight.shape)
                    m.weight.copy_(w)
                    m.bias.copy_(b[0]) if b else m.bias.zero_()
                elif isinstance(m, nn.BatchNorm2d):
                    _load_norm(m, take(lambda g, m=m: _norm_group(g, m.num_features)))
            return None if held else net.eval()(x)
    except (ValueError, RuntimeError, TypeError):  # ValueError: a layer's weight is missing
        return None


def _norm_group(group: list, channels: int) -> bool:
    """Whether `group` is a BatchNorm2d(channels)'s state: weight and bias (affine), running
    mean and variance and num_batches_tracked (tracked), or both, in that order."""
    shapes = [tuple(t.shape) for t in group]
    vector = (channels,)
    return shapes in ([vector] * 4 + [()], [vector] * 2, [vector] * 2 + [()])


def _load_norm(m: nn.BatchNorm2d, group: list) -> None:
    """`group` (see `_norm_group`) into `m`: without weight and bias, the identity; without
    running statistics, the batch's, in eval mode too."""
    m.weight.fill_(1), m.bias.zero_()
    if len(group) in (2, 5):
        m.weight.copy_(group[0]), m.bias.copy_(group[1])
    if len(group) in (3, 5):
        m.running_mean.copy_(group[-3]), m.running_var.copy_(group[-2])
    else:
        m.running_mean = m.running_var = None


@question("tp2.epoch", lambda seed: [(seed, True), (seed, False)])
def epoch(seed: int, train: bool) -> dict:
    """The course's epoch on the grader's TinyNet, training with plain SGD or evaluating:
    per-batch top-1, top-5 (percentages) and loss, their averages, and (training) the
    parameters after each step."""
    return _epoch(seed, train)


# Training epochs with one known mistake: their parameters after each step.
EPOCH_MISTAKES = {"eval-mode": {"mode": False}, "no-zero-grad": {"zero_grad": False}}


@question("tp2.epoch_mistake", lambda seed: [(seed, name) for name in EPOCH_MISTAKES])
def epoch_mistake(seed: int, name: str) -> dict:
    """The parameters after each step of a training epoch with the mistake `name`."""
    return {"params": _epoch(seed, True, **EPOCH_MISTAKES[name])["params"]}


def _epoch(seed: int, train: bool, mode: bool | None = None, zero_grad: bool = True) -> dict:
    state, x, y = tp2_inputs.epoch_data(seed)
    model = TinyNet()
    model.load_state_dict(state)
    model.train(train if mode is None else mode)
    criterion = nn.CrossEntropyLoss()
    per_batch, params = {"top1": [], "top5": [], "loss": []}, []
    for images, targets in loader(x, y, tp2_inputs.BATCH):
        with torch.set_grad_enabled(train):
            output = model(images)
            loss = criterion(output, targets)
        if train:  # plain SGD, as torch.optim.SGD(lr=lr) does it (without importing torch.optim's compiler)
            if zero_grad:
                model.zero_grad()
            loss.backward()
            with torch.no_grad():
                for p in model.parameters():
                    p -= tp2_inputs.LR * p.grad
            params.append({n: p.detach().clone() for n, p in model.named_parameters()})
        top1, top5 = ref.accuracy(output.detach(), targets, topk=(1, 5))
        per_batch["top1"].append(top1), per_batch["top5"].append(top5)
        per_batch["loss"].append(float(loss.detach()))
    mean = {k: sum(v) / len(v) for k, v in per_batch.items()}
    return {"per_batch": per_batch, **mean, "params": params}


@question("tp2.mean_std", lambda seed: [(seed, "channels"), (seed, "synthetic")])
def mean_std(seed: int, images: str) -> tuple:
    """The per-channel mean and std of the normalisation check's images, or of the short run's training set."""
    x = (
        tp2_inputs.channel_images(seed)
        if images == "channels"
        else make_synthetic(tp2_inputs.RUN["n_per_class"], seed=seed)[0]
    )
    return tuple(ref.compute_mean_std(x))


@question("tp2.convnet_signature")
def convnet_signature(seed: int) -> dict:
    """The reference ConvNet's layers with their sizes, paddings and strides, sealed."""
    return seal({"right": signature(describe(ref.ConvNet().eval(), inputs(seed, 2, 32)))})


@question("tp2.accepted_mean_std", lambda seed: [()])
def accepted_mean_std() -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The normalisations the contract accepts in `get_dataset`: the per-channel mean and std
    of the grader's training images, or CIFAR-10's published ones (either std)."""
    images = torch.from_numpy(cifar_split(True)[0]).permute(0, 3, 1, 2).float() / 255
    computed = ref.compute_mean_std(images)
    return [computed] + [
        (torch.tensor(ref.CIFAR10_MEAN), torch.tensor(std)) for std in ref.CIFAR10_STDS
    ]


@question(
    "tp2.lr_schedule", lambda seed: [(tp2_inputs.MAIN["lr"], tp2_inputs.MAIN["epochs"]), (0.1, 7)]
)
def lr_schedule(lr0: float, epochs: int) -> list[float]:
    """The learning rate of each epoch under the reference's scheduler."""
    return ref.lr_schedule(lr0, epochs)
