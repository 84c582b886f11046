"""The written half of a lab: the report's answers collected by question, read side by
side and marked once (`grade review`), the marks merged into the batch's outputs.

    questions  the lab's written questions (a TOML file the lab names)
    reading    a report's text: PDF, Markdown, text, a notebook's markdown cells
    splitting  the text cut into one answer per question
    matching   key phrases found in an answer
    suggest    suggested marks, groups of alike answers, copies
    store      OUT/written/marks.sqlite
    pages      the marking pages and the student's written part
    collect    the batch's side: read, split, store, suggest, write the pages
    merge      the marks into grades.csv, Gradescope, the summary, the reports
    review     `grade review OUT`, the local marking server
"""

from __future__ import annotations

import sys
from pathlib import Path


def after_batch(out: Path, entries: list[tuple[str, Path]]) -> None:
    """`grade batch`'s hook: collect the class's written answers and merge the marks given
    so far. A lab without written questions (or an edition without them) has nothing to do;
    a questions file that cannot be read says so in a line."""
    from grader.labs import current
    from grader.written.collect import collect
    from grader.written.merge import merge
    from grader.written.questions import QuestionsError, of_lab

    lab = current()
    if lab.questions is not None and not Path(lab.questions).exists():
        return  # the student edition: its wheel leaves the questions out
    try:
        questions = of_lab(lab)
    except QuestionsError as e:
        print(f"grade: written answers skipped: {e}", file=sys.stderr)
        return
    if questions is None:
        return
    first: dict[str, Path] = {}
    for sid, path in entries:  # an id given twice is not graded: its first entry is read
        first.setdefault(sid, Path(path))
    collected = collect(out, sorted(first.items()), questions)
    if collected is None:
        return
    store = collected[0]
    try:
        merge(out, store, questions)
    finally:
        store.close()
