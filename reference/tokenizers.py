"""Sections 2.2-2.4: the book's regex pre-tokenizer, vocabulary, SimpleTokenizerV1 and V2.

The book exists in two editions whose splitting regex differs: the print edition splits on ``:;``
too, the MEAP edition (seed 002) does not.  On the-verdict.txt that is 4690 vs 4649 tokens, so each
edition's numbers only reproduce with its own regex.  The regex is a class attribute so that
:mod:`reference.meap` can subclass with the MEAP pattern under the same names.
"""
from __future__ import annotations

import re

PATTERNS: dict[str, str] = {
    "print": r'([,.:;?_!"()\']|--|\s)',
    "meap": r'([,.?_!"()\']|--|\s)',
}
SPECIAL_TOKENS: tuple[str, ...] = ("<|endoftext|>", "<|unk|>")
# Decode removes the space the join put before punctuation (same in both editions).
DECODE_PATTERN = r'\s+([,.?!"()\'])'


def _split(pattern: str, text: str) -> list[str]:
    preprocessed = re.split(pattern, text)
    return [item.strip() for item in preprocessed if item.strip()]


def split_text(text: str, edition: str = "print") -> list[str]:
    """The book's pre-tokenizer: ``re.split`` on the edition's regex, strip, drop empty strings."""
    try:
        pattern = PATTERNS[edition]
    except KeyError:
        raise ValueError(f"unknown edition {edition!r}; choose from {', '.join(PATTERNS)}") from None
    return _split(pattern, text)


def build_vocab(text: str, edition: str = "print", special_tokens: bool = True) -> dict[str, int]:
    """Sorted unique tokens of ``text`` mapped to 0.., then ``<|endoftext|>``, ``<|unk|>`` (2.4).

    A special token already present in the text keeps its sorted place rather than being appended
    twice (the book's list would leave an orphan id in that corner case)."""
    all_tokens = sorted(set(split_text(text, edition)))
    if special_tokens:
        all_tokens.extend(t for t in SPECIAL_TOKENS if t not in all_tokens)
    return {token: integer for integer, token in enumerate(all_tokens)}


class SimpleTokenizerV1:
    """Listing 2.3: text -> ids through a fixed vocabulary; an unknown word raises ``KeyError``."""

    edition: str = "print"
    pattern: str = PATTERNS["print"]

    def __init__(self, vocab: dict[str, int]):
        self.str_to_int = vocab
        self.int_to_str = {i: s for s, i in vocab.items()}

    def encode(self, text: str) -> list[int]:
        preprocessed = _split(self.pattern, text)
        return [self.str_to_int[s] for s in preprocessed]

    def decode(self, ids: list[int]) -> str:
        text = " ".join([self.int_to_str[i] for i in ids])
        # remove the space the join put before punctuation
        return re.sub(DECODE_PATTERN, r"\1", text)


class SimpleTokenizerV2(SimpleTokenizerV1):
    """Listing 2.4: like V1, but a word outside the vocabulary becomes ``<|unk|>``."""

    def encode(self, text: str) -> list[int]:
        preprocessed = _split(self.pattern, text)
        preprocessed = [item if item in self.str_to_int else "<|unk|>" for item in preprocessed]
        return [self.str_to_int[s] for s in preprocessed]
