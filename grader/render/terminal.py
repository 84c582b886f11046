"""The terminal summary: a line per part, then each failed test with its message.

Colour and tables (rich) on a terminal; plain text when piped or when NO_COLOR is set.
"""
from __future__ import annotations

import os
import sys

from grader.results import Report

MARK = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "skipped": "SKIP"}


def _fmt(x: float) -> str:
    return f"{x:g}"


def lines(report: Report) -> list[str]:
    out = [f"{report.submission}: {_fmt(report.score)} / {_fmt(report.max_score)} points (seed {report.seed})", ""]
    for part in report.parts:
        score, total = report.part_score(part.part)
        where = f"  ({part.source})" if part.found else "  (not found)"
        out.append(f"  {part.part:<13} {_fmt(score):>5} / {_fmt(total):<5}{where}")
        for skipped in part.skipped:
            out.append(f"      skipped at load time: {skipped['where']}: {skipped['error']}")
    failed = [t for t in report.tests if t.status != "passed"]
    if failed:
        out += ["", f"{len(failed)} of {len(report.tests)} checks did not pass:"]
    for t in failed:
        question = f" [{t.question}]" if t.question else ""
        out.append(f"  {MARK[t.status]} {t.id} ({_fmt(t.score)}/{_fmt(t.max_score)}){question}")
        out += [f"      {line}" for line in t.message.splitlines()]
        if t.diagnosis:
            out.append(f"      likely mistake: {t.diagnosis}")
    return out


def render(report: Report, stream=None, color: bool | None = None) -> None:
    stream = stream or sys.stdout
    if color is None:
        color = stream.isatty() and "NO_COLOR" not in os.environ
    text = "\n".join(lines(report))
    if not color:
        print(text, file=stream)
        return
    from rich.console import Console
    from rich.markup import escape
    style = {"PASS": "green", "FAIL": "red", "ERROR": "magenta", "SKIP": "yellow"}
    console = Console(file=stream, highlight=False)
    for line in text.splitlines():
        word = line.strip().split(" ", 1)[0]
        console.print(f"[{style[word]}]{escape(line)}[/]" if word in style else escape(line))
