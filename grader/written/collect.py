"""The batch's side of the written answers: read each student's report, split it, store
the answers (replacing the previous run's, keeping every mark), suggest marks for the
answers not seen before, and write the static pages."""

from __future__ import annotations

import hashlib
from pathlib import Path

from grader.written.pages import write_static
from grader.written.questions import Questions
from grader.written.reading import fingerprint, read_report
from grader.written.splitting import split_documents
from grader.written.store import MarkStore, path_in
from grader.written.suggest import suggest

MAX_ANSWER = 20_000  # characters of one answer kept: a page shows the whole class's


def _capped(text: str, flags: list[str], together: tuple[str, ...]):
    if len(text) > MAX_ANSWER:
        text, flags = text[:MAX_ANSWER] + " [...]", [*flags, f"cut at {MAX_ANSWER} characters"]
    return text, flags, together


def collect(
    out: Path, entries: list[tuple[str, Path]], questions: Questions
) -> tuple[MarkStore, int] | None:
    """(the store, how many answers were suggested afresh) after reading every (id, path)
    whose report changed since the last run; None when no student handed in a report and
    nothing was ever marked (a batch of code only)."""
    known = path_in(out).exists()
    read_before = _read_before(out) if known else {}
    rules = hashlib.sha256(repr(questions).encode()).hexdigest()[:8]  # a new rubric: split again
    found = {}
    for sid, path in entries:
        dig = f"{fingerprint(path)}-{rules}"
        if read_before.get(sid) == dig:
            continue
        report = read_report(path)
        split = split_documents(report.documents, questions)
        notes = report.notes + split.notes
        if not report.documents and not report.notes:
            notes.append("no report found (a .pdf, .md or .txt file, or notebook markdown cells)")
        answers = {k: _capped(a.text, a.flags, a.together) for k, a in split.answers.items()}
        found[sid] = (answers, notes, dig)
    if not known and not any(answers for answers, _, _ in found.values()):
        return None
    store = MarkStore(path_in(out))
    for sid, (answers, notes, dig) in found.items():
        store.put_student(sid, answers, notes, dig)
    store.keep_students({sid for sid, _ in entries})
    fresh = store.unsuggested()
    for key, dig, text in fresh:
        q = questions.get(key)
        if q is not None:
            s = suggest(q, text)
            store.put_suggestion(key, dig, s.found, s.mark, s.misconceptions)
    write_static(out, store, questions)
    return store, len(fresh)


def _read_before(out: Path) -> dict[str, str]:
    store = MarkStore(path_in(out))
    try:
        return store.reports()
    finally:
        store.close()
