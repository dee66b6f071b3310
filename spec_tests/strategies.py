"""Hypothesis strategies shared by every stage module (write a strategy once, here).

Sizes are small on purpose: the whole suite must run in a few seconds, derandomized, and the bugs it
hunts (an off-by-one, a missing shift, an ignored stride) show up on short inputs.  Boundary cases
(``n == max_length``, ``n == max_length + 1``, ``stride > max_length``) are pinned with ``@example`` in
the tests themselves so a kill never depends on luck.
"""
from __future__ import annotations

from functools import lru_cache

from hypothesis import settings
from hypothesis import strategies as st

# Characters the book's regex splits on, per edition (the MEAP regex does not split ':' and ';').
SPLIT_CHARS: dict[str, str] = {"print": ',.:;?_!"()\'', "meap": ',.?_!"()\''}
# Whitespace the regex's ``\s`` splits on (all of them must vanish from tokens).
WHITESPACE = [" ", "\n", "\t", "  ", " \n ", "\u00a0", "\u2028", "\x1c"]
# An alphabet that provokes the tokenizer's corner cases: punctuation, odd whitespace, special-token
# look-alikes, non-ASCII letters.
TRICKY = "ab -_,.:;?!\"()'\n\t\x1c\u00a0\u2028é<|>日"
EOT = "<|endoftext|>"
GPT2_VOCAB = 50257


def scaled(weight: float = 1.0) -> settings:
    """``@scaled(0.5)``: half the active profile's ``max_examples`` (so ``--hypothesis-profile
    llmspec-deep`` deepens every test, instead of each test pinning its own count)."""
    return settings(max_examples=max(5, int(settings.default.max_examples * weight)))


def vocab_text(words: list[str], edition: str = "print", max_pieces: int = 12) -> st.SearchStrategy[str]:
    """Text made only of vocabulary tokens, the edition's punctuation and whitespace.

    Two words are always separated by whitespace (else they would fuse into an unknown word);
    punctuation the edition splits on may touch its neighbours, as in real prose ("said," / "(so").
    Built once per vocabulary (tests call this inside every example, and defining a composite
    strategy makes Hypothesis read its source)."""
    return _vocab_text(tuple(words), edition, max_pieces)


@lru_cache(maxsize=16)
def _vocab_text(words: tuple[str, ...], edition: str, max_pieces: int) -> st.SearchStrategy[str]:
    split = frozenset(SPLIT_CHARS[edition]) | {"--"}
    ordered = sorted(words)
    punct = [w for w in ordered if w in split]
    plain = [w for w in ordered if w not in split]
    piece = st.one_of(st.sampled_from(plain), st.sampled_from(punct)) if punct else st.sampled_from(plain)
    return _join_pieces(st.lists(piece, min_size=0, max_size=max_pieces), split)


# The separators' strategies, built once: a strategy made inside a draw is validated and labelled
# anew on every example (a tenth of a property's trusted time); the same object draws the same values.
_EDGE = st.sampled_from(["", " ", "\n"])
_TOUCHING = st.sampled_from(["", " "])
_BETWEEN = st.sampled_from(WHITESPACE)


@st.composite
def _join_pieces(draw: st.DrawFn, pieces_strategy: st.SearchStrategy[list[str]], split: frozenset[str]) -> str:
    pieces = draw(pieces_strategy)
    out = draw(_EDGE)
    for i, p in enumerate(pieces):
        if i:
            touching = p in split or pieces[i - 1] in split
            out += draw(_TOUCHING if touching else _BETWEEN)
        out += p
    return out + draw(_EDGE)


def decode_words(words: list[str], max_size: int = 16) -> st.SearchStrategy[list[str]]:
    """Vocabulary words to decode, punctuation drawn as often as words (where decode's spacing
    rules bite).  Built once per vocabulary, as :func:`vocab_text`."""
    return _decode_words(tuple(words), max_size)


@lru_cache(maxsize=16)
def _decode_words(words: tuple[str, ...], max_size: int) -> st.SearchStrategy[list[str]]:
    ordered = sorted(words)
    punct = [w for w in ordered if not w[:1].isalnum()] or ordered
    return st.lists(st.one_of(st.sampled_from(punct), st.sampled_from(ordered)), min_size=1, max_size=max_size)


# vocabulary id -> (the vocabulary, kept alive so its id stays its own; the strategy)
_UNKNOWN_WORDS: dict[int, tuple[dict[str, int], st.SearchStrategy[str]]] = {}


def unknown_word(vocab: dict[str, int]) -> st.SearchStrategy[str]:
    """A word (letters only, so the regex keeps it whole) that is not in the vocabulary (one
    strategy per vocabulary object: the suite's vocabularies live for the whole session)."""
    entry = _UNKNOWN_WORDS.get(id(vocab))
    if entry is None or entry[0] is not vocab:
        entry = _UNKNOWN_WORDS[id(vocab)] = (vocab, st.text(
            alphabet="abcdefghijklmnopqrstuvwxyzXYZéß", min_size=1, max_size=8).filter(lambda w: w not in vocab))
    return entry[1]


@lru_cache(maxsize=8)
def tricky_text(max_size: int = 40) -> st.SearchStrategy[str]:
    """Short text over :data:`TRICKY`, or arbitrary unicode."""
    return st.one_of(st.text(alphabet=TRICKY, max_size=max_size), st.text(max_size=max_size))


def known_or_tricky(words: list[str], edition: str, max_pieces: int, max_size: int) -> st.SearchStrategy[str]:
    """:func:`vocab_text` or :func:`tricky_text`, one of the two per example (built once)."""
    return _known_or_tricky(tuple(words), edition, max_pieces, max_size)


@lru_cache(maxsize=8)
def _known_or_tricky(words: tuple[str, ...], edition: str, max_pieces: int, max_size: int) -> st.SearchStrategy[str]:
    return st.one_of(_vocab_text(words, edition, max_pieces), tricky_text(max_size))


def bpe_text(max_size: int = 60) -> st.SearchStrategy[str]:
    """Arbitrary unicode for the lossless BPE property, without the literal special token."""
    return st.text(max_size=max_size).filter(lambda t: EOT not in t)


# Fragments that hit each part of GPT-2's pre-tokeniser: contractions, whitespace runs (the last
# space goes to the next word), digits, punctuation runs, multi-byte characters split over tokens,
# the special token and look-alikes.
BPE_PIECES = (
    "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "''", " it's", " we'll",
    " ", "  ", "   ", "\n", "\n\n", "\t", " \n ", "\r\n", "\u00a0", "\u3000", "\x1c", "\u2028",
    "0", "12", " 345", "2024", "½", "Ⅻ", "٣",
    "Hello", " world", "banana", " Implementations", "--", "?!", "...", " (", "é", "e\u0301", "ß",
    "日本語", "😀", "👍🏽", "🤗", "€", "丂", "\u200d", EOT, "<|endoftext", "|>", "<|",
)


def bpe_mix(max_pieces: int = 8) -> st.SearchStrategy[str]:
    """Arbitrary unicode interleaved with :data:`BPE_PIECES`: the differential BPE tests here and in
    the project's 10,000-string comparison (tests/unit/reference/test_bpe_scratch.py) draw from it."""
    part = st.one_of(st.sampled_from(BPE_PIECES), st.text(max_size=6),
                     st.text(alphabet=" \n'sl0a1é😀", max_size=6))
    return st.lists(part, max_size=max_pieces).map("".join)


def token_ids(max_size: int = 80, vocab_size: int = GPT2_VOCAB) -> st.SearchStrategy[list[int]]:
    """What the fake tokenizer returns to ``GPTDatasetV1``: any ids, any length (even empty)."""
    return st.lists(st.integers(0, vocab_size - 1), max_size=max_size)


def window_params() -> st.SearchStrategy[tuple[int, int]]:
    """``(max_length, stride)``: strides below, equal to and above ``max_length`` all occur."""
    return st.tuples(st.integers(1, 10), st.integers(1, 12))


def loader_params() -> st.SearchStrategy[dict[str, int]]:
    """Keyword arguments for ``create_dataloader_v1`` besides the text and the flags."""
    return st.fixed_dictionaries({
        "batch_size": st.integers(1, 5), "max_length": st.integers(1, 8), "stride": st.integers(1, 9),
    })


@st.composite
def embedding_case(draw: st.DrawFn) -> dict[str, int]:
    """``InputEmbeddings`` sizes plus a batch shape ``[B, T]`` with ``T <= context_length``."""
    context = draw(st.integers(1, 8))
    return {
        "vocab_size": draw(st.integers(1, 30)),
        "output_dim": draw(st.integers(1, 6)),
        "context_length": context,
        "batch": draw(st.integers(1, 4)),
        "T": draw(st.integers(1, context)),
        "seed": draw(st.integers(0, 2**16)),
    }


# Text whose vocabulary the trusted side builds itself: letters of several scripts, digits,
# punctuation outside the book's split set, typeset dashes and quotes, the book's own set and
# whitespace, so a tokenizer that splits on one character too many (or too few) meets it in V1 too.
GENERATED_ALPHABET = "abXé日Жλ07%$#&*+/=@[]{}~^`<>|\u2014\u2013\u201c\u201d\u2018\u2019\u2026-" + \
    ',.:;?_!"()\'' + " \n\t"


def generated_text(max_size: int = 30) -> st.SearchStrategy[str]:
    """Text over :data:`GENERATED_ALPHABET` (the vocabulary comes from the text itself)."""
    return st.text(alphabet=GENERATED_ALPHABET, min_size=1, max_size=max_size)
