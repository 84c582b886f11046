"""The oracle's questions, registered by name (`@question`) by its modules."""

from __future__ import annotations

from collections.abc import Callable, Iterable

QUESTIONS: dict[str, Callable] = {}
DOMAINS: dict[str, Callable[[int], Iterable[tuple]]] = {}


def question(name: str, domain: Callable[[int], Iterable[tuple]] | None = None):
    """Register `name`; `domain(seed)` lists the arguments to record (by default `(seed,)`)."""

    def register(fn):
        QUESTIONS[name] = fn
        DOMAINS[name] = domain or (lambda seed: [(seed,)])
        return fn

    return register
