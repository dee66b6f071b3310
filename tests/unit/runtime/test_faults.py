"""StageGuard on its own (no worker): what a fault in one stage does to the calls after it."""
from __future__ import annotations

import pytest

from llmspec.errors import CallTimeout, ImplError, WorkerDied
from llmspec.runtime.faults import StageFault, StageGuard


class FakeWorker:
    """Answers like the worker behind a proxy; ``fail`` maps an op to the exception it raises once,
    ``answers`` an op to what it returns (default 1)."""

    def __init__(self, fail: dict[str, Exception], answers: dict[str, object] | None = None) -> None:
        self.fail = dict(fail)
        self.answers = dict(answers or {})
        self.calls: list[str] = []

    def send(self, op: str):
        def answer():
            self.calls.append(op)
            if op in self.fail:
                raise self.fail.pop(op)
            return self.answers.get(op, 1)
        return answer


@pytest.mark.parametrize("exc, reason", [
    (CallTimeout("dataset_new did not answer within 20 s"), "after a timeout in GPTDatasetV1(...): not run"),
    (WorkerDied("the worker exited with code 0"), "after a crash in GPTDatasetV1(...): not run"),
    (WorkerDied("killed by SIGKILL (likely the memory limit of 300 MB exceeded)"),
     "after a memory kill in GPTDatasetV1(...): not run"),
    (ImplError("MemoryError", "", ["MemoryError", "Exception"]), "after a memory kill in GPTDatasetV1(...): not run"),
])
def test_a_fault_refuses_the_rest_of_its_stage_and_the_next_stage_starts_afresh(exc, reason):
    worker = FakeWorker({"dataset_new": exc})
    guard = StageGuard({"dataset": 30.0}, default_budget=60.0)
    assert guard.begin_stage("dataset") and not guard.begin_stage("dataset")  # new once
    with pytest.raises(type(exc)):
        guard.call("dataset_new", worker.send("dataset_new"))
    assert guard.not_run() == reason
    with pytest.raises(StageFault, match="not run"):
        guard.call("dataset_len", worker.send("dataset_len"))  # refused without reaching the worker
    assert guard.call("release", worker.send("release")) == 1  # a release is never refused
    assert worker.calls == ["dataset_new", "release"]
    assert guard.begin_stage("dataloader")
    assert guard.not_run() is None and guard.call("dataloader_batches", worker.send("dataloader_batches")) == 1
    assert (guard.budget("dataset"), guard.budget("dataloader")) == (30.0, 60.0)
    assert guard.faults == {"dataset": reason.removeprefix("after ").removesuffix(": not run")}


def test_an_ordinary_exception_of_the_submission_is_no_fault():
    worker = FakeWorker({"tokenizer_encode": ImplError("KeyError", "'x'", ["KeyError"])})
    guard = StageGuard()
    guard.begin_stage("tokenizer_v1")
    with pytest.raises(ImplError):
        guard.call("tokenizer_encode", worker.send("tokenizer_encode"))
    assert guard.not_run() is None and guard.call("tokenizer_encode", worker.send("tokenizer_encode")) == 1


def test_the_tokenizer_version_is_named_from_the_stage():
    worker = FakeWorker({"tokenizer_encode": CallTimeout("slow")})
    guard = StageGuard()
    guard.begin_stage("tokenizer_v2")
    with pytest.raises(CallTimeout, match=r"^SimpleTokenizerV2\.encode\(\.\.\.\): slow"):
        guard.call("tokenizer_encode", worker.send("tokenizer_encode"))
    assert guard.not_run() == "after a timeout in SimpleTokenizerV2.encode(...): not run"


def test_a_batch_that_stopped_at_a_memory_error_refuses_the_rest_of_its_stage():
    memory = ImplError("MemoryError", "", ["MemoryError", "Exception"]).to_wire()
    worker = FakeWorker({}, {"tokenizer_encode_many": {"values": [[1]], "error": memory}})
    guard = StageGuard()
    guard.begin_stage("tokenizer_v1")
    assert guard.call("tokenizer_encode_many", worker.send("tokenizer_encode_many"))["values"] == [[1]]
    assert guard.not_run() == "after a memory kill in SimpleTokenizerV1.encode(...): not run"
    key_error = ImplError("KeyError", "'b'").to_wire()  # an ordinary error inside a batch is no fault
    worker = FakeWorker({}, {"tokenizer_encode_many": {"values": [], "error": key_error}})
    guard = StageGuard()
    guard.begin_stage("tokenizer_v1")
    guard.call("tokenizer_encode_many", worker.send("tokenizer_encode_many"))
    assert guard.not_run() is None
