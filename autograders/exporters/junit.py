"""JUnit XML for CI: one testsuite per submission, one testcase per check."""
from __future__ import annotations

from xml.etree import ElementTree as ET

from ..results import SubmissionResult


def to_junit(results: list[SubmissionResult]) -> str:
    root = ET.Element("testsuites", name="ch4grade")
    for r in results:
        cases = [(item, c) for item in r.items if item.status != "manual" for c in item.checks]
        suite = ET.SubElement(root, "testsuite", name=f"{r.student or r.submission}:{r.assignment}",
                              tests=str(max(len(cases), 1)), time=f"{r.timings.get('total_s', 0):.3f}",
                              failures=str(sum(c.status in ("failed", "partial") for _, c in cases)),
                              errors=str(sum(c.status in ("error", "not_run") for _, c in cases) + (r.status == "error")),
                              skipped="0")
        ET.SubElement(suite, "properties")
        if r.status == "error":
            case = ET.SubElement(suite, "testcase", classname=str(r.assignment), name="grading", time="0")
            ET.SubElement(case, "error", message=r.error or "could not be graded")
        for item, c in cases:
            case = ET.SubElement(suite, "testcase", classname=f"{r.assignment}.{item.id}",
                                 name=f"{c.name} [{c.score:g}/{c.max_score:g}]", time=f"{c.seconds:.3f}")
            if c.status in ("failed", "partial"):
                ET.SubElement(case, "failure", message=c.message or "failed").text = \
                    f"expected: {c.expected}\ngot: {c.got}" if c.expected or c.got else None
            elif c.status in ("error", "not_run"):
                ET.SubElement(case, "error", message=c.message or c.status)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
