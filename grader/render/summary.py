"""The class summary: one self-contained HTML page (no external CSS, JS or fonts) that
says what the class got wrong — score distribution, pass rate per check, the most
frequent diagnoses, per-part means, failures to grade, and submissions whose code is
identical once normalised (same AST)."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import datetime, timezone

from grader.labs import current
from grader.render import templates
from grader.results import Graded

BINS = 10  # histogram of totals, in tenths of the maximum
TOP_DIAGNOSES = 20


def histogram(ratios: list[float], bins: int = BINS) -> list[dict]:
    """Counts of ratios in [0, 1] per bin, the last bin closed; with the bars' SVG geometry."""
    counts = [0] * bins
    for r in ratios:
        counts[min(bins - 1, max(0, int(r * bins)))] += 1
    top = max(counts, default=0) or 1
    width, height = 40, 160
    return [
        {
            "label": f"{100 * k // bins}–{100 * (k + 1) // bins}%",
            "count": c,
            "x": 40 + k * (width + 6),
            "height": round(height * c / top, 1),
            "y": round(20 + height - height * c / top, 1),
            "width": width,
        }
        for k, c in enumerate(counts)
    ]


def checks(graded: list[Graded]) -> list[dict]:
    """Pass rate per check id, hardest first."""
    by_id: dict[str, dict] = {}
    for g in graded:
        for t in g.report.tests:
            row = by_id.setdefault(
                t.id,
                {
                    "id": t.id,
                    "part": t.part,
                    "name": t.name,
                    "n": 0,
                    "statuses": Counter(),
                    "points": t.max_score,
                },
            )
            row["n"] += 1
            row["statuses"][t.status] += 1
    for row in by_id.values():
        row["rate"] = row["statuses"]["passed"] / row["n"]
    return sorted(by_id.values(), key=lambda r: (r["rate"], r["id"]))


def diagnoses(graded: list[Graded], top: int = TOP_DIAGNOSES) -> list[dict]:
    """The likely mistakes found most often: what to explain again in the next lecture."""
    students: dict[str, set] = defaultdict(set)
    where: dict[str, set] = defaultdict(set)
    for g in graded:
        for t in g.report.tests:
            if t.diagnosis and t.status != "passed":
                students[t.diagnosis].add(g.id)
                where[t.diagnosis].add(t.id)
    rows = [
        {"diagnosis": d, "count": len(s), "students": sorted(s), "checks": sorted(where[d])}
        for d, s in students.items()
    ]
    return sorted(rows, key=lambda r: (-r["count"], r["diagnosis"]))[:top]


def part_means(graded: list[Graded], parts: tuple[str, ...]) -> list[dict]:
    rows = []
    for part in parts:
        scores = [g.report.part_score(part) for g in graded]
        top = max((m for _, m in scores), default=0.0)
        mean = statistics.fmean(s for s, _ in scores) if scores else 0.0
        found = sum(any(p.part == part and p.found for p in g.report.parts) for g in graded)
        rows.append(
            {
                "part": part,
                "mean": mean,
                "max": top,
                "ratio": mean / top if top else 0.0,
                "found": found,
                "n": len(scores),
            }
        )
    return rows


def identical(graded: list[Graded], parts: tuple[str, ...]) -> dict:
    """Groups of two or more submissions with the same normalised code: whole submissions
    (same parts, each the same), then part by part. A group whose members all scored 0 on
    the part (the unchanged template, say) is left out."""
    scored = {g.id: g for g in graded if g.report is not None}
    whole: dict[tuple, list[str]] = defaultdict(list)
    for g in graded:
        prints = tuple(sorted((p, f) for p, f in g.fingerprints.items() if p in parts))
        if prints and (g.id not in scored or scored[g.id].report.score > 0):
            whole[prints].append(g.id)
    by_part = []
    for part in parts:
        groups: dict[str, list[str]] = defaultdict(list)
        for g in graded:
            if part in g.fingerprints:
                groups[g.fingerprints[part]].append(g.id)
        for ids in groups.values():
            if len(ids) < 2:
                continue
            points = [scored[i].report.part_score(part)[0] for i in ids if i in scored]
            if points and not any(points):
                continue
            by_part.append({"part": part, "students": sorted(ids)})
    groups = sorted(
        (sorted(ids) for ids in whole.values() if len(ids) > 1), key=lambda ids: (-len(ids), ids)
    )
    by_part = [g for g in by_part if g["students"] not in groups]  # already listed as a whole
    return {
        "whole": groups,
        "parts": sorted(by_part, key=lambda g: (-len(g["students"]), g["part"], g["students"])),
    }


def context(rows: list[Graded], parts: tuple[str, ...], seed: int = 0) -> dict:
    graded = [g for g in rows if g.report is not None]
    failed = [g for g in rows if g.report is None]
    totals = [g.report.score for g in graded]
    maxima = Counter(g.report.max_score for g in graded)
    max_score = maxima.most_common(1)[0][0] if maxima else 0.0
    ratios = [g.report.score / g.report.max_score if g.report.max_score else 0.0 for g in graded]
    stats = None
    if totals:
        stats = {
            "mean": statistics.fmean(totals),
            "median": statistics.median(totals),
            "min": min(totals),
            "max": max(totals),
            "full": sum(g.report.all_passed and bool(g.report.tests) for g in graded),
        }
    return {
        "n": len(rows),
        "graded": graded,
        "failed": failed,
        "max_score": max_score,
        "stats": stats,
        "histogram": histogram(ratios),
        "checks": checks(graded),
        "diagnoses": diagnoses(graded),
        "parts": part_means(graded, parts),
        "identical": identical(rows, parts),
        "seed": seed,
        "flagged": [g for g in sorted(graded, key=lambda g: g.id) if g.report.flags],
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "students": sorted(rows, key=lambda g: g.id),
        "lab": current(),
    }


def render(rows: list[Graded], parts: tuple[str, ...], seed: int = 0) -> str:
    return templates().get_template("summary.html.j2").render(**context(rows, parts, seed))
