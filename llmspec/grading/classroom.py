"""GitHub Classroom: one runner result per stage, shaped for the reporter the students read.

A Classroom autograding workflow ends with ``classroom-resources/autograding-grading-reporter``.  Its
released code (tag v1, ``dist/main.js``, read for this module) reads one base64 JSON "runner result"
(version 3) per runner id from ``<RUNNER>_RESULTS`` and prints:

1. the grade Classroom records, a notice ``Points ${totalPoints}/${maxPoints}`` (NotifyClassroom):
   ``totalPoints`` adds every test's ``score``, runner after runner (those with a ``max_score``),
   left to right in JavaScript doubles; ``maxPoints`` adds the runners' ``max_score``;
2. per runner, ``Total points for ${runner}: ${(passed / tests.length * max_score).toFixed(2)}/${max_score}``
   (ConsoleResults; ``passed`` counts status ``pass``), and a table of the same quotient, unrounded;
3. per test, its name (status ``pass``/``fail``) and ``Test code:`` then ``test_code`` when that is set;
   only for status ``error`` does it print ``Error: ${message}`` instead of the name.

So llmspec writes one runner per stage, whose tests share the stage's points equally (a stage's score
is the reporter's quotient rounded as ``toFixed(2)`` rounds it: :func:`llmspec.grading.scoring.earned_cents`),
each test's ``score`` written so that the reporter's double sum lands exactly on the total's double
(:func:`exact_addends`), and the explanation of a failure in ``test_code`` (of an error, in ``message``).
The grading step hands them on through ``$GITHUB_ENV``: ``classroom.env`` holds one
``<STAGE>_RESULTS=...`` line per stage and ``LLMSPEC_RUNNERS=`` their ids, which the reporter step takes
as ``runners: ${{ env.LLMSPEC_RUNNERS }}`` (docs/instructors.md has the whole workflow).
"""
from __future__ import annotations

import base64
import json
import math

from llmspec.grading.results import clean
from llmspec.sandbox import attempts
from llmspec.grading.scoring import Graded, GradedTest, cents, first_line, half_up_cents, student_message

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


def _entry(t: GradedTest, score: float) -> dict:
    status = "pass" if t.passed else "error" if t.error else "fail"
    explanation = clean(student_message(t), EXPLANATION_CHARS)  # untrusted text, printed in the log
    return {
        "name": t.test_id,
        "status": status,
        "score": score,
        # the reporter prints an error's message instead of its name: say which test it was
        "message": f"{t.test_id}: {first_line(explanation)}" if status == "error" else explanation,
        # and a failure's explanation only through test_code
        "test_code": explanation if status == "fail" else "",
        "filename": "",
        "line_no": 0,
        "duration": t.duration,
    }


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
        lines = attempts.lines(g.flags)
        out["attempts"] = {"version": 3, "status": "fail", "max_score": 0, "tests": [
            {"name": "attempts", "status": "fail", "score": 0, "message": lines[0],
             "test_code": clean("\n".join(lines), EXPLANATION_CHARS), "filename": "", "line_no": 0, "duration": 0}]}
    return out


def classroom_env(g: Graded) -> str:
    """``classroom.env``: lines for ``$GITHUB_ENV`` (the runner ids, then one result per stage)."""
    results = runner_results(g)
    lines = [f"{RUNNERS_VAR}={','.join(results)}"]
    for runner, payload in results.items():
        blob = base64.b64encode(json.dumps(payload, ensure_ascii=False).encode()).decode()
        lines.append(f"{env_name(runner)}={blob}")
    return "\n".join(lines) + "\n"


def read_env(text: str) -> dict[str, dict]:
    """The runner results of a ``classroom.env``, in the order the reporter reads them."""
    values = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    runners = [r for r in values.get(RUNNERS_VAR, "").split(",") if r]
    return {r: json.loads(base64.b64decode(values[env_name(r)])) for r in runners}


# --- what the reporter prints, computed as it computes it (the tests and the audit read it) ------
def notice(results: dict[str, dict]) -> tuple[float, float]:
    """``(totalPoints, maxPoints)`` of the notice ``Points ${totalPoints}/${maxPoints}``."""
    total = maximum = 0.0
    for payload in results.values():
        if not payload.get("max_score"):
            continue
        maximum += payload["max_score"]
        for t in payload["tests"]:
            total += t["score"]
    return total, maximum


def runner_points(payload: dict) -> float:
    """A runner's points on its console line and in the table: passed / tests x max_score."""
    passed = sum(t["status"] == "pass" for t in payload["tests"])
    return passed / len(payload["tests"]) * (payload.get("max_score") or 0)


def js_number(x: float) -> str:
    """How JavaScript prints a double in a template string (shortest round trip; 100, not 100.0)."""
    return str(int(x)) if x == int(x) and abs(x) < 1e21 else repr(x)


def to_fixed2(x: float) -> str:
    """JavaScript's ``x.toFixed(2)`` for x >= 0: the double's exact value rounded half up."""
    c = half_up_cents(x)
    return f"{c // 100}.{c % 100:02d}"
