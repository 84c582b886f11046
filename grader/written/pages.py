"""The marking pages, one per question: every student's answer side by side, the key
points found highlighted, a suggested mark labelled as one, answers grouped by the key
points they share, copies flagged, the students who did not answer. The same page is
written as a static file by the batch and served, with its marking controls, by
`grade review`. Also the written part of a student's own report (marks, items, comments)."""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2

from grader.written.questions import Question, Questions
from grader.written.store import MarkStore
from grader.written.suggest import copies, groups, highlight

SHORTCUTS = [
    ("j / k", "next / previous answer"),
    ("n / p", "next / previous group"),
    ("1-9", "tick rubric item"),
    ("m", "type the mark"),
    ("Enter", "save (in the mark field: and go on)"),
    ("g", "give this answer's mark to its whole group"),
]


@functools.cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def question_view(store: MarkStore, questions: Questions, question: Question) -> dict:
    """Everything a question's page shows, from the store."""
    answers = store.answers(question.key)
    marks = store.marks(question.key)
    copied = copies({sid: a["text"] for sid, a in answers.items()})
    ids = {k.id: i for i, k in enumerate(question.key_points)}
    view_groups = []
    for found, sids in groups({sid: a["found"] for sid, a in answers.items()}):
        members = []
        for sid in sids:
            a = answers[sid]
            mark = marks.get((sid, question.key))
            members.append(
                {
                    "sid": sid,
                    "pieces": [(t, ids.get(k)) for t, k in highlight(question, a["text"])],
                    "digest": a["digest"],
                    "flags": a["flags"],
                    "copied": copied.get(sid, []),
                    "misconceptions": a["misconceptions"],
                    "suggestion": a["suggestion"],
                    "together": [questions.get(k).label for k in a["together"] if questions.get(k)],
                    "found": set(a["found"]),
                    "mark": mark,
                    "changed": bool(mark and mark.digest and mark.digest != a["digest"]),
                }
            )
        suggestion = members[0]["suggestion"] if members else None
        view_groups.append(
            {
                "found": [ids[k] for k in found if k in ids],
                "members": members,
                "suggestion": suggestion,
            }
        )
    missing = [sid for sid in store.students() if sid not in answers]
    if missing:
        view_groups.append(
            {
                "missing": True,
                "found": [],
                "suggestion": None,
                "members": [
                    {
                        "sid": sid,
                        "pieces": [],
                        "digest": "",
                        "flags": [],
                        "copied": [],
                        "misconceptions": [],
                        "suggestion": None,
                        "together": [],
                        "found": set(),
                        "mark": marks.get((sid, question.key)),
                        "changed": False,
                    }
                    for sid in missing
                ],
            }
        )
    marked = sum((sid, question.key) in marks for sid in store.students())
    return {
        "question": question,
        "groups": view_groups,
        "missing": missing,
        "marked": marked,
        "students": len(store.students()),
    }


def render_question(
    store: MarkStore, questions: Questions, question: Question, token: str | None = None
) -> str:
    """The page of a question; with `token`, the marking controls of `grade review`."""
    keys = [q.key for q in questions.questions]
    i = keys.index(question.key)
    return (
        _env()
        .get_template("question.html.j2")
        .render(
            **question_view(store, questions, question),
            token=token,
            shortcuts=SHORTCUTS,
            previous=keys[i - 1] if i else None,
            next=keys[i + 1] if i + 1 < len(keys) else None,
        )
    )


def render_index(store: MarkStore, questions: Questions, token: str | None = None) -> str:
    marks = store.marks()
    students = store.students()
    rows = []
    for q in questions.questions:
        answered = len(store.answers(q.key))
        rows.append(
            {
                "question": q,
                "answered": answered,
                "marked": sum((sid, q.key) in marks for sid in students),
            }
        )
    return (
        _env()
        .get_template("index.html.j2")
        .render(rows=rows, students=len(students), token=token, notes=store.notes())
    )


def write_static(out: Path, store: MarkStore, questions: Questions) -> None:
    """OUT/written/index.html and one page per question (no marking controls)."""
    from grader.batch.atomic import atomic_write

    folder = Path(out) / "written"
    atomic_write(folder / "index.html", render_index(store, questions))
    for q in questions.questions:
        atomic_write(folder / f"{q.key}.html", render_question(store, questions, q))


def student_part(store: MarkStore, questions: Questions, sid: str) -> str | None:
    """The written part of one student's report, or None while nothing of theirs is marked."""
    marks = store.marks()
    rows = []
    for q in questions.questions:
        m = marks.get((sid, q.key))
        if m is not None:
            given = [k.text for k in q.key_points if k.id in m.items]
            rows.append({"question": q, "mark": m.mark, "given": given, "comment": m.comment})
    if not rows:
        return None
    return (
        _env()
        .get_template("student.html.j2")
        .render(
            rows=rows,
            total=sum(r["mark"] for r in rows),
            out_of=sum(r["question"].points for r in rows),
        )
    )
