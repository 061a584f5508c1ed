"""JUnit XML for CI: one testsuite per submission, one testcase per check.

Ids are stable from run to run: classname `<assignment>.<item>`, name the check's name (the score is in
the testcase's system-out, `score: 1/2`, never in its name). Each testsuite carries `file` (the notebook),
`timestamp` (ISO 8601, UTC, when the XML was written unless given) and `hostname`. A submission that could
not be graded is one error testcase (`grading`); an item without checks (not answered, not run) one
testcase named `answer`; a prose answer awaiting the grader a skipped testcase, message
"pending: graded by hand". Hidden checks show only their name and the fixed hidden-check message
(`workflow.feedback.hidden_message`). Valid against Jenkins' junit-10.xsd (tests/fixtures/junit-10.xsd).
"""
from __future__ import annotations

import socket
from datetime import datetime, timezone
from xml.etree import ElementTree as ET

from ..results import CheckResult, ItemResult, SubmissionResult
from ..workflow.feedback import hidden_message
from .gradescope import PENDING

FAILED, ERRORED = ("failed", "partial"), ("error", "not_run")


def _case(suite: ET.Element, classname: str, name: str, status: str, message: str, score: str,
          seconds: float = 0.0, detail: str | None = None) -> None:
    case = ET.SubElement(suite, "testcase", classname=classname, name=name, time=f"{seconds:.3f}")
    if status == "skipped":
        ET.SubElement(case, "skipped", message=message)
    elif status in FAILED:
        ET.SubElement(case, "failure", type=status, message=message or "failed").text = detail
    elif status in ERRORED:
        ET.SubElement(case, "error", type=status, message=message or status).text = detail
    if score:
        ET.SubElement(case, "system-out").text = score


def _check_case(suite, classname: str, item: ItemResult, c: CheckResult) -> None:
    hidden = item.visibility == "hidden" or c.hidden
    message = hidden_message(c.status) if hidden else c.message
    detail = None if hidden or (c.expected is None and c.got is None) else f"expected: {c.expected}\ngot: {c.got}"
    _case(suite, classname, c.name, c.status, message, f"score: {c.score:g}/{c.max_score:g}", c.seconds, detail)


def _suite(root: ET.Element, r: SubmissionResult, timestamp: str) -> None:
    suite = ET.SubElement(root, "testsuite", name=f"{r.student or r.submission}:{r.assignment}",
                          tests="0", failures="0", errors="0", skipped="0",
                          time=f"{r.timings.get('total_s', 0):.3f}", timestamp=timestamp,
                          hostname=r.environment.get("hostname") or socket.gethostname() or "localhost",
                          file=str(r.submission))
    props = ET.SubElement(suite, "properties")
    for name, value in (("score", f"{r.score:g}"), ("auto_max_score", f"{r.auto_max_score:g}"),
                        ("max_score", f"{r.max_score:g}"), ("status", r.status)):
        ET.SubElement(props, "property", name=name, value=value)
    if r.status == "error":
        _case(suite, str(r.assignment), "grading", "error", r.error or "could not be graded", "")
    for item in r.items:
        classname = f"{r.assignment}.{item.id}"
        if item.status == "manual":
            _case(suite, classname, "written answer", "skipped", PENDING, f"score: -/{item.max_score:g}")
        elif not item.checks:
            message = hidden_message(item.status) if item.visibility == "hidden" else item.feedback
            _case(suite, classname, "answer", item.status, message, f"score: {item.score:g}/{item.max_score:g}")
        for c in item.checks:
            _check_case(suite, classname, item, c)
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    for attr, tag in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
        suite.set(attr, str(sum(c.find(tag) is not None for c in cases)))


def to_junit(results: list[SubmissionResult], timestamp: datetime | None = None) -> str:
    "One JUnit XML document (testsuites) for a batch."
    when = (timestamp or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    root = ET.Element("testsuites", name="ch4grade")
    for r in results:
        _suite(root, r, when)
    for attr in ("tests", "failures", "errors"):
        root.set(attr, str(sum(int(s.get(attr)) for s in root)))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
