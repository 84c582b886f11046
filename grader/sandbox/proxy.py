"""What a rubric test holds: a student part, and the objects it made, as proxies.

    part = Part(sandbox, "tp1_manual", seed)
    yhat, outputs = part.call("forward", params, X)    # tensors come back as tensors
    model, loss = nn_part.call("init_model", 2, 10, 2) # objects come back as Remote
    logits = model.call(X)
    curves = part.probe("tp1.train_manual", ...)       # grader code run beside the student's

Every call is seeded with the run's seed, so verdicts repeat.
"""
from __future__ import annotations

from grader.worker import wire
from grader.sandbox.process import NameMissing, Sandbox
from grader.suggest import did_you_mean


class Remote(wire.Handle):
    """An object held by the worker (a model, a loss, an optimizer)."""

    def __init__(self, part: "Part", handle: wire.Handle):
        super().__init__(handle.id, handle.type)
        self.part = part

    def call(self, *args, _timeout: float | None = None, **kwargs):
        return self.part._send({"handle": self.id}, args, kwargs, _timeout)

    def method(self, name: str, *args, _timeout: float | None = None, **kwargs):
        return self.part._send({"handle": self.id, "attr": name}, args, kwargs, _timeout)

    def get(self, attr: str):
        return self.part._send({"handle": self.id, "attr": attr}, op="get")


class Part:
    """One part of the submission (`tp1_manual`, ..., `answers`), loaded in the worker."""

    def __init__(self, sandbox: Sandbox, name: str, seed: int, loaded: dict):
        self.sandbox, self.name, self.seed = sandbox, name, seed
        self.names: set[str] = set(loaded["names"])
        self.skipped: list[dict] = loaded["skipped"]
        self.output = ""  # what the last call printed

    def call(self, name: str, *args, _timeout: float | None = None, **kwargs):
        """Call the student's `name`."""
        self.require(name)
        return self._send({"part": self.name, "name": name}, args, kwargs, _timeout)

    def get(self, name: str):
        """The value of the student's global `name`."""
        self.require(name)
        return self._send({"part": self.name, "name": name}, op="get")

    def require(self, *names: str) -> None:
        """Fail with a near-miss hint unless the part defines every one of `names`."""
        for name in names:
            if name not in self.names:
                raise NameMissing(f"`{name}` not found in {self.name}{did_you_mean(name, self.names)}")

    def probe(self, probe: str, *args, _timeout: float | None = None, **kwargs):
        """Run `grader.worker.probes.<probe>(namespace, *args, **kwargs)` in the worker."""
        return self._send({"part": self.name, "probe": probe}, args, kwargs, _timeout)

    def _send(self, target: dict, args=(), kwargs=None, timeout=None, op: str = "call"):
        value, self.output = self.sandbox.request(
            {"op": op, "target": target, "seed": self.seed}, args, kwargs, timeout)
        return self._wrap(value)

    def _wrap(self, value):
        if isinstance(value, wire.Handle) and not isinstance(value, Remote):
            return Remote(self, value)
        if isinstance(value, list):
            return [self._wrap(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._wrap(v) for v in value)
        if isinstance(value, dict):
            return {k: self._wrap(v) for k, v in value.items()}
        return value
