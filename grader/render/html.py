"""The HTML feedback report: one self-contained page (no external CSS, JS or fonts),
rendered with Jinja2 from the template shipped beside this module. Plots are inline SVG
(`grader.render.plots`), each with a text alternative."""
from __future__ import annotations

from jinja2 import Environment, PackageLoader

from grader.artifacts import Boundary
from grader.render import plots
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
    return env.get_template("report.html.j2").render(report=report, parts=parts, icon=ICON,
                                                     figures=figures(report))


def figures(report: Report) -> dict[str, list[plots.Plot]]:
    """The plots of each test that recorded artifacts (matplotlib is imported only then).
    The four TP 1-ab training runs that pass start from the same weights and end with
    nearly the same network: the decision boundary is drawn for the first of them that
    passes, and for every one that fails."""
    out, passed_shown = {}, False
    for i, t in enumerate(report.tests):
        if not t.artifacts:
            continue
        show = any(isinstance(a, Boundary) for a in t.artifacts) and (t.status != "passed" or not passed_shown)
        out[t.id] = plots.for_test(t, prefix=f"t{i}-", boundary=show)
        if t.status == "passed" and any(p.kind == Boundary.kind for p in out[t.id]):
            passed_shown = True
    return out
