"""TP 1-cd: a convolutional network on CIFAR-10, and its improvements.

Images are float tensors ``(B, 3, H, W)`` with values in [0, 1] before normalisation;
labels are class indices ``(B,)``, 10 classes. ``torchvision`` is not needed (it may be
used where it is installed). The course's ``utils.py`` (``accuracy``,
``AverageMeter``, ``TrainLossPlot``) may be imported.
"""

import torch
import torch.nn as nn


class ConvNet(nn.Module):
    """The network of the handout, for 3×32×32 inputs and 10 classes (questions 10, 11, 15).

    - conv1: 32 convolutions 5×5, then ReLU, then max-pool 2×2;
    - conv2: 64 convolutions 5×5, then ReLU, then max-pool 2×2;
    - conv3: 64 convolutions 5×5, then ReLU, then max-pool 2×2;
    - fc4: fully connected, 1000 outputs, then ReLU;
    - fc5: fully connected, 10 outputs (the logits: no SoftMax, the loss applies it).

    The convolutions keep the spatial size and the pools halve it: choose their padding
    and stride accordingly (questions 8, 9). ``forward(x)`` maps ``(B, 3, 32, 32)`` to
    ``(B, 10)``.
    """

    def __init__(self):
        super().__init__()
        raise NotImplementedError

    def forward(self, x):
        raise NotImplementedError


class ConvNetImproved(nn.Module):
    """``ConvNet`` with the improvements of the handout (questions 29 to 34).

    A ``nn.BatchNorm2d`` right after each convolution; a ``nn.Dropout`` between fc4 and
    fc5; the last pool with ``ceil_mode=True``, so that the 28×28 images of the data
    augmentation (cropped) reach fc4 as 64×4×4. ``forward(x)`` maps
    ``(B, 3, 28, 28)`` (or 32×32) to ``(B, 10)``.
    """

    def __init__(self):
        super().__init__()
        raise NotImplementedError

    def forward(self, x):
        raise NotImplementedError


def epoch(data, model, criterion, optimizer=None, cuda=False):
    """One pass over ``data`` (questions 13 to 18).

    ``data`` is a ``torch.utils.data.DataLoader`` of ``(images, labels)`` batches. With an
    ``optimizer``: put the model in train mode (``model.train()``) and, for each batch,
    ``optimizer.zero_grad()``, compute the loss ``criterion(model(images), labels)``,
    ``loss.backward()``, ``optimizer.step()``. Without: evaluation mode
    (``model.eval()``), no backward and no change to the parameters (evaluating under
    ``torch.no_grad()`` is good practice).

    Returns ``(top1, top5, loss)`` over the epoch: the top-1 and top-5 accuracies and the
    mean loss, each a number or an ``AverageMeter`` (anything with a numeric ``.avg``).
    """
    raise NotImplementedError


def compute_mean_std(images):
    """Per-channel mean and standard deviation of ``images`` ``(N, 3, H, W)`` (questions 19 to 21).

    Returns ``(mean, std)``, each of shape ``(3,)``. They are computed on the training set
    only, then used to normalise every set.
    """
    raise NotImplementedError


def get_transforms(train, mean, std):
    """The data pipeline of one image ``(3, 32, 32)`` (questions 19 to 25).

    Returns a callable from one image ``(3, 32, 32)`` to a normalised ``(3, 28, 28)``
    image, ``(x − mean) / std`` per channel. Train (``train=True``): a random 28×28 crop
    and a random horizontal flip (probability 0.5), then the normalisation. Test: the
    centred 28×28 crop, then the normalisation; deterministic.
    """
    raise NotImplementedError


def make_scheduler(optimizer):
    """The learning-rate schedule (questions 26 to 28).

    Returns a ``torch.optim.lr_scheduler.ExponentialLR`` on ``optimizer`` with
    ``gamma = 0.95``, to be stepped once an epoch.
    """
    raise NotImplementedError
