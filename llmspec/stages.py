"""The stages of chapter 2 and the names each one needs from an implementation.

This table is the single source of truth for stage names: the pytest markers, ``--stages``, the
"not implemented" check, grading points and the reports all read it.  Names are the book's.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    name: str
    title: str
    section: str  # where the book introduces it
    names: tuple[str, ...]  # contract names the implementation must define
    optional: bool = False  # runs only when selected, or when the target defines its names


STAGES: dict[str, Stage] = {
    s.name: s
    for s in (
        Stage("tokenizer_v1", "SimpleTokenizerV1", "2.3, Listing 2.3", ("SimpleTokenizerV1",)),
        Stage("tokenizer_v2", "SimpleTokenizerV2", "2.4, Listing 2.4", ("SimpleTokenizerV2",)),
        # The book's BPE is tiktoken's "gpt2" encoding; the target's module-level ``tokenizer`` is used
        # when it is tiktoken-like, otherwise ``tiktoken.get_encoding("gpt2")`` in the target's process.
        Stage("bpe", "GPT-2 byte pair encoding (tiktoken)", "2.5", ()),
        Stage("dataset", "GPTDatasetV1", "2.6, Listing 2.5", ("GPTDatasetV1",)),
        Stage("dataloader", "create_dataloader_v1", "2.6, Listing 2.6", ("create_dataloader_v1",)),
        Stage("embeddings", "token + positional embeddings", "2.7-2.8", ("InputEmbeddings",)),
        Stage(
            "bpe_scratch",
            "byte-level BPE from scratch (bonus)",
            "bonus: bpe-from-scratch",
            ("BPETokenizerSimple",),
            optional=True,
        ),
    )
}

CORE_STAGES: tuple[str, ...] = tuple(n for n, s in STAGES.items() if not s.optional)
EDITIONS: tuple[str, ...] = ("print", "meap")

# Every contract name any stage may ask for (an instructor may remap each with --impl-map).
# ``tokenizer`` is the book's module-level ``tokenizer = tiktoken.get_encoding("gpt2")`` (2.5).
CONTRACT_NAMES: tuple[str, ...] = tuple(
    dict.fromkeys(n for s in STAGES.values() for n in s.names)
) + ("tokenizer",)


def parse_stages(text: str | None) -> tuple[str, ...] | None:
    """Parse ``--stages a,b`` (or ``all``); ``None`` means "the default selection"."""
    if not text:
        return None
    if text.strip() == "all":
        return tuple(STAGES)
    names = tuple(dict.fromkeys(p.strip() for p in text.split(",") if p.strip()))
    unknown = [n for n in names if n not in STAGES]
    if unknown:
        raise ValueError(
            f"unknown stage(s) {', '.join(unknown)}; choose from {', '.join(STAGES)} or 'all'"
        )
    return names
