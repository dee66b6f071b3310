"""GitHub Classroom: one runner result per stage, shaped for the reporter the students read.

A Classroom workflow ends with ``classroom-resources/autograding-grading-reporter`` (v1, ``dist/main.js``).
It reads one base64 JSON runner result (version 3) per runner from ``<RUNNER>_RESULTS``, records the grade
``Points ${totalPoints}/${maxPoints}`` (every test's ``score`` added in JavaScript doubles), prints per
runner ``(passed / tests.length * max_score).toFixed(2)``, and per test its name and ``test_code``, or,
for status ``error``, only ``Error: ${message}``.  So each stage is a runner whose score is that quotient
(:func:`llmspec.grading.scoring.earned_cents`), the test scores sum in doubles exactly to the total
(:func:`exact_addends`), and a failure's explanation goes in ``test_code`` (an error's in ``message``).
``classroom.env`` holds the ``<STAGE>_RESULTS=`` lines and ``LLMSPEC_RUNNERS=`` their ids, for
``$GITHUB_ENV`` (docs/instructors.md has the whole workflow).
"""
from __future__ import annotations

import base64
import json
import math

from llmspec.grading.results import clean
from llmspec.sandbox import readrules
from llmspec.grading.scoring import Graded, GradedTest, cents, first_line, student_message

RUNNERS_VAR = "LLMSPEC_RUNNERS"
EXPLANATION_CHARS = 1000  # per test, in the Actions log


def env_name(runner: str) -> str:
    """The variable the reporter reads a runner's result from (``${runner.toUpperCase()}_RESULTS``)."""
    return f"{runner.strip().upper()}_RESULTS"


def exact_addends(cents_list: list[int]) -> list[float]:
    """Test scores that the reporter, adding them from 0 left to right in doubles, sums to exactly the
    double of the total in cents (the notice says ``72.29``, never ``72.28999999999998``).

    The shares themselves when their double sum is already exact; else every running total is put
    on the grid of the total's last bit (``math.ulp``), where every value below the total is a
    double and no addition rounds, and the scores are the steps between them: each differs from its
    share by less than that bit (about 1e-14), the failed tests' zeros stay zero."""
    total = sum(cents_list) / 100
    shares = [c / 100 for c in cents_list]
    acc = 0.0
    for share in shares:
        acc += share
    if acc == total:
        return shares
    grid = math.ulp(total)
    out, before, running = [], 0.0, 0
    for c in cents_list:
        running += c
        here = round(running / 100 / grid) * grid
        out.append(here - before)
        before = here
    return out


def _test(name: str, status: str, score: float, message: str, test_code: str, duration: float) -> dict:
    """One test of a runner result (no file and line: the reporter would print " - line N")."""
    return {"name": name, "status": status, "score": score, "message": message, "test_code": test_code,
            "filename": "", "line_no": 0, "duration": duration}


def _entry(t: GradedTest, score: float) -> dict:
    status = "pass" if t.passed else "error" if t.error else "fail"
    explanation = clean(student_message(t), EXPLANATION_CHARS)  # untrusted text, printed in the log
    # the reporter prints an error's message instead of its name (say which test it was), and a
    # failure's explanation only through test_code
    message = f"{t.test_id}: {first_line(explanation)}" if status == "error" else explanation
    return _test(t.test_id, status, score, message, explanation if status == "fail" else "", t.duration)


def runner_results(g: Graded) -> dict[str, dict]:
    """``{stage: runner result}`` in the assignment's stage order."""
    addends = iter(exact_addends([cents(t.score) for t in g.tests]))
    entries = [(t, _entry(t, next(addends))) for t in g.tests]
    out: dict[str, dict] = {}
    for stage, totals in g.stage_totals().items():
        tests = [e for t, e in entries if t.stage == stage]
        statuses = {e["status"] for e in tests}
        status = ("fail" if "fail" in statuses else "error" if "error" in statuses or g.status != "graded"
                  else "pass")
        out[stage] = {"version": 3, "status": status, "max_score": totals["max_score"], "tests": tests}
    if g.flags:  # attempts on what a submission may not see: a runner of no points, one line each
        lines = readrules.flag_lines(g.flags)
        out["attempts"] = {"version": 3, "status": "fail", "max_score": 0, "tests": [
            _test("attempts", "fail", 0, lines[0], clean("\n".join(lines), EXPLANATION_CHARS), 0)]}
    return out


def classroom_env(g: Graded) -> str:
    """``classroom.env``: lines for ``$GITHUB_ENV`` (the runner ids, then one result per stage)."""
    results = runner_results(g)
    lines = [f"{RUNNERS_VAR}={','.join(results)}"]
    for runner, payload in results.items():
        blob = base64.b64encode(json.dumps(payload, ensure_ascii=False).encode()).decode()
        lines.append(f"{env_name(runner)}={blob}")
    return "\n".join(lines) + "\n"
