"""Near misses name only what a student could have meant (contract, "Submission layout"):
the part's own functions, classes and globals, never a module it imports."""

from __future__ import annotations

import pytest

from grader.sandbox import NameMissing, StudentPart
from grader.suggest import own_names

CNN = """\
import torch.nn as nn
import torchvision.transforms as transforms
from torchvision import datasets as dsets
from tme6 import *
from my_helpers import get_transfroms_v2

PRINT_INTERVAL = 50
try:
    import PIL
    HAVE_PIL = True
except ImportError:
    HAVE_PIL = False


def get_transform(train, mean, std):
    return transforms.Compose([transforms.ToTensor()])


class ConvNet(nn.Module):
    pass
"""


def test_own_names_are_definitions_and_imports_of_the_submission_files():
    assert own_names([CNN, "def broken(:"], modules={"my_helpers"}) == {
        "PRINT_INTERVAL",
        "HAVE_PIL",
        "get_transform",
        "ConvNet",
        "get_transfroms_v2",
    }


def part(names: set[str], own: set[str] | None) -> StudentPart:
    return StudentPart(None, "tp2_cnn", 0, {"names": sorted(names), "skipped": []}, own)


@pytest.mark.parametrize(
    "defined, hint",
    [
        ({"get_transform"}, "; did you mean `get_transform`?"),  # the student's near miss
        (set(), ""),  # only the module is near: no hint
    ],
)
def test_a_module_is_never_suggested(defined, hint):
    names = {"transforms", "dsets", "nn", "ConvNet", *defined}  # as the worker lists them
    with pytest.raises(NameMissing) as e:
        part(names, own_names([CNN]) & ({"ConvNet"} | defined)).require("get_transforms")
    assert str(e.value) == f"`get_transforms` not found in tp2_cnn{hint}"
    with pytest.raises(
        NameMissing, match="`transforms`"
    ):  # without the filter: the module, as before
        part(names, None).require("get_transforms")
