"""The catalogue of known mistakes: what the report says when a student's value matches
one. The values come from the oracle under the same keys (`grader.labs.rdfia.oracle`).

A text names the mistake and where to look, never the handout's formula or value.

One coding mistake can fail several checks of a part (a sign error in ∇Ỹ fails the four
gradients and the training run). The texts that name such a mistake are `Mistake`s with
the ids below: the report says, at each check after the first, that it counts the same
mistake again. The points stay as the course set them.
"""

from __future__ import annotations

from grader.checks import Mistake

# The coding mistakes that more than one check of a part charges.
GRADIENT_SIGN = "gradient-sign"  # ∇Ỹ the wrong way round: every gradient
NO_TANH_DERIVATIVE = "no-tanh-derivative"  # ∇H̃ without tanh': ∇Wh and ∇bh
HTILDE_DERIVATIVE = "htilde-derivative"
SIGMOID_DERIVATIVE = "sigmoid-derivative"
HIDDEN_RELU = "hidden-relu"  # the hidden activation: Ŷ and outputs["h"]
HIDDEN_SIGMOID = "hidden-sigmoid"
NO_HIDDEN_ACTIVATION = "no-hidden-activation"
UPHILL_STEP = "uphill-step"  # sgd's update and the training run
NOT_RESET = "gradients-not-reset"  # sgd's reset and the training run
OPTIMIZER_LR = "optimizer-lr"  # init_model's optimizer and the training run
OPTIMIZER_MOMENTUM = "optimizer-momentum"
ZERO_GRAD = "zero-grad-missing"  # tp2's epoch: its steps and its results
TRAIN_MODE = "train-mode-missing"  # tp2's epoch: its mode and its results
EVAL_MODE = (
    "eval-mode-missing"  # tp2's evaluation epoch: its mode, batch norm's statistics, its results
)
NOT_NORMALISED = "not-normalised"  # tp2's loaders: the mean and std, the transforms


def diagnosed(values: dict, texts: dict) -> dict:
    """The oracle's known-mistake values with the catalogue's texts: {name: (value, text)}."""
    return {name: (value, texts[name]) for name, value in values.items()}


FORWARD = {
    "sigmoid": "Ŷ is sigmoid(Ỹ): its rows do not sum to 1. The output layer is a SoftMax, so that Ŷ is a "
    "distribution over the classes (1-ab Q5-7).",
    "no-softmax": "Ŷ equals the logits Ỹ: the SoftMax is missing (1-ab Q7).",
    "softmax-dim0": "Ŷ is a SoftMax over the batch (dim 0): each COLUMN sums to 1. The SoftMax normalises each "
    "sample's row over the classes (dim 1) (1-ab Q7).",
    "log-softmax": "Ŷ is log SoftMax(Ỹ): the output is the SoftMax itself, not its log (1-ab Q7).",
    "relu": Mistake(
        "Ŷ matches a hidden layer with ReLU: the handout's hidden activation is tanh (1-ab Q3, Q7).",
        HIDDEN_RELU,
    ),
    "sigmoid-hidden": Mistake(
        "Ŷ matches a hidden layer with sigmoid: the handout's hidden activation is tanh (1-ab Q7).",
        HIDDEN_SIGMOID,
    ),
    "no-activation": Mistake(
        "Ŷ matches a network WITHOUT hidden activation: the two linear layers then collapse "
        "into one (1-ab Q3, Q7).",
        NO_HIDDEN_ACTIVATION,
    ),
    "no-bias": "Ŷ matches a forward without the biases bh and by (1-ab Q7).",
    "transposed": "Ŷ is transposed, one sample a column: Ŷ is (B, ny), one sample a row, like X (1-ab Q7).",
}

HIDDEN = {
    "relu": Mistake(
        "h is ReLU(h̃); the handout's hidden activation is tanh (1-ab Q7).", HIDDEN_RELU
    ),
    "sigmoid": Mistake(
        "h is sigmoid(h̃); the handout's hidden activation is tanh (1-ab Q7).", HIDDEN_SIGMOID
    ),
    "none": Mistake("h equals h̃: the tanh is missing (1-ab Q7).", NO_HIDDEN_ACTIVATION),
}

LOGITS = {
    "softmax": "the model's output rows are SoftMax probabilities: the model ends with a Softmax. "
    "CrossEntropyLoss applies log-SoftMax itself, so the model must output the logits Ỹ "
    "(Linear, Tanh, Linear, nothing after); with a Softmax inside, SoftMax is applied twice "
    "(1-ab Q14, handout 2.3).",
    "log-softmax": "the model ends with LogSoftmax: CrossEntropyLoss expects the logits Ỹ and applies log-SoftMax "
    "itself (handout 2.3).",
    "sigmoid": "the model ends with a Sigmoid: it must output the logits Ỹ (Linear, Tanh, Linear) (handout 2.3).",
    "relu": "the hidden activation is ReLU: the handout's is tanh, torch.nn.Tanh() (1-ab Q3, Q7).",
    "sigmoid-hidden": "the hidden activation is a sigmoid: the handout's is tanh, torch.nn.Tanh() (1-ab Q7).",
    "no-activation": "there is no activation between the two Linear layers: they then collapse into one; add "
    "torch.nn.Tanh() (1-ab Q3, Q7).",
}


def loss(batch: int) -> dict:
    """The mistakes of the loss that loss_accuracy computes from Ŷ (tp1_manual, tp1_autograd)."""
    return {
        "sum": f"the loss is the SUM over the batch ({batch} × the mean): the handout's loss is the batch mean "
        "of the cross-entropy (1-ab Q8-9).",
        "all-mean": "the loss is averaged over every entry of Y log Ŷ (a plain .mean() divides by B × ny): sum "
        "over the classes, then average over the batch (1-ab Q8-9).",
        "sign": "the loss has the wrong sign: the cross-entropy is a positive number (1-ab Q8-9).",
        "q14-on-yhat": "the loss is Q14's expression applied to Ŷ, the SoftMax output: that applies SoftMax twice. "
        "Q14 holds on the logits Ỹ (1-ab Q14).",
        "mse": "the loss is a squared error: the handout uses the cross-entropy with a SoftMax output (1-ab Q8-9).",
        "mse-mean": "the loss is a mean squared error: the handout uses the cross-entropy with a SoftMax output "
        "(1-ab Q8-9).",
    }


def accuracy(count: float, batch: int) -> dict:
    """The mistakes of loss_accuracy's accuracy, `count` the good predictions of a `batch`."""
    return {
        "count": f"the accuracy is the NUMBER of good predictions ({count:g} of {batch}): it is their rate, the "
        "count divided by the batch size.",
        "error": "the accuracy is the error rate 1 − accuracy: count the predictions whose argmax equals the "
        "target's.",
        "axis0": "the argmax is taken over the batch (dim 0); the predicted class of a sample is the argmax over "
        "its row (dim 1).",
    }


def nn_loss(batch: int) -> dict:
    """The mistakes of a torch.nn loss on the logits (tp1_nn, tp1_optim)."""
    return {
        "softmax-then-ce": "the loss is CrossEntropyLoss applied to SoftMax outputs: CrossEntropyLoss takes the "
        "logits and applies log-SoftMax itself, so SoftMax is applied twice. Give it Ŷ, the "
        "model's logits, as they are (1-ab Q14, handout 2.3).",
        "sum": f"the loss is the SUM over the batch ({batch} × the mean): CrossEntropyLoss's default "
        "reduction='mean' gives the batch mean the handout uses.",
        "nll-on-logits": "the loss is NLLLoss on logits (−ỹ of the right class): NLLLoss expects log-probabilities; "
        "use CrossEntropyLoss on the logits (handout 2.3).",
        "nll-on-probs": "the loss is NLLLoss on SoftMax probabilities: use CrossEntropyLoss on the logits "
        "(handout 2.3).",
        "sign": "the loss has the wrong sign: the cross-entropy is a positive number.",
    }


def gradient(
    sym: str,
    question: str,
    convention: str,
    other: str,
    batch: int,
    shape=None,
    got_shape=None,
    rows_shape=None,
) -> dict:
    """The mistakes of one gradient of `backward`; `sym` names it (∇Wy...)."""
    return {
        "sign": Mistake(
            f"{sym} has the right size but the opposite sign: ∇Ỹ, the gradient at the logits, is "
            "computed the wrong way round (1-ab Q15); with the wrong sign, gradient descent climbs the "
            "loss.",
            GRADIENT_SIGN,
        ),
        "mixed": f"{sym} is the gradient of the {other} while your other gradients are of the {convention} (a "
        f"factor B = {batch} apart): divide all four gradients by B, or none of them (1-ab Q15-17).",
        "transposed": f"{sym} came back transposed, shape {got_shape} instead of {shape}: a gradient has the shape "
        f"of its parameter ({question}).",
        "not-summed": f"{sym} has one row per sample (shape {rows_shape}): the bias gradient was not summed over "
        f"the batch ({question}).",
        "wrong-axis": f"{sym} has shape ({batch},): it was summed over the wrong axis (dim 1, over the units) "
        f"instead of over the batch rows, dim 0 ({question}).",
        "no-tanh-derivative": Mistake(
            f"{sym} is missing the tanh derivative: the gradient at h̃ goes through "
            "tanh (1-ab Q17).",
            NO_TANH_DERIVATIVE,
        ),
        "htilde-derivative": Mistake(
            f"{sym} takes the tanh derivative at the wrong tensor: it is written with the "
            "tanh's output H, not its input H̃ (1-ab Q17).",
            HTILDE_DERIVATIVE,
        ),
        "sigmoid-derivative": Mistake(
            f"{sym} uses the sigmoid's derivative; the hidden activation is tanh (1-ab Q17).",
            SIGMOID_DERIVATIVE,
        ),
    }


def sgd_step(name: str, grad: str, unchanged: str) -> dict:
    """The mistakes of a gradient step on parameter `name`; `grad` names its gradient, `unchanged`
    says how to make the update stick in this part."""
    return {
        "uphill": Mistake(
            f"{name} moved UP the gradient: gradient descent steps against the gradient "
            "(1-ab Q10-11).",
            UPHILL_STEP,
        ),
        "no-eta": f"{name} moved by the whole gradient: the step is scaled by the learning rate (1-ab Q10-11).",
        "unchanged": f"{name} did not change: {unchanged}",
        "grad": f"sgd returned the gradient {grad} in place of {name}.",
    }


UPHILL_RUN = Mistake(
    "the run climbs the loss: the parameters move along the gradient instead of against it "
    "(1-ab Q10-11).",
    UPHILL_STEP,
    GRADIENT_SIGN,
)

FORMULA = {
    "conv_output_size": {
        "one-side-padding": "padding counted on one side only: a padding p adds p pixels on each side",
        "no-plus-one": "the +1 is missing: the first position of the kernel counts",
        "no-floor": "no floor: a kernel that does not fit at the last stride is not applied, so round down",
        "no-stride": "the stride is ignored: with stride s the kernel moves s pixels at a time",
        "no-padding": "the padding is ignored",
    },
    "conv_params": {
        "no-bias": "the biases are missing: each filter has one",
        "bias-per-input": "one bias per input channel: a filter has one bias, whatever its input channels",
        "kernel-not-squared": "the kernel counted as k weights, not k×k",
        "no-input-channels": "the input channels are missing: a filter spans all C_in input channels",
    },
    "fc_params": {
        "bias-per-input": "fc bias counted per input: a fully connected layer has one bias per output",
        "no-bias": "the biases are missing: one per output",
    },
    "receptive_field": {
        "no-strides": "receptive field that ignores strides: after a stride-s layer, each further pixel covers s "
        "input pixels",
        "kernels-added": "the kernels added up",
        "kernels-multiplied": "the kernels multiplied",
    },
}

SAME_CONV = {
    "one-side-padding": "padding counted on one side only: the padding is added on each side of the image (Q8).",
    "no-padding": "convolution without padding: it shrinks the image (Q8).",
}

LAYER_SHAPE = {
    "hwc": "shapes written (H, W, C): the table is (C, H, W)",
    "no-padding": "convolution without padding: the handout's convolutions keep the size (Q8)",
}
LAYER_COUNT = {
    "conv": {"no-bias": "the biases are missing: one per filter"},
    "fc": {
        "bias-per-input": "fc bias counted per input: a fully connected layer has one bias per output",
        "no-bias": "the biases are missing",
    },
}
TOTAL = {
    "no-bias": "the biases are missing: each convolution filter and each fully connected output has one",
    "bias-per-input": "fc bias counted per input: one bias per output, not per input",
}
