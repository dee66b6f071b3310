"""Section 2.5: GPT-2 byte pair encoding, which the book takes from ``tiktoken``.

The only work here is making ``tiktoken.get_encoding("gpt2")`` run offline from the verified local
files (see :func:`llmspec.data.ensure_tiktoken_cache`)."""
from __future__ import annotations

from typing import Any


def get_gpt2_encoding() -> Any:
    """The book's ``tiktoken.get_encoding("gpt2")``, after seeding tiktoken's offline cache."""
    from llmspec.data import gpt2_encoding

    return gpt2_encoding()
