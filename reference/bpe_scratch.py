"""Byte-level BPE from scratch: GPT-2's tokenizer rebuilt from its two files, plus training.

Why this exists: section 2.5 of the book hands BPE to ``tiktoken``; the book repository's bonus
(``ch02/05_bpe-from-scratch``) and Karpathy's minbpe show how to write it yourself.  This module is
the suite's *reference* for that bonus stage, so it must be **exactly** GPT-2 (the same ids as
``tiktoken.get_encoding("gpt2")`` for every string) while using nothing but the standard library and
the two published files - never tiktoken itself (the tests use tiktoken as the independent oracle).

The four ingredients, each a classic source of a subtle mismatch:

1. **Pre-tokenisation**: tiktoken's ``r50k`` pattern cuts the text into pieces (contractions, letter
   runs, number runs, punctuation runs, whitespace); merges never cross their borders.  The pattern,
   spelled for Python's ``re`` (which lacks ``\\p{L}``/``\\p{N}`` and whose ``\\s`` is not Rust's),
   is :func:`reference.pretokenizer.gpt2_pattern`, a module of its own.
2. **Bytes to unicode**: GPT-2 stores tokens as printable strings; every byte maps to one character
   (:func:`bytes_to_unicode`).
3. **Merges by rank**: repeatedly merge the adjacent pair that appears *earliest* in ``vocab.bpe``
   (not the most frequent one), all its occurrences left to right.
4. **Special tokens**: ``<|endoftext|>`` is a single id only when allowed; by default its literal
   text raises ``ValueError``, exactly like tiktoken's ``disallowed_special="all"``.

Decoding joins the tokens' bytes and decodes them once (``errors="replace"``), so a multi-byte
character split across tokens survives.  Training follows the bonus notebook's rules (its base
vocabulary, its pair order and tie-break; :meth:`BPETokenizerSimple.train`), still byte-level so a
trained tokenizer encodes any text.  The public names follow the bonus notebook:
``BPETokenizerSimple``, ``load_vocab_and_merges_from_openai``, ``train``, ``encode``, ``decode``.
"""
from __future__ import annotations

import functools
import json
import re
from collections import Counter
from collections.abc import Collection, Iterable
from typing import Literal, Union

from reference.pretokenizer import gpt2_pattern

ENDOFTEXT = "<|endoftext|>"
Specials = Union[Collection[str], Literal["all"], None]


@functools.lru_cache(maxsize=1)
def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte -> printable character table.

    Printable Latin-1 bytes map to themselves; the other 68 bytes (controls, space, ...) map to
    U+0100 onwards in byte order, so a space becomes ``"Ġ"`` and a newline ``"Ċ"``.  The *order* of
    this table is also the order of GPT-2's first 256 ids."""
    bs = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    cs = list(bs)
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + len(cs) - 188)  # 188 printable bytes keep their own character
    return dict(zip(bs, map(chr, cs)))


# The trained tokenizer's base, the bonus notebook's: chr(0)..chr(255), then "Ġ" (a space's mark).
# Here chr(b) stands for the byte b (a text's UTF-8 bytes read as Latin-1), so every text encodes;
# a space byte is written "Ġ", as the notebook writes the space before a word.
NOTEBOOK_BASE: tuple[str, ...] = (*map(chr, range(256)), "Ġ")
_NOTEBOOK_MAP = str.maketrans({" ": "Ġ"})
_GPT2_MAP = str.maketrans({chr(b): c for b, c in bytes_to_unicode().items()})
# Back from either alphabet to Latin-1 (one char per byte): GPT-2's characters above U+00FF to their
# bytes; chr(0)..chr(255) are their own byte in both ("Ġ" is the space in both).
_UNMAP = str.maketrans({c: chr(b) for b, c in bytes_to_unicode().items() if ord(c) > 0xFF})


def _clean(text: str) -> str:
    """Lone surrogates cannot be UTF-8 encoded; tiktoken replaces them with U+FFFD, so do we."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


class BPETokenizerSimple:
    """GPT-2's byte-level BPE (load the OpenAI files) or a small one learned with :meth:`train`.

    Attributes mirror the bonus notebook: ``vocab`` (id -> token string in GPT-2's byte-unicode
    alphabet, or the notebook's after training), ``inverse_vocab`` (the reverse), ``bpe_ranks`` ((left, right) -> rank; lower merges
    first) and ``bpe_merges`` ((left id, right id) -> merged id), plus ``special_tokens``."""

    def __init__(self) -> None:
        self.vocab: dict[int, str] = {}
        self.inverse_vocab: dict[str, int] = {}
        self.bpe_ranks: dict[tuple[str, str], int] = {}
        self.bpe_merges: dict[tuple[int, int], int] = {}
        self.special_tokens: dict[str, int] = {}
        self._byte_map = _GPT2_MAP
        self._cache: dict[str, list[int]] = {}  # pre-token (byte-unicode form) -> ids
        self._id_bytes: dict[int, bytes] = {}

    # --- loading -------------------------------------------------------------------------------
    def load_vocab_and_merges_from_openai(self, vocab_path: str, bpe_merges_path: str) -> None:
        """Load GPT-2's ``encoder.json`` (token -> id) and ``vocab.bpe`` (one merge per line, in
        rank order after a ``#version`` header).  Tokens of the form ``<|...|>`` are special."""
        with open(vocab_path, encoding="utf-8") as f:
            encoder: dict[str, int] = json.load(f)
        with open(bpe_merges_path, encoding="utf-8") as f:
            body = f.read()
        if body.startswith("#version"):
            body = body.partition("\n")[2]
        # Byte-level tokens never hold whitespace (a space is "Ġ"), so one split() yields the merge
        # halves alternately: ~10x faster than splitting 50,000 lines one by one.
        parts = body.split()
        if len(parts) != 2 * (body.strip().count("\n") + 1):
            raise ValueError(f"{bpe_merges_path}: every line after #version must be 'left right'")
        specials = {t: i for t, i in encoder.items() if t.startswith("<|") and t.endswith("|>")}
        self._install(
            {i: t for t, i in encoder.items() if t not in specials},
            list(zip(parts[0::2], parts[1::2])),
            specials,
        )
        self._byte_map = _GPT2_MAP

    def _install(
        self, vocab: dict[int, str], merges: list[tuple[str, str]], specials: dict[str, int]
    ) -> None:
        """Set every table from (ordinary vocab, merges in rank order, specials); one code path for
        loaded and trained tokenizers, so both encode the same way."""
        self.vocab = dict(vocab)
        self.inverse_vocab = {t: i for i, t in vocab.items()}
        self.bpe_ranks = dict(zip(merges, range(len(merges))))
        inv = self.inverse_vocab.__getitem__  # map() keeps these 50,000-entry tables in C loops
        lefts, rights = [a for a, _ in merges], [b for _, b in merges]
        self.bpe_merges = dict(zip(zip(map(inv, lefts), map(inv, rights)),
                                   map(inv, map(str.__add__, lefts, rights))))
        self.special_tokens = dict(specials)
        for tok, i in specials.items():
            self.vocab[i] = tok
            self.inverse_vocab[tok] = i
        self._id_bytes = dict(zip(vocab, (t.translate(_UNMAP).encode("latin-1") for t in vocab.values())))
        self._id_bytes.update({i: t.encode("utf-8") for t, i in specials.items()})
        self._cache = {}

    # --- training ------------------------------------------------------------------------------
    def train(self, text: str, vocab_size: int, allowed_special: Specials = frozenset({ENDOFTEXT})) -> None:
        """Learn merges from ``text`` by the rules of the book repository's bonus notebook
        (``bpe-from-scratch.ipynb``; spec_tests/CONTRACT.md states them).

        The vocabulary starts with the notebook's 257 base tokens: ``chr(0)`` to ``chr(255)`` (here
        the 256 byte values, so any text encodes) and ``"Ġ"``, the mark a space becomes; then the
        allowed special tokens; then one token per merge until it has ``vocab_size`` entries or no
        adjacent pair is left (a ``vocab_size`` at or below the base learns nothing, as the
        notebook's ``range(len(vocab), vocab_size)`` does).  Pairs are counted inside pre-tokens;
        the most frequent pair merges first and, among equally frequent pairs, the one that occurs
        first in the text (see :func:`_learn`)."""
        specials = sorted(self._resolve(allowed_special) if allowed_special else set())
        self._byte_map = _NOTEBOOK_MAP
        counts = Counter(self._symbols(w) for w in self._pretokenize(_clean(text)))
        first = len(NOTEBOOK_BASE) + len(specials)  # the id of the first merge
        vocab = dict(enumerate(NOTEBOOK_BASE))  # id -> token string
        ids_of = {c: i for i, c in vocab.items()}
        words = [[ids_of[c] for c in w] for w in counts]
        merges: list[tuple[str, str]] = []
        for new, (a, b) in enumerate(_learn(words, list(counts.values()), vocab_size - first, first), first):
            merges.append((vocab[a], vocab[b]))
            vocab[new] = vocab[a] + vocab[b]
        self._install(vocab, merges, {t: len(NOTEBOOK_BASE) + k for k, t in enumerate(specials)})

    # --- encoding ------------------------------------------------------------------------------
    def _resolve(self, which: Specials) -> set[str]:
        if which == "all":
            return set(self.special_tokens) or {ENDOFTEXT}
        return set(which or ())

    def encode(
        self, text: str, allowed_special: Specials = None, disallowed_special: Specials = "all"
    ) -> list[int]:
        """Token ids for ``text``, with tiktoken's rules for special tokens.

        ``allowed_special`` (a set, or ``"all"``) become single ids; the literal text of any other
        special listed in ``disallowed_special`` (default: all others) raises ``ValueError``; pass
        ``disallowed_special=()`` to encode it as ordinary text."""
        text = _clean(text)
        allowed = self._resolve(allowed_special) & set(self.special_tokens)
        disallowed = (
            set(self.special_tokens) - allowed
            if disallowed_special == "all"
            else set(disallowed_special or ())
        )
        for tok in disallowed:
            if tok in text:
                raise ValueError(
                    f"Encountered text corresponding to disallowed special token {tok!r}; pass "
                    f"allowed_special={{{tok!r}}} to encode it as its id, or disallowed_special=() "
                    "to encode it as ordinary text"
                )
        if not allowed:
            return self.encode_ordinary(text)
        ids: list[int] = []
        parts = re.split("(" + "|".join(map(re.escape, sorted(allowed, key=len, reverse=True))) + ")", text)
        for k, part in enumerate(parts):
            if k % 2:
                ids.append(self.special_tokens[part])
            elif part:
                ids.extend(self.encode_ordinary(part))
        return ids

    def encode_ordinary(self, text: str) -> list[int]:
        """Ids for ``text`` with special tokens treated as plain text (tiktoken's name)."""
        cache, ids = self._cache, []
        for piece in self._pretokenize(_clean(text)):
            word = self._symbols(piece)
            got = cache.get(word)
            if got is None:
                got = cache[word] = self._bpe(word)
            ids.extend(got)
        return ids

    def _symbols(self, piece: str) -> str:
        """A pre-token as a string of base tokens: its UTF-8 bytes, one character each, in this
        tokenizer's alphabet (GPT-2's byte-to-unicode table, or the notebook's)."""
        return piece.encode("utf-8").decode("latin-1").translate(self._byte_map)

    def _pretokenize(self, text: str) -> list[str]:
        """GPT-2's pre-tokens of ``text``; merges never cross their borders (one method, so a test
        variant can swap the pattern)."""
        return gpt2_pattern().findall(text)

    def _bpe(self, word: str) -> list[int]:
        """Merge the symbols of one pre-token, lowest rank first, until no ranked pair is left.

        Each round merges *every* occurrence of the best pair, left to right without overlap
        (``"aaa"`` with merge ``a a`` gives ``["aa", "a"]``), exactly as GPT-2's encoder.py."""
        inv = self.inverse_vocab
        if word in inv and word not in self.special_tokens:
            return [inv[word]]
        ranks = self.bpe_ranks
        symbols = list(word)
        while len(symbols) > 1:
            best = min(zip(symbols, symbols[1:]), key=lambda p: ranks.get(p, 1 << 62))
            if best not in ranks:
                break
            first, second = best
            merged: list[str] = []
            i, n = 0, len(symbols)
            while i < n:
                if i < n - 1 and symbols[i] == first and symbols[i + 1] == second:
                    merged.append(first + second)
                    i += 2
                else:
                    merged.append(symbols[i])
                    i += 1
            symbols = merged
        return [inv[s] for s in symbols]

    # --- decoding ------------------------------------------------------------------------------
    def decode_bytes(self, token_ids: Iterable[int]) -> bytes:
        """The exact bytes behind ``token_ids`` (no lossy step); ``KeyError`` for an unknown id."""
        table = self._id_bytes
        try:
            return b"".join([table[i] for i in token_ids])
        except KeyError as exc:
            raise KeyError(f"token id {exc.args[0]!r} is not in the vocabulary") from None

    def decode(self, token_ids: Iterable[int]) -> str:
        """Text for ``token_ids``: bytes first, decoded once, so a character whose UTF-8 bytes are
        split over several tokens comes back whole (invalid byte runs become U+FFFD, as tiktoken)."""
        return self.decode_bytes(token_ids).decode("utf-8", errors="replace")


def _learn(words: list[list[int]], freq: list[int], n_merges: int, first_id: int) -> list[tuple[int, int]]:
    """The merge loop of :meth:`BPETokenizerSimple.train`, with incremental pair counts.

    ``words`` (symbol ids per distinct pre-token, in the order each first occurs in the text;
    mutated in place) weigh ``freq`` each; merged pairs get the ids ``first_id``, ``first_id + 1``,
    ...  Each round merges the most frequent pair; among equally frequent pairs, the one whose first
    occurrence comes first (words in order, pairs left to right).  That is the bonus notebook's
    ``max(Counter(pairs).items(), key=count)``: a Counter keeps its pairs in the order they were
    first seen and ``max`` returns the first of equal counts."""
    pair_count: Counter[tuple[int, int]] = Counter()
    where: dict[tuple[int, int], set[int]] = {}
    for w, (syms, f) in enumerate(zip(words, freq)):
        for p in zip(syms, syms[1:]):
            pair_count[p] += f
            where.setdefault(p, set()).add(w)
    merges: list[tuple[int, int]] = []
    for new_id in range(first_id, first_id + n_merges):
        if not pair_count:
            break
        best = max(pair_count.values())
        a, b = next(p for syms in words for p in zip(syms, syms[1:]) if pair_count[p] == best)
        merges.append((a, b))
        for w in where.pop((a, b)):
            syms, f = words[w], freq[w]
            for p in zip(syms, syms[1:]):
                pair_count[p] -= f
            out, i = [], 0
            while i < len(syms):
                if i < len(syms) - 1 and syms[i] == a and syms[i + 1] == b:
                    out.append(new_id)
                    i += 2
                else:
                    out.append(syms[i])
                    i += 1
            words[w] = out
            for p in zip(out, out[1:]):
                pair_count[p] += f
                where.setdefault(p, set()).add(w)
        for p in [p for p, c in pair_count.items() if c <= 0]:
            del pair_count[p]
    return merges

