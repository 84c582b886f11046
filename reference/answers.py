"""The handout questions whose answer is a number or a formula (the instructor's solution)."""

# TP 1-ab Q4: the sizes of figure 1.
FIGURE1_SIZES = {"nx": 2, "nh": 4, "ny": 2}


def conv_output_size(size, kernel, padding, stride):
    """TP 1-cd Q1: spatial output size of a convolution (or a pooling)."""
    return (size + 2 * padding - kernel) // stride + 1


def conv_params(in_channels, out_channels, kernel):
    """TP 1-cd Q1: weights (k x k x C_in per filter) plus one bias per filter."""
    return out_channels * (in_channels * kernel * kernel + 1)


def fc_params(n_in, n_out):
    """Weights (n_in x n_out) plus one bias per output."""
    return n_out * (n_in + 1)


def receptive_field(kernels, strides):
    """TP 1-cd Q7: receptive field of a stack of layers (each layer adds (k - 1) times
    the product of the strides before it)."""
    field, jump = 1, 1
    for kernel, stride in zip(kernels, strides, strict=False):
        field += (kernel - 1) * jump
        jump *= stride
    return field


# Q8: a 5x5 convolution that keeps the size; Q9: a 2x2 pooling that halves it.
SAME_CONV_5x5 = {"padding": 2, "stride": 1}
HALVING_POOL_2x2 = {"padding": 0, "stride": 2}

# Q10: per layer, its output shape and its number of weights.
LAYER_TABLE = [
    ("conv1", (32, 32, 32), 5 * 5 * 3 * 32 + 32),
    ("pool1", (32, 16, 16), 0),
    ("conv2", (64, 16, 16), 5 * 5 * 32 * 64 + 64),
    ("pool2", (64, 8, 8), 0),
    ("conv3", (64, 8, 8), 5 * 5 * 64 * 64 + 64),
    ("pool3", (64, 4, 4), 0),
    ("fc4", (1000,), 64 * 4 * 4 * 1000 + 1000),
    ("fc5", (10,), 1000 * 10 + 10),
]

# Q11: the total.
TOTAL_PARAMS = 1191170
