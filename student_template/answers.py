"""The handout's questions whose answer is a number or a formula.

TP 1-ab, question 4, and TP 1-cd, questions 1 and 7 to 11. Replace each ``None`` by the
answer and write each function's body.
"""

# TP 1-ab, question 4: the sizes nx, nh, ny of the network of figure 1, as a dict
# {"nx": ..., "nh": ..., "ny": ...}.
FIGURE1_SIZES = None  # TODO


def conv_output_size(size, kernel, padding, stride):
    """TP 1-cd, question 1: the output width (or height) of a convolution.

    An input of width ``size``, a ``kernel × kernel`` filter, ``padding`` zeros on each
    side and a ``stride``. Returns an int.
    """
    raise NotImplementedError


def conv_params(in_channels, out_channels, kernel):
    """TP 1-cd, question 1: the number of weights of a convolution layer, biases included.

    ``out_channels`` filters of size ``kernel × kernel`` over ``in_channels`` input
    channels. Returns an int.
    """
    raise NotImplementedError


def fc_params(n_in, n_out):
    """TP 1-cd, question 10: the number of weights of a fully connected layer, biases included.

    Returns an int.
    """
    raise NotImplementedError


def receptive_field(kernels, strides):
    """TP 1-cd, question 7: the receptive field of a stack of layers.

    ``kernels[i]`` and ``strides[i]`` are the kernel size and the stride of the i-th
    layer, from the input up. Returns the width (an int) of the input region that one
    output of the last layer sees.
    """
    raise NotImplementedError


# TP 1-cd, question 8: the padding and the stride of a 5×5 convolution that keep the
# spatial size, as a dict {"padding": ..., "stride": ...}.
SAME_CONV_5x5 = None  # TODO

# TP 1-cd, question 9: the padding and the stride of a 2×2 max-pool that halve the
# spatial size, as a dict {"padding": ..., "stride": ...}.
HALVING_POOL_2x2 = None  # TODO

# TP 1-cd, question 10: for each layer of ConvNet, in order conv1, pool1, conv2, pool2,
# conv3, pool3, fc4, fc5, a tuple (name, output_shape, n_params): the name as written
# here, the output shape as (C, H, W) or (N,) for a 3×32×32 input, and the number of
# weights, biases included (0 for a pool).
LAYER_TABLE = None  # TODO

# TP 1-cd, question 11: the total number of weights of ConvNet, an int.
TOTAL_PARAMS = None  # TODO
