"""Section 2.5: GPT-2 byte pair encoding, which the book takes from ``tiktoken``.

The only work here is making ``tiktoken.get_encoding("gpt2")`` run offline from the verified local
files (see :func:`llmspec.data.ensure_tiktoken_cache`)."""
from __future__ import annotations

from typing import Any, Callable


def get_gpt2_encoding() -> Any:
    """The book's ``tiktoken.get_encoding("gpt2")``, after seeding tiktoken's offline cache."""
    from llmspec.data import gpt2_encoding

    return gpt2_encoding()


def lazy_tokenizer_getattr(module_name: str) -> Callable[[str], Any]:
    """A module ``__getattr__`` that makes the book's module-level ``tokenizer`` lazy, so importing
    the reference reads no data and needs no network until ``tokenizer`` is first used."""

    def __getattr__(name: str) -> Any:
        if name == "tokenizer":
            return get_gpt2_encoding()
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")

    return __getattr__
