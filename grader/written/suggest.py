"""What the marking page proposes, never decides: the key points found in an answer, a
suggested mark from their weights, the misconceptions it seems to state; answers grouped
by the key points they share (one mark per group), and near-identical answers (copies)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import combinations

from grader.written.matching import fold, key_points_found, spans
from grader.written.questions import Question

COPY_SIMILARITY = 0.8  # Jaccard similarity of word 3-grams above which two answers are copies
COPY_MIN_WORDS = 12  # shorter answers (a pair of numbers) are alike by nature


@dataclass(frozen=True)
class Suggestion:
    found: tuple[str, ...]  # key point ids
    mark: float  # a suggestion only, in steps of half a point
    misconceptions: tuple[str, ...]  # their texts


def suggest(question: Question, text: str) -> Suggestion:
    found = key_points_found(question, text)
    total = sum(k.weight for k in question.key_points)
    share = sum(k.weight for k in question.key_points if k.id in found) / total if total else 0.0
    wrong = tuple(m.text for m in question.misconceptions if spans(text, m.phrases))
    return Suggestion(
        tuple(k.id for k in question.key_points if k.id in found),
        round(2 * question.points * share) / 2,
        wrong,
    )


def highlight(question: Question, text: str) -> list[tuple[str, str | None]]:
    """`text` cut into (piece, key point id or None), for the page to highlight."""
    marks = sorted((a, b, kid) for kid, s in key_points_found(question, text).items() for a, b in s)
    pieces: list[tuple[str, str | None]] = []
    at = 0
    for a, b, kid in marks:
        if a < at:
            continue
        if a > at:
            pieces.append((text[at:a], None))
        pieces.append((text[a:b], kid))
        at = b
    if at < len(text):
        pieces.append((text[at:], None))
    return pieces


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = fold(re.sub(r"\s+", " ", text))[0].split()
    return {tuple(words[i : i + 3]) for i in range(max(0, len(words) - 2))}


def copies(answers: dict[str, str]) -> dict[str, list[str]]:
    """Student -> the others whose answer is near-identical to theirs."""
    grams = {sid: _shingles(t) for sid, t in answers.items() if len(t.split()) >= COPY_MIN_WORDS}
    found: dict[str, list[str]] = {}
    for a, b in combinations(sorted(grams), 2):
        union = grams[a] | grams[b]
        if union and len(grams[a] & grams[b]) / len(union) >= COPY_SIMILARITY:
            found.setdefault(a, []).append(b)
            found.setdefault(b, []).append(a)
    return found


def groups(found: dict[str, tuple[str, ...]]) -> list[tuple[tuple[str, ...], list[str]]]:
    """Students grouped by the key points found in their answers, most complete first."""
    by: dict[tuple[str, ...], list[str]] = {}
    for sid in sorted(found):
        by.setdefault(found[sid], []).append(sid)
    return sorted(by.items(), key=lambda g: (-len(g[0]), -len(g[1]), g[0]))
