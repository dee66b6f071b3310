"""GitHub Classroom shows llmspec's grade as ``gradebook.csv`` has it, and each failure's explanation.

Students and Classroom read the runner results through classroom-resources/autograding-grading-
reporter, release v1 (tag ``v1``, commit d13b591 "Release v1", ``dist/main.js``; its code is not part
of this project).  These are the formulas read from that file, each asserted below on what llmspec
writes (``classroom.env``):

* NotifyClassroom, the grade Classroom records: ``Points ${totalPoints}/${maxPoints}``, where
  ``totalPoints`` adds ``score`` of every test of every runner that has a ``max_score`` (in order, in
  JavaScript doubles, printed unrounded) and ``maxPoints`` adds those runners' ``max_score``.
* ConsoleResults, per runner: ``Total points for ${runner}: ${score.toFixed(2)}/${max_score}`` with
  ``score = passed / tests.length * max_score`` (getTestScore; ``passed`` counts status ``pass``).
* ConsoleResults, per test: status ``pass`` and ``fail`` print the name; ``error`` prints only
  ``Error: ${message}``; ``test_code``, when set, is printed after the test as ``Test code:``.
* main: the environment variable of runner ``r`` is ``${r.trim().toUpperCase()}_RESULTS``.

The real reporter was run with node on a graded class (correct, buggy, broken submissions); what it
printed matched :func:`report_audit.notice` and :func:`report_audit.runner_points` to the character.
"""
from __future__ import annotations

import json
import random
from decimal import Decimal

import pytest
from report_audit import js_number, notice, read_env, runner_points, to_fixed2

from llmspec.grading.classroom import RUNNERS_VAR, classroom_env, env_name, exact_addends
from llmspec.grading.config import load_config, parse_config
from llmspec.grading.gradebook import gradebook_csv
from llmspec.grading.results import gradescope
from llmspec.grading.scoring import Outcome, earned_cents, score, stage_shares, student_message

# the suite's test count per stage (print edition), so the shares are as awkward as the real ones
COUNTS = {"tokenizer_v1": 15, "tokenizer_v2": 13, "bpe": 10, "dataset": 13, "dataloader": 11, "embeddings": 14}


def canonical(config):
    return [(f"test_{s}.py::test_{i}", s) for s in config.stages for i in range(COUNTS[s])]


def class_of(config, n: int, seed: int = 20240601):
    """``n`` submissions, each passing a random subset of the tests (a fixed seed: the same class every run)."""
    rng = random.Random(seed)
    canon = canonical(config)
    out = []
    for k in range(n):
        rate = rng.random()
        outcomes = {t: Outcome(t, s, rng.random() < rate, f"{t}: expected [1, 2], got [2, 1]") for t, s in canon}
        out.append(score(f"s{k:03d}", f"s{k:03d}.py", canon, outcomes, config, missing_reason="did not run"))
    return out


def gradebook_scores(graded, config) -> dict[str, Decimal]:
    import csv
    import io

    rows = csv.DictReader(io.StringIO(gradebook_csv([gradescope(g, config.fingerprint()) for g in graded])))
    return {r["submission"]: Decimal(r["score"]) for r in rows}


def test_the_notice_prints_the_gradebook_score_to_the_cent():
    """NotifyClassroom adds the tests' scores in doubles: the shares as they are would print
    72.28999999999998; the written scores land on the gradebook's score, and 100/100 for full marks."""
    config = load_config()
    graded = class_of(config, 300)
    book = gradebook_scores(graded, config)
    drifted = 0
    for g in graded:
        results = read_env(classroom_env(g))
        total, maximum = notice(results)
        assert f"Points {js_number(total)}/{js_number(maximum)}" == f"Points {js_number(float(book[g.name]))}/100"
        assert Decimal(js_number(total)) == book[g.name]
        naive = 0.0
        for t in g.tests:
            naive += t.score
        drifted += js_number(naive) != js_number(total)
    assert drifted > 30, "the class should hold sums that drift in doubles, or this test proves nothing"
    full = score("full", "full.py", canonical(config), {t: Outcome(t, s, True) for t, s in canonical(config)},
                 config, missing_reason="-")
    total, maximum = notice(read_env(classroom_env(full)))
    assert f"Points {js_number(total)}/{js_number(maximum)}" == "Points 100/100"


def test_each_runner_line_is_the_stage_score_of_the_gradebook():
    """ConsoleResults prints passed / tests x max_score per runner: one runner per stage, whose tests
    share its points equally, so the line is the stage's score in results.json to the cent."""
    config = load_config()
    for g in class_of(config, 200, seed=7):
        results = read_env(classroom_env(g))
        assert list(results) == list(config.stages)
        for stage, totals in g.stage_totals().items():
            payload = results[stage]
            assert js_number(payload["max_score"]) == js_number(config.points[stage])
            assert Decimal(to_fixed2(runner_points(payload))) == Decimal(str(totals["score"])), (g.name, stage)


def test_every_failure_shows_its_explanation():
    """A failure's explanation is in test_code (the only field the reporter prints for status fail),
    an error's in message with the test's name (it prints only ``Error: ${message}``); a passed test
    has no test_code (it would print "Test code:" under it); a hidden test says only that it failed."""
    config = parse_config({"tests": [{"match": "test_bpe.py::*", "visibility": "hidden"}]})
    canon = canonical(config)
    outcomes = {t: Outcome(t, s, i % 3 == 0, f"{t}: expected [1], got [2]") for i, (t, s) in enumerate(canon)
                if s != "embeddings"}  # embeddings did not run: errors
    g = score("bob", "bob.py", canon, outcomes, config, missing_reason="the worker was killed (memory)")
    entries = {e["name"]: e for payload in read_env(classroom_env(g)).values() for e in payload["tests"]}
    for t in g.tests:
        e = entries[t.test_id]
        if t.passed:
            assert e["status"] == "pass" and not e["test_code"]
        elif t.error:
            assert e["status"] == "error" and not e["test_code"]
            assert e["message"] == f"{t.test_id}: the worker was killed (memory)"
        else:
            assert e["status"] == "fail" and e["test_code"] == student_message(t)
            expected = "hidden test failed" if t.stage == "bpe" else f"{t.test_id}: expected [1], got [2]"
            assert e["test_code"] == expected
    assert {e["status"] for e in entries.values()} == {"pass", "fail", "error"}


def test_the_environment_file_is_what_the_reporter_step_reads():
    """``classroom.env`` goes into $GITHUB_ENV: one NAME=value per line, the runner ids in
    LLMSPEC_RUNNERS (the step's ``runners`` input), each result in ``<RUNNER>_RESULTS``."""
    g = class_of(load_config(), 1)[0]
    text = classroom_env(g)
    lines = text.splitlines()
    assert all(line.count("=") >= 1 and " " not in line.split("=", 1)[0] for line in lines)
    values = dict(line.split("=", 1) for line in lines)
    runners = values[RUNNERS_VAR].split(",")
    assert set(values) == {RUNNERS_VAR, *map(env_name, runners)} and env_name("dataset") == "DATASET_RESULTS"
    for payload in read_env(text).values():
        assert payload["version"] == 3 and payload["status"] in ("pass", "fail", "error")
        assert {"name", "status", "score", "message", "test_code", "line_no"} <= set(payload["tests"][0])
        assert all(t["line_no"] == 0 for t in payload["tests"])  # else it prints " - line N"


@pytest.mark.parametrize("points", [15, 25, 10, 12.5, 7.35])
def test_a_stage_earns_the_reporter_quotient_rounded_as_tofixed_rounds_it(points):
    """earned_cents is (passed / tests x points).toFixed(2); the shares add up to the points, and the
    passed tests' shares to what the stage earned."""
    for n in range(1, 40):
        for p in range(n + 1):
            passed = [i < p for i in range(n)]
            earned = earned_cents(points, [1.0] * n, passed)
            assert Decimal(to_fixed2(p / n * points)) * 100 == earned
            shares = stage_shares(points, [1.0] * n, passed)
            assert sum(Decimal(str(s)) for s in shares) == Decimal(str(points))
            assert sum(Decimal(str(s)) for s, ok in zip(shares, passed) if ok) * 100 == earned
            assert max(shares) - min(shares) <= 0.02 + 1e-9


def test_exact_addends_add_up_to_the_total_in_doubles():
    rng = random.Random(3)
    for _ in range(500):
        cents = [rng.choice([0, 0, 67, 68, 115, 116, 192, 193, 214, 215, 1500]) for _ in range(rng.randint(1, 90))]
        acc = 0.0
        for c, a in zip(cents, exact_addends(cents)):
            acc += a  # as the reporter adds them
            assert abs(a - c / 100) < 1e-12 and (a == 0) == (c == 0)
        assert acc == sum(cents) / 100
    assert to_fixed2(0.125) == "0.13" and to_fixed2(1.005) == "1.00" and js_number(100.0) == "100"


def test_payload_is_plain_json():
    g = class_of(load_config(), 1)[0]
    for payload in read_env(classroom_env(g)).values():
        assert json.loads(json.dumps(payload)) == payload
