"""The HTML feedback report: one self-contained page (no external CSS, JS or fonts),
rendered with Jinja2 from the template shipped beside this module. Plots are inline SVG
(`grader.render.plots`), each with a text alternative."""

from __future__ import annotations

from grader.artifacts import Boundary
from grader.labs import current
from grader.render import plots, templates
from grader.results import Report

ICON = {"passed": "✔", "failed": "✘", "error": "⚠", "skipped": "–"}


def render(report: Report, ahead: Draft | None = None) -> str:
    """`ahead`: the plots drawn while the submission was graded, if it saw every test."""
    drawn = ahead.plots if ahead and ahead.ids == [t.id for t in report.tests] else figures(report)
    parts = []
    for part in report.parts:
        score, total = report.part_score(part.part)
        parts.append(
            {
                "result": part,
                "score": score,
                "max_score": total,
                "ratio": score / total if total else 0.0,
                "tests": report.part_tests(part.part),
            }
        )
    failed = [t for t in report.tests if t.status != "passed"]
    begun = {p.part for p in report.parts if p.started}  # a part not started is not where to look
    first = next((t for t in failed if t.part in begun), None)
    return (
        templates()
        .get_template("report.html.j2")
        .render(
            report=report,
            parts=parts,
            icon=ICON,
            figures=drawn,
            lab=current(),
            first=first,
            failures=len(failed),
        )
    )


def figures(report: Report) -> dict[str, list[plots.Plot]]:
    """The plots of each test that recorded artifacts (matplotlib is imported only then)."""
    drawn = Draft()
    for t in report.tests:
        drawn.add(t)
    return drawn.plots


class Draft:
    """The plots, drawn test by test in the report's order (`grader.render.Ahead` feeds it
    each result as it comes). Training runs that pass start from the same weights and end
    with nearly the same network (a lab may train one network several ways): a decision
    boundary is drawn for the first of them that passes, and for every one that fails."""

    def __init__(self):
        self.plots: dict[str, list[plots.Plot]] = {}
        self.ids: list[str] = []  # the tests seen, in order
        self.passed_shown = False

    def add(self, t) -> None:
        i = len(self.ids)
        self.ids.append(t.id)
        if not t.artifacts:
            return
        show = any(isinstance(a, Boundary) for a in t.artifacts) and (
            t.status != "passed" or not self.passed_shown
        )
        self.plots[t.id] = plots.for_test(t, prefix=f"t{i}-", boundary=show)
        if t.status == "passed" and any(p.kind == Boundary.kind for p in self.plots[t.id]):
            self.passed_shown = True
