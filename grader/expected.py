"""What the checks compare with: the oracle's answers, asked by name.

`ask("tp1.unit", seed)` returns what the lab's instructor-only oracle (`Lab.oracle`)
computes, or, in the student edition, what `grade release` recorded from it at the
public seed: plain data (tensors, numbers, strings) in `expectations.pt`, no code.
Exact answers are sealed: salted digests that confirm a right value (`matches`) without
showing it. Not secrecy: each value lies in a small range that a search recovers in
seconds (README, "What sealing does not protect").
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from grader.lab import Lab
from grader.labs import oracle

RECORDED = Path(__file__).with_name("expectations.pt")
PUBLIC_SEED = 0


_ASKING: list[Lab] = []  # the lab whose rubric runs (`asked_by`), else the current one


@contextmanager
def asked_by(lab: Lab) -> Iterator[None]:
    """While `lab`'s rubric runs, `ask` asks its oracle."""
    _ASKING.append(lab)
    try:
        yield
    finally:
        _ASKING.pop()


def _oracle():
    return oracle(_ASKING[-1] if _ASKING else None)


class NotRecorded(LookupError):
    """The student edition holds no answer to this question (it depends on a value of the student's)."""


def edition() -> str:
    """'student' when the oracle is replaced by recorded expectations, else 'instructor'."""
    return "student" if RECORDED.exists() else "instructor"


def key(question: str, args: tuple) -> str:
    """The recording key of a question: its name and arguments (numbers, strings, tuples)."""
    return json.dumps([question, list(args)])


@lru_cache(maxsize=1)
def _recorded() -> dict:
    import torch

    return torch.load(RECORDED, weights_only=True)  # data only: no pickled code can load


def ask(question: str, *args):
    """The oracle's answer to `question` on `args`."""
    if edition() == "instructor":
        return _oracle().answer(question, *args)
    try:
        return _recorded()[key(question, args)]
    except KeyError:
        raise NotRecorded(f"{question}{args}") from None


def ask_optional(question: str, *args):
    """`ask`, or None where the student edition has no recording: for diagnoses that rerun
    the oracle with the student's own values, which the student edition gives plainer."""
    try:
        return ask(question, *args)
    except NotRecorded:
        return None


def instructor_only(question: str, *args):
    """The oracle's answer on values of the student's own (never recorded, never cached), or
    None in the student edition, which then judges with what it can see."""
    if edition() != "instructor":
        return None
    return _oracle().compute(question, *args)


# -- sealed answers ---------------------------------------------------------------------


def canonical(value) -> str:
    """One text per value as a student may write it: 6, 6.0 and tensor(6.) alike; tuples and lists alike."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{"
            + ",".join(f"{canonical(k)}:{canonical(v)}" for k, v in sorted(value.items(), key=str))
            + "}"
        )
    try:
        number = float(value.reshape(()).item()) if hasattr(value, "reshape") else float(value)
    except (TypeError, ValueError, RuntimeError, OverflowError):
        return f"<{type(value).__name__}>"
    return repr(number)


def _digest(salt: str, value) -> str:
    return hashlib.sha256((salt + canonical(value)).encode()).hexdigest()


def seal(labelled: dict) -> dict:
    """{label: value} as {"salt", "digests": {digest: [labels]}}: the labels a value matches, not the values."""
    salt = secrets.token_hex(16)
    digests: dict[str, list] = {}
    for label, value in labelled.items():
        digests.setdefault(_digest(salt, value), []).append(label)
    return {"salt": salt, "digests": digests}


def matches(sealed: dict, value) -> list[str]:
    """The labels of the sealed values that `value` equals ("right" for the answer, else known mistakes)."""
    return sealed["digests"].get(_digest(sealed["salt"], value), [])
