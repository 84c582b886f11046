"""The grader's version of the course's TP 1-cd helper ``utils.py``.

Same names and behaviour as the course's file, so that code written against it runs
unchanged: ``accuracy``, ``AverageMeter``, ``TrainLossPlot`` and ``AccLossPlot``. Plots
are drawn off screen and never shown; without matplotlib they do nothing. As with the
course's file, ``from utils import *`` also brings ``np``, ``plt`` and ``torch``.
"""

import numpy as np
import torch
from _headless import as_float as _as_float
from _headless import figure as _figure
from _headless import plt

# What the course's file defines or imports, so what `from utils import *` gives.
__all__ = ["AccLossPlot", "AverageMeter", "TrainLossPlot", "accuracy", "np", "plt", "torch"]


def accuracy(output, target, topk=(1,)):
    """Computes the precision@k for the specified values of k.

    A list with one percentage per k, each a one-element float tensor (the PyTorch
    ImageNet example's function, as the course ships it).
    """
    maxk = max(topk)
    batch_size = target.size(0)

    _, pred = output.topk(maxk, 1, True, True)
    pred = pred.t()
    correct = pred.eq(target.reshape(1, -1).expand_as(pred))

    res = []
    for k in topk:
        correct_k = correct[:k].reshape(-1).float().sum(0, keepdim=True)
        res.append(correct_k.mul_(100.0 / batch_size))
    return res


class AverageMeter(object):
    """Computes and stores the average and current value"""

    def __init__(self, keep_all=False):
        self.reset()
        self.data = None
        if keep_all:
            self.data = []

    def reset(self):
        self.val = 0
        self.avg = 0
        self.sum = 0
        self.count = 0

    def update(self, val, n=1):
        if self.data is not None:
            self.data.append(val)
        self.val = val
        self.sum += val * n
        self.count += n
        self.avg = self.sum / self.count


class TrainLossPlot(object):
    """The training loss of each batch: ``update(loss)`` per batch, ``plot()`` now and then."""

    def __init__(self):
        self.loss_train = []

    def update(self, loss_train):
        self.loss_train.append(loss_train)

    def plot(self):
        with _figure() as fig:
            if fig is None:
                return
            ax = fig.add_subplot()
            ax.plot([_as_float(v) for v in self.loss_train])
            ax.set_title("Train loss / batch")
            ax.set_xlabel("Batch")
            ax.set_ylabel("Loss")


class AccLossPlot(object):
    """Accuracies and losses of each epoch, train and test side by side."""

    def __init__(self):
        self.loss_train = []
        self.loss_test = []
        self.acc_train = []
        self.acc_test = []

    def update(self, loss_train, loss_test, acc_train, acc_test, plot=True):
        self.loss_train.append(loss_train)
        self.loss_test.append(loss_test)
        self.acc_train.append(acc_train)
        self.acc_test.append(acc_test)
        if plot:
            self.plot()

    def plot(self):
        with _figure() as fig:
            if fig is None:
                return
            for position, what, curves in (
                (1, "Accuracy", {"acc. train": self.acc_train, "acc. test": self.acc_test}),
                (2, "Loss", {"loss train": self.loss_train, "loss test": self.loss_test}),
            ):
                ax = fig.add_subplot(1, 2, position)
                for label, values in curves.items():
                    ax.plot([_as_float(v) for v in values], label=label)
                ax.set_title(f"{what} / epoch")
                ax.set_xlabel("Epoch")
                ax.set_ylabel(what)
                ax.legend()


# What the course's `main` creates and its `epoch` uses: the lab gives them to a part
# that does not define them (not in `__all__`: `from utils import *` leaves a student's own).
PRINT_INTERVAL = 50
loss_plot = TrainLossPlot()
