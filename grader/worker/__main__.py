"""The student worker: `python -m grader.worker REQUEST_FD RESPONSE_FD`.

Started by `grader.sandbox.process` under resource limits, in an empty directory.
It serves requests one at a time: load a part's definitions, call a student name,
read a global, call a method of an object it holds, or run a probe (grader code
that drives student objects from the inside: the `probes` of the lab's worker package,
`GRADER_WORKER`). Values go
back through `grader.worker.wire`; objects stay here behind handles.
"""

from __future__ import annotations

import importlib
import itertools
import os
import random
import signal
import sys
import traceback

import numpy as np
import torch

from grader.worker import dynamo, frontends, loader, wire

# The lab's worker package (`grader.lab.Lab.worker`), as the trusted side names it.
LAB_WORKER = os.environ.get("GRADER_WORKER", "")


class NotFound(Exception):
    pass


class Worker:
    def __init__(self, lab_worker: str = LAB_WORKER):
        self.lab_worker = lab_worker  # the package whose `probes` the trusted side names
        self.parts: dict[str, dict] = {}
        self.origins: set[str] = set()  # file names of student code, for tracebacks
        self.objects: dict[int, object] = {}
        self.ids = itertools.count(int.from_bytes(os.urandom(4), "little") << 20)

    def handle(self, obj) -> int:
        # Ids never repeat across workers, so a stale handle cannot reach a new object.
        handle = next(self.ids)
        self.objects[handle] = obj
        return handle

    def resolve(self, handle: wire.Handle):
        try:
            return self.objects[handle.id]
        except KeyError:
            raise NotFound(f"the worker no longer holds that {handle.type}") from None

    def namespace(self, part: str) -> dict:
        try:
            return self.parts[part]
        except KeyError:
            raise NotFound(f"part {part!r} is not loaded") from None

    def target(self, spec: dict):
        if "handle" in spec:
            obj = self.resolve(wire.Handle(spec["handle"], "object"))
            return getattr(obj, spec["attr"]) if spec.get("attr") else obj
        if "probe" in spec:
            module, _, name = spec["probe"].rpartition(".")
            probe = getattr(importlib.import_module(f"{self.lab_worker}.probes.{module}"), name)
            namespace = self.namespace(spec["part"])
            return lambda *a, **k: probe(namespace, *a, **k)
        namespace = self.namespace(spec["part"])
        if spec["name"] not in namespace:
            raise NotFound(f"`{spec['name']}` is not defined in {spec['part']}")
        return namespace[spec["name"]]

    def serve(self, op: str, header: dict, blobs: list[bytes]):
        if op == "load":
            chunks = [loader.Chunk(c["origin"], c["code"]) for c in header["chunks"]]
            self.origins |= {c.origin for c in chunks}
            loader.use_course(header.get("course", {}))
            loaded = loader.load(
                chunks, header["part"], header.get("budget", 5.0), provided=header.get("provided")
            )
            self.parts[header["part"]] = loaded.namespace
            return {
                "names": loaded.names(),
                "skipped": loaded.skipped,
                "unimplemented": loaded.unimplemented(),
            }
        target = self.target(header["target"])
        if op == "get":
            return target
        args = wire.decode(header.get("args", []), blobs, self.resolve)
        kwargs = wire.decode(header.get("kwargs", {"$dict": {}}), blobs, self.resolve)
        seed = header.get("seed")
        if seed is not None:
            torch.manual_seed(seed), random.seed(seed), np.random.seed(seed % 2**32)
        return target(*args, **kwargs)

    def error(self, exc: BaseException) -> dict:
        student = [
            (f, line)
            for f, line in traceback.walk_tb(exc.__traceback__)
            if f.f_code.co_filename in self.origins
        ]
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename in self.origins]
        where = (
            f"{frames[-1].filename}, line {frames[-1].lineno}, in {frames[-1].name}"
            if frames
            else None
        )
        text = "".join(traceback.format_list(frames)) + "".join(
            traceback.format_exception_only(exc)
        )
        return {
            "type": type(exc).__name__,
            "message": str(exc),
            "where": where,
            "traceback": text,
            "function": _function_name(student[-1][0]) if student else None,
            "grader": isinstance(exc, NotFound),
        }


def _function_name(frame) -> str:
    """What the student calls it: `forward`, `ConvNet.epoch`, and `ConvNet` for its `__init__`."""
    name = getattr(frame.f_code, "co_qualname", frame.f_code.co_name)
    return name.removesuffix(".__init__")


def install_lab(lab_worker: str) -> None:
    """Run the lab's worker package's `install()`, if it has one."""
    if lab_worker:
        install = getattr(importlib.import_module(lab_worker), "install", None)
        if install:
            install()


def import_ahead() -> None:
    """Import `GRADER_IMPORTS` (the lab's slow imports) now, before any request: once, and
    while the grading process is still starting. One that fails is left to fail where it is used."""
    for module in filter(None, [LAB_WORKER, *os.environ.get("GRADER_IMPORTS", "").split()]):
        try:
            importlib.import_module(module)
        except Exception:  # noqa: BLE001 - ImportError, or a broken install: said where it is used
            pass


def main(request_fd: int, response_fd: int) -> None:
    install_lab(LAB_WORKER)
    dynamo.install()
    frontends.install()
    torch.set_num_threads(int(os.environ.get("GRADER_THREADS", "1")))
    import_ahead()
    requests, responses = os.fdopen(request_fd, "rb"), os.fdopen(response_fd, "wb")
    worker = Worker()
    me = os.getpid()
    while True:
        try:
            header, blobs = wire.read_frame(requests)
        except EOFError:
            return
        out: list[bytes] = []
        try:
            value = worker.serve(header["op"], header, blobs)
            _only_the_worker_answers(me)
            reply = {"ok": wire.encode(value, out, worker.handle)}
        except BaseException as e:  # a student failure is an answer, not a crash
            _only_the_worker_answers(me)
            if isinstance(e, KeyboardInterrupt):
                raise
            out, reply = [], {"error": worker.error(e)}
            if header.get("contained") and os.getpid() == 2 and os.getppid() == 1:  # under our init
                _end_strays()
        end_of_output()
        wire.write_frame(responses, reply, out)


def _only_the_worker_answers(me: int) -> None:
    """A process that student code forked (a fork bomb's) ends here, never answers or reads."""
    if os.getpid() != me:
        os._exit(0)


def _end_strays() -> None:
    """After a failed call, in a PID namespace of its own (the trusted side checked): end
    every process that student code left (a fork bomb's), in one atomic kill(-1). The
    namespace's init (pid 1) and the worker itself are spared; nothing outside is visible."""
    try:
        os.kill(-1, signal.SIGKILL)
    except OSError:
        return
    while True:
        try:
            os.waitpid(-1, 0)
        except OSError:  # ChildProcessError: every one is reaped
            return


def end_of_output() -> None:
    """Flush what the call printed and mark its end, so that output is told per call."""
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a student may have replaced or closed them
            pass
    os.write(1, wire.END_OF_OUTPUT)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
