"""The worker's logic run inside this process: NO isolation, for benchmarks only.

It measures the floor of the design (issue 10): the same rubric, the same channel
encoding, without the process boundary. Never use it on untrusted code.
"""

from __future__ import annotations

from grader.labs import current
from grader.sandbox.faults import fault_of
from grader.sandbox.session import load_request
from grader.worker import wire
from grader.worker.__main__ import Worker, install_lab


class InProcessSandbox:
    def __init__(self):
        install_lab(current().worker or "")
        self.worker = Worker(current().worker or "")
        self.chunks: dict[str, list[dict]] = {}

    def _serve(self, header: dict, blobs: list[bytes]):
        out: list[bytes] = []
        try:
            value = self.worker.serve(header["op"], header, blobs)
            return wire.decode(wire.encode(value, out, self.worker.handle), out)
        except Exception as e:  # noqa: BLE001 - reported like the worker reports it
            raise fault_of(self.worker.error(e), "") from None

    def start(self) -> None:
        pass

    def load(
        self,
        part: str,
        chunks: list[dict],
        budget: float = 5.0,
        course: dict | None = None,
        provided: dict | None = None,
    ) -> dict:
        self.chunks[part] = chunks
        return self._serve(load_request(part, chunks, budget, course, provided), [])

    def request(self, header: dict, args=(), kwargs=None, seconds: float | None = None):
        blobs: list[bytes] = []
        header = dict(
            header,
            args=wire.encode(list(args), blobs),
            kwargs=wire.encode(dict(kwargs or {}), blobs),
        )
        return self._serve(header, blobs), ""

    def source(self, part: str) -> list[tuple[str, str]]:
        return [(c["origin"], c["code"]) for c in self.chunks[part]]

    def close(self) -> None:
        pass
