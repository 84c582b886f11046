"""JUnit XML, one testcase per rubric test, for CI systems that show test results.

It follows `junit-10.xsd`, the schema Jenkins and GitLab read (tests/junit-10.xsd): a
testcase holds no properties, so each part's score, max_score and the seed are properties of its
testsuite; `<testsuites>` has no `skipped` count (each testsuite has its own).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from grader.render.inert import terminal
from grader.results import Report

TAG = {"failed": "failure", "error": "error", "skipped": "skipped"}


def _suite(
    parent: ET.Element, name: str, tests: list, score: float, max_score: float, seed: int
) -> ET.Element:
    suite = ET.SubElement(
        parent,
        "testsuite",
        name=name,
        tests=str(len(tests)),
        failures=str(sum(t.status == "failed" for t in tests)),
        errors=str(sum(t.status == "error" for t in tests)),
        skipped=str(sum(t.status == "skipped" for t in tests)),
        time=f"{sum(t.seconds for t in tests):.3f}",
    )
    ET.SubElement(suite, "properties").extend(
        [
            ET.Element("property", name="score", value=f"{score:g}"),
            ET.Element("property", name="max_score", value=f"{max_score:g}"),
            ET.Element("property", name="seed", value=str(seed)),
        ]
    )  # a regrade at it gives the same
    return suite


def as_xml(report: Report) -> ET.Element:
    errors = sum(t.status == "error" for t in report.tests) + bool(report.error)
    suites = ET.Element(
        "testsuites",
        name=report.submission,
        tests=str(len(report.tests) + bool(report.error)),
        failures=str(sum(t.status == "failed" for t in report.tests)),
        errors=str(errors),
        time=f"{report.seconds:.2f}",
    )
    if report.error:  # not graded: one testcase in error says why
        suite = _suite(suites, report.submission, [], 0.0, 0.0, report.seed)
        suite.set("tests", "1")
        suite.set("errors", "1")
        case = ET.SubElement(
            suite, "testcase", classname="submission", name="submission", time="0.000"
        )
        ET.SubElement(case, "error", message=report.error).text = report.error
    for part in report.parts:
        tests = report.part_tests(part.part)
        suite = _suite(suites, part.part, tests, *report.part_score(part.part), report.seed)
        for t in tests:
            case = ET.SubElement(
                suite, "testcase", classname=part.part, name=t.id, time=f"{t.seconds:.3f}"
            )
            text = (
                t.message
                + (f"\nLikely mistake: {t.diagnosis}" if t.diagnosis else "")
                + (
                    f"\nThe same mistake as {t.same_mistake_as}, counted here too."
                    if t.same_mistake_as
                    else ""
                )
            )
            if t.status in TAG:
                ET.SubElement(
                    case,
                    TAG[t.status],
                    message=t.message.splitlines()[0] if t.message else t.status,
                ).text = text
            if t.output and t.status != "passed":
                ET.SubElement(case, "system-out").text = t.output[-2000:]
    ET.indent(suites)
    return suites


def render(report: Report) -> str:
    # XML 1.0 holds no control character but tab, newline and CR: a student's NUL or ESC would
    # make the file unreadable to the CI that shows it. They are written as escapes.
    xml = ET.tostring(as_xml(report), encoding="unicode")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + terminal(xml) + "\n"
