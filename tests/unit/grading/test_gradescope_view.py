"""What a student sees of ``results.json`` on Gradescope: hidden means hidden.

The student's view is built from Gradescope's autograder specification (gradescope/autograder_samples,
docs/specs.md, "Controlling Test Case Visibility"), nothing else:

* a test is shown when its visibility is ``visible``; ``after_due_date`` after the due date;
  ``after_published`` once the grades are published; ``hidden`` never;
* "If test cases are hidden, students will not be able to see their total score. Test cases with
  visibility set to hidden don't affect this": the total (``score``) is shown unless a test that is
  not ``hidden`` is still concealed;
* the top-level ``output`` has no visibility of its own: taken as always shown;
* ``extra_data`` is "extra data to be stored", and stdout is shown per ``stdout_visibility``.

With a stage's tests hidden, no field of that view may carry the total or the stage's points, under
``hidden_visibility = "hidden"`` and, until the due date, under the default ``after_due_date``.
"""
from __future__ import annotations

import json

import pytest

from llmspec.grading.config import parse_config
from llmspec.grading.results import gradescope, graded_tests
from llmspec.grading.scoring import Outcome, fmt_points, score
from report_audit import student_view

COUNTS = {"tokenizer_v1": 15, "tokenizer_v2": 13, "bpe": 10, "dataset": 13, "dataloader": 11, "embeddings": 14}


def graded(hidden_as: str | None, hide: str = "test_dataset.py::*"):
    """A buggy submission: every third dataset test and two tokenizer_v1 tests fail; dataset hidden."""
    data = {"tests": [{"match": hide, "visibility": "hidden"}]} if hidden_as else {}
    if hidden_as:
        data["assignment"] = {"hidden_visibility": hidden_as}
    config = parse_config(data)
    canon = [(f"test_{s}.py::test_{i}", s) for s in config.stages for i in range(COUNTS[s])]
    outcomes = {}
    for s in config.stages:
        for i in range(COUNTS[s]):
            t = f"test_{s}.py::test_{i}"
            ok = not ((s == "dataset" and i % 3 == 0) or (s == "tokenizer_v1" and i < 2))
            outcomes[t] = Outcome(t, s, ok, f"{s} test {i}: expected [1], got [2]")
    g = score("carol", "carol.py", canon, outcomes, config, missing_reason="-")
    return g, json.loads(json.dumps(gradescope(g, config.fingerprint(), 2000, config.name)))


def leaks(view: dict, g) -> list[str]:
    """Every place the view shows the total or the dataset stage's points."""
    text = json.dumps(view, ensure_ascii=False)
    stage = g.stage_totals()["dataset"]
    found = [f"total {fmt_points(g.score)}" for token in (fmt_points(g.score), f"{g.score}") if token in text]
    found += ["Score: line" for _ in [0] if "Score:" in view["output"]]
    found += [f"dataset points {token}" for token in (f"{fmt_points(stage['score'])}/", f"{stage['score']}")
              if token in text]
    found += [f"dataset line: {line}" for line in view["output"].splitlines() if line.strip().startswith("dataset")]
    found += [f"dataset test {t['name']}" for t in view["tests"] if "dataset" in t.get("tags", [])]
    found += ["score field"] if "score" in view else []
    return found


def test_the_buggy_submission_is_distinctive():
    g, _ = graded("hidden")
    stage = g.stage_totals()["dataset"]
    assert 0 < stage["score"] < stage["max_score"] and 0 < g.score < 100
    # 8 of 13 dataset tests: 25 x 8/13 = 15.38; 13 of 15 tokenizer_v1 tests: 13
    assert g.score == 88.38 and stage["score"] == 15.38


@pytest.mark.parametrize("hidden_as", ["hidden", "after_due_date", "after_published"])
def test_before_release_no_field_shows_the_total_or_a_hidden_stages_points(hidden_as):
    g, results = graded(hidden_as)
    view = student_view(results)
    assert leaks(view, g) == []
    # what the student still sees: the visible stages' tests and lines, and why the rest is missing
    assert {t["tags"][0] for t in view["tests"]} == set(COUNTS) - {"dataset"}
    assert ["tokenizer_v1", "13/15"] in [line.split()[:2] for line in view["output"].splitlines()]
    last = view["output"].splitlines()[-1]
    assert last == ("Your total and the points of dataset are shown after the due date." if hidden_as == "after_due_date"
                    else "Your total and the points of dataset are shown when the grades are published.")


def test_after_the_due_date_the_default_form_shows_everything():
    g, results = graded("after_due_date")
    view = student_view(results, due_date_passed=True)
    assert view["score"] == 88.38 and len(view["tests"]) == len(g.tests) + 1
    summary = next(t for t in view["tests"] if t not in graded_tests(results))
    assert summary["output"].startswith("Score: 88.38/100")
    assert ["dataset", "15.38/25"] in [line.split()[:2] for line in summary["output"].splitlines()]


def test_strict_hidden_keeps_the_total_until_the_grades_are_published():
    """Gradescope would show the total beside ``hidden`` tests; the zero-point summary test, released
    on publication, is what keeps it (and the stage's points) hidden until then."""
    g, results = graded("hidden")
    after_due = student_view(results, due_date_passed=True)
    assert leaks(after_due, g) == []
    published = student_view(results, published=True)
    assert published["score"] == 88.38 and not [t for t in published["tests"] if "dataset" in t["tags"]]
    assert any(t["output"].startswith("Score: 88.38/100") for t in published["tests"])


def test_without_hidden_tests_the_student_sees_the_total_at_once():
    g, results = graded(None)
    view = student_view(results)
    assert view["score"] == g.score and view["output"].startswith(f"Score: {fmt_points(g.score)}/100")
    assert graded_tests(results) == results["tests"]


def test_a_single_hidden_test_hides_its_stages_points():
    """One hidden test in a stage: the stage's points would tell what it earned, so they wait too."""
    g, results = graded("after_due_date", hide="test_dataset.py::test_3")
    view = student_view(results)
    assert leaks({**view, "tests": [t for t in view["tests"] if "dataset" not in t["tags"]]}, g) == []
    assert len([t for t in view["tests"] if "dataset" in t["tags"]]) == 12
