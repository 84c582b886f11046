"""JUnit XML, one testcase per rubric test, for CI systems that show test results."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from grader.results import Report


def as_xml(report: Report) -> ET.ElementTree:
    counts = {s: sum(t.status == s for t in report.tests) for s in ("failed", "error", "skipped")}
    suites = ET.Element("testsuites", name=report.submission, tests=str(len(report.tests)),
                        failures=str(counts["failed"]), errors=str(counts["error"]),
                        skipped=str(counts["skipped"]), time=f"{report.seconds:.2f}")
    for part in report.parts:
        tests = report.part_tests(part.part)
        suite = ET.SubElement(suites, "testsuite", name=part.part, tests=str(len(tests)),
                              failures=str(sum(t.status == "failed" for t in tests)),
                              errors=str(sum(t.status == "error" for t in tests)),
                              skipped=str(sum(t.status == "skipped" for t in tests)),
                              time=f"{sum(t.seconds for t in tests):.3f}")
        for t in tests:
            case = ET.SubElement(suite, "testcase", classname=part.part, name=t.id, time=f"{t.seconds:.3f}")
            ET.SubElement(case, "properties").extend(
                [ET.Element("property", name="score", value=f"{t.score:g}"),
                 ET.Element("property", name="max_score", value=f"{t.max_score:g}")])
            text = t.message + (f"\nLikely mistake: {t.diagnosis}" if t.diagnosis else "")
            tag = {"failed": "failure", "error": "error", "skipped": "skipped"}.get(t.status)
            if tag:
                ET.SubElement(case, tag, message=t.message.splitlines()[0] if t.message else t.status).text = text
            if t.output and t.status != "passed":
                ET.SubElement(case, "system-out").text = t.output[-2000:]
    ET.indent(suites)
    return ET.ElementTree(suites)


def write(report: Report, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    as_xml(report).write(path, encoding="utf-8", xml_declaration=True)
