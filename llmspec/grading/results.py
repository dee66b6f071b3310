"""Per-submission report files in the published formats, plus reading them back for resume/merge.

* Gradescope ``results.json`` (gradescope/autograder_samples docs/specs.md); our ``max_score`` and
  stage totals are in ``extra_data.llmspec``, as the spec has no top-level ``max_score``.
* JUnit XML for CI dashboards (the instructor's view: hidden tests keep their details); a test that
  did not judge an answer is an ``<error>``, a wrong answer a ``<failure>``.
"""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from llmspec import __version__
from llmspec.grading.scoring import Graded, GradedTest, release_of, student_message, summary
from llmspec.i18n import _

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean(text: str, limit: int) -> str:
    """Printable text, at most ``limit`` characters, saying how much was cut."""
    text = _CONTROL.sub("?", str(text))
    if len(text) <= limit:
        return text
    marker = f"\n... [truncated: {len(text) - limit} more characters]"
    return text[: max(0, limit - len(marker))] + marker


def gradescope(g: Graded, config_fingerprint: str, max_chars: int = 2000, assignment: str = "",
               digest: str = "") -> dict:
    concealed = [t for t in g.tests if not t.shown]
    tests = [
        {
            "name": t.test_id,
            "number": t.number,
            "score": t.score,
            "max_score": t.max_score,
            "status": "passed" if t.passed else "failed",
            "output": clean(student_message(t), max_chars),
            "output_format": "text",
            "visibility": t.visibility,
            "tags": [t.stage],
        }
        for t in g.tests
    ]
    if concealed:
        tests.insert(0, summary_test(g, concealed, max_chars))
    return {
        "score": g.score,
        "execution_time": float(g.execution_time),
        "output": clean(summary(g, student=True), max_chars * 4),
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {
            "llmspec": {
                "version": __version__,
                "complete": True,
                "config": config_fingerprint,
                "submission_sha256": digest,  # of the files graded: resume grades a changed one again
                "assignment": assignment,
                "submission": g.name,
                "source": g.source,
                "status": g.status,
                "reason": g.reason,
                "max_score": g.max_score,
                "stages": g.stage_totals(),
            },
            # attempts on what a submission may not see (llmspec.sandbox.readrules), for the instructor
            "flags": g.flags,
        },
    }


def summary_test(g: Graded, concealed: list[GradedTest], max_chars: int) -> dict:
    """The whole summary (total, every stage's points) as a zero-point test, shown when the concealed
    tests are: after the due date, or (``after_published``, ``hidden``) when the grades are published.

    Why a test: Gradescope shows the top-level ``output`` at once, and hides a student's total while a
    test is not yet shown, except a ``hidden`` one ("Test cases with visibility set to hidden don't
    affect this", gradescope/autograder_samples docs/specs.md).  A test with points marked ``hidden``
    would leave the total, hence what the hidden tests earned, in view; this test keeps it hidden."""
    return {
        "name": _("Total score and points per stage"),
        "number": "0",
        "score": 0.0,
        "max_score": 0.0,
        "status": "passed",
        "output": clean(summary(g), max_chars * 4),
        "output_format": "text",
        "visibility": release_of(concealed),
        "tags": [],
        "extra_data": {"llmspec_summary": True},
    }


def graded_tests(data: dict) -> list[dict]:
    """The graded tests of a ``results.json`` (without :func:`summary_test`)."""
    return [t for t in data["tests"] if not (t.get("extra_data") or {}).get("llmspec_summary")]


def junit_xml(g: Graded, max_chars: int = 20000) -> str:
    errors = sum(not t.passed and t.error for t in g.tests)
    failures = sum(not t.passed for t in g.tests) - errors
    counts = {"tests": str(len(g.tests)), "failures": str(failures), "errors": str(errors)}
    suites = ET.Element("testsuites", name="llmspec", **counts, time=f"{g.execution_time:.3f}")
    suite = ET.SubElement(suites, "testsuite", name=g.name, **counts, skipped="0", time=f"{g.execution_time:.3f}")
    props = ET.SubElement(suite, "properties")
    for key, value in (("score", g.score), ("max_score", g.max_score), ("status", g.status), ("source", g.source)):
        ET.SubElement(props, "property", name=key, value=clean(str(value), 1000))
    for t in g.tests:
        case = ET.SubElement(suite, "testcase", classname=f"llmspec.{t.stage}", name=t.test_id,
                             time=f"{t.duration:.3f}")
        if not t.passed:
            msg = clean(t.message, max_chars)
            first = msg.splitlines()[0] if msg.strip() else "failed"
            fail = ET.SubElement(case, "error" if t.error else "failure", message=first[:500],
                                 type="NotJudged" if t.error else "AssertionError")
            fail.text = msg
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def load_valid(path: Path, fingerprint: str | None = None, digest: str | None = None) -> dict | None:
    """A complete ``results.json`` written by us (and, if given, under the same config and of the
    same files), else None."""
    try:
        data = json.loads(Path(path).read_text("utf-8"))
        meta = data["extra_data"]["llmspec"]
        ok = (
            meta.get("complete") is True
            and isinstance(data.get("score"), (int, float))
            and isinstance(data.get("tests"), list)
            and (fingerprint is None or meta.get("config") == fingerprint)
            and (digest is None or meta.get("submission_sha256") == digest)
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return data if ok else None
