"""The trusted-side proxy of a student part: a function that ran out of time costs one
time limit, not one per check that calls it; a part that does not parse says so."""

from __future__ import annotations

import pytest

from grader.sandbox import Limits
from grader.sandbox.faults import CallTimeout, NameMissing
from grader.sandbox.proxy import StudentPart


class SlowSandbox:
    """Answers like the sandbox; `backward`, and the probe of `sgd`'s check, never return within their budget."""

    def __init__(self):
        self.limits = Limits(call_seconds=60.0)
        self.sent: list[tuple[str, float | None]] = []

    def request(self, header, args=(), kwargs=None, seconds=None):
        name = header["target"].get("name") or header["target"].get("probe")
        self.sent.append((name, seconds))
        if name in ("backward", "tp1.manual_sgd"):
            raise CallTimeout(
                f"the call did not return within {seconds or 60:g} s; the worker was stopped"
            )
        return 1, ""


def part(sandbox, skipped=()) -> StudentPart:
    return StudentPart(
        sandbox, "tp1_manual", 0, {"names": ["forward", "backward"], "skipped": list(skipped)}
    )


def test_a_function_that_timed_out_fails_at_once_later():
    sandbox = SlowSandbox()
    p = part(sandbox)
    with pytest.raises(CallTimeout) as first:
        p.call("backward", 1)
    for _ in range(5):  # the five other checks that call it
        with pytest.raises(CallTimeout) as later:
            p.call("backward", 2)
        assert "`backward` timed out earlier in this run" in later.value.message
        assert first.value.message in later.value.message
    assert p.call("forward", 1) == 1  # the others still run
    assert sandbox.sent == [("backward", None), ("forward", None)]


def test_a_longer_budget_tries_again():
    sandbox = SlowSandbox()
    p = part(sandbox)
    with pytest.raises(CallTimeout):
        p.call("backward", _timeout=5)
    with pytest.raises(CallTimeout):
        p.call("backward", _timeout=2)  # shorter: not sent
    with pytest.raises(CallTimeout):
        p.call("backward")  # the default 60 s: sent
    assert sandbox.sent == [("backward", 5), ("backward", None)]


def test_a_part_that_does_not_parse_names_the_error_not_the_name():
    skipped = [
        {"where": "tp1_manual.py, line 12", "error": "does not parse: SyntaxError: expected ':'"}
    ]
    p = StudentPart(SlowSandbox(), "tp1_manual", 0, {"names": [], "skipped": skipped})
    with pytest.raises(
        NameMissing,
        match=r"`init_params` not found in tp1_manual: tp1_manual.py, line 12 does "
        r"not parse \(SyntaxError: expected ':'\)",
    ):
        p.require("init_params")
    fine = StudentPart(SlowSandbox(), "tp1_manual", 0, {"names": [], "skipped": []})
    with pytest.raises(NameMissing, match="not found in tp1_manual$"):
        fine.require("init_params")


def test_a_check_whose_run_calls_a_function_that_timed_out_does_not_start():
    sandbox = SlowSandbox()
    p = part(sandbox)
    with pytest.raises(CallTimeout):
        p.call("backward")
    p.require("forward", "backward")
    with pytest.raises(
        CallTimeout,
        match="`backward` timed out earlier in this run, so this check's run, which "
        "calls it, did not start",
    ):
        p.probe("tp1.train_manual")
    p.require("forward")
    assert p.probe("tp1.train_manual") == 1
    assert sandbox.sent == [("backward", None), ("tp1.train_manual", None)]


def test_a_near_miss_still_explains_a_name_beside_a_cell_that_does_not_parse():
    skipped = [
        {
            "where": "tp1.ipynb, cell 13, line 2",
            "error": "does not parse: SyntaxError: expected ':'",
        }
    ]
    p = StudentPart(SlowSandbox(), "tp1_manual", 0, {"names": ["sgd_step"], "skipped": skipped})
    with pytest.raises(NameMissing, match="did you mean `sgd_step`"):
        p.require("sgd")


def test_a_function_whose_own_check_ran_out_of_time_stops_every_run_that_calls_it():
    """An endless `sgd` costs one time limit: its check's probe times out, and the training
    run, which calls it among others, fails at once and says where it ran out of time."""
    sandbox = SlowSandbox()
    p = part(sandbox)
    p.names.add("sgd")
    p.check = "tp1_manual::sgd::update"
    p.require("sgd")
    with pytest.raises(CallTimeout):
        p.probe("tp1.manual_sgd")
    p.check = "tp1_manual::training::curves"
    p.require("forward", "backward", "sgd")
    with pytest.raises(CallTimeout, match="sgd ran out of time in tp1_manual::sgd::update"):
        p.probe("tp1.train_manual")
    assert sandbox.sent == [("tp1.manual_sgd", None)]
