"""Correct answers written differently from the reference (grader test data)."""
import math

FIGURE1_SIZES = dict(nx=2, nh=4, ny=2)


def conv_output_size(size, kernel, padding, stride):
    return math.floor((size - kernel + 2 * padding) / stride) + 1


def conv_params(in_channels, out_channels, kernel):
    return kernel * kernel * in_channels * out_channels + out_channels


def fc_params(n_in, n_out):
    return n_in * n_out + n_out


def receptive_field(kernels, strides):
    # backwards from one output pixel: r_{l-1} = s_l * r_l + (k_l - s_l)
    r = 1
    for k, s in reversed(list(zip(kernels, strides, strict=False))):
        r = s * r + (k - s)
    return r


SAME_CONV_5x5 = {"stride": 1, "padding": 2}
HALVING_POOL_2x2 = {"stride": 2, "padding": 0}

# (An assignment that calls the submission's own functions is top-level work, not run:
# the table is written out.)
LAYER_TABLE = [
    ["Conv1", [32, 32, 32], 2432],
    ["pool1", [32, 16, 16], 0],
    ["conv2", [64, 16, 16], 51264],
    ["pool2", [64, 8, 8], 0],
    ["conv3", [64, 8, 8], 102464],
    ["pool3", [64, 4, 4], 0],
    ["fc4", [1000], 1025000],
    ["fc5", 10, 10010],
]

TOTAL_PARAMS = sum(n for _, _, n in LAYER_TABLE)
