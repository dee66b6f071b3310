"""The adapter's operations as messages: each call becomes ``(op, keyword arguments)``.

:class:`MessageAdapter` implements every operation of :class:`~llmspec.runtime.adapter.Adapter` by
handing its name and its arguments, by keyword, to :meth:`MessageAdapter._call`; the proxy sends
them to the worker (:mod:`llmspec.runtime.proxy`), whose loop calls the operation of that name on
the in-process adapter with those keywords (:mod:`llmspec.runtime.worker`).  Written out, not
generated: each signature reads as the protocol's own.
"""
from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any

from llmspec.runtime.adapter import Adapter, DatasetTokenizer, SpecialSet

if TYPE_CHECKING:
    import torch


class MessageAdapter(Adapter):
    """Every operation as one message to :meth:`_call`."""

    @abc.abstractmethod
    def _call(self, op: str, kwargs: dict[str, Any]) -> Any:
        """Answer operation ``op`` called with ``kwargs``."""

    def describe(self) -> dict[str, Any]:
        return self._call("describe", {})

    def tokenizer_new(self, version: int, vocab: dict[str, int]) -> int:
        return self._call("tokenizer_new", {"version": version, "vocab": vocab})

    def tokenizer_encode(self, handle: int, text: str) -> list[int]:
        return self._call("tokenizer_encode", {"handle": handle, "text": text})

    def tokenizer_decode(self, handle: int, ids: list[int]) -> str:
        return self._call("tokenizer_decode", {"handle": handle, "ids": ids})

    def tokenizer_encode_many(self, handle: int, texts: list[str]) -> dict[str, Any]:
        return self._call("tokenizer_encode_many", {"handle": handle, "texts": texts})

    def tokenizer_decode_many(self, handle: int, ids_list: list[list[int]]) -> dict[str, Any]:
        return self._call("tokenizer_decode_many", {"handle": handle, "ids_list": ids_list})

    def bpe_encode(self, text: str, allowed_special: SpecialSet = None,
                   disallowed_special: SpecialSet = None) -> list[int]:
        return self._call("bpe_encode", {"text": text, "allowed_special": allowed_special,
                                         "disallowed_special": disallowed_special})

    def bpe_decode(self, ids: list[int]) -> str:
        return self._call("bpe_decode", {"ids": ids})

    def bpe_info(self) -> dict[str, Any]:
        return self._call("bpe_info", {})

    def dataset_new(self, txt: str, max_length: int, stride: int, tokenizer: DatasetTokenizer = "gpt2") -> int:
        return self._call("dataset_new", {"txt": txt, "max_length": max_length, "stride": stride,
                                          "tokenizer": tokenizer})

    def dataset_len(self, handle: int) -> int:
        return self._call("dataset_len", {"handle": handle})

    def dataset_items(self, handle: int, indices: list[int]) -> list[list[torch.Tensor]]:
        return self._call("dataset_items", {"handle": handle, "indices": indices})

    def dataset_tokenizer_calls(self, handle: int) -> list[dict[str, Any]]:
        return self._call("dataset_tokenizer_calls", {"handle": handle})

    def dataloader_batches(self, txt: str, batch_size: int, max_length: int, stride: int, shuffle: bool,
                           drop_last: bool, num_workers: int = 0, seed: int | None = None,
                           max_batches: int | None = None) -> dict[str, Any]:
        return self._call("dataloader_batches", {
            "txt": txt, "batch_size": batch_size, "max_length": max_length, "stride": stride, "shuffle": shuffle,
            "drop_last": drop_last, "num_workers": num_workers, "seed": seed, "max_batches": max_batches})

    def dataloader_signature(self) -> list[dict[str, Any]]:
        return self._call("dataloader_signature", {})

    def embeddings_new(self, vocab_size: int, output_dim: int, context_length: int, seed: int | None = None) -> int:
        return self._call("embeddings_new", {"vocab_size": vocab_size, "output_dim": output_dim,
                                             "context_length": context_length, "seed": seed})

    def embeddings_state(self, handle: int) -> dict[str, Any]:
        return self._call("embeddings_state", {"handle": handle})

    def embeddings_forward(self, handle: int, ids: torch.Tensor) -> torch.Tensor:
        return self._call("embeddings_forward", {"handle": handle, "ids": ids})

    def embeddings_backward(self, handle: int, ids: torch.Tensor,
                            grad_output: torch.Tensor) -> dict[str, torch.Tensor | None]:
        return self._call("embeddings_backward", {"handle": handle, "ids": ids, "grad_output": grad_output})

    def state_read(self, names: list[str], rows: dict[str, list[int]] | None = None) -> dict[str, Any]:
        return self._call("state_read", {"names": names, "rows": rows})

    def bpe_scratch_new(self, encoder_json: str | None, vocab_bpe: str | None) -> int:
        return self._call("bpe_scratch_new", {"encoder_json": encoder_json, "vocab_bpe": vocab_bpe})

    def bpe_scratch_encode(self, handle: int, text: str, allowed_special: SpecialSet = None) -> list[int]:
        return self._call("bpe_scratch_encode", {"handle": handle, "text": text, "allowed_special": allowed_special})

    def bpe_scratch_decode(self, handle: int, ids: list[int]) -> str:
        return self._call("bpe_scratch_decode", {"handle": handle, "ids": ids})

    def bpe_scratch_train(self, handle: int, text: str, vocab_size: int, allowed_special: SpecialSet = None) -> None:
        return self._call("bpe_scratch_train", {"handle": handle, "text": text, "vocab_size": vocab_size,
                                                "allowed_special": allowed_special})

    def bpe_scratch_state(self, handle: int) -> dict[str, Any]:
        return self._call("bpe_scratch_state", {"handle": handle})

    def release(self, handle: int) -> None:
        return self._call("release", {"handle": handle})
