"""The definitions-only loader, called in this process (it normally runs in the worker)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from IPython.core.inputtransformer2 import TransformerManager

import grader.labs.rdfia.worker
from grader.labs import current
from grader.worker.loader import Chunk, load

COURSE = grader.labs.rdfia.worker.COURSE_DIR


@pytest.fixture(autouse=True)
def course_helpers(monkeypatch):
    """The worker puts the course helpers first on sys.path; so do we."""
    monkeypatch.syspath_prepend(COURSE)


def run(code: str, origin: str = "sub.py", budget: float = 5.0):
    return load([Chunk(origin, code)], "tp1_manual", budget)


def ipython(cell: str) -> str:
    return TransformerManager().transform_cell(cell)


def test_definitions_run_top_level_work_does_not():
    loaded = run(
        "import math\n"
        "from collections import OrderedDict as OD\n"
        "calls = []\n"
        "N: int = 3\n"
        "def f():\n    calls.append('f')\n"
        "class C:\n    size = 2\n"
        "f()\n"
        "for i in range(3):\n    calls.append(i)\n"
        "while True:\n    calls.append('loop')\n"
        "with open('x') as fh:\n    calls.append('with')\n"
        "if __name__ == '__main__':\n    calls.append('main')\n"
        "if N > 2:\n    LIMIT = 5\n"
        "assert False\n"
        "raise SystemExit(1)\n"
    )
    ns = loaded.namespace
    assert ns["calls"] == [] and ns["N"] == 3 and ns["LIMIT"] == 5
    assert callable(ns["f"]) and ns["C"].size == 2 and ns["math"].pi > 3 and "OD" in ns
    assert "i" not in ns
    assert loaded.skipped == []


def test_own_definitions_are_not_called_and_dependents_are_silent():
    loaded = run(
        "import torch\n"
        "def init_params(nx, nh, ny):\n    raise AssertionError('called at load time')\n"
        "class Net(torch.nn.Module):\n    pass\n"
        "params = init_params(2, 10, 2)\n"
        "model = Net()\n"
        "Wh = params['Wh']\n"
        "shape = Wh.shape\n"
        "n = len(list(model.parameters()))\n"
        "loss = torch.nn.CrossEntropyLoss()\n"
    )
    ns = loaded.namespace
    assert not {"params", "model", "Wh", "shape", "n"} & set(ns)
    assert isinstance(ns["loss"], __import__("torch").nn.CrossEntropyLoss)
    assert loaded.skipped == []  # not run on purpose: nothing to report


def test_deferred_assignments_run_when_asked_for_and_only_then():
    loaded = run(
        "calls = []\n"
        "def conv_params(i, o, k):\n    calls.append(o)\n    return o * (i * k * k + 1)\n"
        "def main(batch_size, lr):\n    raise AssertionError('main ran')\n"
        "LAYER_TABLE = [('conv1', (32, 32, 32), conv_params(3, 32, 5)), ('conv2', (64, 16, 16), conv_params(32, 64, 5))]\n"
        "TOTAL_PARAMS = sum(n for _, _, n in LAYER_TABLE)\n"
        "result = main(128, 0.1)\n"
        "accuracy = result[0]\n"
    )
    ns = loaded.namespace
    assert loaded.skipped == [] and ns["calls"] == []  # nothing ran at load time
    assert {"LAYER_TABLE", "TOTAL_PARAMS", "result", "accuracy"} <= set(
        loaded.names()
    ) and "_" not in loaded.names()
    assert ns["TOTAL_PARAMS"] == 2432 + 51264 and ns["calls"] == [
        32,
        64,
    ]  # its table, computed once
    assert ns["LAYER_TABLE"][1][2] == 51264 and ns["calls"] == [32, 64]
    for _ in range(2):  # asked for, `main` runs and fails: each time with its own error
        with pytest.raises(AssertionError, match="main ran"):
            ns["accuracy"]


def test_deferred_assignment_past_its_budget_is_named_when_asked_for():
    ns = run(
        "def slow():\n    while True:\n        pass\nx = slow()\ny = 1\n", budget=0.5
    ).namespace
    assert ns["y"] == 1
    with pytest.raises(
        RuntimeError, match=r"`x = slow\(\)` \(sub.py, line 4\) ran past its 0.5 s budget"
    ):
        ns["x"]


def test_later_assignment_replaces_a_deferred_one_and_the_reverse():
    ns = run("def f():\n    return 'f'\na = f()\na = 1\nb = 2\nb = f()\n").namespace
    assert ns["a"] == 1 and ns["b"] == "f"


def test_every_version_of_a_class_is_kept_and_built_as_when_its_cell_ran():
    first = (
        "import torch.nn as nn\nclass ConvNet(nn.Module):\n    def __init__(self):\n"
        "        super(ConvNet, self).__init__()\n        self.fc = nn.Linear(2, 2)\n"
    )
    later = (
        "class ConvNet(nn.Module):\n    def __init__(self):\n        super(ConvNet, self).__init__()\n"
        "        self.bn = nn.BatchNorm2d(2)\n    def copy(self):\n        ConvNet = dict\n        return ConvNet()\n"
    )
    ns = load(
        [Chunk("nb.ipynb, cell 4", first), Chunk("nb.ipynb, cell 62", later)], "tp2_cnn"
    ).namespace
    old, new = ns.versions("ConvNet")
    assert new is ns["ConvNet"] and [c.__name__ for _, c in ns.classes] == ["ConvNet", "ConvNet"]
    assert hasattr(old(), "fc") and hasattr(new(), "bn")  # cell 4's super() finds cell 4's class
    assert new().copy() == {}  # a local of the same name stays a local


def test_lambda_calling_own_function_is_a_definition():
    ns = run("def g():\n    return 4\nh = lambda: g() + 1\n").namespace
    assert ns["h"]() == 5


def test_failing_import_is_named_and_the_rest_loads():
    loaded = run(
        "import os\nimport nonexistent_module_xyz\ndef f():\n    return 1\n"
        "from nonexistent_module_xyz import thing\nX = 2\n"
    )
    assert loaded.namespace["f"]() == 1 and loaded.namespace["X"] == 2
    assert [s["where"] for s in loaded.skipped] == ["sub.py, line 2", "sub.py, line 5"]
    assert all("nonexistent_module_xyz" in s["error"] for s in loaded.skipped)


def test_torchvision_import_never_stops_loading():
    loaded = run("import torchvision\nimport torchvision.transforms as T\ndef f():\n    return 1\n")
    assert loaded.namespace["f"]() == 1
    for entry in loaded.skipped:  # absent here, or installed: either way the rest loads
        assert "torchvision" in entry["error"]


def test_guarded_import_runs():
    ns = run(
        "try:\n    import nonexistent_module_xyz as tv\nexcept ImportError:\n    tv = None\n"
    ).namespace
    assert "tv" in ns and ns["tv"] is None


def test_statement_past_its_budget_is_skipped_and_named():
    # sum() over a range loops in C: the alarm alone could not stop it
    loaded = run("A = 1\nx = sum(range(10**12))\nB = 2\n", budget=0.5)
    assert loaded.namespace["A"] == 1 and loaded.namespace["B"] == 2 and "x" not in loaded.namespace
    assert loaded.skipped == [
        {"where": "sub.py, line 2", "error": "ran past its 0.5 s budget at load time"}
    ]


def test_python_loop_past_its_budget_is_skipped():
    loaded = run("x = [i for i in iter(int, 1)]\nB = 2\n", budget=0.3)
    assert loaded.namespace["B"] == 2 and loaded.skipped[0]["where"] == "sub.py, line 1"


def test_statement_that_kills_the_process_is_skipped():
    loaded = run("import os\nimport ctypes\nx = os._exit(3)\ny = ctypes.string_at(0)\nB = 2\n")
    assert loaded.namespace["B"] == 2
    assert [s["where"] for s in loaded.skipped] == ["sub.py, line 3", "sub.py, line 4"]
    assert "exit code 3" in loaded.skipped[0]["error"] and "SIGSEGV" in loaded.skipped[1]["error"]


def test_statement_that_uses_up_the_memory_limit_is_skipped_and_named():
    """In a process of its own, under an address-space limit as in the worker: a 2 GiB tensor
    that leaves less than the checks' reserve is skipped, and named, like a failure."""
    code = (
        "import resource, sys, torch\nfrom grader.worker.loader import Chunk, load\n"
        "used = int(open('/proc/self/statm').read().split()[0]) * resource.getpagesize()\n"
        "resource.setrlimit(resource.RLIMIT_AS, (used + (5 << 29), resource.RLIM_INFINITY))\n"
        "loaded = load([Chunk('sub.py', 'import torch\\nx = torch.empty(2**29)\\ny = 1\\n')], 'p')\n"
        "print(loaded.skipped, 'x' in loaded.namespace, loaded.namespace['y'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": COURSE},
    )
    assert (
        "'where': 'sub.py, line 2', 'error': \"uses up the memory limit at load time" in done.stdout
    ), done.stderr
    assert done.stdout.rstrip().endswith("False 1")


def test_system_exit_in_a_value_is_skipped():
    loaded = run("import sys\nx = sys.exit(2)\nB = 2\n")
    assert loaded.namespace["B"] == 2 and loaded.skipped[0]["where"] == "sub.py, line 2"


def test_failing_assignment_is_named():
    loaded = run("x = 1 / 0\n")
    assert loaded.skipped == [
        {"where": "sub.py, line 1", "error": "ZeroDivisionError: division by zero"}
    ]


def test_statement_output_is_not_doubled(capfd):
    run("x = print('hello once') or 1\n")
    assert capfd.readouterr().out.count("hello once") == 1


def test_run_magic_of_course_helper():
    cell = ipython("%run 'utils-data.py'\ndata = CirclesData()\n")
    loaded = run(cell, origin="nb.ipynb, cell 1")
    data = loaded.namespace["data"]
    assert data.Xtrain.dtype.is_floating_point and data.Xgrid.shape == (1600, 2)
    assert loaded.skipped == []


@pytest.mark.parametrize(
    "cell", ["%run utils.py", "%run 'tme5.py'", '%run "utils_data.py"', "%run tme6.py"]
)
def test_run_magic_variants(cell):
    assert run(ipython(cell)).skipped == []


def test_run_of_a_student_file_is_not_run():
    loaded = run(ipython("%run my_training.py\nX = 1\n"))
    assert loaded.namespace["X"] == 1 and loaded.skipped == []


def test_magics_and_shell_lines_are_not_run():
    cell = ipython("%matplotlib inline\n!wget http://example.com/x\nfiles = !ls\nX = 3\n")
    loaded = run(cell)
    assert loaded.namespace["X"] == 3 and "files" not in loaded.namespace and loaded.skipped == []


def test_cell_that_does_not_parse_is_named_and_others_load():
    loaded = load(
        [
            Chunk("nb.ipynb, cell 1", "A = 1\n"),
            Chunk("nb.ipynb, cell 2", "def f(:\n"),
            Chunk("nb.ipynb, cell 3", "B = 2\n"),
        ],
        "tp1_manual",
    )
    assert loaded.namespace["A"] == 1 and loaded.namespace["B"] == 2
    assert len(loaded.skipped) == 1 and loaded.skipped[0]["where"].startswith("nb.ipynb, cell 2")
    assert "does not parse" in loaded.skipped[0]["error"]


def test_later_definitions_replace_earlier():
    ns = load(
        [Chunk("c1", "def f():\n    return 1\n"), Chunk("c2", "def f():\n    return 2\n")], "p"
    ).namespace
    assert ns["f"]() == 2


def test_chunks_share_one_namespace_and_functions_see_it():
    ns = load([Chunk("c1", "K = 3\n"), Chunk("c2", "def f():\n    return K\n")], "p").namespace
    assert ns["f"]() == 3 and ns["__name__"] == "p"


def test_module_has_its_file_in_the_worker_home(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ns = run(
        "import os\nHERE = os.path.dirname(os.path.abspath(__file__))\n", origin="answers.py"
    ).namespace
    assert ns["__file__"] == str(tmp_path / "answers.py") and ns["HERE"] == str(tmp_path)
    assert "__file__" not in run("X = 1\n", origin="nb.ipynb, cell 1").namespace  # as in Jupyter


def test_tqdm_is_available():
    ns = run("from tqdm import tqdm\nfrom tqdm.notebook import tqdm as tqdm_nb\n").namespace
    assert callable(ns["tqdm"]) and callable(ns["tqdm_nb"])


def test_course_globals_provided():
    provided = current().provided("tp2_cnn")
    ns = load([Chunk("sub.py", "X = 1\n")], "tp2_cnn", provided=provided).namespace
    assert ns["PRINT_INTERVAL"] == 50
    assert type(ns["loss_plot"]).__name__ == "TrainLossPlot"
    assert current().provided("tp1_manual") == {}  # the 1-cd helper's globals, for 1-cd's parts


def test_course_globals_not_overwritten():
    ns = load(
        [Chunk("sub.py", "PRINT_INTERVAL = 10\nloss_plot = None\n")],
        "tp2_cnn",
        provided=current().provided("tp2_cnn"),
    ).namespace
    assert ns["PRINT_INTERVAL"] == 10 and ns["loss_plot"] is None


def test_course_plots_import_matplotlib_when_first_drawn():
    script = (
        "import sys; from utils import *; before = 'matplotlib.pyplot' in sys.modules\n"
        "p = TrainLossPlot(); p.update(1.0); p.plot()\n"
        "print(before, 'matplotlib.pyplot' in sys.modules, plt.get_backend().lower())"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": COURSE, "MPLBACKEND": ""},
    )
    assert out.stdout.split() == ["False", "True", "agg"]


def test_utils_star_import():
    ns = run("from utils import *\nm = AverageMeter()\n").namespace
    assert "accuracy" in ns and "TrainLossPlot" in ns and ns["m"].count == 0


def test_load_does_not_leak_into_sys_modules():
    before = set(sys.modules)
    run("def forward():\n    pass\n")
    assert "tp1_manual" not in set(sys.modules) - before


def test_importing_a_student_file_loads_its_definitions_only(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the worker runs in its copy of the submission
    (tmp_path / "my_helpers_xyz.py").write_text(
        "def forward(X):\n    return X + 1\nfor i in range(3):\n    raise SystemExit('top-level work ran')\n"
        "result = forward(1)\n"
    )
    (tmp_path / "utils.py").write_text(
        "raise SystemExit('the student copy of a course helper ran')\n"
    )
    monkeypatch.delitem(sys.modules, "my_helpers_xyz", raising=False)
    try:
        loaded = run(
            "from my_helpers_xyz import forward\nimport my_helpers_xyz as h\nfrom utils import AverageMeter\n"
        )
        assert loaded.skipped == [] and loaded.namespace["forward"](1) == 2
        assert not hasattr(loaded.namespace["h"], "result")
    finally:
        sys.modules.pop("my_helpers_xyz", None)


STUBS = '''
def todo(x):
    """Write it."""
    raise NotImplementedError("write todo")
def bare():
    raise NotImplementedError
def done():
    return 1
def redone():
    raise NotImplementedError
def redone():
    return 2
def undone():
    return 3
def undone():
    raise NotImplementedError()
def computes():
    raise NotImplementedError(done())
def more():
    x = 1
    raise NotImplementedError
@staticmethod
def decorated():
    raise NotImplementedError
def other():
    raise ValueError
'''


def test_unimplemented_functions_are_those_that_can_only_raise_it():
    loaded = run(STUBS, origin="tp1_manual.py")
    line = {
        name: i
        for i, text in enumerate(STUBS.splitlines(), 1)
        for name in ["todo", "bare", "undone"]
        if f"def {name}" in text
    }
    assert loaded.unimplemented() == {
        "todo": f"tp1_manual.py, line {line['todo'] + 2}, in todo",
        "bare": f"tp1_manual.py, line {line['bare'] + 1}, in bare",
        "undone": f"tp1_manual.py, line {line['undone'] + 1}, in undone",
    }
    assert (
        run("NotImplementedError = ValueError\n" + STUBS).unimplemented() == {}
    )  # not the builtin
