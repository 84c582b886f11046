"""The worker's request and answer pipes, used against one deadline per call: the framed
channel (`grader.worker.wire`) reads and writes through these."""

from __future__ import annotations

import os
import select
import time

from grader.worker import wire


class Late(Exception):
    """The reply was not whole by the call's deadline."""


class ReplyReader:
    """The worker's answer pipe, read with one deadline over the whole frame and a cap on its
    total size: a worker that sends a length and sleeps, or gigabytes, holds the grader
    neither past the call's time nor past `cap` bytes of memory."""

    def __init__(self, fd: int, deadline: float, cap: int):
        self.fd, self.deadline, self.cap, self.left = fd, deadline, cap, cap

    def read(self, n: int) -> bytes:
        if n > self.left:
            raise wire.ChannelError(f"an answer of over {self.cap} bytes")
        data = bytearray()
        while len(data) < n:
            wait = self.deadline - time.monotonic()
            if wait <= 0 or not select.select([self.fd], [], [], wait)[0]:
                raise Late
            chunk = os.read(self.fd, min(n - len(data), 1 << 20))
            if not chunk:
                break  # EOF: read_frame sees a short read
            data += chunk
        self.left -= len(data)
        return bytes(data)


class RequestWriter:
    """The worker's request pipe, written against the call's deadline: a worker that reads
    no more (student code can stop it) holds a request larger than the pipe no longer."""

    def __init__(self, fd: int, deadline: float):
        self.fd, self.deadline = fd, deadline

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            wait = self.deadline - time.monotonic()
            if wait <= 0 or not select.select([], [self.fd], [], wait)[1]:
                raise Late
            try:
                view = view[os.write(self.fd, view[: 1 << 20]) :]
            except BlockingIOError:
                continue

    def flush(self) -> None:
        pass
