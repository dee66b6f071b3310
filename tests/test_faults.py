"""StageGuard on its own (no worker): what a fault in one stage does to the calls after it."""
from __future__ import annotations

import pytest

from llmspec.errors import CallTimeout, ImplError, WorkerDied
from llmspec.runtime.faults import StageFault, StageGuard


class FakeProxy:
    """Answers like a ProxyAdapter; ``fail`` maps an op to the exception it raises once."""

    def __init__(self, fail: dict[str, Exception]) -> None:
        self.fail = dict(fail)
        self.calls: list[str] = []
        self.budgets: list[float | None] = []

    def start_budget(self, seconds):
        self.budgets.append(seconds)

    def __getattr__(self, op):
        def call(**kwargs):
            self.calls.append(op)
            if op in self.fail:
                raise self.fail.pop(op)
            return 1
        return call


@pytest.mark.parametrize("exc, reason", [
    (CallTimeout("dataset_new did not answer within 20 s"), "after a timeout in GPTDatasetV1(...): not run"),
    (WorkerDied("the worker exited with code 0"), "after a crash in GPTDatasetV1(...): not run"),
    (WorkerDied("killed by SIGKILL (likely the memory limit of 300 MB exceeded)"),
     "after a memory kill in GPTDatasetV1(...): not run"),
    (ImplError("MemoryError", "", ["MemoryError", "Exception"]), "after a memory kill in GPTDatasetV1(...): not run"),
])
def test_a_fault_refuses_the_rest_of_its_stage_and_the_next_stage_starts_afresh(exc, reason):
    inner = FakeProxy({"dataset_new": exc})
    guard = StageGuard(inner, {"dataset": 30.0}, default_budget=60.0)
    guard.begin_stage("dataset")
    with pytest.raises(type(exc)):
        guard.dataset_new(txt="x", max_length=4, stride=4, tokenizer="gpt2")
    assert guard.not_run() == reason
    with pytest.raises(StageFault, match="not run"):
        guard.dataset_len(handle=1)  # refused without reaching the worker
    assert inner.calls == ["dataset_new"]
    guard.begin_stage("dataloader")
    assert guard.not_run() is None and guard.dataloader_batches(
        txt="x", batch_size=1, max_length=4, stride=4, shuffle=False, drop_last=True) == 1
    assert inner.budgets == [30.0, 60.0] and guard.faults == {"dataset": reason.removeprefix("after ")
                                                               .removesuffix(": not run")}


def test_an_ordinary_exception_of_the_submission_is_no_fault():
    guard = StageGuard(FakeProxy({"tokenizer_encode": ImplError("KeyError", "'x'", ["KeyError"])}))
    guard.begin_stage("tokenizer_v1")
    with pytest.raises(ImplError):
        guard.tokenizer_encode(handle=1, text="x")
    assert guard.not_run() is None and guard.tokenizer_encode(handle=1, text="x") == 1


def test_the_tokenizer_version_is_named_from_the_stage():
    guard = StageGuard(FakeProxy({"tokenizer_encode": CallTimeout("slow")}))
    guard.begin_stage("tokenizer_v2")
    with pytest.raises(CallTimeout, match=r"^SimpleTokenizerV2\.encode\(\.\.\.\): slow"):
        guard.tokenizer_encode(handle=1, text="x")
    assert guard.not_run() == "after a timeout in SimpleTokenizerV2.encode(...): not run"


def test_a_batch_that_stopped_at_a_memory_error_refuses_the_rest_of_its_stage():
    class Batch(FakeProxy):
        def tokenizer_encode_many(self, **kwargs):
            self.calls.append("tokenizer_encode_many")
            error = ImplError("MemoryError", "", ["MemoryError", "Exception"]).to_wire()
            return {"values": [[1]], "error": error}

    guard = StageGuard(Batch({}))
    guard.begin_stage("tokenizer_v1")
    assert guard.tokenizer_encode_many(handle=1, texts=["a", "b"])["values"] == [[1]]
    assert guard.not_run() == "after a memory kill in SimpleTokenizerV1.encode(...): not run"
    guard = StageGuard(Batch({}))  # an ordinary error inside a batch is no fault
    guard.begin_stage("tokenizer_v1")
    Batch.tokenizer_encode_many = lambda self, **kw: {"values": [], "error": ImplError("KeyError", "'b'").to_wire()}
    guard.tokenizer_encode_many(handle=1, texts=["b"])
    assert guard.not_run() is None
