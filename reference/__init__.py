"""The reference implementation of chapter 2, under the book's names (print edition).

``tokenizer`` - the book's module-level ``tokenizer = tiktoken.get_encoding("gpt2")`` - is created
on first access (module ``__getattr__``), so ``import reference`` reads no data and needs no network.
The MEAP-edition reference is :mod:`reference.meap`.
"""
from __future__ import annotations

from reference.bpe import lazy_tokenizer_getattr
from reference.bpe_scratch import BPETokenizerSimple
from reference.dataset import GPTDatasetV1, create_dataloader_v1
from reference.embeddings import InputEmbeddings
from reference.tokenizers import SimpleTokenizerV1, SimpleTokenizerV2

__all__ = [
    "SimpleTokenizerV1",
    "SimpleTokenizerV2",
    "GPTDatasetV1",
    "create_dataloader_v1",
    "InputEmbeddings",
    "BPETokenizerSimple",
    "tokenizer",
]


__getattr__ = lazy_tokenizer_getattr(__name__)
