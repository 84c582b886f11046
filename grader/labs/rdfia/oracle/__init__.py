"""The oracle: everything that knows an answer, for the instructor only.

The reference solution (`grader.reference`), the expected values computed with it, the
known mistakes (the reference with one change), the reference training runs and the
answers. Checks never import this package: they ask `grader.expected.ask(name, *args)`.
`grade release` records every question at the public seed, over every combination of
the discrete choices the contract accepts (`recorded`), and ships that data instead.
"""

from __future__ import annotations

from functools import lru_cache

from grader.expected import key
from grader.labs.rdfia.oracle.registry import DOMAINS, QUESTIONS


def _load() -> None:
    from grader.labs.rdfia.oracle import answers, tp1, tp2  # noqa: F401 - each registers its questions


@lru_cache(maxsize=256)
def _answer(k: str, name: str, args: tuple):
    _load()
    return QUESTIONS[name](*args)


def answer(name: str, *args):
    return _answer(key(name, args), name, args)


def compute(name: str, *args):
    """An answer on values of a student's own, which neither a cache nor a recording could hold."""
    _load()
    return QUESTIONS[name](*args)


def recorded(seed: int) -> dict:
    """{key: answer} of every question over its domain: what the student edition holds."""
    _load()
    return {
        key(name, args): QUESTIONS[name](*args)
        for name in QUESTIONS
        for args in DOMAINS[name](seed)
    }
