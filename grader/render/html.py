"""The HTML feedback report: one self-contained page (no external CSS, JS or fonts),
rendered with Jinja2 from the template shipped beside this module."""
from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, PackageLoader

from grader.results import Report

ICON = {"passed": "✔", "failed": "✘", "error": "⚠", "skipped": "–"}


def render(report: Report) -> str:
    env = Environment(loader=PackageLoader("grader.render", "templates"),
                      autoescape=True, trim_blocks=True, lstrip_blocks=True)
    parts = []
    for part in report.parts:
        score, total = report.part_score(part.part)
        parts.append({"result": part, "score": score, "max_score": total,
                      "ratio": score / total if total else 0.0, "tests": report.part_tests(part.part)})
    return env.get_template("report.html.j2").render(report=report, parts=parts, icon=ICON)


def write(report: Report, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(report), encoding="utf-8")
