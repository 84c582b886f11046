"""TP 1-cd: the CNN, its training epoch, its data pipeline (contract, "TP 1-cd conventions").

Expected values come from the oracle (`grader.expected.ask`), in
the trusted process; the student's code runs in the worker, driven by the probes of
`grader.labs.rdfia.worker.probes.tp2_cnn`.
"""

from __future__ import annotations

import functools
import math

import torch

from grader import edition
from grader.artifacts import Curves
from grader.checks import (
    CheckFailed,
    Mistake,
    as_number,
    check,
    expect_accuracy,
    expect_close,
    expect_shape,
    fail,
)
from grader.expected import ask, instructor_only, matches
from grader.labs.rdfia.data.cifar import make_synthetic
from grader.labs.rdfia.inputs.tp2 import (
    BATCH,
    LR,
    MAIN,
    RUN,
    channel_images,
    drawn_state,
    epoch_data,
    generator,
    steps,
)
from grader.labs.rdfia.rubric import mistakes
from grader.labs.rdfia.rubric import tp2_epoch as epoch_values
from grader.labs.rdfia.rubric.cnn_common import (
    baseline,
    cifar_image,
    describe_student,
    fit_normalisation,
    identify,
    improved,
    inputs,
    is_bad,
    memo,
    param_layers,
    values,
)

PARAM_LAYERS = ["conv1", "conv2", "conv3", "fc4", "fc5"]


def _baseline(student, seed: int, size: int = 32) -> dict:
    return describe_student(student, seed, baseline(student, seed), size)


def _confirmed_by_values(student, seed: int, got: dict, fitting: bool = False) -> None:
    """A description of the handout's very network (student code can patch the probe that
    makes it) holds only if ConvNet's own parameters, run here through the handout's network,
    give the outputs it gave on the grader's images. Any other description fails elsewhere.
    `fitting`: parameters that do not fit the handout's network are not this check's to fail."""
    x = inputs(seed, 2, 32)
    if (
        got["error"]
        or "right" not in matches(ask("tp2.convnet_steps", seed), steps(got))
        or edition() != "instructor"
    ):  # the student edition cannot run the handout's network: it trusts it
        return
    got = _parameters_and_output(student, seed)
    params = list(got.get("params") or []) if isinstance(got, dict) else []
    expected = instructor_only("tp2.handout_output", params, x)
    if (
        expected is None and fitting
    ):  # parameters that do not fit the handout's network: judged elsewhere
        return
    ok = (
        expected is not None
        and isinstance(got.get("out"), torch.Tensor)
        and got["out"].shape == expected.shape
        and torch.allclose(got["out"].double(), expected.double(), rtol=1e-3, atol=1e-4)
    )
    if not ok:
        fail(
            "ConvNet's outputs on the grader's images are not those of the network it describes with its own "
            "parameters: its forward differs from its layers (extra functional steps?) or its description was "
            "tampered with."
        )


def _parameters_and_output(student, seed: int) -> dict:
    return memo(
        student,
        "values:ConvNet",
        lambda: student.probe(
            "tp2_cnn.parameters_and_output", baseline(student, seed), inputs(seed, 2, 32)
        ),
    )


def _counted(student, seed: int) -> int:
    """ConvNet's trainable parameter count, from the tensors themselves (not a description)."""
    got = _parameters_and_output(student, seed)
    params = got.get("params") if isinstance(got, dict) else None
    if not isinstance(params, list):
        return 0
    return sum(p.numel() for p in params if isinstance(p, torch.Tensor))


def _weight_shape(layer: dict) -> tuple | None:
    """The weight shape a described Conv2d or Linear has, from its settings."""
    cfg = layer.get("config", {})
    try:
        if layer["type"] == "Conv2d":
            return (
                cfg["out_channels"],
                cfg["in_channels"] // (cfg.get("groups") or 1),
                *cfg["kernel_size"],
            )
        return cfg["out_features"], cfg["in_features"]
    except (KeyError, TypeError):
        return None


def _described_truly(student, seed: int, got: dict) -> dict:
    """`got`, ConvNet's description, once its layers with weights are found among the tensors
    ConvNet itself holds (the description is made beside student code, which can patch it)."""
    held = [
        tuple(p.shape)
        for p in _parameters_and_output(student, seed).get("params") or []
        if isinstance(p, torch.Tensor)
    ]
    _layers_held(got, held, "ConvNet")
    return got


def _layers_held(got: dict, held: list[tuple], name: str) -> None:
    """Fails unless each Conv2d and Linear of the description `got` has its weight's shape
    among `held`, the shapes of the tensors the network `name` holds."""
    for layer in (m for m in got["modules"] if m["type"] in ("Conv2d", "Linear")):
        shape = _weight_shape(layer)
        if shape not in held:
            fail(
                f"{name}'s description names {layer['type']} `{layer['name']}` with weights of "
                f"shape {shape}, which {name} does not hold: its description was tampered with."
            )
        held.remove(shape)


def _count(n: int) -> str:
    return f"{n:,}"


# -- ConvNet (Q10, Q11, Q13-15) ----------------------------------------------------------


@check("tp2_cnn::convnet::output_shape", points=2, question="1-cd Q15")
def test_convnet_output_shape(student, seed):
    """ConvNet maps a batch of 3×32×32 images to (B, 10) logits."""
    model = student.probe("tp2_cnn.build", baseline(student, seed))
    out = model.call(inputs(seed, 4, 32))
    expect_shape(
        out, (4, 10), "ConvNet()(x) for x of shape (4, 3, 32, 32)", "one row of 10 logits per image"
    )


@check("tp2_cnn::convnet::param_count", points=3, question="1-cd Q11")
def test_convnet_param_count(student, seed):
    """ConvNet has the handout's number of trainable parameters (Q11), layer by layer as in the Q10 table."""
    got = dict(_baseline(student, seed), total=_counted(student, seed))
    total, table = ask("answers.total_params"), ask("answers.layer_table")["rows"]
    if "right" in matches(total, got["total"]):
        return _confirmed_by_values(student, seed, got)
    layers = [m for m in got["modules"] if m["params"] > 0 and "Norm" not in m["type"]]
    norms = [m for m in got["modules"] if m["params"] > 0 and "Norm" in m["type"]]
    lines, diagnosis = [], None
    if norms:
        extra = sum(m["params"] for m in norms)
        lines.append(f"its {len(norms)} normalisation layers add {_count(extra)}")
        diagnosis = (
            (
                "batch norm in ConvNet: the handout's ConvNet has none (BatchNorm2d belongs to "
                "ConvNetImproved, Q34)."
            )
            if "right" in matches(total, got["total"] - extra)
            else None
        )
    for name, layer in zip(PARAM_LAYERS, layers, strict=False):
        labels = matches(table[name]["n"], layer["params"])
        if "right" not in labels:
            lines.append(
                f"{name} (`{layer['name']}`, {layer['type']}) has {_count(layer['params'])}, "
                "not the Q10 table's count"
            )
            cfg = layer["config"]
            if (
                layer["type"] == "Linear"
                and name == "fc4"
                and cfg.get("in_features") not in (None, 1024)
            ):
                diagnosis = (
                    f"fc4 takes {cfg['in_features']} inputs: it takes every value of the last pool's maps; "
                    "follow the size of the maps through the three pools (Q9, Q10)."
                )
            elif "no-bias" in labels:
                diagnosis = (
                    f"{name} without its bias: each filter (or output) has one bias (Q1, Q10)."
                )
    if len(layers) != len(PARAM_LAYERS):
        lines.append(
            f"it has {len(layers)} layers with parameters "
            f"({', '.join(m['type'] for m in layers)}); the handout's network has 5 "
            "(conv1, conv2, conv3, fc4, fc5)"
        )
    fail(
        f"ConvNet has {_count(got['total'])} trainable parameters, not the handout's number (Q11). "
        + ("; ".join(lines) + "." if lines else ""),
        diagnosis,
    )


@check("tp2_cnn::convnet::layers", points=3, question="1-cd Q8-10")
def test_convnet_layers(student, seed):
    """ConvNet's layers as in the Q10 table: 5×5 convolutions that keep the size, 2×2 pools that halve it."""
    got = _described_truly(student, seed, _baseline(student, seed))
    want = ask("tp2.convnet_layers", seed)
    layers = param_layers(got)
    problems, diagnosis = [], None
    for k, (name, w) in enumerate(zip(PARAM_LAYERS, want, strict=False)):
        if k >= len(layers):
            problems.append(f"{name} is missing")
            continue
        g = layers[k]
        if g["type"] != w["type"]:
            problems.append(
                f"{name} should be a {w['type']}; the {k + 1}th layer with weights is a {g['type']}"
            )
            continue
        cfg = g.get("config", {})
        if g["type"] == "Conv2d":
            padding = cfg.get("padding")
            if cfg.get("kernel_size") != [5, 5]:
                problems.append(f"{name} has kernel {cfg.get('kernel_size')}, not 5×5")
            if padding not in ([2, 2], "same"):
                problems.append(f"{name} has padding {padding}, which does not keep the size")
                if padding == [0, 0] or padding == "valid":
                    diagnosis = (
                        "convolution without padding: a 5×5 convolution without padding shrinks "
                        "the image; the handout's convolutions keep the size (Q8)."
                    )
            if cfg.get("stride") != [1, 1]:
                problems.append(
                    f"{name} has stride {cfg.get('stride')}, which does not keep the size"
                )
            for key in ("in_channels", "out_channels"):
                if cfg.get(key) != w["config"][key]:
                    problems.append(f"{name} has {key} {cfg.get(key)}, not {w['config'][key]}")
        else:
            for key in ("in_features", "out_features"):
                if cfg.get(key) != w["config"][key]:
                    problems.append(f"{name} has {key} {cfg.get(key)}, not {w['config'][key]}")
        if g.get("in_shape") is not None and g["in_shape"][1:] != w["in_shape"][1:]:
            problems.append(
                f"{name} receives maps of shape {tuple(g['in_shape'][1:])}, "
                "not the shape of the Q10 table"
            )
            if (
                name in ("conv2", "conv3")
                and diagnosis is None
                and len(g["in_shape"]) == 4
                and layers[k - 1].get("out_shape")
                and g["in_shape"][2] == layers[k - 1]["out_shape"][2]
            ):
                diagnosis = f"no pooling before {name}: each 2×2 pool halves the size (Q9)."
    for m in got["modules"]:
        if m["type"].startswith("MaxPool") or m["type"].startswith("AvgPool"):
            cfg = m["config"]
            ks, st, pd = cfg.get("kernel_size"), cfg.get("stride"), cfg.get("padding")
            if ks not in (2, [2, 2]) or st not in (2, [2, 2], None) or pd not in (0, [0, 0]):
                problems.append(
                    f"pool `{m['name']}` has kernel {ks}, stride {st}, padding {pd}; "
                    "that pool does not halve the size (Q9)"
                )
    if got["error"] and not problems:
        problems.append(f"its forward on (2, 3, 32, 32) images failed: {got['error']}")
    if problems:
        fail("ConvNet differs from the handout's network: " + "; ".join(problems) + ".", diagnosis)
    _confirmed_by_values(student, seed, got)


@check("tp2_cnn::convnet::relu", points=2, question="1-cd Q15")
def test_convnet_relu(student, seed):
    """ConvNet applies a ReLU after each convolution and after fc4, none after fc5."""
    got = _described_truly(student, seed, _baseline(student, seed))
    if got["error"]:
        fail(f"ConvNet's forward on (2, 3, 32, 32) images failed: {got['error']}.")
    layers = param_layers(got)
    if len(layers) != 5:
        fail(
            f"ConvNet's forward ran {len(layers)} layers with weights, not 5 (conv1..conv3, fc4, fc5)."
        )
    missing = [
        PARAM_LAYERS[k]
        for k in range(4)
        if layers[k + 1].get("in_min") is not None and layers[k + 1]["in_min"] < 0
    ]
    if missing:
        fail(
            f"the input of the layer after {', '.join(missing)} has negative values: no ReLU after "
            f"{', '.join(missing)}.",
            f"missing ReLU after {', '.join(missing)}: without a non-linearity between them, "
            "stacked linear layers collapse into one linear map (1-ab Q3, 1-cd Q15).",
        )
    _confirmed_by_values(student, seed, got, fitting=True)
    out = student.probe("tp2_cnn.build", baseline(student, seed)).call(inputs(seed, 4, 32))
    out = expect_shape(out, (4, 10), "ConvNet()(x)")
    if float(out.min()) >= 0:
        softmax = torch.allclose(out.double().sum(1), torch.ones(4, dtype=torch.float64), atol=1e-4)
        fail(
            "ConvNet's outputs are all non-negative; the network should end with fc5's logits.",
            "a softmax after fc5: CrossEntropyLoss takes logits and applies the softmax itself."
            if softmax
            else "a ReLU after fc5: the logits must be able to be negative.",
        )


# -- ConvNetImproved (Q29-34) ----------------------------------------------------------


def _improved_by_values(student, seed: int, got: dict) -> None:
    """A description of the handout's improved network (student code can patch the probe that
    makes it) holds only if the network holds the layers it names and, given a state drawn
    here, gives the outputs the handout's improved network gives with that state. A state that
    does not fit it (no bias, another batch norm...) is not these checks' to fail."""
    if got["error"] or edition() != "instructor":  # the student edition trusts the description
        return
    if steps(got) != instructor_only("tp2.improved_steps", seed):
        return
    ref, name = improved(student, seed)
    x = inputs(seed, 2, 28)
    held = memo(student, "state:improved", lambda: student.probe("tp2_cnn.state", ref))
    if not isinstance(held, dict) or not all(isinstance(t, torch.Tensor) for t in held.values()):
        held = {}
    _layers_held(got, [tuple(t.shape) for t in held.values()], name)
    drawn = drawn_state(seed, held)
    expected = instructor_only("tp2.improved_output", drawn, x)
    if expected is None:
        return
    out = memo(
        student,
        "values:improved",
        lambda: student.probe("tp2_cnn.output_with_state", ref, list(drawn.values()), x),
    )
    if not (
        isinstance(out, torch.Tensor)
        and out.shape == expected.shape
        and torch.allclose(out.double(), expected.double(), rtol=1e-3, atol=1e-4)
    ):
        fail(
            f"{name}'s eval-mode outputs on the grader's images, with a state the grader gave it, "
            "are not those of the network it describes: its forward differs from its layers "
            "(extra functional steps?) or its description was tampered with."
        )


@check("tp2_cnn::improved::output_shape", points=2, question="1-cd Q22-25")
def test_improved_output_shape(student, seed):
    """ConvNetImproved maps 28×28 crops to (B, 10) logits, reaching fc4 as 64×4×4 (last pool with ceil_mode=True)."""
    ref, name = improved(student, seed)
    got = describe_student(student, seed, ref, 28)
    if got["error"]:
        pools = [m for m in got["modules"] if "Pool" in m["type"]]
        last = pools[-1]["config"] if pools else {}
        diagnosis = None
        if pools and last.get("ceil_mode") is False:
            diagnosis = (
                "the last pool without ceil_mode=True: 28×28 crops give 28→14→7→3 maps, so "
                "fc4 receives 64·3·3 = 576 values instead of 64·4·4 = 1024."
            )
        fail(f"{name}'s forward on 28×28 images (2, 3, 28, 28) failed: {got['error']}.", diagnosis)
    linear = [t for t in got["trace"] if t["type"] == "Linear"]
    if linear and linear[0]["in_shape"][1:] != [1024]:
        fail(
            f"fc4 receives {linear[0]['in_shape'][1:]} values per image from a 28×28 crop; it should be "
            "64·4·4 = 1024."
        )
    _improved_by_values(student, seed, got)
    out = student.probe("tp2_cnn.build", ref).call(inputs(seed, 4, 28))
    expect_shape(out, (4, 10), f"{name}()(x) for x of shape (4, 3, 28, 28)")


@check("tp2_cnn::improved::batchnorm", points=2, question="1-cd Q34")
def test_improved_batchnorm(student, seed):
    """ConvNetImproved has a BatchNorm2d after each convolution."""
    ref, name = improved(student, seed)
    got = describe_student(student, seed, ref, 28, train=True)
    order = got["trace"] if not got["error"] else got["modules"]
    convs, missing = 0, []
    for k, m in enumerate(order):
        if m["type"] != "Conv2d":
            continue
        convs += 1
        following = []
        for n in order[k + 1 :]:
            if n["type"] in ("Conv2d", "Linear"):
                break
            following.append(n)
        if not any("BatchNorm" in n["type"] for n in following):
            missing.append(f"conv{convs}")
    if convs == 0:
        fail(f"{name} has no Conv2d module.")
    if missing:
        fail(
            f"no BatchNorm2d after {', '.join(missing)}: the improved network normalises the output of "
            "each convolution (Q34).",
            "BatchNorm2d missing after " + ", ".join(missing) + ".",
        )
    _improved_by_values(student, seed, got)


@check("tp2_cnn::improved::dropout", points=2, question="1-cd Q29-33")
def test_improved_dropout(student, seed):
    """ConvNetImproved has a Dropout between fc4 and fc5, active in train mode."""
    ref, name = improved(student, seed)
    got = describe_student(student, seed, ref, 28, train=True)
    if got["error"]:
        fail(f"{name}'s forward on 28×28 images failed: {got['error']}.")
    linears = [k for k, t in enumerate(got["trace"]) if t["type"] == "Linear"]
    between = got["trace"][linears[-2] + 1 : linears[-1]] if len(linears) >= 2 else []
    behaviour = _improved_behaviour(
        student, seed
    )  # what it does, not only what its description says
    if not torch.equal(behaviour["train1"], behaviour["train2"]):
        return  # a Dropout module, or a functional one (F.dropout(x, p, self.training)): it works
    if any("Dropout" in t["type"] for t in between):
        fail(
            f"{name}'s Dropout between fc4 and fc5 does nothing in train mode: two passes over the same "
            "images give the same outputs (p = 0?)."
        )
    fail(
        f"{name} has no Dropout between fc4 and fc5: in train mode, two passes over the same "
        "images give the same outputs.",
        "Dropout missing between fc4 and fc5 (Q29-33).",
    )


def _improved_behaviour(student, seed):
    ref, _ = improved(student, seed)
    return memo(
        student,
        "improved_behaviour",
        lambda: student.probe("tp2_cnn.improved_behaviour", ref, inputs(seed, 6, 28)),
    )


@check("tp2_cnn::improved::eval_mode", points=2, question="1-cd Q29-34")
def test_improved_eval_mode(student, seed):
    """In eval mode ConvNetImproved is deterministic: dropout off, batch norm on its running statistics."""
    b = _improved_behaviour(student, seed)
    if not torch.allclose(b["eval1"], b["eval2"], rtol=1e-5, atol=1e-6):
        fail(
            "in eval mode, two passes over the same images give different outputs.",
            "dropout left in train mode at test time: with `F.dropout(x, p)` (training=True by default) "
            "or a hand-made mask, dropout ignores model.eval(); use nn.Dropout or "
            "F.dropout(x, p, training=self.training) (Q29-33).",
        )
    if b["eval_sub"].shape != b["eval1"][:2].shape or not torch.allclose(
        b["eval_sub"], b["eval1"][:2], rtol=1e-4, atol=1e-5
    ):
        fail(
            "in eval mode, an image's output depends on the other images of the batch.",
            "batch norm left in train mode at test time: it normalises with the batch's statistics "
            "instead of its running averages (track_running_stats=False, or training=True) (Q34).",
        )
    before, after = b["buffers_before"], b["buffers_after_eval"]
    changed = [
        n
        for n in before
        if not (isinstance(after.get(n), torch.Tensor) and torch.equal(before[n], after[n]))
    ]
    if changed:
        fail(
            f"a forward pass in eval mode changed {', '.join(changed)}.",
            "batch norm updates its running statistics at test time (Q34).",
        )


# -- epoch (Q13-15) -----------------------------------------------------------------------


def _run_epoch(student, seed, train: bool):
    student.require("epoch")
    state, x, y = epoch_data(seed)
    return memo(
        student,
        f"epoch:{train}",
        lambda: student.probe("tp2_cnn.run_epoch", state, x, y, BATCH, LR if train else None),
    )


def _cause(student, seed, got, train: bool) -> str | None:
    """A mistake the epoch's replayed values already show, which makes its results differ."""
    if train and _steps_match(student, seed, got, "no-zero-grad"):
        return Mistake(
            "zero_grad missing: gradients accumulate from batch to batch, so the steps differ.",
            mistakes.ZERO_GRAD,
        )
    if any(mode is (not train) for mode in epoch_values.modes(got)):
        return (
            Mistake(
                "model.train() not called: the training epoch ran in eval mode (Q14).",
                mistakes.TRAIN_MODE,
            )
            if train
            else Mistake(
                "eval mode not set: batch norm used the test batches' statistics (Q14).",
                mistakes.EVAL_MODE,
            )
        )
    return None


def _steps_match(student, seed, got, mistake: str | None = None) -> bool:
    """Whether the parameters after each of the epoch's steps are the reference's (or, given
    `mistake`, those of the reference with that mistake), replayed from the same start."""
    _, x, _ = epoch_data(seed)
    after = epoch_values.steps(got, x, BATCH)
    want = (
        ask("tp2.epoch", seed, True) if mistake is None else ask("tp2.epoch_mistake", seed, mistake)
    )
    return after is not None and epoch_values.same_steps(after, want["params"])


def _expect_results(student, seed, train: bool):
    """The epoch's (top1, top5, loss) are the reference's; where not, a mistake its watched calls show."""
    got = _run_epoch(student, seed, train)
    what = "epoch(data, model, criterion, optimizer)" if train else "epoch(data, model, criterion)"
    try:
        _compare_results(got, ask("tp2.epoch", seed, train), what)
    except CheckFailed as e:
        raise CheckFailed(e.message, e.diagnosis or _cause(student, seed, got, train)) from None


def _compare_results(got, expected, what):
    top1, top5, loss = values(got["results"], what)
    n = len(expected["per_batch"]["loss"])
    loss_value = as_number(loss, f"{what}: the loss")
    if abs(loss_value - expected["loss"]) > 1e-3 * max(1.0, abs(expected["loss"])):
        guesses = {
            "the sum of the batch losses": expected["loss"] * n,
            "the last batch's loss": expected["per_batch"]["loss"][-1],
            "the first batch's loss": expected["per_batch"]["loss"][0],
        }
        found = next(
            (
                f"the loss returned is {k}, not their average over the batches."
                for k, v in guesses.items()
                if abs(loss_value - v) <= 1e-3 * max(1.0, abs(v))
            ),
            None,
        )
        fail(
            f"{what}: the loss should be the average of the batch losses, {expected['loss']:.5g}; "
            f"got {loss_value:.5g}.",
            found,
        )
    for name, value, exp in (("top-1", top1, expected["top1"]), ("top-5", top5, expected["top5"])):
        v = as_number(value, f"{what}: {name}")
        swapped = expected["top5"] if name == "top-1" else expected["top1"]
        if (
            abs(v - exp) > 0.05
            and abs(v - exp / 100) > 5e-4
            and (abs(v - swapped) <= 0.05 or abs(v - swapped / 100) <= 5e-4)
            and abs(exp - swapped) > 0.5
        ):
            fail(
                f"{what}: {name} should be {exp:.4g}% ; got {v:.4g}.",
                "top-1 and top-5 returned in the wrong order: epoch returns (top1, top5, loss).",
            )
        expect_accuracy(v, exp / 100, f"{what}: {name} accuracy", atol=5e-4)


# What a wrong mode says, by epoch (True: with an optimizer): (the failure, its diagnosis).
WRONG_MODE = {
    True: (
        "epoch with an optimizer ran the model in eval mode (the model came in eval mode, as after an "
        "evaluation epoch).",
        Mistake(
            "model.train() not called in the training epoch: after the first evaluation the model stays in "
            "eval mode, so batch norm and dropout never train (Q14).",
            mistakes.TRAIN_MODE,
        ),
    ),
    False: (
        "epoch without an optimizer ran the model in train mode.",
        Mistake(
            "eval mode not set: without model.eval() the evaluation uses dropout and the batch's "
            "statistics in batch norm, and updates its running averages (Q14).",
            mistakes.EVAL_MODE,
        ),
    ),
}


def _expect_mode(student, seed, train: bool):
    """The epoch (with an optimizer when `train`) runs every forward in train mode, or every one
    in eval mode: told by running the grader's TinyNet again on each forward's input and state."""
    got = _run_epoch(student, seed, train)
    if not got["forwards"]:
        fail(f"epoch {'with' if train else 'without'} an optimizer never ran the model's forward.")
    found = epoch_values.modes(got)
    if None in found:
        fail(
            f"epoch {'with' if train else 'without'} an optimizer: the model's outputs are not those of its "
            "forward, in either mode, on the inputs it was given."
        )
    if any(mode != train for mode in found):
        fail(*WRONG_MODE[train])


@check("tp2_cnn::epoch::train_mode", points=2, question="1-cd Q14")
def test_epoch_train_mode(student, seed):
    """With an optimizer, epoch puts the model in train mode (model.train())."""
    _expect_mode(student, seed, True)


@check("tp2_cnn::epoch::train_steps", points=3, question="1-cd Q13-14")
def test_epoch_train_steps(student, seed):
    """With an optimizer, each batch does zero_grad, backward and step: after each step the parameters
    are those of one SGD step on that batch's loss (replayed from the same weights and batches)."""
    got = _run_epoch(student, seed, True)
    state, x, _ = epoch_data(seed)
    n = len(range(0, len(x), BATCH))
    after = epoch_values.steps(got, x, BATCH)
    if after is None:
        fail(f"epoch with an optimizer did not run the model on each of the {n} batches.")
    # A training epoch in eval mode makes the right steps with the wrong mode: train_mode says so.
    if _steps_match(student, seed, got) or _steps_match(student, seed, got, "eval-mode"):
        return
    if not epoch_values.changed(state, got["final"], buffers=False):
        fail(
            "epoch with an optimizer left every parameter unchanged.",
            "no loss.backward() or no optimizer.step() in the training epoch (or zero_grad between them).",
        )
    if _steps_match(student, seed, got, "no-zero-grad"):
        fail(
            f"at each of the {n} steps after the first, the step followed the sum of this batch's and earlier "
            "batches' gradients.",
            Mistake(
                "zero_grad missing: gradients accumulate from batch to batch unless "
                "optimizer.zero_grad() (or model.zero_grad()) resets them before each backward.",
                mistakes.ZERO_GRAD,
            ),
        )
    k = epoch_values.first_different(after, ask("tp2.epoch", seed, True)["params"])
    fail(
        f"after step {k + 1} of {n}, the parameters are not those of one SGD step on that batch's loss "
        "from the parameters before it."
    )


@check("tp2_cnn::epoch::train_results", points=2, question="1-cd Q13")
def test_epoch_train_results(student, seed):
    """With an optimizer, epoch returns the average top-1, top-5 and loss over the batches."""
    _expect_results(student, seed, True)


@check("tp2_cnn::epoch::eval_mode", points=2, question="1-cd Q14")
def test_epoch_eval_mode(student, seed):
    """Without an optimizer, epoch puts the model in eval mode (model.eval())."""
    _expect_mode(student, seed, False)


@check("tp2_cnn::epoch::eval_no_update", points=2, question="1-cd Q14")
def test_epoch_eval_no_update(student, seed):
    """Without an optimizer, epoch runs no backward and changes neither the parameters nor batch norm's running statistics."""
    got = _run_epoch(student, seed, False)
    state = epoch_data(seed)[0]
    if got["grads"]:
        fail(
            f"epoch without an optimizer ran a backward pass: {', '.join(sorted(got['grads']))} have gradients.",
            "a backward in the evaluation epoch: backward and step belong to training only "
            "(`if optimizer: ...`).",
        )
    if params := epoch_values.changed(state, got["final"], buffers=False):
        fail(
            f"epoch without an optimizer changed {', '.join(sorted(params))}.",
            "a step in the evaluation epoch: the test set must never train the model.",
        )
    if buffers := epoch_values.changed(state, got["final"], buffers=True):
        fail(
            f"epoch without an optimizer changed batch norm's {', '.join(sorted(buffers))}.",
            Mistake(
                "eval mode not set: in train mode batch norm updates its running statistics with the "
                "test batches (Q14).",
                mistakes.EVAL_MODE,
            )
            if True in epoch_values.modes(got)
            else None,
        )


@check("tp2_cnn::epoch::eval_results", points=2, question="1-cd Q13")
def test_epoch_eval_results(student, seed):
    """Without an optimizer, epoch returns the average top-1, top-5 and loss of the model in eval mode."""
    _expect_results(student, seed, False)


# -- normalisation (Q19-21) ------------------------------------------------------------------


@check("tp2_cnn::normalise::mean_std", points=2, question="1-cd Q19-21")
def test_compute_mean_std(student, seed):
    """compute_mean_std gives the per-channel mean and standard deviation, each of shape (3,)
    (without it, get_dataset's loaders normalise with those of the training images or CIFAR-10's)."""
    if _instead(student, "compute_mean_std", "get_dataset"):
        return _expect_loader_mean_std(student, seed)
    images = channel_images(seed)
    student.require("compute_mean_std")
    got = student.probe("tp2_cnn.compute_mean_std", images)
    mean, std = ask("tp2.mean_std", seed, "channels")
    for key in ("mean", "std"):
        if isinstance(got[key], str):
            fail(
                f"compute_mean_std should return (mean, std), each a tensor of shape (3,); its {key} is {got[key]}."
            )
    whole = images.mean().expand(3), images.std().expand(3)
    per_image_std = images.std(dim=(2, 3)).mean(0)
    expect_close(
        got["mean"],
        mean,
        "the per-channel mean",
        rtol=1e-3,
        atol=1e-4,
        diagnoses={
            "global": (
                whole[0],
                "global instead of per-channel mean/std: one value over all "
                "three channels; each channel has its own (Q19-21).",
            )
        },
        why_shape="one value per channel: mean over dims (0, 2, 3)",
    )
    expect_close(
        got["std"],
        std,
        "the per-channel standard deviation",
        rtol=1e-3,
        atol=1e-4,
        diagnoses={
            "global": (
                whole[1],
                "global instead of per-channel mean/std: one value over all "
                "three channels; each channel has its own (Q19-21).",
            ),
            "per image": (
                per_image_std,
                "the std of each image averaged over the images: "
                "the std is over all pixels of the training set, "
                "channel by channel.",
            ),
        },
        why_shape="one value per channel: std over dims (0, 2, 3)",
    )


def _instead(student, function: str, course: str) -> bool:
    """Whether the course's `course` (get_dataset, main) is judged instead of the contract's
    `function`, which the part does not define (contract)."""
    return function not in student.names and course in student.names


def _expect_loader_mean_std(student, seed):
    outputs, keys, raw = _transformed(student, seed, True)
    mean, std = _loader_normalisation(outputs, keys, raw)
    if any(
        float((mean - m).abs().max()) <= 1e-3 and float((std - s).abs().max()) <= 1e-3
        for m, s in ask("tp2.accepted_mean_std")
    ):
        return
    shown = f"mean ({', '.join(f'{v:.4f}' for v in mean)}) and std ({', '.join(f'{v:.4f}' for v in std)})"
    same = float(mean.max() - mean.min()) < 1e-4 and float(std.max() - std.min()) < 1e-4
    fail(
        f"get_dataset's train loader normalises with {shown}: neither the per-channel statistics of the "
        "training images nor CIFAR-10's published ones (to 3 decimals).",
        "global instead of per-channel mean/std: one value over all three channels; each channel has its "
        "own (Q19-21)."
        if same
        else None,
    )


# -- data augmentation (Q22-25) ---------------------------------------------------------------

MEAN, STD = torch.tensor([0.4, 0.5, 0.6]), torch.tensor([0.2, 0.25, 0.3])
N_TRAIN_DRAWS = 200
NOT_NORMALISED = Mistake(
    "not normalised: the output should be (x − mean) / std, channel by channel (Q19-21).",
    mistakes.NOT_NORMALISED,
)


def _image(seed):
    return torch.rand(3, 32, 32, generator=generator(seed, 22))


def _transformed(student, seed, train: bool):
    """The transform's outputs for one image, the crop each is (or None), and the raw crops:
    of get_transforms(train, MEAN, STD), or of the loader get_dataset returns (contract)."""
    n = N_TRAIN_DRAWS if train else 5
    if _instead(student, "get_transforms", "get_dataset"):
        got = memo(
            student,
            "loaders",
            lambda: student.probe(
                "tp2_cnn.loader_outputs", 32, {"train": N_TRAIN_DRAWS, "test": 5}
            ),
        )
        what = f"get_dataset's {'train' if train else 'test'} loader"
        if "bad" not in got:
            split = got["train" if train else "test"]
            got, image = (
                split,
                cifar_image(train if split["train_split"] is None else split["train_split"]),
            )
    else:
        student.require("get_transforms")
        got = memo(
            student,
            f"transform:{train}",
            lambda: student.probe(
                "tp2_cnn.transform_outputs", train, MEAN.clone(), STD.clone(), _image(seed), n
            ),
        )
        what, image = f"get_transforms(train={train}, mean, std)", _image(seed)
    if "bad" in got:
        fail(f"{what}: {got['bad']}.")
    outputs = got["outputs"]
    if tuple(outputs.shape[1:]) != (3, 28, 28):
        fail(
            f"{what} should turn a (3, 32, 32) image into a (3, 28, 28) one; got {tuple(outputs.shape[1:])}."
        )
    keys, raw = identify(outputs, image)
    return outputs, keys, raw


def _loader_normalisation(
    outputs, keys, raw, normalised: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """The (mean, std) that get_dataset's train loader normalises with; fails when it is no
    normalisation, or (`normalised`) the identity."""
    _not_crops("the train transform", keys)
    fit = fit_normalisation(outputs, raw)
    if fit is None:
        fail(
            "the train transform's outputs are not (x − mean) / std of the crops, channel by channel."
        )
    mean, std = fit
    if normalised and float(mean.abs().max()) < 1e-3 and float((std - 1).abs().max()) < 1e-3:
        fail(
            "the train transform's outputs are the crops' pixels in [0, 1], not normalised.",
            NOT_NORMALISED,
        )
    return fit


def _normalisation(student, seed, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """The mean and std the transforms must normalise with: those given to get_transforms, or
    those of get_dataset's train loader (judged by normalise::mean_std); the test loader must
    do as the train loader does."""
    if _instead(student, "get_transforms", "get_dataset"):
        return _loader_normalisation(*_transformed(student, seed, True), normalised=train)
    return MEAN, STD


def _not_crops(what, keys):
    bad = sum(k is None for k in keys)
    if bad:
        fail(
            f"{what}: {bad} of {len(keys)} outputs are not a 28×28 crop of the input image "
            "(flipped or not), normalised."
        )


@check("tp2_cnn::transforms::shape", points=1, question="1-cd Q22-25")
def test_transforms_shape(student, seed):
    """get_transforms turns a 3×32×32 image into a 3×28×28 one, in train and in test."""
    _transformed(student, seed, True)
    _transformed(student, seed, False)


@check("tp2_cnn::transforms::random_crop", points=2, question="1-cd Q22-25")
def test_transforms_random_crop(student, seed):
    """The train transform crops 28×28 at a random position."""
    _, keys, _ = _transformed(student, seed, True)
    _not_crops("the train transform", keys)
    positions = {(k[0], k[1]) for k in keys}
    if len(positions) < 5:
        fail(
            f"over {len(keys)} calls the train crop took {len(positions)} position(s) "
            f"({', '.join(map(str, sorted(positions)))}), out of the 25 possible.",
            "the train crop is not random: RandomCrop(28) picks a new position each time (Q22-25).",
        )


@check("tp2_cnn::transforms::flip", points=2, question="1-cd Q22-25")
def test_transforms_flip(student, seed):
    """The train transform flips the image horizontally about half of the time."""
    _, keys, _ = _transformed(student, seed, True)
    _not_crops("the train transform", keys)
    share = sum(k[2] for k in keys) / len(keys)
    if not 0.3 <= share <= 0.7:  # p = 0.5 over 200 draws: 0.3..0.7 is beyond 5 standard deviations
        diagnosis = (
            "no flip: the train transform never flips the image horizontally (Q22-25)."
            if share == 0
            else "the image is always flipped: a random flip has p = 0.5."
            if share == 1
            else f"a flip probability near {share:.2f} instead of 0.5."
        )
        fail(
            f"the train transform flipped {share:.0%} of {len(keys)} images; a random horizontal flip "
            "with p = 0.5 flips about half.",
            diagnosis,
        )


def _expect_normalised(what, outputs, keys, raw, mean, std):
    _not_crops(what, keys)
    mean, std = mean.view(1, 3, 1, 1), std.view(1, 3, 1, 1)
    expect_close(
        outputs,
        (raw - mean) / std,
        f"{what}'s output",
        rtol=1e-4,
        atol=1e-4,
        diagnoses={
            "raw": (raw, NOT_NORMALISED),
            "centred": (raw - mean, "only the mean is subtracted: divide by the std too."),
            "times": ((raw - mean) * std, "multiplied by the std instead of divided by it."),
            "inverse": (
                raw * std + mean,
                "the inverse normalisation x·std + mean instead of (x − mean) / std.",
            ),
        },
    )


@check("tp2_cnn::transforms::normalise", points=2, question="1-cd Q19-25")
def test_transforms_normalise(student, seed):
    """The train transform normalises with the given per-channel mean and std."""
    outputs, keys, raw = _transformed(student, seed, True)
    _expect_normalised(
        "the train transform",
        outputs[:40],
        keys[:40],
        raw[:40] if raw is not None else None,
        *_normalisation(student, seed, True),
    )


@check("tp2_cnn::transforms::test_centre", points=2, question="1-cd Q22-25")
def test_transforms_test_centre(student, seed):
    """The test transform is deterministic: the centred 28×28 crop, unflipped, normalised."""
    outputs, keys, raw = _transformed(student, seed, False)
    if not all(torch.equal(outputs[0], o) for o in outputs[1:]):
        fail(
            f"the test transform gave different outputs for the same image over {len(outputs)} calls.",
            "random test transform: the test set is cropped at the centre, never randomly, and not "
            "flipped, so that evaluation is deterministic (Q22-25).",
        )
    _not_crops("the test transform", keys)
    if keys[0] != (2, 2, False):
        fail(
            f"the test transform crops at row {keys[0][0]}, column {keys[0][1]}"
            f"{', flipped' if keys[0][2] else ''}; the centred crop starts at row 2, column 2.",
            "the test crop is not centred (CenterCrop(28)).",
        )
    _expect_normalised(
        "the test transform", outputs, keys, raw, *_normalisation(student, seed, False)
    )


# -- learning-rate schedule (Q26-28) --------------------------------------------------------


@check("tp2_cnn::scheduler::exponential", points=2, question="1-cd Q26-28")
def test_make_scheduler(student, seed):
    """make_scheduler decays the learning rate once an epoch as the handout's scheduler does
    (without it, the optimizer of `main` has those rates in its successive epochs)."""
    if _instead(student, "make_scheduler", "main"):
        student.require("main", "epoch")
        lrs = student.probe(
            "tp2_cnn.main_lrs", MAIN["batch_size"], MAIN["lr"], MAIN["epochs"], _timeout=120
        )["lrs"]
        what = f"main(batch_size={MAIN['batch_size']}, lr={MAIN['lr']}, epochs={MAIN['epochs']}, cuda=True)"
        if len(lrs) != MAIN["epochs"]:
            fail(f"{what} called epoch with its optimizer {len(lrs)} times, not once per epoch.")
        _expect_schedule(
            lrs, ask("tp2.lr_schedule", MAIN["lr"], MAIN["epochs"]), f"the optimizer of {what}"
        )
        return
    student.require("make_scheduler")
    lr0, steps = 0.1, 6
    got = student.probe("tp2_cnn.scheduler_lrs", lr0, steps)
    _expect_schedule(
        got["lrs"], ask("tp2.lr_schedule", lr0, steps + 1), f"with {got['type']}, the optimizer"
    )


def _expect_schedule(lrs: list[float], want: list[float], what: str):
    if len(lrs) == len(want) and all(
        abs(a - b) <= 1e-9 + 1e-6 * b for a, b in zip(lrs, want, strict=False)
    ):
        return
    ratios = [b / a for a, b in zip(lrs, lrs[1:], strict=False) if a]
    diagnosis = None
    if ratios and max(ratios) - min(ratios) < 1e-6:
        gamma = ratios[0]
        diagnosis = (
            "the learning rate never changes: no decay."
            if abs(gamma - 1) < 1e-9
            else f"wrong gamma: the rate is multiplied by {gamma:.4g} each epoch, not by the handout's "
            "factor (Q26-28)."
        )
    fail(
        f"{what} does not have the handout's learning rates in its {len(want)} successive epochs from "
        f"{want[0]}: it had {', '.join(f'{v:.5g}' for v in lrs)}.",
        diagnosis,
    )


# -- a short training run (Q16-18) ----------------------------------------------------------


@functools.lru_cache(maxsize=4)
def synthetic(n_per_class: int, seed: int):
    """The run's images and labels: made once per grading process (never changed in place)."""
    return make_synthetic(n_per_class, seed=seed)


@check(
    "tp2_cnn::training::short_run", points=4, question="1-cd Q16-18", follows=("convnet", "epoch")
)
def test_short_training_run(student, seed, record):
    """Trained by epoch with SGD on a small learnable 10-class set, ConvNet's loss goes down and its accuracy beats chance."""
    network = baseline(student, seed)  # ConvNet, or the handout's network under another name
    student.require(network if isinstance(network, str) else network[0], "epoch")
    x, y = synthetic(RUN["n_per_class"], seed)
    xt, yt = synthetic(RUN["n_test_per_class"], seed + 10_000)
    mean, std = ask("tp2.mean_std", seed, "synthetic")
    norm = lambda t: (t - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1)  # noqa: E731
    curves = student.probe(
        "tp2_cnn.short_run",
        network,
        norm(x),
        y,
        norm(xt),
        yt,
        RUN["epochs"],
        RUN["batch"],
        RUN["lr"],
        seed,
        _timeout=120,
    )
    logits = curves.pop("test_logits", None)
    for key, series in curves.items():
        for v in series:
            if is_bad(v):
                fail(
                    f"epoch returned a {key.split('_')[1]} that is not a number: "
                    f"{v['$bad'] if isinstance(v, dict) else v}."
                )
    for key in ("train_acc", "test_acc"):
        acc = curves[key]
        curves[key] = [a / 100 for a in acc] if max(acc) > 1.0 else acc
    # As the TP 1-ab runs keep them: one value an epoch per curve; the untrained test point apart.
    record(
        Curves(
            student={k: v[1:] if k.startswith("test") else v for k, v in curves.items()},
            before={"test_loss": curves["test_loss"][0], "test_acc": curves["test_acc"][0]},
        )
    )
    loss, untrained = curves["train_loss"], curves["test_loss"][0]
    # The accuracy that counts is computed here from the model's own outputs, not as reported.
    measured = [
        float((o.argmax(1) == yt).double().mean())
        if isinstance(o, torch.Tensor) and o.shape == (len(yt), 10)
        else 0.0
        for o in (logits if isinstance(logits, list) else [])
    ]
    best = max(measured[1:], default=0.0)
    if not all(math.isfinite(v) for v in loss):
        fail(f"the training loss became NaN or infinite: {', '.join(f'{v:.3g}' for v in loss)}.")
    if not min(loss) < 0.85 * untrained:
        fail(
            f"the loss of the untrained network was {untrained:.3f}; over {RUN['epochs']} epochs the "
            f"training loss went {' → '.join(f'{v:.3f}' for v in loss)}: it should go down clearly "
            f"(below 0.85 × {untrained:.3f})."
        )
    if best < 0.25:
        fail(
            f"after training, the best test accuracy of ConvNet's outputs is {best:.0%} (chance is 10%); a "
            f"working pipeline reaches well above 25% on these easy classes. Test accuracy by epoch (as epoch "
            f"reported it): {', '.join(f'{v:.0%}' for v in curves['test_acc'])}."
        )
