"""The worker's printed output, drained by a thread and cut into each call's own."""

from __future__ import annotations

import threading

from grader.worker import wire


class Capture(threading.Thread):
    """Drains the worker's stdout and stderr, keeping the first `cap` bytes of each call.

    The worker ends each call's output with END_OF_OUTPUT, so what a call printed is
    never counted in the next one, however the pipe splits it.
    """

    def __init__(self, stream, cap: int):
        super().__init__(daemon=True)
        self.stream, self.cap = stream, cap
        self.kept, self.dropped, self.carry = bytearray(), 0, b""
        self.done: list[str] = []  # the output of calls that ended, oldest first
        self.changed = threading.Condition()

    def run(self):
        for chunk in iter(lambda: self.stream.read1(65536), b""):
            with self.changed:
                self._feed(chunk)
                self.changed.notify_all()

    def _feed(self, data: bytes):
        data, mark = self.carry + data, wire.END_OF_OUTPUT
        while (i := data.find(mark)) >= 0:
            self._keep(data[:i])
            self.done.append(self._flush())
            data = data[i + len(mark) :]
        split = max(len(data) - len(mark) + 1, 0)  # a marker may straddle two reads
        self._keep(data[:split])
        self.carry = data[split:]

    def _keep(self, data: bytes):
        room = max(self.cap - len(self.kept), 0)
        self.kept += data[:room]
        self.dropped += max(len(data) - room, 0)

    def _flush(self) -> str:
        text = self.kept.decode(errors="replace")
        if self.dropped:
            text += f"\n[... {self.dropped} more bytes of output not kept]"
        self.kept, self.dropped = bytearray(), 0
        return text

    def printed(self) -> int:
        """Bytes the current call has printed so far."""
        with self.changed:
            return len(self.kept) + self.dropped + len(self.carry)

    def take(self, wait: float = 2.0) -> str:
        """The output of the call that just answered (or, after a crash, all there is)."""
        with self.changed:
            self.changed.wait_for(lambda: self.done, timeout=wait)
            if self.done:
                return self.done.pop(0)
            self._keep(self.carry)
            self.carry = b""
            return self._flush()
