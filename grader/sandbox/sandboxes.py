"""A sandbox per assignment: what `grade check`'s lanes and the runner grade in."""

from __future__ import annotations

from collections.abc import Callable

from grader.sandbox import Sandbox


class Sandboxes:
    """A sandbox per assignment, made by `make()` when the assignment's first part loads.
    What one assignment's code does to its worker (torch's defaults, a patched module) never
    reaches another's checks, so an assignment's verdicts are the same whether it is graded
    alone, after another, or beside it in another process."""

    def __init__(self, make: Callable[[], Sandbox]):
        self.make = make
        self.open: dict[str, Sandbox] = {}

    def of(self, assignment: str) -> Sandbox:
        if assignment not in self.open:
            self.open[assignment] = self.make()
        return self.open[assignment]

    def close(self) -> None:
        for sandbox in self.open.values():
            sandbox.close()
        self.open.clear()
