"""The written marks merged into what `grade batch` writes, after it wrote it: extra
columns in grades.csv, the marked questions in each Gradescope file (and its score), a
section of the class summary, and the written part of each student's report (once one of
their answers is marked; nothing before). Rewritten whole on every run: idempotent."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import statistics
from pathlib import Path

from grader.batch.atomic import atomic_write
from grader.render.inert import text_of
from grader.written.pages import student_part
from grader.written.questions import Questions
from grader.written.store import MarkStore

BEGIN, END = "<!-- written answers -->", "<!-- /written answers -->"
SECTION = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)


def _num(x: float) -> str:
    return f"{x:g}"


def grades_csv(path: Path, store: MarkStore, questions: Questions) -> None:
    """Columns `written` (the marks given, summed), `written_max` (the points of the questions
    marked) and one per question (its mark, empty until marked)."""
    if not path.exists():
        return
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    if not rows:
        return
    marks = store.marks()
    ours = ["written", "written_max", *(q.label for q in questions.questions)]
    kept = [
        i for i, name in enumerate(rows[0]) if name not in ours
    ]  # a second merge replaces the first
    rows = [[row[i] for i in kept if i < len(row)] for row in rows]
    rows[0] += ours
    for row in rows[1:]:
        sid = text_of(row[0]) if row else ""  # grades.csv quotes an id like `=2+3`
        given = {
            q.key: marks[sid, q.key].mark for q in questions.questions if (sid, q.key) in marks
        }
        points = sum(q.points for q in questions.questions if q.key in given)
        row += [
            _num(sum(given.values())) if given else "",
            _num(points) if given else "",
            *(_num(given[q.key]) if q.key in given else "" for q in questions.questions),
        ]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    atomic_write(path, buffer.getvalue(), "utf-8-sig")


def gradescope(folder: Path, store: MarkStore, questions: Questions) -> None:
    """Each marked question a test of OUT/gradescope/ID.json, its mark added to the score."""
    marks = store.marks()
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        sid = path.stem
        given = [(q, marks[sid, q.key]) for q in questions.questions if (sid, q.key) in marks]
        if not given:
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        tests = [
            t for t in data.get("tests", []) if not str(t.get("number", "")).startswith("written:")
        ]
        for q, m in given:
            items = [k.text for k in q.key_points if k.id in m.items]
            output = "\n".join(
                ([f"Credited: {'; '.join(items)}"] if items else [])
                + ([f"Comment: {m.comment}"] if m.comment else [])
            )
            tests.append(
                {
                    "name": f"Written {q.label}: {q.summary}",
                    "number": f"written:{q.key}",
                    "score": m.mark,
                    "max_score": q.points,
                    "output": output,
                    "output_format": "text",
                    "tags": ["written"],
                    "visibility": "visible",
                }
            )
        code = sum(
            t.get("score", 0) for t in tests if not str(t.get("number", "")).startswith("written:")
        )
        data["tests"], data["score"] = tests, code + sum(m.mark for _, m in given)
        atomic_write(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def summary(path: Path, store: MarkStore, questions: Questions) -> None:
    """A section of the class summary: per question, answered, marked and the mean mark."""
    if not path.exists():
        return
    students = store.students()
    marks = store.marks()
    lines = [
        BEGIN,
        '<section id="written"><h2>Written answers</h2><div style="overflow-x: auto"><table>',
        "<tr><th>question</th><th>answered</th><th>marked</th><th>mean mark</th></tr>",
    ]
    for q in questions.questions:
        answered = len(store.answers(q.key))
        given = [marks[s, q.key].mark for s in students if (s, q.key) in marks]
        mean = f"{statistics.fmean(given):.2f} / {q.points:g}" if given else "-"
        lines.append(
            f"<tr><td>{html.escape(q.label)}: {html.escape(q.summary)}</td>"
            f"<td>{answered} / {len(students)}"
            f"</td><td>{len(given)}</td><td>{mean}</td></tr>"
        )
    lines += ["</table></div></section>", END]
    _insert(path, "\n".join(lines))


def student_reports(folder: Path, store: MarkStore, questions: Questions) -> None:
    for sid in store.students():
        path = folder / f"{sid}.html"
        if path.exists():
            part = student_part(store, questions, sid)
            _insert(path, f"{BEGIN}\n{part}\n{END}" if part else "")


def _insert(path: Path, block: str) -> None:
    """`block` in place of the previous one, else before `</main>` or `</body>`."""
    text = path.read_text(encoding="utf-8")
    if SECTION.search(text):
        new = SECTION.sub(lambda _: block, text, count=1)
    elif not block:
        return
    else:
        at = text.rfind("</main>")
        at = at if at >= 0 else text.rfind("</body>")
        at = at if at >= 0 else len(text)
        new = text[:at] + block + "\n" + text[at:]
    if new != text:
        atomic_write(path, new)


def merge(out: Path, store: MarkStore, questions: Questions) -> None:
    grades_csv(out / "grades.csv", store, questions)
    gradescope(out / "gradescope", store, questions)
    summary(out / "summary.html", store, questions)
    student_reports(out / "reports", store, questions)
