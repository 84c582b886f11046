"""The terminal summary: a line per part, then each failed test with its message.

On a terminal: a rich table (one row a part) and the failures in colour. Plain text, with
the same content, when piped or when NO_COLOR is set. Student text (names, messages)
arrives without control characters (`grader.render.inert`).
"""

from __future__ import annotations

import os
import sys

from grader.render.inert import terminal
from grader.results import Report

MARK = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "skipped": "SKIP"}


def _fmt(x: float) -> str:
    return f"{x:g}"


def lines(report: Report) -> list[str]:
    out = [
        f"{report.submission}: {_fmt(report.score)} / {_fmt(report.max_score)} points (seed {report.seed})",
        "",
    ]
    for part in report.parts:
        score, total = report.part_score(part.part)
        where = f"  ({part.source})" if part.found else "  (not found)"
        if part.found and not part.started:
            where += "  not started: the template as handed out"
        out.append(f"  {part.part:<13} {_fmt(score):>5} / {_fmt(total):<5}{where}")
        out += [f"      note: {note}" for note in part.notes]
        for skipped in part.skipped:
            out.append(f"      skipped at load time: {skipped['where']}: {skipped['error']}")
    failed, unlisted = _failed(report)
    if failed or unlisted:
        out += [
            "",
            f"{len(failed) + unlisted} of {len(report.tests)} checks did not pass"
            f"{_not_started(report)}:",
        ]
    for t in failed:
        question = f" [{t.question}]" if t.question else ""
        out.append(f"  {MARK[t.status]} {t.id} ({_fmt(t.score)}/{_fmt(t.max_score)}){question}")
        out += [f"      {line}" for line in t.message.splitlines()]
        if t.diagnosis:
            out.append(f"      likely mistake: {t.diagnosis}")
        if t.same_mistake_as:
            out.append(f"      the same mistake as {t.same_mistake_as}, counted here too")
    return [terminal(line, line=True) for line in out]


def _failed(report: Report) -> tuple[list, int]:
    """The checks that did not pass, but those of parts not started (how many, instead)."""
    idle = {p.part for p in report.parts if p.found and not p.started}
    failed = [t for t in report.tests if t.status != "passed"]
    return [t for t in failed if t.part not in idle], sum(t.part in idle for t in failed)


def _not_started(report: Report) -> str:
    idle = [p.part for p in report.parts if p.found and not p.started]
    return f" (those of {', '.join(idle)}, not started, are not listed)" if idle else ""


def render(report: Report, stream=None, color: bool | None = None) -> None:
    stream = stream or sys.stdout
    if color is None:
        color = stream.isatty() and "NO_COLOR" not in os.environ
    if not color:
        print("\n".join(lines(report)), file=stream)
        return
    _render_rich(report, stream)


STYLE = {"passed": "green", "failed": "red", "error": "magenta", "skipped": "yellow"}


def _render_rich(report: Report, stream) -> None:
    """A table of the parts (one row a part), then each check that did not pass with its
    message and diagnosis: the same content as `lines`, in colour."""
    from rich.console import Console
    from rich.markup import escape as markup
    from rich.table import Table

    def escape(text: str) -> str:
        return markup(terminal(text, line=True))

    console = Console(file=stream, highlight=False, force_terminal=True)
    table = Table(
        title=f"{escape(report.submission)}: {_fmt(report.score)} / {_fmt(report.max_score)} points "
        f"(seed {report.seed})",
        title_justify="left",
        show_edge=False,
    )
    for column in ("part", "score", "checks", "found in"):
        table.add_column(column, justify="right" if column == "score" else "left")
    for part in report.parts:
        score, total = report.part_score(part.part)
        tests = report.part_tests(part.part)
        counts = {s: sum(t.status == s for t in tests) for s in STYLE}
        checks = " ".join(f"[{STYLE[s]}]{n} {MARK[s]}[/]" for s, n in counts.items() if n)
        style = "green" if total and score == total else ("red" if score < total else "")
        table.add_row(
            part.part,
            f"[{style}]{_fmt(score)} / {_fmt(total)}[/]"
            if style
            else f"{_fmt(score)} / {_fmt(total)}",
            checks,
            (escape(part.source) + ("" if part.started else " [yellow](not started)[/]"))
            if part.found
            else "[yellow](not found)[/]",
        )
    console.print(table)
    for part in report.parts:
        for note in part.notes:
            console.print(f"  [cyan]note[/] on {part.part}: {escape(note)}")
        for skipped in part.skipped:
            console.print(
                f"  [yellow]skipped at load time[/] in {part.part}: {escape(skipped['where'])}: "
                f"{escape(skipped['error'])}"
            )
    failed, unlisted = _failed(report)
    if failed or unlisted:
        console.print(
            f"\n{len(failed) + unlisted} of {len(report.tests)} checks did not pass"
            f"{escape(_not_started(report))}:"
        )
    for t in failed:
        question = f" [{t.question}]" if t.question else ""
        console.print(
            f"  [bold {STYLE[t.status]}]{MARK[t.status]}[/] {escape(t.id)} "
            f"({_fmt(t.score)}/{_fmt(t.max_score)}){escape(question)}"
        )
        for line in t.message.splitlines():
            console.print(f"      {escape(line)}")
        if t.diagnosis:
            console.print(f"      [yellow]likely mistake:[/] {escape(t.diagnosis)}")
        if t.same_mistake_as:
            console.print(
                f"      [yellow]the same mistake as[/] {escape(t.same_mistake_as)}, counted here too"
            )
