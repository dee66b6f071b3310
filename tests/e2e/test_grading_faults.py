"""Stages graded independently, end to end: a hang, a memory kill or ``os._exit`` inside one stage
fails the rest of that stage at once with the reason, the worker restarts, and every honest stage of
the same submission earns all its points.  A correct submission beside them shows exactly full marks
in every report format.

One grading run (module fixture) of the book-style correct submission and the hostile files that
keep the book's code for all but one listing, on every core stage with a small call budget.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hostile_corpus import BOOK_STYLE, HOSTILE, honest_stages, submission_text
from report_audit import short_of_full_marks

from llmspec.grading.config import default_config_text, load_config

FAULTS = {  # hostile file -> (faulted stage, words its first failing test must say)
    "dataset_init_loops": ("dataset", "did not answer within"),
    "encode_memory_hog": ("tokenizer_v1", "memory"),
    "exit_in_call": ("dataloader", "ended the process (`os._exit(0)`"),
}
CALL_TIMEOUT = 4  # the slow file answers 1.7 s before it: room for a loaded machine
# honest but slow once: its first GPTDatasetV1 answers 2.3 s late, within the budget
SLOW_FIRST_DATASET = """

import time as _time

_book_init = GPTDatasetV1.__init__
_slept = []


def _slow_first_init(self, *args, **kwargs):
    if not _slept:
        _slept.append(_time.sleep(2.3))
    _book_init(self, *args, **kwargs)


GPTDatasetV1.__init__ = _slow_first_init
"""


def _grade(root: Path, out: str, **env: str) -> dict:
    cls = root / "class"
    if not cls.exists():
        cls.mkdir()
        for name in FAULTS:
            (cls / f"{name}.py").write_text(submission_text(HOSTILE / f"{name}.py", root / "marker"))
        (cls / "correct.py").write_text(BOOK_STYLE.read_text())
        (cls / "slow_first_dataset.py").write_text(BOOK_STYLE.read_text() + SLOW_FIRST_DATASET)
        (root / "c.toml").write_text(default_config_text()
                                     .replace("call_timeout = 10 ", f"call_timeout = {CALL_TIMEOUT} ")
                                     .replace("memory_mb = 2048 ", "memory_mb = 300 "))
    env = dict(os.environ, LLMSPEC_DATA=os.environ.get("LLMSPEC_DATA", "/work/shared/data"), **env)
    proc = subprocess.run([sys.executable, "-m", "llmspec", "grade", str(cls), "--out", str(root / out),
                           "--config", str(root / "c.toml"), "--jobs", "2", "-q"], cwd=root, env=env, text=True,
                          capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = {p.parent.name: json.loads(p.read_text()) for p in (root / out).glob("*/results.json")}
    return {"out": root / out, "results": results, "config": load_config(root / "c.toml")}


@pytest.fixture(scope="module")
def faulty_class(tmp_path_factory):
    return _grade(tmp_path_factory.mktemp("faults"), "out")


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_honest_stages_earn_every_point_despite_a_fault_in_another(faulty_class, name):
    data = faulty_class["results"][name]
    stages = data["extra_data"]["llmspec"]["stages"]
    honest = honest_stages(HOSTILE / f"{name}.py")
    assert honest and FAULTS[name][0] not in honest
    for stage in honest:
        assert stages[stage]["score"] == stages[stage]["max_score"] == faulty_class["config"].points[stage], stage
    assert data["extra_data"]["llmspec"]["status"] == "graded"  # the submission was not killed as a whole


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_a_fault_fails_the_rest_of_its_stage_at_once_with_the_reason(faulty_class, name):
    stage, words = FAULTS[name]
    tests = [t for t in faulty_class["results"][name]["tests"] if t["tags"][0] == stage]
    assert len(tests) > 1 and all(t["status"] == "failed" for t in tests)
    assert words in tests[0]["output"], tests[0]["output"][:300]
    rest = [t["output"] for t in tests[1:]]
    assert all(o.startswith("after a ") and o.endswith(": not run") for o in rest), rest[:3]
    # only the first call waited out its budget: the others were refused without running
    assert sum("did not answer within" in t["output"] for t in tests) <= 1


def test_the_dataloader_that_builds_a_hanging_dataset_is_stopped_in_its_own_stage(faulty_class):
    tests = faulty_class["results"]["dataset_init_loops"]["tests"]
    first = [t for t in tests if t["tags"][0] == "dataloader"][0]
    assert "create_dataloader_v1(...)" in first["output"] and "did not answer within" in first["output"]


def test_a_correct_submission_shows_full_marks_everywhere(faulty_class):
    assert faulty_class["results"]["correct"]["score"] == 100
    assert short_of_full_marks(faulty_class["out"], "correct", 100) == []


def test_a_slow_but_honest_call_inside_its_budget_costs_nothing(faulty_class):
    """A call that answers late, but within its budget, is an honest answer: full marks."""
    assert faulty_class["results"]["slow_first_dataset"]["score"] == 100
