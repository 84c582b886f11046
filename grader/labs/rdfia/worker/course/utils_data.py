"""The grader's version of the course's TP 1-ab helper ``utils-data.py`` (formerly ``tme5.py``).

Same names and behaviour as the course's file, so that code written against it runs
unchanged: ``CirclesData`` with ``Xtrain, Ytrain, Xtest, Ytest, Xgrid`` as float32
tensors and its plot methods, on the grader's Circles data (default seed) rather than
the course's circles.mat. Plots are drawn off screen and never shown; without
matplotlib they do nothing. As with the course's file, ``from utils_data import *`` (and
so ``%run 'utils-data.py'``) also brings ``math``, ``matplotlib``, ``np``, ``plt`` and
``torch``.
"""

import math

import numpy as np
import torch
from _headless import as_float as _as_float
from _headless import figure as _figure
from _headless import matplotlib, plt

from grader.labs.rdfia.data import circles as _circles

# What the course's file defines or imports, so what `from utils_data import *` gives.
__all__ = ["CirclesData", "math", "matplotlib", "np", "plt", "torch"]


class CirclesData:
    def __init__(self):
        self.Xtrain, self.Ytrain, self.Xtest, self.Ytest = _circles.make_circles()
        self.Xgrid = _circles.make_grid()
        self.loss_train = []
        self.loss_test = []
        self.acc_train = []
        self.acc_test = []

    def _plot_points(self, ax, scale=1.0, offset=0.0):
        """Train (dots) and test (crosses) points, class 0 blue and class 1 red."""
        for X, Y, marker, label in (
            (self.Xtrain, self.Ytrain, "o", "Train"),
            (self.Xtest, self.Ytest, "+", "Test"),
        ):
            X = X.numpy() * scale + offset
            Y = Y.numpy()
            ax.plot(X[Y[:, 0] == 1, 0], X[Y[:, 0] == 1, 1], "b" + marker, label=label)
            ax.plot(X[Y[:, 1] == 1, 0], X[Y[:, 1] == 1, 1], "r" + marker)

    def plot_data(self):
        with _figure(figsize=(5, 5)) as fig:
            if fig is None:
                return
            ax = fig.add_subplot()
            self._plot_points(ax)
            ax.legend()

    def plot_data_with_grid(self, Ygrid, title=""):
        """Ygrid: (1600, 2) class probabilities on Xgrid; shows that of class 1."""
        with _figure(figsize=(5, 5)) as fig:
            if fig is None:
                return
            probs = torch.as_tensor(Ygrid).detach().float().reshape(len(self.Xgrid), -1)[:, -1]
            ax = fig.add_subplot()
            # Xgrid's first coordinate varies fastest: one image row per second coordinate.
            image = ax.imshow(probs.reshape(40, 40).numpy(), origin="lower")
            image.set_clim(0.3, 0.7)
            self._plot_points(ax, scale=10, offset=20)  # data coordinates to pixels
            ax.set_xlim(0, 39)
            ax.set_ylim(0, 39)
            ax.set_title(title)

    def plot_loss(self, loss_train, loss_test, acc_train, acc_test):
        """Record one epoch's losses and accuracies, and plot the curves so far."""
        self.loss_train.append(loss_train)
        self.loss_test.append(loss_test)
        self.acc_train.append(acc_train)
        self.acc_test.append(acc_test)
        with _figure() as fig:
            if fig is None:
                return
            for position, curves in (
                (1, {"acc. train": self.acc_train, "acc. test": self.acc_test}),
                (2, {"loss train": self.loss_train, "loss test": self.loss_test}),
            ):
                ax = fig.add_subplot(1, 2, position)
                for label, values in curves.items():
                    ax.plot([_as_float(v) for v in values], label=label)
                ax.legend()

    def save_gif(self, filename):
        """The recent course version saves the grid plots as an animation; the grader saves nothing."""
