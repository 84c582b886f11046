"""The trusted side's reading of student source: autograd in `backward`, and the cheat report."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REFERENCE, ROOT

from grader.labs import current
from grader.static import autograd_uses, implemented, imported, reaches
from grader.submission import open_submission

HAND = '''
import torch
def backward(params, outputs, Y):
    """The backward pass (no autograd here), in the batch mean."""
    with torch.no_grad():
        d = (outputs["yhat"] - Y) / Y.shape[0]
    dh = (d @ params["Wy"]) * (1 - outputs["h"] ** 2)
    z = torch.zeros(3, requires_grad=False)
    return {"Wy": d.T @ outputs["h"], "by": d.sum(0), "Wh": dh.T @ outputs["X"], "bh": dh.sum(0)}
'''
AUTOGRAD = {
    "dot backward": "def backward(params, outputs, Y):\n    L = loss(outputs, Y)\n    L.backward()\n    return grads(params)\n",
    "autograd.grad": "import torch\ndef backward(params, outputs, Y):\n    return torch.autograd.grad(L, params)\n",
    "imported grad": "from torch.autograd import grad as g\ndef backward(p, o, Y):\n    return g(L, p)\n",
    "alias module": "from torch import autograd\ndef backward(p, o, Y):\n    return autograd.grad(L, p)\n",
    "in a helper": "import torch\ndef helper(L, p):\n    return torch.autograd.grad(L, p)\ndef backward(p, o, Y):\n    return helper(1, p)\n",
    "helper alias": "import torch\nstep = torch.autograd.grad\ndef backward(p, o, Y):\n    return step(1, p)\n",
    "requires_grad": "def backward(p, o, Y):\n    for v in p.values():\n        v.requires_grad = True\n",
    "requires_grad_": "def backward(p, o, Y):\n    x = o['X'].requires_grad_()\n",
    "by name": "def backward(p, o, Y):\n    getattr(L, 'backward')()\n",
    "func": "import torch.func\ndef backward(p, o, Y):\n    return torch.func.grad(f)(p)\n",
    # renamed, string-built or indirect (issue 27)
    "string-built": "import torch\ndef backward(p, o, Y):\n"
    "    return getattr(getattr(torch, 'auto' + 'grad'), 'gr' + 'ad')(L, p)\n",
    "literal name": "import torch\ndef backward(p, o, Y):\n    return getattr(torch, 'autograd').grad(L, p)\n",
    "vars": "import torch\ndef backward(p, o, Y):\n    return vars(torch)['autograd'].grad(L, p)\n",
    "__import__": "def backward(p, o, Y):\n    return __import__('torch.autograd').autograd.grad(L, p)\n",
    "importlib": "import importlib as il\ndef backward(p, o, Y):\n    m = 'torch.' + 'autograd'\n"
    "    return il.import_module(m).grad(L, p)\n",
    "Tensor.backward": "import torch\nT = torch.Tensor\ndef backward(p, o, Y):\n    T.__dict__[k](L)\n",
    "enable_grad": "import torch\ndef backward(p, o, Y):\n    with torch.enable_grad():\n        pass\n",
    "inference off": "import torch as t\ndef backward(p, o, Y):\n    with t.inference_mode(False):\n        pass\n",
    "eval": "def backward(p, o, Y):\n    return eval(CODE)\n",
    "in a class": "import torch\nclass H:\n    @staticmethod\n    def g(L, p):\n"
    "        return torch.autograd.grad(L, p)\ndef backward(p, o, Y):\n    return H.g(L, p)\n",
}


def test_a_backward_by_hand_is_not_flagged():
    assert autograd_uses([("tp1_manual.py", HAND)], "backward") == []
    reference = (REFERENCE / "tp1_manual.py").read_text()
    assert autograd_uses([("tp1_manual.py", reference)], "backward") == []


@pytest.mark.parametrize("code", AUTOGRAD.values(), ids=AUTOGRAD.keys())
def test_autograd_in_backward_is_found_with_its_line(code):
    uses = autograd_uses([("tp1_manual.ipynb, cell 3", code)], "backward")
    assert uses and uses[0].where.startswith("tp1_manual.ipynb, cell 3, line ")


def test_only_the_last_definition_counts():
    chunks = [("nb.ipynb, cell 1", AUTOGRAD["dot backward"]), ("nb.ipynb, cell 2", HAND)]
    assert autograd_uses(chunks, "backward") == []
    assert autograd_uses(chunks[::-1], "backward")


CHEATS = """\
import ctypes
import socket, subprocess
import grader.reference.tp1_manual as answer
from os import system
import gc, sys, os
def f():
    gc.get_objects()
    sys.modules["torch"] = None
    sys._getframe(1).f_back.f_globals
    open("/proc/1/environ")
    open("../../.git/config")
    system("cat /etc/shadow")
    __import__("subprocess")
"""


def test_cheat_report_flags_each_way_out_with_its_line():
    flags = {(f.where, f.what) for f in reaches([("tp2_cnn.ipynb, cell 5", CHEATS)])}
    lines = {int(where.rsplit(" ", 1)[1]) for where, _ in flags}
    assert lines == {1, 2, 3, 7, 8, 9, 10, 11, 12, 13}  # `from os import system`: at its call
    assert all(where.startswith("tp2_cnn.ipynb, cell 5, line ") for where, _ in flags)
    whats = " ".join(what for _, what in flags)
    for word in (
        "ctypes",
        "sockets",
        "subprocesses",
        "grader",
        "gc.get_objects",
        "sys.modules",
        "frames",
        "/proc",
        ".git",
        "os.system",
    ):
        assert word in whats, word


OBFUSCATED = {  # line: what the report must say
    "import base64, codecs, importlib, inspect": None,
    "m = __import__('ct' + 'ypes')": "imports a module named at run time",
    "f = getattr(torch, 'auto' + 'grad')": "name built at run time",
    "exec(base64.b64decode(b'cHJpbnQoMSk='))": "runs code built at run time",
    "x = codecs.decode('pglcrf', 'rot13')": "decodes hidden text",
    "k = bytes.fromhex('6374797065').decode()": "decodes hidden text",
    "c = compile(src, 'x', 'exec')": "runs code built at run time",
    "m = importlib.import_module(name)": "imports a module named at run time",
    "sys = vars(__builtins__)['__import__']('sys')": "__builtins__",
    "m = sys.modules.get('ctypes')": "names the module ctypes",
    "from importlib import import_module as im; im(n)": "imports a module named at run time",
    "setattr(probe, key, forged)": "name built at run time",
    "from sys import modules; modules['grader'] = None": "sys.modules",
    "inspect.getmodule(type(model)).run_epoch = forged": "inspect.getmodule",
    "g = getattr(model.forward, '__globals__')": "__globals__",
}


def test_cheat_report_flags_obfuscation_with_its_line():
    code = "\n".join(OBFUSCATED)
    flags = reaches([("tp2_cnn.py", code)])
    for line, (statement, what) in enumerate(OBFUSCATED.items(), start=1):
        if what is not None:
            said = [f.what for f in flags if f.where == f"tp2_cnn.py, line {line}"]
            assert any(what in w for w in said), (statement, said)


def _course_code() -> list[tuple[str, str]]:
    """Every piece of the course's own code the tests hold: reference, template (modules and
    notebooks), the correct variants, the course's notebooks as students hand them in."""
    import course_notebooks as course

    chunks = [
        (str(p), p.read_text())
        for folder in (
            REFERENCE,
            ROOT / "student_template",
            *sorted((ROOT / "tests" / "tp1_variants").iterdir()),
        )
        if folder.is_dir()
        for p in sorted(folder.glob("*.py"))
    ]
    chunks += [(str(p), p.read_text()) for p in sorted((ROOT / "tests").glob("tp2_*variant.py"))]
    chunks += [(name, code) for name, code in course.modules().items()]
    return chunks


def _notebook_chunks(tmp_path: Path) -> list[tuple[str, str]]:
    import course_notebooks as course

    from grader.static import cheat_report

    (tmp_path / "1_ab_Intro_to_NNs.ipynb").write_text(course.course_notebook())
    (tmp_path / "1_cd_CNNs.ipynb").write_text(course.cnn_notebook())
    return [
        (f.where, f.what)
        for path in (tmp_path, ROOT / "student_template" / "notebooks")
        for f in cheat_report(open_submission(path))
    ]


def test_course_code_raises_no_flag(tmp_path):
    assert reaches(_course_code()) == []
    assert _notebook_chunks(tmp_path) == []
    assert (
        autograd_uses(
            [("tp1_manual.py", dict(_course_code())[str(REFERENCE / "tp1_manual.py")])], "backward"
        )
        == []
    )


def test_code_that_does_not_parse_is_skipped():
    assert (
        reaches([("x.py", "def (:\n")]) == []
        and autograd_uses([("x.py", "def (:\n")], "backward") == []
    )


def test_the_template_implements_nothing_and_the_reference_does():
    lab = current()
    assert implemented(open_submission(lab.template)) == 0
    assert implemented(open_submission(lab.reference)) > 0
    assert implemented(open_submission(lab.reference), ("tp1_manual",)) < implemented(
        open_submission(lab.reference)
    )


def test_the_workers_import_ahead_only_what_the_code_imports(tmp_path):
    """The lab's slow imports that a submission's code makes, wherever it makes them."""
    lab = current()
    assert imported(open_submission(lab.reference), lab.worker_imports) == ()
    (tmp_path / "tp1_manual.py").write_text(
        "def plot():\n    from matplotlib import pyplot as plt\n"
    )
    assert imported(open_submission(tmp_path), lab.worker_imports) == ("matplotlib.pyplot",)
