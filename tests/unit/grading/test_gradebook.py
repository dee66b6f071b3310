"""The first failure as the class reports quote it (the gradebook's feedback column, the summary
Gradescope shows as ``output``): its stage named once."""
from __future__ import annotations

import pytest

from llmspec.grading.gradebook import row_for
from llmspec.grading.scoring import Graded, GradedTest, summary


def _results(output: str, reason: str = "") -> dict:
    meta = {"submission": "alice", "status": "graded", "max_score": 100.0, "stages": {"bpe": {"score": 0.0}}}
    if reason:
        meta["reason"] = reason
    return {"score": 0.0, "extra_data": {"llmspec": meta},
            "tests": [{"name": "t", "status": "failed", "output": output, "tags": ["bpe"]}]}


@pytest.mark.parametrize("output, feedback", [
    ("bpe: not implemented (missing tiktoken)\n  tiktoken: ...", "bpe: not implemented (missing tiktoken)"),
    ("encode('a') (2.5): expected [64], got [65]", "bpe: encode('a') (2.5): expected [64], got [65]"),
    ("bpe:未实现(缺少 tiktoken)", "bpe: 未实现(缺少 tiktoken)"),  # the Chinese message's colon has no space
])
def test_the_first_failure_names_its_stage_once(output, feedback):
    assert row_for(_results(output), ["bpe"])["feedback"] == feedback


def test_a_reason_for_the_whole_submission_comes_first():
    assert row_for(_results("bpe: x", reason="grading stopped"), ["bpe"])["feedback"] == "grading stopped"


@pytest.mark.parametrize("message, line", [
    ("bpe: not implemented (missing tiktoken)\n  tiktoken: ...", "First failure (bpe): not implemented (missing tiktoken)"),
    ("encode('a') (2.5): expected [64], got [65]", "First failure (bpe): encode('a') (2.5): expected [64], got [65]"),
    ("bpe:未实现(缺少 tiktoken)", "First failure (bpe): 未实现(缺少 tiktoken)"),
    ("bpe_scratch: not implemented (missing BPETokenizerSimple)", "First failure (bpe): bpe_scratch: not implemented"
     " (missing BPETokenizerSimple)"),  # another stage's name is the message's own
])
def test_the_summary_names_the_stage_of_the_first_failure_once(message, line):
    test = GradedTest("test_bpe.py::t", "bpe", "1", 0.0, 10.0, False, "visible", message, 0.1)
    assert summary(Graded("alice", "alice.py", "graded", [test], 1.0)).splitlines()[1] == line

