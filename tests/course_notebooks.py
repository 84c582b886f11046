"""TP 1-ab notebooks built like the course's `1_ab_Intro_to_NNs.ipynb` (grader test data).

Each part's functions are written the way students write them (course skeleton
comments, `Variable`, one-hot targets given to the loss, accuracies as 0-d tensors);
`modules(...)` gives the same functions as the four contract modules, so a test can
check that a notebook scores exactly what its modules score. Around them, the noise a
real notebook carries: magics, automagics (`cd`, `ls`) and shell lines, the course helper's `%run`, top-level
training loops and plots, an endless experiment, `__main__` blocks, `display`, a cell
that does not parse, an indented cell, large image outputs, and Parts 5 (MNIST) and 6
(SVM) that redefine the same names and must not reach Part 4.
"""

from __future__ import annotations

import base64
import random
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

HEADINGS = (
    '# Part 1 : Forward and backward passes "by hands"',
    "## Part 2 : Simplification of the backward pass with `torch.autograd`",
    "# Part 3 : Simplification of the forward pass with `torch.nn`",
    "# Part 4 : Simplification of the SGD with `torch.optim`",
    "# Part 5 : MNIST\nApply the same network to MNIST.",
    "# Part 6 : Bonus: SVM",
)
# The same notebook as French students head it: `Partie`, roman numerals, a title alone.
FRENCH_HEADINGS = (
    "# Partie 1 : Passes forward et backward « à la main »",
    "## PARTIE II - Simplification de la passe backward avec `torch.autograd`",
    "# Simplification of the forward pass with `torch.nn`",
    "# Partie 4. Simplification de la SGD avec `torch.optim`",
    "# Partie 5 : MNIST",
    "# Partie 6 : Bonus : SVM",
)

# -- the students' functions, one string per part (cells are split at blank-line pairs) --------

MANUAL = """\
def init_params(nx, nh, ny):
    params = {}

    #####################
    ## Your code here  ##
    #####################
    # fill values for Wh, Wy, bh, by
    params["Wh"] = torch.normal(0, 0.3, size=(nh, nx))
    params["Wy"] = torch.normal(0, 0.3, size=(ny, nh))
    params["bh"] = torch.zeros(1, nh)
    params["by"] = torch.zeros(1, ny)

    ####################
    ##      END        #
    ####################
    return params


def forward(params, X):
    outputs = {}
    outputs["X"] = X
    outputs["htilde"] = X @ params["Wh"].T + params["bh"]
    outputs["h"] = torch.tanh(outputs["htilde"])
    outputs["ytilde"] = outputs["h"] @ params["Wy"].T + params["by"]
    e = torch.exp(outputs["ytilde"])
    outputs["yhat"] = e / e.sum(1, keepdim=True)
    return outputs["yhat"], outputs


def loss_accuracy(Yhat, Y):
    L = -(Y * torch.log(Yhat)).sum(1).mean()
    acc = (Yhat.argmax(1) == Y.argmax(1)).float().mean()
    return L, acc


def backward(params, outputs, Y):
    grads = {}
    # the handout's formulas: gradients of the batch sum
    dytilde = outputs["yhat"] - Y
    grads["Wy"] = dytilde.T @ outputs["h"]
    grads["by"] = dytilde.sum(0, keepdim=True)
    dhtilde = (dytilde @ params["Wy"]) * (1 - outputs["h"] ** 2)
    grads["Wh"] = dhtilde.T @ outputs["X"]
    grads["bh"] = dhtilde.sum(0, keepdim=True)
    return grads


def sgd(params, grads, eta):
    for k in ["Wh", "bh", "Wy", "by"]:
        params[k] = params[k] - eta * grads[k]
    return params
"""

AUTOGRAD = """\
def init_params(nx, nh, ny):
    params = {}
    params["Wh"] = Variable(torch.randn(nh, nx) * 0.3, requires_grad=True)
    params["Wy"] = Variable(torch.randn(ny, nh) * 0.3, requires_grad=True)
    params["bh"] = Variable(torch.zeros(nh), requires_grad=True)
    params["by"] = Variable(torch.zeros(ny), requires_grad=True)
    return params


def forward(params, X):
    outputs = {}
    outputs["X"] = X
    outputs["htilde"] = torch.mm(X, params["Wh"].t()) + params["bh"]
    outputs["h"] = torch.tanh(outputs["htilde"])
    outputs["ytilde"] = torch.mm(outputs["h"], params["Wy"].t()) + params["by"]
    outputs["yhat"] = torch.softmax(outputs["ytilde"], dim=1)
    return outputs["yhat"], outputs


def loss_accuracy(Yhat, Y):
    L = torch.mean(-torch.sum(Y * torch.log(Yhat), 1))
    _, indYhat = torch.max(Yhat, 1)
    _, indY = torch.max(Y, 1)
    acc = torch.sum(indY == indYhat) * 100 / indY.size(0)
    return L, acc


def sgd(params, eta):
    with torch.no_grad():
        for k in params:
            params[k] -= eta * params[k].grad
            params[k].grad.zero_()
    return params
"""

NN = """\
def init_model(nx, nh, ny):
    model = torch.nn.Sequential(
        torch.nn.Linear(nx, nh),
        torch.nn.Tanh(),
        torch.nn.Linear(nh, ny))
    loss = torch.nn.CrossEntropyLoss()
    return model, loss


def loss_accuracy(loss, Yhat, Y):
    L = loss(Yhat, Y)  # one-hot targets: CrossEntropyLoss takes probabilities too
    acc = (torch.argmax(Yhat, 1) == torch.argmax(Y, 1)).float().mean()
    return L, acc


def sgd(model, eta):
    with torch.no_grad():
        for param in model.parameters():
            param -= eta * param.grad
        model.zero_grad()
"""

OPTIM = """\
def init_model(nx, nh, ny, eta):
    model = torch.nn.Sequential(
        torch.nn.Linear(nx, nh),
        torch.nn.Tanh(),
        torch.nn.Linear(nh, ny))
    loss = torch.nn.CrossEntropyLoss()
    optim = torch.optim.SGD(model.parameters(), lr=eta)
    return model, loss, optim
"""

PARTS = {"tp1_manual": MANUAL, "tp1_autograd": AUTOGRAD, "tp1_nn": NN, "tp1_optim": OPTIM}

# What a student's unfinished or wrong notebook holds instead (the renamed one): names that
# almost match, a crash, a function left as the template has it, and momentum.
MISTAKES = {
    "tp1_manual": [
        ("def forward(", "def Forward("),
        ("def loss_accuracy(", "def loss_acc("),
        ("def sgd(", "def sgd_step("),
    ],
    "tp1_autograd": [("params[k].grad.zero_()", "params[k].grad.zero()")],
    "tp1_nn": [
        (
            "    with torch.no_grad():\n        for param in model.parameters():\n"
            "            param -= eta * param.grad\n        model.zero_grad()\n",
            '    raise NotImplementedError("sgd: to do")\n',
        )
    ],
    "tp1_optim": [("lr=eta)", "lr=eta, momentum=0.9)")],
}


def with_mistakes(part: str) -> str:
    source = PARTS[part]
    for old, new in MISTAKES[part]:
        assert source.count(old) == 1, (part, old)
        source = source.replace(old, new)
    return source


def modules(mistakes: bool = False) -> dict[str, str]:
    """The same functions as the contract's four modules. Part 4 of the notebook uses Part 3's
    `loss_accuracy`; its module holds a copy."""
    code = {part: with_mistakes(part) if mistakes else PARTS[part] for part in PARTS}
    code["tp1_optim"] += "\n\n" + next(
        f for f in _functions(code["tp1_nn"]) if f.startswith("def loss_accuracy(")
    )
    return {
        f"{part}.py": "import torch\nfrom torch.autograd import Variable\n\n\n" + code[part] + "\n"
        for part in PARTS
    }


def part_notebook(module: str) -> str:
    """A module's functions as a per-part notebook (`tp1_nn.ipynb`), one cell each, with noise."""
    cells = [
        "!pip install matplotlib\n%matplotlib inline\n%run 'utils-data.py'",
        *_functions(module),
        "data = CirclesData()\ndata.plot_data()\nplt.show()",
    ]
    return nbformat.writes(new_notebook(cells=[new_code_cell(c) for c in cells]))


# -- the noise ---------------------------------------------------------------------------------


def png_output(size: int, seed: int = 0) -> nbformat.NotebookNode:
    """A display output holding `size` bytes of base64 "image", as a plotting cell keeps it."""
    raw = random.Random(seed).randbytes(size * 3 // 4)
    return new_output(
        "display_data",
        data={
            "image/png": base64.b64encode(raw).decode(),
            "text/plain": "<Figure size 640x480 with 1 Axes>",
        },
    )


def stream(text: str) -> nbformat.NotebookNode:
    return new_output("stream", name="stdout", text=text)


SETUP = """\
import math
import torch
import numpy as np
import matplotlib.pyplot as plt
from torch.autograd import Variable
%matplotlib inline"""

DOWNLOAD = """\
# Download utils-data.py for the Circles data (IPython's automagics: no `%` needed)
cd /content
ls
!wget https://github.com/cdancette/deep-learning-polytech-tp6-7/raw/master/tp8/utils-data.py
%run 'utils-data.py'
from tme5 import CirclesData  # the old name of the same file"""

DATA = """\
# init
data = CirclesData()
data.plot_data()
N = data.Xtrain.shape[0]
Nbatch = 10
nx = data.Xtrain.shape[1]
nh = 10
ny = data.Ytrain.shape[1]
eta = 0.03
Nepoch = 150"""

LOOP_MANUAL = """\
params = init_params(nx, nh, ny)
curves = [[], [], [], []]

# epoch
for iteration in range(Nepoch):

    # permute
    perm = np.random.permutation(N)
    Xtrain = data.Xtrain[perm, :]
    Ytrain = data.Ytrain[perm, :]

    for j in range(N // Nbatch):
        X = Xtrain[j * Nbatch:(j + 1) * Nbatch]
        Y = Ytrain[j * Nbatch:(j + 1) * Nbatch]
        Yhat, outs = forward(params, X)
        grads = backward(params, outs, Y)
        params = sgd(params, grads, eta)

    Yhat_train, _ = forward(params, data.Xtrain)
    Yhat_test, _ = forward(params, data.Xtest)
    Ltrain, acctrain = loss_accuracy(Yhat_train, data.Ytrain)
    Ltest, acctest = loss_accuracy(Yhat_test, data.Ytest)
    Ygrid, _ = forward(params, data.Xgrid)

    title = 'Iter {}: Acc train {:.1f}% ({:.2f}), acc test {:.1f}% ({:.2f})'.format(iteration, acctrain, Ltrain, acctest, Ltest)
    print(title)
    data.plot_data_with_grid(Ygrid, title)

    curves[0].append(acctrain)
    curves[1].append(acctest)
    curves[2].append(Ltrain)
    curves[3].append(Ltest)"""

PLOT = """\
fig = plt.figure()
plt.plot(curves[0], label="acc. train")
plt.plot(curves[1], label="acc. test")
plt.plot(curves[2], label="loss train")
plt.plot(curves[3], label="loss test")
plt.legend()
plt.show()"""

BAD_CELL = """\
# TODO: finish the learning-rate sweep
for eta in [0.01, 0.03, 0.1]
    params = init_params(nx, nh, ny)"""

INDENTED = """\
    # pasted from the loop above: IPython removes this indentation
    def accuracy_on(params, X, Y):
        Yhat, _ = forward(params, X)
        return loss_accuracy(Yhat, Y)[1]"""

LOOP_AUTOGRAD = """\
params = init_params(nx, nh, ny)
for iteration in range(Nepoch):
    perm = np.random.permutation(N)
    for j in range(N // Nbatch):
        idx = perm[j * Nbatch:(j + 1) * Nbatch]
        Yhat, outs = forward(params, data.Xtrain[idx])
        L, _ = loss_accuracy(Yhat, data.Ytrain[idx])
        L.backward()
        params = sgd(params, eta)
display(params)"""

ENDLESS = """\
# how long until 100% train accuracy?
params = init_params(nx, nh, ny)
while True:
    Yhat, outs = forward(params, data.Xtrain)
    L, acc = loss_accuracy(Yhat, data.Ytrain)
    L.backward()
    params = sgd(params, eta)
    if acc == 1:
        break"""

LOOP_NN = """\
model, loss = init_model(nx, nh, ny)
if __name__ == "__main__":
    for iteration in range(Nepoch):
        perm = np.random.permutation(N)
        for j in range(N // Nbatch):
            idx = perm[j * Nbatch:(j + 1) * Nbatch]
            Yhat = model(data.Xtrain[idx])
            L, _ = loss_accuracy(loss, Yhat, data.Ytrain[idx])
            L.backward()
            sgd(model, eta)
    Ygrid = torch.nn.Softmax(dim=1)(model(data.Xgrid))
    data.plot_data_with_grid(Ygrid.detach())
    plt.show()"""

LOOP_OPTIM = """\
model, loss, optim = init_model(nx, nh, ny, eta)
for iteration in range(Nepoch):
    perm = np.random.permutation(N)
    for j in range(N // Nbatch):
        idx = perm[j * Nbatch:(j + 1) * Nbatch]
        optim.zero_grad()
        L, _ = loss_accuracy(loss, model(data.Xtrain[idx]), data.Ytrain[idx])
        L.backward()
        optim.step()
print(loss_accuracy(loss, model(data.Xtest), data.Ytest))"""

MNIST = """\
from tme5 import MNISTData  # not in the grader's helper: this import fails
data = MNISTData()
N, nx = data.Xtrain.shape
ny = data.Ytrain.shape[1]


def init_model(nx, nh, ny, eta):
    model = torch.nn.Sequential(torch.nn.Linear(nx, nh), torch.nn.ReLU(), torch.nn.Linear(nh, nh),
                                torch.nn.ReLU(), torch.nn.Linear(nh, ny), torch.nn.Softmax(dim=1))
    loss = torch.nn.NLLLoss()
    optim = torch.optim.Adam(model.parameters(), lr=eta)
    return model, loss, optim


def loss_accuracy(loss, Yhat, Y):
    L = loss(torch.log(Yhat), Y.argmax(1))
    return L, 0.0"""

SVM = """\
from sklearn import svm


def init_model(nx, nh, ny, eta):
    return svm.SVC(kernel="linear", C=1.0), None, None


def loss_accuracy(loss, Yhat, Y):
    raise RuntimeError("the SVM part leaked into Part 4")


if __name__ == "__main__":
    clf, _, _ = init_model(nx, nh, ny, eta)
    clf.fit(data.Xtrain.numpy(), data.Ytrain.argmax(1).numpy())"""


def _functions(source: str) -> list[str]:
    return [chunk.strip("\n") for chunk in source.split("\n\n\n") if chunk.strip()]


# Cells that start with something IPython removes: the lines below keep their numbers.
TOPS = {"def sgd(params, eta)": "%%time\n", "def sgd(model, eta)": "\n\n"}


def _cells(source: str) -> list[nbformat.NotebookNode]:
    return [
        new_code_cell(next((top for head, top in TOPS.items() if f.startswith(head)), "") + f)
        for f in _functions(source)
    ]


def course_notebook(
    mistakes: bool = False,
    with_ids: bool = True,
    image_kb: int = 200,
    headings: tuple[str, ...] = HEADINGS,
) -> str:
    """The TP 1-ab notebook as a student hands it in, as JSON text (nbformat 4.5 with cell
    ids, or 4.4 without), Part k under `headings[k - 1]`. Part k's functions are one cell
    each, between the noise."""
    code = {part: with_mistakes(part) if mistakes else PARTS[part] for part in PARTS}
    image = lambda seed: [png_output(image_kb << 10, seed)]  # noqa: E731
    md, cell = new_markdown_cell, new_code_cell
    cells = [
        md("# TP 1-ab: Intro to neural networks\nFill in the `TODO`s and run every cell."),
        cell(SETUP),
        cell(DOWNLOAD, outputs=[stream("--2024-10-01--  https://github.com/...\nsaved\n")]),
        md(headings[0] + "\n\n### Forward pass\nThe network ..."),
        *_cells(code["tp1_manual"]),
        cell(DATA, outputs=image(1)),
        cell(LOOP_MANUAL, outputs=[stream("Iter 0: Acc train 50.0%\n")] + image(2)),
        cell(PLOT, outputs=image(3)),
        cell(BAD_CELL),
        cell(INDENTED),
        md(headings[1]),
        *_cells(code["tp1_autograd"]),
        cell(LOOP_AUTOGRAD),
        cell(ENDLESS),
        md(headings[2]),
        *_cells(code["tp1_nn"]),
        cell(LOOP_NN, outputs=image(4)),
        md(headings[3]),
        *_cells(code["tp1_optim"]),
        cell(LOOP_OPTIM),
        cell(PLOT),
        md(headings[4]),
        *[cell(f) for f in _functions(MNIST)],
        md(headings[5]),
        cell(SVM),
    ]
    for k, c in enumerate(cells):
        c.metadata = {"colab": {"base_uri": "https://localhost:8080/"}, "id": f"colab{k}"}
    nb = new_notebook(
        cells=cells,
        metadata={
            "colab": {"provenance": []},
            "accelerator": "GPU",
            "kernelspec": {"name": "python3", "display_name": "Python 3"},
        },
    )
    if not with_ids:  # as Colab and older Jupyter wrote it
        nb.nbformat_minor = 4
        for c in nb.cells:
            del c["id"]
    nbformat.validate(nb)
    return nbformat.writes(nb)


def cell_of(notebook_text: str, snippet: str) -> tuple[int, int]:
    """(cell number, line in that cell) of the first line holding `snippet`, counted from 1."""
    for number, c in enumerate(nbformat.reads(notebook_text, as_version=4).cells, start=1):
        for line, text in enumerate(c.source.splitlines(), start=1):
            if snippet in text:
                return number, line
    raise AssertionError(f"{snippet!r} is in no cell")


# -- TP 1-cd: the course's 1_cd_CNNs.ipynb, its skeleton filled in ------------------------------

CNN_IMPORTS = """\
import argparse
import os
import time

import PIL
from PIL import Image
import numpy as np
import torch
import torch.nn as nn
import torch.backends.cudnn as cudnn
import torchvision
from torchvision import datasets
import torchvision.transforms as transforms
from tqdm import tqdm

from tme6 import *

PRINT_INTERVAL = 50
PATH = "datasets"
CUDA = True"""

CONVNET = '''\
class ConvNet(nn.Module):
    """
    This class defines the structure of the neural network
    """

    def __init__(self):
        super(ConvNet, self).__init__()
        # We first define the convolution and pooling layers as a features extractor
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, (5, 5), stride=1, padding=2),
            nn.ReLU(),
            nn.MaxPool2d((2, 2), stride=2, padding=0),
            nn.Conv2d(32, 64, (5, 5), stride=1, padding=2),
            nn.ReLU(),
            nn.MaxPool2d((2, 2), stride=2, padding=0),
            nn.Conv2d(64, 64, (5, 5), stride=1, padding=2),
            nn.ReLU(),
            nn.MaxPool2d((2, 2), stride=2, padding=0),
        )
        # We then define fully connected layers as a classifier
        self.classifier = nn.Sequential(
            nn.Linear(1024, 1000),
            nn.ReLU(),
            nn.Linear(1000, 10),
            # Reminder: The softmax is included in the loss, do not put it here
        )

    # Method called when we apply the network to an input batch
    def forward(self, input):
        bsize = input.size(0) # batch size
        output = self.features(input) # output of the conv layers
        output = output.view(bsize, -1) # we flatten the 2D feature maps into one 1D vector for each input
        output = self.classifier(output) # we compute the output of the fc layers
        return output'''

GET_DATASET = '''\
def get_dataset(batch_size, cuda=False):
    """
    This function loads the dataset and performs transformations on each
    image (listed in `transform = ...`).
    """
    train_dataset = datasets.CIFAR10(PATH, train=True, download=True,
        transform=transforms.Compose([
            transforms.ToTensor()
        ]))
    val_dataset = datasets.CIFAR10(PATH, train=False, download=True,
        transform=transforms.Compose([
            transforms.ToTensor()
        ]))

    train_loader = torch.utils.data.DataLoader(train_dataset,
                        batch_size=batch_size, shuffle=True, pin_memory=cuda, num_workers=2)
    val_loader = torch.utils.data.DataLoader(val_dataset,
                        batch_size=batch_size, shuffle=False, pin_memory=cuda, num_workers=2)

    return train_loader, val_loader'''

# The course's own `epoch`, verbatim: the course-style module holds it, with `model.zero_grad()`.
EPOCH = next(
    f
    for f in _functions((Path(__file__).parent / "tp2_course_variant.py").read_text())
    if f.startswith("def epoch(")
).replace("model.zero_grad()", "optimizer.zero_grad()")

MAIN = """\
def main(batch_size=128, lr=0.1, epochs=5, cuda=False):

    # ex de commande pour tout passer sur GPU
    model = ConvNet()
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    lr_sched = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.95)

    if cuda: # only with GPU, and not with CPU
        cudnn.benchmark = True
        model = model.cuda()
        criterion = criterion.cuda()

    # On récupère les données
    train, test = get_dataset(batch_size, cuda)

    # init plots
    plot = AccLossPlot()
    global loss_plot
    loss_plot = TrainLossPlot()

    # On itère sur les epochs
    for i in tqdm(range(epochs)):
        print("=================\\n=== EPOCH "+str(i+1)+" =====\\n=================\\n")
        # Phase de train
        top1_acc, avg_top5_acc, loss = epoch(train, model, criterion, optimizer, cuda)
        # Phase d'evaluation
        top1_acc_test, top5_acc_test, loss_test = epoch(test, model, criterion, cuda=cuda)
        lr_sched.step()
        # plot
        plot.update(loss.avg, loss_test.avg, top1_acc.avg, top1_acc_test.avg)"""

# Later cells: the improvements, by defining get_dataset and ConvNet again (published mean and std).
GET_DATASET_IMPROVED = """\
def get_dataset(batch_size, cuda=False):
    mean = [0.491, 0.482, 0.447]
    std = [0.202, 0.199, 0.201]
    train_dataset = datasets.CIFAR10(PATH, train=True, download=True,
        transform=transforms.Compose([
            transforms.RandomCrop(28),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            transforms.Normalize(mean, std),
        ]))
    val_dataset = datasets.CIFAR10(PATH, train=False, download=True,
        transform=transforms.Compose([
            transforms.CenterCrop(28),
            transforms.ToTensor(),
            transforms.Normalize(mean, std),
        ]))

    train_loader = torch.utils.data.DataLoader(train_dataset,
                        batch_size=batch_size, shuffle=True, pin_memory=cuda, num_workers=2)
    val_loader = torch.utils.data.DataLoader(val_dataset,
                        batch_size=batch_size, shuffle=False, pin_memory=cuda, num_workers=2)

    return train_loader, val_loader"""

CONVNET_IMPROVED = (
    CONVNET.replace(
        "stride=1, padding=2),\n", "stride=1, padding=2),\n            nn.BatchNorm2d(NF),\n"
    )
    .replace(
        "nn.Linear(1024, 1000),\n            nn.ReLU(),\n",
        "nn.Linear(1024, 1000),\n            nn.ReLU(),\n            nn.Dropout(0.5),\n",
    )
    .replace(
        "nn.MaxPool2d((2, 2), stride=2, padding=0),\n        )",
        "nn.MaxPool2d((2, 2), stride=2, padding=0, ceil_mode=True),\n        )",
    )
)
for _nf in ("32", "64", "64"):  # each BatchNorm2d has the channels of its convolution
    CONVNET_IMPROVED = CONVNET_IMPROVED.replace("nn.BatchNorm2d(NF)", f"nn.BatchNorm2d({_nf})", 1)

# The mean and std computed on the training images, the other accepted way.
COMPUTED_MEAN_STD = (
    """    mean = [0.491, 0.482, 0.447]
    std = [0.202, 0.199, 0.201]
""",
    """    pixels = datasets.CIFAR10(PATH, train=True, download=True).data / 255
    mean, std = pixels.mean(axis=(0, 1, 2)).round(3), pixels.std(axis=(0, 1, 2)).round(3)
""",
)

# Colab's notebook front ends, as students use them: widget progress bars (tqdm.notebook,
# tqdm.auto) in `epoch` and `main`, IPython's display calls, Google Drive.
COLAB_FRONT_ENDS = [
    (
        "from tqdm import tqdm\n",
        "from tqdm.notebook import tqdm\nfrom tqdm.auto import trange\n"
        "from IPython.display import clear_output, display\nfrom google.colab import drive\n",
    ),
    (
        "    for i, (input, target) in enumerate(data):\n",
        "    for i, (input, target) in enumerate(tqdm(data, leave=False)):\n",
    ),
    (
        "    for i in tqdm(range(epochs)):\n",
        "    !nvidia-smi\n    %matplotlib inline\n    for i in trange(epochs, desc='epochs'):\n        clear_output(wait=True)\n",
    ),
    ("        plot.update(loss.avg", "        display(model)\n        plot.update(loss.avg"),
    ("!wget https://github.com", "drive.mount('/content/drive')\n!wget https://github.com"),
]

# Other right ways, each in a notebook of its own.
CNN_RIGHT = {
    "random crop of the zero-padded image": [
        ("transforms.RandomCrop(28),", "transforms.RandomCrop(28, padding=4),")
    ],
    "Colab's front ends": COLAB_FRONT_ENDS,
}

# The improved network written over the baseline, as several years' skeletons invited: the
# notebook's only ConvNet holds batch norm and dropout (the later cell that defined it again is
# emptied); and the same without its dropout.
CNN_IN_PLACE = {
    "improved over ConvNet": [(CONVNET_IMPROVED, ""), (CONVNET, CONVNET_IMPROVED)],
    "improved over ConvNet, no dropout": [
        (CONVNET_IMPROVED, ""),
        (CONVNET, CONVNET_IMPROVED),
        ("            nn.Dropout(0.5),\n", ""),
    ],
}

# Single mistakes, each in its own check; those of one list go in one notebook.
CNN_MISTAKES = {
    "no normalisation, gamma 0.9, dropout missing": [
        *COLAB_FRONT_ENDS,
        (
            "            transforms.ToTensor(),\n            transforms.Normalize(mean, std),\n        ]))\n"
            "    val_dataset",
            "            transforms.ToTensor(),\n        ]))\n    val_dataset",
        ),
        (
            "            transforms.ToTensor(),\n            transforms.Normalize(mean, std),\n        ]))\n\n",
            "            transforms.ToTensor(),\n        ]))\n\n",
        ),
        ("gamma=0.95", "gamma=0.9"),
        ("            nn.Dropout(0.5),\n", ""),
    ],
    "random test transform, no flip, batch norm missing": [
        COMPUTED_MEAN_STD,
        ("            transforms.CenterCrop(28),\n", "            transforms.RandomCrop(28),\n"),
        ("            transforms.RandomHorizontalFlip(),\n", ""),
        ("            nn.BatchNorm2d(64),\n", "", 2),
        ("            nn.BatchNorm2d(32),\n", ""),
    ],
}


def cnn_notebook(changes=()) -> str:
    """The course's 1_cd_CNNs.ipynb as a student hands it in: the skeleton filled in, run on
    Colab's GPU, the improvements made by defining get_dataset and ConvNet again later.
    `changes` are (old, new[, count]) replacements, each found exactly `count` (1) times."""
    md, cell = new_markdown_cell, new_code_cell
    cells = [
        md("# TP 1-cd: Convolutional neural networks"),
        cell(
            "!wget https://github.com/cdancette/deep-learning-polytech-tp6-7/raw/master/tp7/tme6.py"
        ),
        cell(CNN_IMPORTS),
        md("## 2.2 Network architecture"),
        cell(CONVNET),
        md("## Data"),
        cell(GET_DATASET),
        cell(EPOCH),
        cell(MAIN),
        cell("main(128, 0.05, 1, CUDA)", outputs=[stream("=== EPOCH 1 =====\n")]),
        md("## 3. Results improvements\n### 3.1 Standardization and 3.2 Data augmentation"),
        cell(GET_DATASET_IMPROVED),
        md("### 3.4 Dropout and 3.5 Batch normalization"),
        cell(CONVNET_IMPROVED),
        cell("main(128, 0.05, 30, CUDA)"),
    ]
    for old, new, *count in changes:
        found = sum(c.source.count(old) for c in cells if c.cell_type == "code")
        assert found == (count[0] if count else 1), (old, found)
        for c in cells:
            c.source = c.source.replace(old, new)
    nb = new_notebook(cells=cells, metadata={"accelerator": "GPU", "colab": {"provenance": []}})
    nbformat.validate(nb)
    return nbformat.writes(nb)


# -- the course's TP 1-cd helper, shipped by the student under another name ----------------------

# `tme6.py` as the course handed it out in 2018-2022, saved as `tme6_utils.py`: the PyTorch
# ImageNet example's `accuracy`, whose `.view(-1)` of a transposed tensor fails on PyTorch 2.
COURSE_TME6 = '''\
import matplotlib.pyplot as plt
import numpy as np
import torch

plt.ion()


def accuracy(output, target, topk=(1,)):
    """Computes the precision@k for the specified values of k"""
    maxk = max(topk)
    batch_size = target.size(0)

    _, pred = output.topk(maxk, 1, True, True)
    pred = pred.t()
    correct = pred.eq(target.view(1, -1).expand_as(pred))

    res = []
    for k in topk:
        correct_k = correct[:k].view(-1).float().sum(0, keepdim=True)  # fails on PyTorch 2
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
    def __init__(self):
        self.loss_train = []

    def update(self, loss_train):
        self.loss_train.append(loss_train)

    def plot(self):
        plt.clf()
        plt.plot(np.array(self.loss_train))
        plt.title("Train loss / batch")
        plt.show()
'''

# A helper of the student's own (`utils2.py`): its `accuracy` forgets to divide by the batch size.
OWN_HELPER = COURSE_TME6.replace(".view(-1)", ".reshape(-1)").replace(
    "mul_(100.0 / batch_size)", "mul_(100.0)"
)
