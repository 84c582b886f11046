"""The grader's versions of the course helpers (utils-data / tme5, utils), as the worker imports them."""

import importlib
import sys
from pathlib import Path

import pytest
import torch

from grader.data.circles import make_circles, make_grid

COURSE_DIR = Path(__file__).parents[1] / "grader" / "worker" / "course"
HELPERS = ("utils", "utils_data", "tme5", "tme6")


@pytest.fixture()
def course(monkeypatch):
    """Import a helper by its bare name, as the worker does with the course dir on sys.path."""
    monkeypatch.syspath_prepend(str(COURSE_DIR))
    for name in HELPERS:
        monkeypatch.delitem(sys.modules, name, raising=False)
    yield importlib.import_module
    for name in HELPERS:
        sys.modules.pop(name, None)


@pytest.fixture()
def no_show(monkeypatch):
    """Fail a test whose plots would open a window or block."""
    plt = pytest.importorskip("matplotlib.pyplot")

    def refuse(*args, **kwargs):
        raise AssertionError("a course helper called plt.show or plt.pause")

    monkeypatch.setattr(plt, "show", refuse)
    monkeypatch.setattr(plt, "pause", refuse)
    return plt


def test_circles_data_attributes(course):
    data = course("utils_data").CirclesData()
    expected = make_circles()
    for name in ("Xtrain", "Ytrain", "Xtest", "Ytest"):
        value = getattr(data, name)
        assert value.dtype == torch.float32 and value.shape == (200, 2)
        assert torch.equal(value, getattr(expected, name))
    assert data.Xgrid.shape == (1600, 2) and data.Xgrid.dtype == torch.float32
    assert torch.equal(data.Xgrid, make_grid())


def test_star_imports_give_the_course_names(course):
    namespace = {}
    exec("from utils_data import *", namespace)
    assert {"CirclesData", "torch", "np", "math", "plt"} <= set(namespace)
    namespace = {}
    exec("from tme5 import *", namespace)
    assert namespace["CirclesData"] is course("utils_data").CirclesData
    namespace = {}
    exec("from utils import *", namespace)
    assert {"accuracy", "AverageMeter", "TrainLossPlot", "AccLossPlot", "np", "plt"} <= set(namespace)
    namespace = {}
    exec("from tme6 import *", namespace)  # the TP 1-cd helpers' name in 2018-2022
    assert namespace["AverageMeter"] is course("utils").AverageMeter and "accuracy" in namespace


def test_circles_plots_are_headless(course, no_show):
    data = course("utils_data").CirclesData()
    figures = no_show.get_fignums()
    data.plot_data()
    # A model's output may still require grad, as in the course's training loop.
    data.plot_data_with_grid(torch.softmax(torch.randn(1600, 2, requires_grad=True), 1), "epoch 1")
    data.plot_loss(torch.tensor(0.7, requires_grad=True), 0.69, torch.tensor([55.0]), 0.5)
    data.plot_loss(0.5, 0.55, 0.8, 0.75)
    assert data.loss_test == [0.69, 0.55] and len(data.acc_train) == 2
    assert no_show.get_backend().lower() == "agg"
    assert no_show.get_fignums() == figures  # every figure closed


def test_training_plots_are_headless(course, no_show):
    utils = course("utils")
    figures = no_show.get_fignums()
    loss_plot = utils.TrainLossPlot()
    for value in (2.3, torch.tensor(2.1), torch.tensor([1.9])):
        loss_plot.update(value)
    loss_plot.plot()
    assert len(loss_plot.loss_train) == 3
    curves = utils.AccLossPlot()
    curves.update(1.2, 1.3, torch.tensor([40.0]), 38.0)
    curves.update(1.0, 1.1, 50.0, 45.0, plot=False)
    curves.plot()
    assert curves.acc_test == [38.0, 45.0]
    assert no_show.get_fignums() == figures


def test_accuracy_in_percent(course):
    accuracy = course("utils").accuracy
    output = torch.tensor([[0.1, 0.9, 0.0],   # top-1 class 1, top-2 {1, 0}
                           [0.8, 0.05, 0.15], # top-1 class 0, top-2 {0, 2}
                           [0.2, 0.3, 0.5],   # top-1 class 2, top-2 {2, 1}
                           [0.6, 0.3, 0.1]])  # top-1 class 0, top-2 {0, 1}
    target = torch.tensor([1, 1, 1, 2])
    top1, top2 = accuracy(output, target, topk=(1, 2))
    # Right at top-1: sample 0 only; at top-2: samples 0 and 2.
    assert top1.shape == (1,) and top1.dtype == torch.float32
    assert top1.item() == pytest.approx(25.0) and top2.item() == pytest.approx(50.0)
    assert accuracy(output, target)[0].item() == pytest.approx(25.0)


def test_average_meter(course):
    meter = course("utils").AverageMeter()
    assert (meter.val, meter.avg, meter.sum, meter.count) == (0, 0, 0, 0)
    meter.update(2.0, n=3)
    meter.update(4.0)
    assert meter.val == 4.0 and meter.sum == 10.0 and meter.count == 4
    assert meter.avg == pytest.approx(2.5)
    meter.reset()
    assert (meter.val, meter.avg, meter.sum, meter.count) == (0, 0, 0, 0)
