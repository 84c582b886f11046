"""What a rubric test holds: a student part, and the objects it made, as proxies.

    part = StudentPart(sandbox, "tp1_manual", seed)
    yhat, outputs = part.call("forward", params, X)    # tensors come back as tensors
    model, loss = nn_part.call("init_model", 2, 10, 2) # objects come back as Remote
    logits = model.call(X)
    curves = part.probe("tp1.train_manual", ...)       # grader code run beside the student's

Every call is seeded with the run's seed, so verdicts repeat. A function that ran out of
time is not called again with the same or a smaller budget in this run: one endless loop
costs one time limit, not one per check that calls it. A check's run that calls one function
of the student's and runs out of time is that function's time out (`sgd::update`'s probe
calls `sgd` alone), so the training run that calls it next fails at once and says where.
"""

from __future__ import annotations

from grader.sandbox.faults import CallTimeout, NameMissing, NotImplementedYet
from grader.sandbox.session import Sandbox
from grader.suggest import did_you_mean
from grader.worker import wire


class Remote(wire.Handle):
    """An object held by the worker (a model, a loss, an optimizer)."""

    def __init__(self, part: StudentPart, handle: wire.Handle):
        super().__init__(handle.id, handle.type)
        self.part = part

    def call(self, *args, _timeout: float | None = None, **kwargs):
        return self.part._send(
            {"handle": self.id}, args, kwargs, _timeout, what=f"calling a {self.type}"
        )

    def method(self, name: str, *args, _timeout: float | None = None, **kwargs):
        return self.part._send(
            {"handle": self.id, "attr": name}, args, kwargs, _timeout, what=f"{self.type}.{name}"
        )

    def get(self, attr: str):
        return self.part._send({"handle": self.id, "attr": attr}, op="get")


class StudentPart:
    """One part of the submission (`tp1_manual`, ..., `answers`), loaded in the worker."""

    def __init__(
        self, sandbox: Sandbox, name: str, seed: int, loaded: dict, own: set[str] | None = None
    ):
        self.sandbox, self.name, self.seed = sandbox, name, seed
        self.names: set[str] = set(loaded["names"])
        # What near-miss hints may name: the part's own functions, classes and globals
        # (`grader.suggest.own_names`), never a module it imports; by default every name.
        self.suggestable = self.names if own is None else self.names & own
        self.skipped: list[dict] = loaded["skipped"]
        self.unimplemented: dict[str, str] = loaded.get(
            "unimplemented", {}
        )  # name -> where it raises
        self.output = ""  # what the last call printed
        self.timed_out: dict[str, tuple[float, str]] = {}  # what -> (its budget, the message then)
        self.required: tuple[
            str, ...
        ] = ()  # the names the next probe calls (the check required them)
        self.check = ""  # the id of the check being run, to say where a function ran out of time
        self.notes: list[str] = []  # how the rubric read the part, for the report

    def call(self, name: str, *args, _timeout: float | None = None, **kwargs):
        """Call the student's `name`."""
        self._defines(name)
        return self._send(
            {"part": self.name, "name": name}, args, kwargs, _timeout, what=f"`{name}`"
        )

    def get(self, name: str):
        """The value of the student's global `name`."""
        self._defines(name)
        return self._send({"part": self.name, "name": name}, op="get")

    def require(self, *names: str) -> None:
        """Fail with a near-miss hint unless the part defines every one of `names`; the
        check's next probe is taken to call them."""
        self._defines(*names)
        self.required = names

    def _defines(self, *names: str) -> None:
        unparsed = [s for s in self.skipped if s["error"].startswith("does not parse")]
        for name in names:
            # A name missing beside code that does not parse: the cause, not its consequence
            # (unless a near miss explains it better, as in a notebook that lost one cell).
            if name not in self.names and unparsed and not did_you_mean(name, self.suggestable):
                first = unparsed[0]
                raise NameMissing(
                    f"`{name}` not found in {self.name}: {first['where']} does not parse "
                    f"({first['error'].removeprefix('does not parse: ')}), so nothing of that "
                    "file or cell was loaded; fix it first"
                )
            if name not in self.names:
                hint = did_you_mean(name, self.suggestable)
                raise NameMissing(f"`{name}` not found in {self.name}{hint}")

    def probe(self, probe: str, *args, _timeout: float | None = None, **kwargs):
        """Run `<the lab's worker package>.probes.<probe>(namespace, *args, **kwargs)` in the worker."""
        required, self.required = self.required, ()
        for name in (
            required
        ):  # it calls a function that can only fail as it did or will: the same end, at once
            if name in self.unimplemented:
                raise NotImplementedYet(
                    "NotImplementedError", "", where=self.unimplemented[name], function=name
                )
            self._refuse_if_timed_out(
                f"`{name}`", _timeout, ", so this check's run, which calls it, did not start"
            )
        try:
            return self._send(
                {"part": self.name, "probe": probe},
                args,
                kwargs,
                _timeout,
                what=f"the check's run ({probe})",
            )
        except CallTimeout as e:
            if len(required) == 1:  # the run calls one student function: that one ran out of time
                self._ran_out(f"`{required[0]}`", _timeout, e)
            raise

    def _send(
        self, target: dict, args=(), kwargs=None, timeout=None, op: str = "call", what: str = ""
    ):
        self._refuse_if_timed_out(what, timeout, ", so it was not called again")
        try:
            value, self.output = self.sandbox.request(
                {"op": op, "target": target, "seed": self.seed}, args, kwargs, timeout
            )
        except CallTimeout as e:
            if what:
                self._ran_out(what, timeout, e)
            raise
        return self._wrap(value)

    def _ran_out(self, what: str, timeout: float | None, e: CallTimeout) -> None:
        where = f" in {self.check}" if self.check else ""
        message = f"{what.strip('`')} ran out of time{where}: {e.message}"
        self.timed_out[what] = (self._budget(timeout), message)

    def _budget(self, timeout: float | None) -> float:
        return timeout or getattr(
            getattr(self.sandbox, "limits", None), "call_seconds", float("inf")
        )

    def _refuse_if_timed_out(self, what: str, timeout: float | None, consequence: str) -> None:
        """CallTimeout at once when `what` ran out of a budget at least as large as this one."""
        if what in self.timed_out and self._budget(timeout) <= self.timed_out[what][0]:
            raise CallTimeout(
                f"{what} timed out earlier in this run{consequence}: {self.timed_out[what][1]}"
            )

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
