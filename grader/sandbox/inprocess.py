"""The worker's logic run inside this process: NO isolation, for benchmarks only.

It measures the floor of the design (issue 10): the same rubric, the same channel
encoding, without the process boundary. Never use it on untrusted code.
"""
from __future__ import annotations

import sys

from grader.sandbox.process import _fault, load_request
from grader.worker import wire
from grader.worker.__main__ import COURSE_DIR, Worker


class InProcessSandbox:
    def __init__(self):
        if COURSE_DIR not in sys.path:
            sys.path.insert(0, COURSE_DIR)
        self.worker = Worker()
        self.chunks: dict[str, list[dict]] = {}

    def _serve(self, header: dict, blobs: list[bytes]):
        out: list[bytes] = []
        try:
            value = self.worker.serve(header["op"], header, blobs)
            return wire.decode(wire.encode(value, out, self.worker.handle), out)
        except Exception as e:  # noqa: BLE001 - reported like the worker reports it
            raise _fault(self.worker.error(e), "") from None

    def start(self) -> None:
        pass

    def load(self, part: str, chunks: list[dict], budget: float = 5.0, course: dict | None = None,
             provided: dict | None = None) -> dict:
        self.chunks[part] = chunks
        return self._serve(load_request(part, chunks, budget, course, provided), [])

    def request(self, header: dict, args=(), kwargs=None, seconds: float | None = None):
        blobs: list[bytes] = []
        header = dict(header, args=wire.encode(list(args), blobs),
                      kwargs=wire.encode(dict(kwargs or {}), blobs))
        return self._serve(header, blobs), ""

    def source(self, part: str) -> list[tuple[str, str]]:
        return [(c["origin"], c["code"]) for c in self.chunks[part]]

    def close(self) -> None:
        pass
