"""The worker process as the rubric sees it: values, student failures, crashes, limits."""

from __future__ import annotations

import os
import select
import signal
import threading
import time
import tracemalloc

import pytest
import torch

from grader.sandbox import (
    CallTimeout,
    Limits,
    NameMissing,
    NotImplementedYet,
    Remote,
    Sandbox,
    StudentError,
    StudentPart,
    WorkerCrashed,
)
from grader.sandbox.faults import GraderFault

SOURCE = """\
import os
import struct
import sys
import time
import torch
from helper import VALUE

def add(a, b):
    return a + b

def give():
    return {"t": torch.ones(2, 3), "n": 3, "s": "x", "l": [1.5, None], "tup": (1, 2)}

def boom():
    x = 1
    raise ValueError("bad value")

def todo(X):
    raise NotImplementedError

def leave():
    os._exit(3)

def spin():
    while True:
        pass

def busy():
    print("busy", flush=True)
    spin()

def segv():
    import ctypes
    return ctypes.string_at(0)

def flood():
    for i in range(20000):
        print("x" * 99)
    return "done"

def hello():
    print("hello from the student")
    return 1

def hog():
    return len(bytearray(8 << 30))

def sgd_step(params, grads, eta):
    pass

def patch():
    torch.allclose = lambda *a, **k: True
    return torch.allclose(torch.zeros(1), torch.ones(1))

def model():
    torch.nn.init.constant_(layer.weight, 1.0), torch.nn.init.constant_(layer.bias, 0.5)
    return layer

def helper_value():
    return VALUE

def stall():
    os.write(int(sys.argv[2]), struct.pack("<Q", 100))  # the answer pipe: a length, then nothing
    time.sleep(600)

def huge(size, count):
    fd, head, chunk = int(sys.argv[2]), b'{"ok": null}', bytes(1 << 20)
    os.write(fd, struct.pack("<Q", len(head)) + head + struct.pack("<Q", count))
    for _ in range(count):
        os.write(fd, struct.pack("<Q", size))
        for _ in range(size // len(chunk)):
            os.write(fd, chunk)
    time.sleep(600)

def shout():
    while True:
        sys.stdout.write("x" * 65536)

layer = torch.nn.Linear(2, 1)
import nonexistent_module_xyz
"""
LIMITS = Limits(memory_bytes=3 << 30, output_bytes=4096, call_seconds=30)


@pytest.fixture(scope="module")
def sandbox(zygote):
    box = Sandbox(
        LIMITS, files={"helper.py": b"VALUE = 7\n", "tp1_manual.py": SOURCE.encode()}, zygote=zygote
    )
    yield box
    box.close()


@pytest.fixture(scope="module")
def part(sandbox):
    loaded = sandbox.load("tp1_manual", [{"origin": "tp1_manual.py", "code": SOURCE}])
    return StudentPart(sandbox, "tp1_manual", 0, loaded)


def line_of(text: str) -> int:
    return next(i for i, line in enumerate(SOURCE.splitlines(), 1) if text in line)


def test_load_reports_names_and_skipped(part):
    assert {"add", "give", "layer", "VALUE"} <= part.names
    assert part.skipped == [
        {
            "where": f"tp1_manual.py, line {line_of('nonexistent')}",
            "error": "ModuleNotFoundError: No module named 'nonexistent_module_xyz'",
        }
    ]


def test_return_values(part):
    assert part.call("add", 2, 3) == 5
    assert torch.equal(part.call("add", torch.ones(2), torch.ones(2)), torch.full((2,), 2.0))
    got = part.call("give")
    assert torch.equal(got["t"], torch.ones(2, 3))
    assert got["n"] == 3 and got["s"] == "x" and got["l"] == [1.5, None] and got["tup"] == (1, 2)
    assert part.get("VALUE") == 7 and part.call("helper_value") == 7


def test_objects_stay_in_the_worker(part):
    model = part.call("model")
    assert isinstance(model, Remote) and model.type == "Linear"
    assert torch.allclose(model.call(torch.ones(1, 2)), torch.tensor([[2.5]]))
    assert torch.equal(model.get("weight"), torch.ones(1, 2))
    params = model.method("parameters")
    assert isinstance(params, Remote)  # a generator stays there too


def test_student_exception(part):
    with pytest.raises(StudentError) as info:
        part.call("boom")
    assert info.value.exc_type == "ValueError" and "bad value" in info.value.message
    assert info.value.where == f"tp1_manual.py, line {line_of('bad value')}, in boom"
    assert "tp1_manual.py" in info.value.traceback and "grader" not in info.value.traceback


def test_not_implemented(part):
    with pytest.raises(NotImplementedYet) as info:
        part.call("todo", torch.zeros(1))
    assert info.value.where.endswith("in todo")


def test_missing_name_with_near_miss(part):
    with pytest.raises(NameMissing, match="`sgd` not found in tp1_manual; did you mean `sgd_step`"):
        part.call("sgd", {}, {}, 0.1)


def test_print_is_captured(part):
    part.call("hello")
    assert "hello from the student" in part.output


def test_print_flood_is_capped(part):
    assert part.call("flood") == "done"
    assert len(part.output) < LIMITS.output_bytes + 100  # the kept bytes plus the note


def test_print_flood_is_noted_and_does_not_spill(part):
    part.call("flood")
    assert part.output.startswith("x" * 99) and "more bytes of output not kept" in part.output
    part.call("add", 1, 1)
    assert part.output == ""


def test_monkeypatching_torch_in_the_worker_stays_there(part):
    assert part.call("patch") is True
    assert not torch.allclose(torch.zeros(1), torch.ones(1))


def test_exit_is_a_crash_and_the_next_call_works(part):
    model = part.call("model")
    with pytest.raises(WorkerCrashed, match="exit code 3"):
        part.call("leave")
    assert part.call("add", 1, 2) == 3  # a fresh worker reloaded the part
    assert part.call("helper_value") == 7
    with pytest.raises(NameMissing, match="no longer holds"):  # the old worker's objects are gone
        model.call(torch.ones(1, 2))


def test_endless_loop_times_out_and_the_next_call_works(part):
    with pytest.raises(CallTimeout, match="did not return within 1 s"):
        part.call("spin", _timeout=1)
    assert part.call("add", 1, 2) == 3


def test_a_frame_that_stalls_ends_at_the_deadline(part):
    start = time.monotonic()
    with pytest.raises(CallTimeout, match="did not return within 2 s"):
        part.call("stall", _timeout=2)
    assert time.monotonic() - start < 10
    assert part.call("add", 1, 2) == 3


@pytest.mark.timeout(120)
def test_a_worker_that_stops_reading_holds_a_request_no_longer_than_the_call(part, sandbox):
    """Student code can stop its own worker (SIGSTOP) between two calls: a request larger
    than the pipe holds then waits, at most until the call's deadline."""
    from grader.sandbox.kernel import _children

    tree, todo = _children(), [sandbox._worker.proc.pid]
    while todo:
        pid = todo.pop()
        os.kill(pid, signal.SIGSTOP)
        todo += tree.get(pid, [])
    start = time.monotonic()
    with pytest.raises(CallTimeout, match="did not return within 2 s"):
        part.call("add", torch.zeros(1 << 20), torch.zeros(1 << 20), _timeout=2)
    assert time.monotonic() - start < 10
    assert part.call("add", 1, 2) == 3


@pytest.mark.parametrize("size, count", [(1 << 30, 7), (16 << 20, 7)], ids=["7x1GiB", "7x16MiB"])
def test_a_huge_answer_is_refused_within_the_memory_cap(part, size, count):
    tracemalloc.start()
    try:
        with pytest.raises(WorkerCrashed, match="malformed answer .an answer of over"):
            part.call("huge", size, count)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * Limits().reply_bytes
    assert part.call("add", 1, 2) == 3


def test_a_timeout_while_flooding_says_how_much_was_printed(part):
    with pytest.raises(CallTimeout, match=r"your code printed \d+(\.\d)? [MG]B during this call"):
        part.call("shout", _timeout=2)
    assert part.call("add", 1, 2) == 3


def test_segfault_is_a_crash(part):
    with pytest.raises(WorkerCrashed, match="SIGSEGV"):
        part.call("segv")
    assert part.call("add", 1, 2) == 3


def test_memory_bomb(part):
    with pytest.raises((StudentError, WorkerCrashed)) as info:
        part.call("hog")
    if isinstance(info.value, StudentError):
        assert info.value.exc_type == "MemoryError"
    assert part.call("add", 1, 2) == 3


def test_a_worker_that_cannot_start_stops_the_run(tmp_path):
    """Not the student's fault: the run stops with the worker's own words, instead of
    restarting a worker for every check."""
    from grader.runner import grade
    from grader.sandbox.faults import GraderFault
    from grader.submission import open_submission

    (tmp_path / "answers.py").write_text("TOTAL_PARAMS = 1\n")
    with pytest.raises(GraderFault, match="cannot start") as failure:
        grade(open_submission(tmp_path), limits=Limits(memory_bytes=64 << 20), parts=("answers",))
    assert "MemoryError" in str(failure.value) or "memory" in str(failure.value).lower()


def test_a_probe_of_an_unimplemented_function_fails_at_once_as_its_call_would():
    from grader.sandbox.inprocess import InProcessSandbox

    box = InProcessSandbox()
    code = 'def epoch(model):\n    """TODO"""\n    raise NotImplementedError("write epoch")\n'
    part = StudentPart(
        box, "tp1_manual", 0, box.load("tp1_manual", [{"origin": "tp1_manual.py", "code": code}])
    )
    with pytest.raises(NotImplementedYet) as called:
        part.call("epoch", 1)
    part.require("epoch")
    with pytest.raises(NotImplementedYet) as probed:
        part.probe("no_such_probe.never_run")  # refused before the worker is asked
    assert (
        (probed.value.where, probed.value.function)
        == (called.value.where, called.value.function)
        == ("tp1_manual.py, line 3, in epoch", "epoch")
    )


@pytest.mark.parametrize("imports", [(), ("json.tool",)])
def test_a_worker_imports_what_it_is_given_before_its_first_request(zygote, imports):
    box = Sandbox(LIMITS, zygote=zygote, imports=imports)
    try:
        code = "import sys\ndef imported(name):\n    return name in sys.modules\n"
        part = StudentPart(box, "p", 0, box.load("p", [{"origin": "p.py", "code": code}]))
        assert part.call("imported", "json.tool") == bool(imports)
    finally:
        box.close()


def test_a_forked_worker_inherits_a_frozen_heap(zygote):
    """What a worker inherits from the zygote (torch, the worker's code) is frozen: the
    garbage collector of the worker never walks it. A fresh worker has nothing to inherit."""
    box = Sandbox(LIMITS, zygote=zygote)
    try:
        code = "import gc\ndef frozen():\n    return gc.get_freeze_count()\n"
        part = StudentPart(box, "p", 0, box.load("p", [{"origin": "p.py", "code": code}]))
        frozen = part.call("frozen")
        assert frozen > 100_000 if zygote else frozen == 0
    finally:
        box.close()


def test_one_zygote_serves_several_grading_processes():
    """`grade batch`'s grading processes share one zygote, each on a channel of its own: a
    worker answers on its channel; a channel that closes (its grading process was killed)
    takes its live workers with it, and no other."""
    from grader.sandbox.zygote import Connection, Zygote

    zygote = Zygote(LIMITS, ("json.tool",))
    try:
        channels = [zygote, Connection(zygote.connect()), Connection(zygote.connect())]
        boxes = [Sandbox(LIMITS, files={"helper.py": b"VALUE = 7\n"}, zygote=c) for c in channels]
        parts = [
            StudentPart(
                box,
                "tp1_manual",
                0,
                box.load("tp1_manual", [{"origin": "tp1_manual.py", "code": SOURCE}]),
            )
            for box in boxes
        ]
        assert [p.call("add", 2, k) for k, p in enumerate(parts)] == [2, 3, 4]
        # A worker asked for while the zygote still imported torch waited for all its imports.
        code = "import sys\ndef imported(name):\n    return name in sys.modules\n"
        assert StudentPart(
            boxes[0], "p", 0, boxes[0].load("p", [{"origin": "p.py", "code": code}])
        ).call("imported", "json.tool")
        workers = [box._worker.proc for box in boxes]
        ended = os.pidfd_open(workers[1].pid)
        channels[1].close()
        assert select.select([ended], [], [], 20)[0], "the worker of a closed channel still runs"
        assert parts[2].call("add", 1, 1) == 2 and parts[0].call("add", 1, 2) == 3
        boxes[2].close()
        assert workers[2].returncode is not None  # its end was reported on its own channel
        assert workers[0].poll() is None
    finally:
        zygote.close()


def test_a_zygote_that_ends_costs_no_verdict_and_fresh_workers_take_over():
    """A worker that ends with its zygote (killed, out of memory) is no fault of the student:
    that call gives no verdict (GraderFault: grade again); the next worker starts fresh."""
    from grader.sandbox.zygote import Zygote

    zygote = Zygote(LIMITS)
    box = Sandbox(LIMITS, files={"helper.py": b"VALUE = 7\n"}, zygote=zygote)
    try:
        part = StudentPart(
            box,
            "tp1_manual",
            0,
            box.load("tp1_manual", [{"origin": "tp1_manual.py", "code": SOURCE}]),
        )

        def kill_when_busy():
            output = box._worker.output
            with output.changed:  # woken at each read of the worker's output: the call is running
                output.changed.wait_for(lambda: output.printed() > 0, timeout=60)
            zygote.proc.kill()

        killer = threading.Thread(target=kill_when_busy)
        killer.start()
        with pytest.raises(GraderFault, match="zygote"):
            part.call("busy", _timeout=60)
        killer.join()
        assert part.call("add", 2, 3) == 5  # its parts reloaded in a fresh interpreter
        assert box._worker.zygote is None
    finally:
        box.close()
        zygote.close()


DYNAMO = """\
import sys
import torch

def step():
    w = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    optimizer = torch.optim.SGD([w], lr=0.5)
    optimizer.zero_grad()
    (w ** 2).sum().backward()
    optimizer.step()
    return w.detach(), type(sys.modules["torch._dynamo"]).__name__

def compiled(x):
    return torch.compile(lambda t: t * 2 + 1, backend="eager")(x), type(sys.modules["torch._dynamo"]).__name__
"""


def test_torch_dynamo_loads_only_when_more_than_eager_mode_needs_it():
    """An optimizer's step is answered by the worker's placeholder (the real module takes
    seconds to import); torch.compile gets the real one."""
    box = Sandbox(LIMITS)
    try:
        part = StudentPart(box, "p", 0, box.load("p", [{"origin": "p.py", "code": DYNAMO}]))
        w, module = part.call("step")
        assert torch.equal(w, torch.tensor([0.0, 0.0])) and module == "Placeholder"
        y, module = part.call("compiled", torch.tensor([1.0, 2.0]))
        assert torch.equal(y, torch.tensor([3.0, 5.0])) and module == "module"
        assert part.call("step")[1] == "module"  # the real one from then on
    finally:
        box.close()
