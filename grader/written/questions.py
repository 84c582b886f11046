"""The written questions of a lab, as data (a TOML file the lab names): for each its
handout, number, summary, points, rubric of key points (a weight, and the phrases in each
language that signal it) and common misconceptions. The instructor edits the file; the
student edition ships without it (the key points are the answers)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tomllib


class QuestionsError(Exception):
    """The questions file cannot be used: one line saying where and why."""


@dataclass(frozen=True)
class KeyPoint:
    id: str
    text: str
    weight: float
    phrases: tuple[str, ...]  # any language: a word ending in `*` is a prefix


@dataclass(frozen=True)
class Misconception:
    text: str
    phrases: tuple[str, ...]


@dataclass(frozen=True)
class Question:
    handout: str
    number: int
    summary: str
    points: float
    key_points: tuple[KeyPoint, ...]
    misconceptions: tuple[Misconception, ...] = ()

    @property
    def key(self) -> str:
        """Stable id, in file names, URLs and the database: `1-ab-Q3`."""
        return f"{self.handout}-Q{self.number}"

    @property
    def label(self) -> str:
        return f"{self.handout} Q{self.number}"


@dataclass(frozen=True)
class Handout:
    name: str
    title: str
    headings: tuple[str, ...]  # words of a heading that starts this handout's answers


@dataclass(frozen=True)
class Questions:
    handouts: tuple[Handout, ...]  # in the order a report answers them
    questions: tuple[Question, ...]

    def of(self, handout: str) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.handout == handout)

    def get(self, key: str) -> Question | None:
        return next((q for q in self.questions if q.key == key), None)

    def highest(self, handout: str) -> int:
        return max((q.number for q in self.of(handout)), default=0)


def _strings(value, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise QuestionsError(f"{where}: expected a list of non-empty strings")
    return tuple(value)


def parse(data: dict, source: str = "questions") -> Questions:
    try:
        handouts = tuple(
            Handout(
                name,
                h.get("title", name),
                _strings(h.get("headings", []), f"{source}: handout {name} headings"),
            )
            for name, h in data["handouts"].items()
        )
        names = {h.name for h in handouts}
        questions = []
        for q in data["question"]:
            where = f"{source}: question {q.get('handout', '?')} Q{q.get('number', '?')}"
            if q["handout"] not in names:
                raise QuestionsError(
                    f"{where}: handout {q['handout']!r} is not declared in [handouts]"
                )
            keys = tuple(
                KeyPoint(
                    k.get("id", f"k{j + 1}"),
                    k["text"],
                    float(k.get("weight", 1)),
                    _strings(k.get("en", []) + k.get("fr", []) + k.get("phrases", []), where),
                )
                for j, k in enumerate(q.get("key", []))
            )
            wrong = tuple(
                Misconception(m["text"], _strings(m.get("phrases", []), where))
                for m in q.get("misconception", [])
            )
            if any(k.weight <= 0 for k in keys) or float(q["points"]) <= 0 or int(q["number"]) < 1:
                raise QuestionsError(f"{where}: points, numbers and weights must be above 0")
            questions.append(
                Question(
                    q["handout"], int(q["number"]), q["summary"], float(q["points"]), keys, wrong
                )
            )
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise QuestionsError(f"{source}: malformed ({type(e).__name__}: {e})") from None
    seen = [q.key for q in questions]
    if len(set(seen)) != len(seen):
        raise QuestionsError(f"{source}: a question is declared twice")
    return Questions(
        handouts,
        tuple(
            sorted(questions, key=lambda q: ([h.name for h in handouts].index(q.handout), q.number))
        ),
    )


def load(path: Path) -> Questions:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise QuestionsError(
            f"{path}: the written questions are not in this edition of the grader"
        ) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise QuestionsError(f"{path}: cannot read the written questions ({e})") from None
    return parse(data, Path(path).name)


def of_lab(lab) -> Questions | None:
    """The lab's written questions, or None when it declares none."""
    path = getattr(lab, "questions", None)
    return load(path) if path else None
