"""The grader's versions of the course helpers (utils-data / tme5, utils / tme6), as the worker imports
them, and what the worker gives Colab's code: GPU calls on the CPU, a stand-in torchvision."""

import importlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from grader.labs.rdfia.data.circles import make_circles, make_grid

COURSE_DIR = Path(__file__).parents[1] / "grader" / "labs" / "rdfia" / "worker" / "course"
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
    assert {"accuracy", "AverageMeter", "TrainLossPlot", "AccLossPlot", "np", "plt"} <= set(
        namespace
    )
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
    output = torch.tensor(
        [
            [0.1, 0.9, 0.0],  # top-1 class 1, top-2 {1, 0}
            [0.8, 0.05, 0.15],  # top-1 class 0, top-2 {0, 2}
            [0.2, 0.3, 0.5],  # top-1 class 2, top-2 {2, 1}
            [0.6, 0.3, 0.1],
        ]
    )  # top-1 class 0, top-2 {0, 1}
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


# -- Colab's code in the worker: GPU calls on the CPU, torchvision's CIFAR-10 (grader.labs.rdfia.worker.colab) --

STANDIN = COURSE_DIR.parent / "standin"


@pytest.fixture()
def torchvision(monkeypatch):
    """The stand-in torchvision, as the worker finds it where torchvision is not installed."""
    monkeypatch.syspath_prepend(str(STANDIN))
    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        monkeypatch.delitem(sys.modules, name)
    yield importlib.import_module("torchvision")
    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        sys.modules.pop(name)


def test_cifar10_serves_the_grader_data_and_never_downloads(torchvision, tmp_path):
    from grader.labs.rdfia.worker.colab import cifar_split

    train = torchvision.datasets.CIFAR10(str(tmp_path), train=True, download=True)
    test = torchvision.datasets.CIFAR10(
        str(tmp_path), train=False, download=True, transform=torchvision.transforms.ToTensor()
    )
    assert list(tmp_path.iterdir()) == []  # nothing written, nothing fetched
    assert (
        train.data.shape == (len(train), 32, 32, 3)
        and train.data.dtype == np.uint8
        and len(test) < len(train)
    )
    image, label = train[3]
    assert (
        image.size == (32, 32) and label == train.targets[3]
    )  # a PIL image, as torchvision gives it
    tensor, _ = test[0]
    assert torch.equal(
        tensor, torch.from_numpy(cifar_split(False)[0][0]).permute(2, 0, 1).float() / 255
    )


def test_course_transforms_behave_as_torchvision(torchvision):
    T = torchvision.transforms
    data = torchvision.datasets.CIFAR10("data", train=True).data
    pil = torchvision.datasets.CIFAR10("data", train=True)[0][0]
    whole = T.ToTensor()(pil)
    assert whole.shape == (3, 32, 32) and torch.equal(
        whole, T.ToTensor()(data[0])
    )  # PIL or HWC array alike
    mean, std = (0.491, 0.482, 0.447), (0.247, 0.243, 0.261)
    test = T.Compose([T.CenterCrop(28), T.ToTensor(), T.Normalize(mean, std)])
    want = (whole[:, 2:30, 2:30] - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(
        3, 1, 1
    )
    assert torch.allclose(test(pil), want) and torch.allclose(
        T.Normalize(mean, std)(T.CenterCrop(28)(whole)), want
    )
    torch.manual_seed(0)
    train = T.Compose([T.RandomCrop(28), T.RandomHorizontalFlip(), T.ToTensor()])
    crops = {
        (i, j, f): whole[:, i : i + 28, j : j + 28].flip(-1)
        if f
        else whole[:, i : i + 28, j : j + 28]
        for i in range(5)
        for j in range(5)
        for f in (False, True)
    }
    seen = [
        next(k for k, c in crops.items() if torch.equal(c, out))
        for out in (train(pil) for _ in range(200))
    ]
    assert len({k[:2] for k in seen}) > 15 and 0.35 < sum(k[2] for k in seen) / len(seen) < 0.65
    padded = T.RandomCrop(32, padding=4)(whole)
    assert padded.shape == (3, 32, 32) and T.RandomCrop(32, padding=4)(pil).size == (32, 32)
    assert T.Resize(16)(pil).size == (16, 16) and T.Resize((16, 8))(whole).shape == (3, 16, 8)
    with pytest.raises(TypeError, match="PIL Image or ndarray"):
        T.ToTensor()(whole)


def test_gpu_calls_stay_on_the_cpu():
    """In a process of its own: `install` changes torch for the worker's whole life."""
    code = (
        "import torch\nfrom grader.labs.rdfia.worker import colab\ncolab.install()\n"
        "model = torch.nn.Linear(2, 2).cuda().to('cuda')\n"
        "x = torch.zeros(1, 2).cuda().to(torch.device('cuda:0'), non_blocking=True).to(device='cuda')\n"
        "y = model(x.to(torch.float64).float())\n"
        "print(y.device, next(model.parameters()).device, x.to(0).device, x.to(torch.float64).dtype)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["cpu", "cpu", "cpu", "torch.float64"], done.stderr


def test_a_course_definition_pasted_in_a_cell_is_replaced_by_the_grader_s(course, tmp_path):
    """Recognised by what it holds, not by a file name (grader.copies): the course's `accuracy`
    pasted in a notebook cell, comments and docstring changed, is the grader's in the worker; the
    cell's other lines keep their numbers; a function of the student's own is kept as written."""
    import course_notebooks as corpus
    import nbformat

    from grader.submission import open_submission
    from grader.worker.loader import load

    pasted = corpus.COURSE_TME6.replace(
        '"""Computes the precision@k for the specified values of k"""',
        "# from the course's tme6.py",
    )
    own = "def accuracy_top1(output, target):\n    return (output.argmax(1) == target).float().mean()\n"
    cells = [
        nbformat.v4.new_code_cell(c)
        for c in (
            "import torch\nimport torch.nn as nn",
            pasted,
            own,
            "class ConvNet(nn.Module):\n    pass",
        )
    ]
    (tmp_path / "1_cd.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook(cells=cells)))
    sub = open_submission(tmp_path / "1_cd.ipynb")
    assert [(c.origin, c.line, c.name) for c in sub.copies] == [
        ("1_cd.ipynb, cell 2", 8, "accuracy"),
        ("1_cd.ipynb, cell 2", 24, "AverageMeter"),
    ]
    cell = sub.parts["tp2_cnn"][1].code.splitlines()
    assert (
        cell[7] == "from utils import accuracy"
        and cell[20] == ""
        and cell[-1].strip() == "plt.show()"
    )
    assert sub.parts["tp2_cnn"][2].code == own
    ns = load(sub.parts["tp2_cnn"], "tp2_cnn").namespace
    assert (
        ns["accuracy"] is course("utils").accuracy
        and ns["AverageMeter"] is course("utils").AverageMeter
    )
    output, target = torch.randn(6, 10), torch.arange(6)
    expected = [
        100 * float(ns["accuracy_top1"](output, target)),
        100
        * sum(
            t in o for o, t in zip(output.topk(5, 1).indices.tolist(), target.tolist(), strict=True)
        )
        / 6,
    ]
    assert [float(a) for a in ns["accuracy"](output, target, topk=(1, 5))] == pytest.approx(
        expected
    )


def test_a_helper_copy_that_a_notebook_runs_under_another_name(course, tmp_path, monkeypatch):
    """`%run tme6_utils.py`, the course's file under the student's name: its definitions load as
    `from tme6_utils import *` would (never its top-level work), the course's own replaced by the
    grader's in the file the worker imports."""
    import course_notebooks as corpus
    import nbformat

    from grader.submission import open_submission
    from grader.worker.loader import load

    cells = ["%run tme6_utils.py\nimport torch.nn as nn", "class ConvNet(nn.Module):\n    pass"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    (tmp_path / "1_cd.ipynb").write_text(nbformat.writes(nb))
    (tmp_path / "tme6_utils.py").write_text(corpus.COURSE_TME6)
    sub = open_submission(tmp_path)
    home = tmp_path / "home"  # the worker's copy of the files
    home.mkdir()
    for rel, data in sub.files.items():
        (home / rel).write_bytes(data)
    monkeypatch.chdir(home)
    try:
        loaded = load(sub.parts["tp2_cnn"], "tp2_cnn")
        ns = loaded.namespace
        assert loaded.skipped == [] and ns["accuracy"] is course("utils").accuracy
        assert ns["TrainLossPlot"].__module__ == "tme6_utils"  # the student's, as written
    finally:
        sys.modules.pop("tme6_utils", None)
