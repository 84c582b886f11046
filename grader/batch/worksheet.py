"""`grade batch --moodle-worksheet FILE`: Moodle's grading worksheet (Assignment > "Download
grading worksheet", a CSV) filled with the batch's grades, for "Upload grading worksheet".

A row is matched on its "Identifier" ("Participant 123456"), the participant id of the
student's folder in "Download all submissions", never on the name. Its "Grade" is the
score scaled to the worksheet's "Maximum grade" (the assignment's maximum in Moodle: a
course graded out of 20 gets full marks as 20), rounded to 2 decimals, written with the
worksheet's decimal separator; its "Feedback comments" the report's summary. Everything
else (columns, order, encoding, byte-order mark, delimiter, line ends) is kept as it came.
A submission that could not be graded leaves its row's grade as it was, with the reason
as feedback. Students without a submission, and submissions without a row, are listed.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from grader.batch import moodle
from grader.batch.atomic import atomic_write
from grader.render.inert import cell  # what Excel, opening the file before upload, shows as text
from grader.results import Graded, Report

PARTICIPANT = re.compile(r"(\d+)\s*$")


class WorksheetError(Exception):
    """The worksheet cannot be read or filled (exit status 2)."""


def _column(header: list[str], name: str) -> int | None:
    wanted = name.casefold()
    return next((k for k, h in enumerate(header) if h.strip().casefold() == wanted), None)


def _number(text: str) -> float | None:
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        return None


def feedback(report: Report) -> str:
    """The report's summary: the total, each part, the checks that did not pass (ids only)."""
    parts = "; ".join(
        f"{p.part} {report.part_score(p.part)[0]:g}/{report.part_score(p.part)[1]:g}"
        for p in report.parts
    )
    failed = [t.id for t in report.tests if t.status != "passed"]
    line = f"Autograder: {report.score:g} / {report.max_score:g} points ({parts})."
    if failed:
        line += f" {len(failed)} of {len(report.tests)} checks did not pass: {', '.join(failed)}."
    return line


def fill(text: str, rows: list[Graded], students: dict[str, moodle.Student]) -> tuple[str, dict]:
    """The worksheet `text` filled; and {"filled", "missing" (rows without a submission),
    "unmatched" (submissions without a row)}."""
    newline = "\r\n" if "\r\n" in text else "\n"
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    table = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if not table:
        raise WorksheetError("the grading worksheet is empty")
    header = table[0]
    ident, grade, maximum, name = (
        _column(header, n) for n in ("Identifier", "Grade", "Maximum grade", "Full name")
    )
    if ident is None or grade is None:
        raise WorksheetError(
            'not Moodle\'s grading worksheet: it has no "Identifier" and "Grade" columns'
        )
    comments = _column(header, "Feedback comments")
    if comments is None:  # the feedback plugin was off at download: Moodle imports it by name
        header.append("Feedback comments")
        comments = len(header) - 1
    by_participant = {s.participant: g for g in rows if (s := students.get(g.id))}
    seen, filled, missing = set(), 0, []
    for row in table[1:]:
        if len(row) <= ident or not row[ident].strip():
            continue
        row += [""] * (len(header) - len(row))
        m = PARTICIPANT.search(row[ident])
        graded = by_participant.get(m.group(1)) if m else None
        if graded is None:
            missing.append(row[ident] + (f" ({row[name]})" if name is not None else ""))
            continue
        seen.add(graded.id)
        if graded.report is None:
            row[comments] = cell(f"Not graded automatically: {graded.error}")
            continue
        report, top = graded.report, _number(row[maximum]) if maximum is not None else None
        value = report.score
        if top is not None and report.max_score:
            value = report.score / report.max_score * top
        decimal = "," if maximum is not None and "," in row[maximum] else "."
        row[grade] = f"{value:.2f}".replace(".", decimal)
        row[comments] = cell(feedback(report))
        filled += 1
    unmatched = sorted(g.id for g in rows if g.id not in seen)
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=newline).writerows(table)
    return buffer.getvalue(), {"filled": filled, "missing": missing, "unmatched": unmatched}


def main(path: Path, class_dir: Path, rows: list[Graded], out: Path) -> str:
    """Fill the worksheet at `path` into OUT/moodle-NAME; return what to print."""
    raw = path.read_bytes()
    encoding = "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        encoding, text = "cp1252", raw.decode("cp1252", errors="replace")
    filled, found = fill(text, rows, moodle.students(class_dir))
    target = out / f"moodle-{path.name}"
    atomic_write(target, filled, encoding)
    lines = [
        f"Moodle grading worksheet: {found['filled']} grades filled: {target} "
        "(upload it to the assignment)"
    ]
    if found["missing"]:
        lines.append(
            f"  in the worksheet, without a submission ({len(found['missing'])}): "
            + ", ".join(found["missing"])
        )
    if found["unmatched"]:
        lines.append(
            f"  submissions without a row in the worksheet ({len(found['unmatched'])}): "
            + ", ".join(found["unmatched"])
        )
    return "\n".join(lines)
