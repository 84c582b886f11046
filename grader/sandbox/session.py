"""The worker as the rubric sees it: a `Sandbox` that is always there, starting a fresh
worker process when the last one died and replaying the parts it had loaded."""

from __future__ import annotations

from grader.sandbox import isolation
from grader.sandbox.faults import GraderFault, WorkerCrashed, fault_of
from grader.sandbox.limits import Limits
from grader.sandbox.process import WorkerProcess
from grader.worker import wire


def load_request(
    part: str, chunks: list[dict], budget: float, course: dict | None, provided: dict | None
) -> dict:
    """The worker's `load`: run `chunks` as `part`; `course`: each name of a course helper ->
    its module; `provided`: each global the part is given unless it defines it -> its helper."""
    return {
        "op": "load",
        "part": part,
        "chunks": chunks,
        "budget": budget,
        "course": course or {},
        "provided": provided or {},
    }


class Sandbox:
    """The worker as the rubric sees it: always there, reloading parts after a restart."""

    def __init__(
        self,
        limits: Limits = Limits(),
        files: dict[str, bytes] | None = None,
        zygote=None,
        imports: tuple[str, ...] = (),
    ):
        self.limits, self.files, self.zygote = (
            limits,
            files or {},
            zygote,
        )  # zygote: forks the workers
        self.imports = imports  # what a fresh worker imports before its first request
        self.loads: dict[str, dict] = {}  # part -> load request, replayed on a fresh worker
        self.loaded: dict[str, dict] = {}  # part -> what the worker answered to it
        self.failed_starts = 0
        self._worker: WorkerProcess | None = None

    def _live(self) -> WorkerProcess:
        if self._worker is None or not self._worker.alive:
            if self._worker is not None:
                self._worker.close()
            self._worker = WorkerProcess(self.limits, self.files, self.zygote, self.imports)
            for part, header in self.loads.items():
                self._send_load(part, header)
        return self._worker

    def _send_load(self, part: str, header: dict) -> None:
        seconds = self.limits.start_seconds + header["budget"] * len(header["chunks"])
        ok, out, _ = self._request(header, [], seconds)
        self.loaded[part] = wire.decode(ok, out)

    def _request(self, header: dict, blobs: list[bytes], seconds: float):
        try:
            reply, out, output = self._worker.call(header, blobs, seconds)
        except WorkerCrashed as e:
            # Student code at load time cannot kill the worker (the loader tries it in a fork
            # first), so two fresh workers in a row that die unanswered is the grader's fault.
            self.failed_starts = self.failed_starts + 1 if self._worker.answered == 0 else 0
            if self.failed_starts >= 2:
                raise GraderFault(f"the worker process cannot start:\n{e.output.strip()}") from None
            raise
        self.failed_starts = 0
        if "error" in reply:
            raise fault_of(reply["error"], output)
        return reply["ok"], out, output

    def start(self) -> None:
        """Start the worker now (it imports torch while the caller does other work)."""
        self._live()

    def source(self, part: str) -> list[tuple[str, str]]:
        """The (origin, code) chunks of `part` as this side sent them: the worker is not asked."""
        return [(c["origin"], c["code"]) for c in self.loads[part]["chunks"]]

    def weaknesses(self) -> list[str]:
        """The protections that the platform refused to this worker, one line each."""
        return isolation.weaknesses(self._live().in_force)

    def load(
        self,
        part: str,
        chunks: list[dict],
        budget: float = 5.0,
        course: dict | None = None,
        provided: dict | None = None,
    ) -> dict:
        """Load a part's definitions; returns `{"names": [...], "skipped": [...]}`."""
        header = load_request(part, chunks, budget, course, provided)
        fresh = self._worker is None or not self._worker.alive
        self.loads[part] = header
        self._live()  # a fresh worker replays every registered load, this one included
        if not fresh:
            self._send_load(part, header)
        return self.loaded[part]

    def request(self, header: dict, args=(), kwargs=None, seconds: float | None = None):
        """Send a call or a get; return (decoded value, captured output)."""
        self._live()
        blobs: list[bytes] = []
        header = dict(
            header,
            args=wire.encode(list(args), blobs),
            kwargs=wire.encode(dict(kwargs or {}), blobs),
        )
        ok, out, output = self._request(header, blobs, seconds or self.limits.call_seconds)
        try:
            return wire.decode(ok, out), output
        except wire.ChannelError as e:
            self.close()
            raise WorkerCrashed(
                f"the worker sent a malformed answer ({e}); it was stopped", output=output
            ) from None

    def close(self) -> None:
        if self._worker is not None:
            self._worker.close()
            self._worker = None
