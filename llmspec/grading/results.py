"""Per-submission report files in the published formats, plus reading them back for resume/merge.

* Gradescope ``results.json`` (gradescope/autograder_samples docs/specs.md): top-level ``score``,
  ``execution_time`` (a number, seconds), ``output``, ``visibility``, ``stdout_visibility``,
  ``extra_data``, ``tests[]`` with ``name``, ``number``, ``score``, ``max_score``, ``status``
  (``passed|failed``), ``output`` (truncated), ``visibility``, ``tags``.  The spec has no top-level
  ``max_score``; ours is in ``extra_data.llmspec`` with the stage totals.
* GitHub Classroom runner payload: ``result`` = base64 of ``{"version": 3, "status", "max_score",
  "tests": [{"name", "status", "score", "message", "duration", ...}]}`` (classroom-resources
  autograding-python-grader); its reporter scores pass-count/test-count, ignoring per-test ``score``.
* JUnit XML for CI dashboards (the instructor's view: hidden tests keep their details).
"""
from __future__ import annotations

import base64
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from llmspec import __version__
from llmspec.grading.scoring import Graded, student_message, summary

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean(text: str, limit: int) -> str:
    """Printable text, at most ``limit`` characters, saying how much was cut."""
    text = _CONTROL.sub("?", str(text))
    if len(text) <= limit:
        return text
    marker = f"\n... [truncated: {len(text) - limit} more characters]"
    return text[: max(0, limit - len(marker))] + marker


def gradescope(g: Graded, config_fingerprint: str, max_chars: int = 2000, assignment: str = "") -> dict:
    return {
        "score": g.score,
        "execution_time": float(g.execution_time),
        "output": clean(summary(g), max_chars * 4),
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [
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
        ],
        "extra_data": {
            "llmspec": {
                "version": __version__,
                "complete": True,
                "config": config_fingerprint,
                "assignment": assignment,
                "submission": g.name,
                "source": g.source,
                "status": g.status,
                "reason": g.reason,
                "max_score": g.max_score,
                "stages": g.stage_totals(),
            },
            # attempts on what a submission may not see (llmspec.sandbox.attempts), for the instructor
            "flags": g.flags,
        },
    }


def classroom_payload(g: Graded) -> dict:
    status = "pass" if all(t.passed for t in g.tests) else ("fail" if g.status == "graded" else "error")
    return {
        "version": 3,
        "status": status,
        "max_score": g.max_score,
        "tests": [
            {
                "name": t.test_id,
                "status": "pass" if t.passed else "fail",
                "score": t.score,
                "message": clean(student_message(t), 500),
                "test_code": "",
                "filename": "",
                "line_no": 0,
                "duration": t.duration,
            }
            for t in g.tests
        ],
    }


def classroom_result(g: Graded) -> str:
    """The value of the runner step's ``result`` output."""
    return base64.b64encode(json.dumps(classroom_payload(g)).encode()).decode()


def junit_xml(g: Graded, max_chars: int = 20000) -> str:
    failures = sum(not t.passed for t in g.tests)
    suites = ET.Element("testsuites", name="llmspec", tests=str(len(g.tests)),
                        failures=str(failures), errors="0", time=f"{g.execution_time:.3f}")
    suite = ET.SubElement(suites, "testsuite", name=g.name, tests=str(len(g.tests)),
                          failures=str(failures), errors="0", skipped="0", time=f"{g.execution_time:.3f}")
    props = ET.SubElement(suite, "properties")
    for key, value in (("score", g.score), ("max_score", g.max_score), ("status", g.status), ("source", g.source)):
        ET.SubElement(props, "property", name=key, value=clean(str(value), 1000))
    for t in g.tests:
        case = ET.SubElement(suite, "testcase", classname=f"llmspec.{t.stage}", name=t.test_id,
                             time=f"{t.duration:.3f}")
        if not t.passed:
            msg = clean(t.message, max_chars)
            first = msg.splitlines()[0] if msg.strip() else "failed"
            fail = ET.SubElement(case, "failure", message=first[:500], type="AssertionError")
            fail.text = msg
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def load_valid(path: Path, fingerprint: str | None = None) -> dict | None:
    """A complete ``results.json`` written by us (and, if given, under the same config), else None."""
    try:
        data = json.loads(Path(path).read_text("utf-8"))
        meta = data["extra_data"]["llmspec"]
        ok = (
            meta.get("complete") is True
            and isinstance(data.get("score"), (int, float))
            and isinstance(data.get("tests"), list)
            and (fingerprint is None or meta.get("config") == fingerprint)
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return data if ok else None
