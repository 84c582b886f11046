"""Finding a question's key phrases in an answer, whatever its case, accents, hyphens or
line breaks: the answer is folded to lowercase ASCII letters and digits (each folded
character remembers where it came from, for highlighting), a phrase to a regex."""

from __future__ import annotations

import functools
import re
import unicodedata

from grader.written.questions import Question


def fold(text: str) -> tuple[str, list[int]]:
    """(folded text, index in `text` of each folded character):
    `Non-linéarité` -> `non linearite`."""
    out, where = [], []
    for i, ch in enumerate(text):
        base = "".join(
            c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)
        ).lower()
        for c in base or " ":
            out.append(c if c.isalnum() else " ")
            where.append(i)
    return "".join(out), where


@functools.lru_cache(maxsize=4096)
def pattern(phrase: str) -> re.Pattern:
    """A phrase's words, separated by any spacing; a word ending in `*` is a prefix."""
    parts = []
    for word in phrase.split():
        tokens = fold(word.rstrip("*"))[0].split()
        parts += [re.escape(t) for t in tokens]
        if word.endswith("*") and parts:
            parts[-1] += r"\w*"
    return re.compile(r"(?<!\w)" + r"\s+".join(parts) + r"(?!\w)")


def spans(text: str, phrases) -> list[tuple[int, int]]:
    """Where any of `phrases` occurs in `text` (original offsets), sorted, not overlapping."""
    folded, where = fold(text)
    found = []
    for phrase in phrases:
        for m in pattern(phrase).finditer(folded):
            if m.end() > m.start():
                found.append((where[m.start()], where[m.end() - 1] + 1))
    merged: list[tuple[int, int]] = []
    for a, b in sorted(found):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def key_points_found(question: Question, text: str) -> dict[str, list[tuple[int, int]]]:
    """Key point id -> its phrases' spans in `text`, for the key points found."""
    found = {}
    for kp in question.key_points:
        if s := spans(text, kp.phrases):
            found[kp.id] = s
    return found


def coverage(question: Question, text: str) -> float:
    """The weight of the key points found, over the rubric's (0 when it has none)."""
    total = sum(k.weight for k in question.key_points)
    if not total:
        return 0.0
    found = key_points_found(question, text)
    return sum(k.weight for k in question.key_points if k.id in found) / total
