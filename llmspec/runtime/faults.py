"""Stages graded independently: a fault inside one stage costs that stage only.

:class:`StageGuard` keeps, for the isolated adapter, which stage runs and its wall-clock budget.
When a call into the submission times out, kills the worker or hits the memory cap (a
``MemoryError`` under the cap counts: the next call would only hog again), every later call of that
stage, Hypothesis' shrinking included, fails at once with "after <reason>: not run" instead of
waiting out another budget; the next stage starts afresh.  This is decided here, on the trusted
side, because the worker is where submission code runs.
"""
from __future__ import annotations

from typing import Any, Callable

from llmspec.errors import CallTimeout, HarnessError, ImplError, WorkerDied
from llmspec.i18n import _

# The book's name for what each operation runs (chapter 2's listings; ``*_many`` as its single call).
BOOK_CALLS: dict[str, str] = {
    "describe": "loading the submission",
    "tokenizer_new": "SimpleTokenizer{v}(vocab)",
    "tokenizer_encode": "SimpleTokenizer{v}.encode(...)",
    "tokenizer_decode": "SimpleTokenizer{v}.decode(...)",
    "bpe_encode": "tokenizer.encode(...) (tiktoken, section 2.5)",
    "bpe_decode": "tokenizer.decode(...) (tiktoken, section 2.5)",
    "bpe_info": "tiktoken.get_encoding(\"gpt2\")",
    "dataset_new": "GPTDatasetV1(...)",
    "dataset_len": "len(GPTDatasetV1)",
    "dataset_items": "GPTDatasetV1[i]",
    "dataset_tokenizer_calls": "GPTDatasetV1(...)",
    "dataloader_batches": "create_dataloader_v1(...)",
    "embeddings_new": "torch.nn.Embedding(...) (section 2.7)",
    "embeddings_state": "torch.nn.Embedding(...) (section 2.7)",
    "embeddings_forward": "the embedding layers' forward pass (section 2.8)",
    "embeddings_backward": "the embedding layers' backward pass (section 2.8)",
    "state_read": "the embedding layers the notebook made inline (section 2.8)",
    "bpe_scratch_new": "the byte-level BPE tokenizer",
    "bpe_scratch_encode": "the byte-level BPE tokenizer's encode(...)",
    "bpe_scratch_decode": "the byte-level BPE tokenizer's decode(...)",
    "bpe_scratch_train": "the byte-level BPE tokenizer's train(...)",
}


class StageFault(HarnessError):
    """A call refused because an earlier call of the same stage timed out or killed the worker."""


def book_call(op: str, stage: str | None) -> str:
    """What ``op`` runs, in the book's names (the tokenizer's version from the stage)."""
    version = {"tokenizer_v1": "V1", "tokenizer_v2": "V2"}.get(stage or "", "V1/V2")
    return BOOK_CALLS.get(op.removesuffix("_many"), f"{op}(...)").replace("{v}", version)


def fault_reason(exc: HarnessError) -> str:
    """"a timeout in {call}", "a memory kill in {call}" or "a crash in {call}" for ``exc``."""
    if isinstance(exc, CallTimeout):
        return _("a timeout in {call}")
    if "memory" in str(exc).lower():
        return _("a memory kill in {call}")
    return _("a crash in {call}")


class StageGuard:
    """The stage bookkeeping of one isolated adapter: which stage runs, its budget, its fault.

    ``budgets`` maps a stage to its wall-clock seconds in submission code; ``default_budget`` is used
    for stages not listed (``None``: no stage budget, only the per-call one)."""

    def __init__(self, budgets: dict[str, float] | None = None, default_budget: float | None = None) -> None:
        self.budgets = dict(budgets or {})
        self.default_budget = default_budget
        self.stage: str | None = None
        self.fault: str | None = None  # why the current stage stopped, once it has
        self.faults: dict[str, str] = {}  # every stage that stopped early, with its reason

    def budget(self, stage: str) -> float | None:
        return self.budgets.get(stage, self.default_budget)

    def begin_stage(self, stage: str) -> bool:
        """The next calls belong to ``stage``; True when that is a new stage (a fresh budget, no fault)."""
        if stage == self.stage:
            return False
        self.stage, self.fault = stage, None
        return True

    def not_run(self) -> str | None:
        """The message for a test of the current stage that must not run, or None."""
        if self.fault is None:
            return None
        return _("after {reason}: not run").format(reason=self.fault)

    def call(self, op: str, send: Callable[[], Any]) -> Any:
        """``send()`` (one call of ``op`` into the submission), refused after a fault of this stage;
        a timeout or a dead worker becomes the stage's fault and is raised in the book's words."""
        refused = self.not_run()
        if refused is not None and op != "release":
            raise StageFault(refused)
        try:
            result = send()
        except (CallTimeout, WorkerDied) as exc:
            self._stop(op, fault_reason(exc))
            raise type(exc)(_("{call}: {why}").format(call=book_call(op, self.stage), why=exc)) from None
        except ImplError as exc:
            if exc.is_a("MemoryError"):
                self._stop(op, _("a memory kill in {call}"))
            raise
        error = result.get("error") if op.endswith("_many") and isinstance(result, dict) else None
        if isinstance(error, dict) and isinstance(error.get("mro"), list) and "MemoryError" in error["mro"]:
            self._stop(op, _("a memory kill in {call}"))  # a batch that stopped at a MemoryError
        return result

    def _stop(self, op: str, reason: str) -> None:
        """The first fault of a stage stops it: ``reason`` ("a timeout in {call}") names the call."""
        if self.stage is not None and self.fault is None:
            self.fault = self.faults[self.stage] = reason.format(call=book_call(op, self.stage))
