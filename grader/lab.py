"""What a lab is, as data: the schema that the engine reads, and no lab's content.

A `Lab` has a title (the course's name in help and reports), names its parts in grading
order (each with the names it defines), the assignments that group them, the rule that
splits a combined notebook into parts, the course helpers the worker ships, where its
reference, rubric and template live, and the hooks the engine calls: its oracle, its worker
package (probes, helpers) and the folders the worker may see.
`grader.labs` finds the declarations; each lab is a package of its own (`grader/labs/rdfia/`).
This module imports nothing of the grader and no
torch: both sides of the sandbox may read it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

CLASS, CONSTANT = "class", "constant"  # a defined name that is not a function


@dataclass(frozen=True)
class Part:
    name: str
    # Each name the part defines -> the parameters of a function, or CLASS or CONSTANT.
    defines: dict[str, tuple[str, ...] | str]
    what: str = ""  # what it holds, in the contract's words


@dataclass(frozen=True)
class Helper:
    """A course helper the worker ships (a module of its `course` folder), and the other
    names students import or `%run` it by."""

    module: str  # "utils_data"
    names: tuple[str, ...] = ()  # "utils-data", "tme5"
    # Globals the course's functions use but its `main` creates ("PRINT_INTERVAL"): the helper
    # defines them, and a part of its assignment that does not gets them.
    provides: tuple[str, ...] = ()
    # The course's own definitions over the years, as source (`grader.copies`): a student's
    # copy of one, in any file or cell, is replaced by the helper's.
    versions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Assignment:
    name: str  # what `--tp` takes: "1-ab"
    parts: tuple[str, ...]
    title: str = ""  # in messages: "TP 1-ab"
    helper: Helper | None = None


def titles(assignments) -> str:
    """Their titles as a sentence names them: "TP 1-ab and TP 1-cd"."""
    return " and ".join(a.title or a.name for a in assignments)


@dataclass(frozen=True)
class NotebookSplit:
    """One notebook holding several parts: a markdown cell whose first line is a heading
    `label k` (or `word k` for one of `words`; k in digits or roman numerals, any heading
    level, any text after it) starts `parts[k - 1]`; so does a heading that is part k's
    title, numbered or not. A later number ends the last part."""

    label: str  # "Part"
    parts: tuple[str, ...]
    titles: tuple[str, ...] = ()  # the course notebook's text after each number
    words: tuple[str, ...] = ()  # other words that head a part as `label` does: "Partie"

    def number(self, first_line: str) -> int | None:
        heading = re.match(r"\s*#{1,6}\s*(.*)", first_line)
        if not heading:
            return None
        words = "|".join(re.escape(w) for w in (self.label, *self.words))
        numbered = re.match(rf"(?:{words})\s+(\d+|[ivx]+)\b", heading.group(1), re.IGNORECASE)
        if numbered:
            return _number(numbered.group(1))
        unnumbered = re.sub(r"^(\d+|[ivx]+)\s*[.):-]?\s+", "", heading.group(1), flags=re.I)
        text = _plain(unnumbered)
        return next(
            (
                k
                for k, title in enumerate(self.titles, start=1)
                if _plain(title) and text.startswith(_plain(title))
            ),
            None,
        )

    def headings(self) -> str:
        others = "".join(f" or {w} 1 .. {w} {len(self.parts)}" for w in self.words)
        return f"{self.label} 1 .. {self.label} {len(self.parts)}{others}"


def _number(text: str) -> int:
    """`3` or a roman numeral, `iii`."""
    if text.isdigit():
        return int(text)
    values = [{"i": 1, "v": 5, "x": 10}[c] for c in text.lower()]
    return sum(-v if v < after else v for v, after in zip(values, values[1:] + [0], strict=True))


def _plain(text: str) -> str:
    """Words only, lower case: "with `torch.nn`" as "with torch nn"."""
    return " ".join(re.findall(r"[^\W_]+", text.lower()))


@dataclass(frozen=True)
class Lab:
    name: str  # a short name, in messages and file names: "rdfia"
    title: str  # the course's name, in help and reports: "RDFIA practicals"
    parts: tuple[Part, ...]
    assignments: tuple[Assignment, ...]
    rubric: Path  # a folder of pytest modules, each with its checks
    reference: Path  # the solution: a module per part, hidden from the worker
    template: Path | None = None  # what students receive: a module per part
    split: NotebookSplit | None = None
    # Slow imports that grading makes every worker do sooner or later: a fresh worker does
    # them before its first request, while the grading process starts; a zygote before it forks.
    worker_imports: tuple[str, ...] = ()
    # The handouts' written questions and their rubric (grader/written/questions.py reads
    # it): instructor-only, `grade release` leaves it out.
    questions: Path | None = None
    # Instructor-only: the module (a name, or a `.py` path) whose `answer(question, *args)`,
    # `compute(question, *args)` and `recorded(seed)` give the checks' expected values
    # (`grader.expected`); `grade release` records its answers and leaves it out.
    oracle: str | None = None
    # The package the worker imports besides the engine's own: its `probes` subpackage runs
    # probes (`part.probe("tp1.train", ...)` runs `<worker>.probes.tp1.train`), its
    # `install()`, if any, runs once before student code loads.
    worker: str | None = None
    # The folders of the `grader` package the sandboxed worker may see: the worker package
    # and what it draws from (data); never the rubric, oracle, questions or reference.
    worker_folders: tuple[Path, ...] = ()

    def __post_init__(self):
        names = self.part_names
        if len(set(names)) != len(names):
            raise ValueError(f"lab {self.name}: a part is declared twice")
        for group in [a.parts for a in self.assignments] + (
            [self.split.parts] if self.split else []
        ):
            if not set(group) <= set(names):
                raise ValueError(
                    f"lab {self.name}: {sorted(set(group) - set(names))} are not parts"
                )
        covered = [p for a in self.assignments for p in a.parts]
        if sorted(covered) != sorted(names):
            raise ValueError(f"lab {self.name}: every part must be in exactly one assignment")
        if self.split and self.split.titles and len(self.split.titles) != len(self.split.parts):
            raise ValueError(
                f"lab {self.name}: the split names {len(self.split.parts)} parts but "
                f"{len(self.split.titles)} titles"
            )

    @property
    def part_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parts)

    def assignment_of(self, part: str) -> Assignment:
        return {p: a for a in self.assignments for p in a.parts}[part]

    def assignment(self, name: str) -> Assignment:
        return {a.name: a for a in self.assignments}[name]

    def graded(self, found, tp: str | None = None) -> tuple[Assignment, ...]:
        """The assignments to grade: the one `tp` names (every one for "all"), else those
        of which a part is among `found` (every one when none is)."""
        if tp == "all":
            return self.assignments
        if tp:
            return (self.assignment(tp),)
        return tuple(a for a in self.assignments if set(a.parts) & set(found)) or self.assignments

    def parts_of(self, assignments) -> tuple[str, ...]:
        """Their parts, in grading order."""
        return tuple(p for p in self.part_names if any(p in a.parts for a in assignments))

    def selection(self, found, tp: str | None = None, only=None) -> tuple[tuple[str, ...], str]:
        """The parts to grade (those of the assignments `graded` picks, or, given `only`,
        those of `only` among the assignment `tp` names), and the line that says which
        assignments were graded and which were left out."""
        chosen = self.graded(found, tp or ("all" if only else None))
        left = [a for a in self.assignments if a not in chosen]
        line = f"graded {titles(chosen)}"
        if left:
            why = f"--tp {tp}" if tp else "none of its parts found"
            line += f"; left out {titles(left)} ({why})"
        return tuple(p for p in self.parts_of(chosen) if not only or p in only), line

    def by_assignment(self, parts) -> list[tuple[str, tuple[str, ...]]]:
        """`parts` grouped by assignment, in grading order: (its name, its parts among them)."""
        groups = [
            (a.name, tuple(p for p in self.part_names if p in a.parts and p in parts))
            for a in self.assignments
        ]
        return sorted([g for g in groups if g[1]], key=lambda g: self.part_names.index(g[1][0]))

    def course_modules(self) -> dict[str, str]:
        """Each name a student imports or `%run`s a course helper by -> its module."""
        helpers = [a.helper for a in self.assignments if a.helper]
        return {name: h.module for h in helpers for name in (h.module, *h.names)}

    def provided(self, part: str) -> dict[str, str]:
        """Each global the helpers of `part`'s assignments provide -> the helper's module."""
        return {
            name: a.helper.module
            for a in self.assignments
            if part in a.parts and a.helper
            for name in a.helper.provides
        }
