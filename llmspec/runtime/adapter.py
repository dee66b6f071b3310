"""The one narrow door between the spec tests and an implementation.

Arguments and results are *wire values* only (``None``, ``bool``, ``int``, ``float``, ``str``, lists,
dicts with string keys, plain ``torch.Tensor``), so the same tests run against
:class:`~llmspec.runtime.inprocess.InProcessAdapter` (the implementation imported here) and
:class:`~llmspec.runtime.proxy.ProxyAdapter` (it runs in a worker; this process never imports it).
Objects the implementation creates stay on its side, named by integer *handles*.  Results are
normalised on the implementation's side and checked again by the tests: the adapter never decides
a verdict.
"""
from __future__ import annotations

import abc
from typing import Any, Callable, Iterator, Literal, Union

import torch

from llmspec.errors import HarnessError, ImplError

# A special-token set as the tests pass it: a list of strings, or tiktoken's "all".
SpecialSet = Union[list[str], Literal["all"], None]
# The tokenizer given to GPTDatasetV1: the real GPT-2 BPE, or a fake that returns these ids.
DatasetTokenizer = Union[Literal["gpt2"], dict]  # {"fake_ids": [int, ...]}


class Adapter(abc.ABC):
    """What a spec test may ask of an implementation."""

    # --- discovery -------------------------------------------------------------------------------
    @abc.abstractmethod
    def describe(self) -> dict[str, Any]:
        """``{"target": str, "kind": str, "names": {contract: found name or None}, "stages": {stage:
        [missing names]}, "judged": {stage: "state"}, "absent": {stage: [optional parts missing]}, "hints":
        {contract: did-you-mean line}, "notes": [str, ...], "skipped": int}`` (notes: e.g. skipped
        notebook cells; skipped: how many of them say some of the code did not run)."""

    # --- 2.3 / 2.4: SimpleTokenizerV1 / SimpleTokenizerV2 ---------------------------------------
    @abc.abstractmethod
    def tokenizer_new(self, version: int, vocab: dict[str, int]) -> int:
        """``SimpleTokenizerV{version}(vocab)``; returns a handle."""

    @abc.abstractmethod
    def tokenizer_encode(self, handle: int, text: str) -> list[int]: ...

    @abc.abstractmethod
    def tokenizer_decode(self, handle: int, ids: list[int]) -> str: ...

    # An enumeration asks hundreds of short texts of one tokenizer; through a worker each call is a
    # round trip, so these map a whole list in one call.  They stop at the first input that raises,
    # exactly as a loop of single calls would: ``{"values": [results of inputs 0..k-1], "error": the
    # ImplError wire of input k, or None}``.  Read the answer with :func:`each_result`.
    def tokenizer_encode_many(self, handle: int, texts: list[str]) -> dict[str, Any]:
        """``tokenizer_encode(handle, t)`` for each ``t`` of ``texts`` in order (see above)."""
        return run_each(lambda text: self.tokenizer_encode(handle, text), texts)

    def tokenizer_decode_many(self, handle: int, ids_list: list[list[int]]) -> dict[str, Any]:
        """``tokenizer_decode(handle, ids)`` for each ``ids`` of ``ids_list`` in order (see above)."""
        return run_each(lambda ids: self.tokenizer_decode(handle, ids), ids_list)

    # --- 2.5: GPT-2 BPE (tiktoken) -------------------------------------------------------------
    @abc.abstractmethod
    def bpe_encode(self, text: str, allowed_special: SpecialSet = None,
                   disallowed_special: SpecialSet = None) -> list[int]:
        """``tokenizer.encode(text, ...)``; ``None`` means "do not pass that keyword"."""

    @abc.abstractmethod
    def bpe_decode(self, ids: list[int]) -> str: ...

    @abc.abstractmethod
    def bpe_info(self) -> dict[str, Any]:
        """``{"n_vocab": int | None, "source": "target.tokenizer" | "tiktoken.get_encoding('gpt2')"}``."""

    # --- 2.6: GPTDatasetV1 / create_dataloader_v1 ------------------------------------------------
    @abc.abstractmethod
    def dataset_new(self, txt: str, max_length: int, stride: int, tokenizer: DatasetTokenizer = "gpt2") -> int:
        """``GPTDatasetV1(txt, tokenizer, max_length, stride)``; returns a handle.

        With ``{"fake_ids": ids}`` the dataset gets a fake tokenizer whose ``encode`` returns ``ids``
        (and records how it was called), so windowing is judged apart from BPE."""

    @abc.abstractmethod
    def dataset_len(self, handle: int) -> int: ...

    @abc.abstractmethod
    def dataset_items(self, handle: int, indices: list[int]) -> list[list[torch.Tensor]]:
        """``[[input, target], ...]`` for ``dataset[i]`` with each ``i`` in ``indices``."""

    @abc.abstractmethod
    def dataset_tokenizer_calls(self, handle: int) -> list[dict[str, Any]]:
        """Calls the fake tokenizer saw: ``[{"method": "encode", "text": str,
        "allowed_special": list | "all" | None}, ...]``."""

    @abc.abstractmethod
    def dataloader_batches(self, txt: str, batch_size: int, max_length: int, stride: int, shuffle: bool,
                           drop_last: bool, num_workers: int = 0, seed: int | None = None,
                           max_batches: int | None = None) -> dict[str, Any]:
        """Call ``create_dataloader_v1`` by keyword, then (after ``torch.manual_seed(seed)`` when
        ``seed`` is given) iterate it.  Returns ``{"type": qualified class name of the loader,
        "is_dataloader": bool, "len": len(loader) or None, "drop_last": the effective value,
        "batches": [[x, y], ...], "num_workers": the loader's ``num_workers`` attribute (an int) or
        None}``.  A ``create_dataloader_v1`` without a ``drop_last`` parameter (older copies of the
        book) is called without it and judged as ``drop_last=False``.  ``max_batches=0`` never
        iterates the loader (so worker processes are never started)."""

    @abc.abstractmethod
    def dataloader_signature(self) -> list[dict[str, Any]]:
        """The parameters of ``create_dataloader_v1`` in order: ``[{"name": str, "kind":
        "positional_only|positional_or_keyword|var_positional|keyword_only|var_keyword",
        "has_default": bool, "default": the default if it is None, a bool, an int, a float or a
        short str (else None), "default_repr": repr of the default (at most 80 characters) or
        None}, ...]``; ``[]`` when the signature cannot be read."""

    # --- 2.7 / 2.8: embeddings -------------------------------------------------------------------
    @abc.abstractmethod
    def embeddings_new(self, vocab_size: int, output_dim: int, context_length: int, seed: int | None = None) -> int:
        """``InputEmbeddings(vocab_size, output_dim, context_length)`` created right after
        ``torch.manual_seed(seed)``; returns a handle."""

    @abc.abstractmethod
    def embeddings_state(self, handle: int) -> dict[str, Any]:
        """``{"is_module": bool, "token_embedding_layer": W or None, "pos_embedding_layer": P or None,
        "token_is_embedding": bool, "pos_is_embedding": bool, "token_trainable": bool,
        "pos_trainable": bool}`` (weights as plain tensors; trainable = ``weight.requires_grad``)."""

    @abc.abstractmethod
    def embeddings_forward(self, handle: int, ids: torch.Tensor) -> torch.Tensor: ...

    @abc.abstractmethod
    def embeddings_backward(self, handle: int, ids: torch.Tensor,
                            grad_output: torch.Tensor) -> dict[str, torch.Tensor | None]:
        """Zero grads, ``forward(ids).backward(grad_output)``; returns the two layers' weight grads
        as ``{"token_embedding_layer": g, "pos_embedding_layer": g}``."""

    # --- the state the target's code left (inline notebook cells, a module's globals) -----------
    @abc.abstractmethod
    def state_read(self, names: list[str], rows: dict[str, list[int]] | None = None) -> dict[str, Any]:
        """What the target's namespace holds under each of ``names`` (absent names are left out):
        a number or str as ``{"type", "value"}``; a tensor as ``{"type", "shape", "dtype",
        "tensor"}`` (``tensor`` is ``None`` above the size cap); an object with a ``.weight``
        tensor (a layer) as ``{"type", "is_embedding", "shape", "trainable", "weight"}`` (``weight``
        ``None`` above the cap), plus ``"rows": weight[rows[name]]`` when ``rows`` names it;
        anything else as ``{"type"}``.  Reads only the namespace; calls nothing of the target."""

    # --- bonus: byte-level BPE from scratch ------------------------------------------------------
    @abc.abstractmethod
    def bpe_scratch_new(self, encoder_json: str | None, vocab_bpe: str | None) -> int:
        """``BPETokenizerSimple()``, then ``load_vocab_and_merges_from_openai(encoder_json,
        vocab_bpe)`` when paths are given; returns a handle."""

    @abc.abstractmethod
    def bpe_scratch_encode(self, handle: int, text: str, allowed_special: SpecialSet = None) -> list[int]: ...

    @abc.abstractmethod
    def bpe_scratch_decode(self, handle: int, ids: list[int]) -> str: ...

    @abc.abstractmethod
    def bpe_scratch_train(self, handle: int, text: str, vocab_size: int,
                          allowed_special: SpecialSet = None) -> None: ...

    @abc.abstractmethod
    def bpe_scratch_state(self, handle: int) -> dict[str, Any]:
        """What training left behind, as the bonus notebook names it: ``{"vocab_len": int | None,
        "merges": [[left id, right id, merged id], ...] in the order of ``tok.bpe_merges`` (the learned
        order) or None, "specials": {token: number of ``tok.vocab`` values equal to it} for every
        ``<|...|>`` value}``."""

    # --- lifetime --------------------------------------------------------------------------------
    @abc.abstractmethod
    def release(self, handle: int) -> None:
        """Forget a handle (lets the implementation free memory)."""

    def close(self) -> None:
        """Release every resource (the worker process, for a proxy)."""

    # --- stages (an isolated adapter contains a fault within its stage: llmspec.runtime.faults) ---
    def begin_stage(self, stage: str) -> None:
        """The next calls belong to ``stage``."""

    def not_run(self) -> str | None:
        """Why a test of the current stage must not run (an earlier call of it timed out or killed
        the worker), or None."""
        return None

    @property
    def faults(self) -> dict[str, str]:
        """Every stage that stopped early, with its reason."""
        return {}


# The operations the worker protocol forwards: every public method above but the lifetime and stage hooks.
OPS: tuple[str, ...] = tuple(name for name in vars(Adapter) if not name.startswith("_")
                             and name not in ("close", "begin_stage", "not_run", "faults"))


def run_each(call: Callable[[Any], Any], inputs: list[Any]) -> dict[str, Any]:
    """The loop behind the ``*_many`` operations (it runs where the implementation runs)."""
    values: list[Any] = []
    for item in inputs:
        try:
            values.append(call(item))
        except ImplError as exc:
            return {"values": values, "error": exc.to_wire()}
    return {"values": values, "error": None}


def each_result(batch: Any, n: int) -> Iterator[Any]:
    """The ``n`` results of a ``*_many`` call in input order; where that call stopped, its
    :class:`~llmspec.errors.ImplError` is raised, as the single call would have raised it there.
    An answer of another shape (a worker the submission broke) is a :class:`HarnessError`."""
    values = batch.get("values") if isinstance(batch, dict) else None
    error = batch.get("error") if isinstance(batch, dict) else None
    if not isinstance(values, list) or len(values) > n or (error is None and len(values) != n):
        raise HarnessError(f"malformed answer to a batch of {n} calls: {str(batch)[:200]}")
    yield from values
    if error is not None:
        try:
            raise ImplError.from_wire(error)
        except (KeyError, TypeError):
            raise HarnessError("malformed error in the answer to a batch of calls") from None
