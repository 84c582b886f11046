"""Code written for Colab, run in the worker (contract, "TP 1-cd conventions").

`install()` makes GPU calls keep everything on the CPU where no GPU is present, and makes
`torchvision.datasets.CIFAR10` serve the grader's own small data set, never downloading:
the real torchvision where it is installed, else the stand-in under `standin/`, where
`google.colab` stands in for Colab's too.
"""

from __future__ import annotations

import importlib.util
import os
import sys

import numpy as np
import torch
import torch.nn as nn

from grader.labs.rdfia.data.cifar import CLASSES, make_synthetic

STANDIN = os.path.join(os.path.dirname(__file__), "standin")
# The grader's CIFAR-10: small, so that `main` trains for two epochs in about a second.
SPLITS = {True: dict(n_per_class=10, seed=1000), False: dict(n_per_class=5, seed=2000)}


def cifar_split(train: bool) -> tuple[np.ndarray, list[int]]:
    """The images (N, 32, 32, 3) uint8 and labels that CIFAR10(train=train) holds, as torchvision's."""
    images, labels = make_synthetic(**SPLITS[train])
    return (images * 255).round().to(torch.uint8).permute(
        0, 2, 3, 1
    ).contiguous().numpy(), labels.tolist()


class CIFAR10(torch.utils.data.Dataset):
    """torchvision's `datasets.CIFAR10`, over the grader's data: `data` (N, 32, 32, 3) uint8,
    `targets`, `classes`; items are PIL images as in torchvision (HWC uint8 arrays without PIL)."""

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        self.root, self.train = root, bool(train)
        self.transform, self.target_transform = transform, target_transform
        self.data, self.targets = cifar_split(self.train)
        self.classes = list(CLASSES)
        self.class_to_idx = {c: i for i, c in enumerate(CLASSES)}

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        image, target = self.data[index], self.targets[index]
        image = _pil(image)
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target


def _pil(array: np.ndarray):
    try:
        from PIL import Image
    except ImportError:
        return array
    return Image.fromarray(array)


def _on_cpu(arg):
    """A CUDA device (`"cuda"`, `"cuda:0"`, `torch.device("cuda")`, `0`) as the CPU; anything else as is."""
    if isinstance(arg, int) and not isinstance(arg, bool):
        return torch.device("cpu")
    if isinstance(arg, (str, torch.device)):
        try:
            if torch.device(arg).type == "cuda":
                return torch.device("cpu")
        except RuntimeError:  # not a device: let torch say so
            pass
    return arg


def _cpu_to(to):
    def cpu_to(self, *args, **kwargs):
        args = [_on_cpu(a) for a in args]
        if "device" in kwargs:
            kwargs["device"] = _on_cpu(kwargs["device"])
        return to(self, *args, **kwargs)

    cpu_to.__doc__ = to.__doc__
    return cpu_to


def _stay(self, *args, **kwargs):
    return self


def install() -> None:
    """Once per worker, before student code loads."""
    if not torch.cuda.is_available() and torch.Tensor.cuda is not _stay:
        torch.Tensor.cuda = nn.Module.cuda = _stay
        torch.Tensor.to, nn.Module.to = _cpu_to(torch.Tensor.to), _cpu_to(nn.Module.to)
    real = importlib.util.find_spec("torchvision") is not None
    if STANDIN not in sys.path:
        sys.path.append(STANDIN)  # last: a real torchvision or google.colab, if any, comes first
    if real:
        import torchvision.datasets

        torchvision.datasets.CIFAR10 = CIFAR10
