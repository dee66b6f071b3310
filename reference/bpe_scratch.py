"""Byte-level BPE from scratch: GPT-2's tokenizer rebuilt from its two files, plus training.

Why this exists: section 2.5 of the book hands BPE to ``tiktoken``; the book repository's bonus
(``ch02/05_bpe-from-scratch``) and Karpathy's minbpe show how to write it yourself.  This module is
the suite's *reference* for that bonus stage, so it must be **exactly** GPT-2 (the same ids as
``tiktoken.get_encoding("gpt2")`` for every string) while using nothing but the standard library and
the two published files - never tiktoken itself (the tests use tiktoken as the independent oracle).

The four ingredients, each a classic source of a subtle mismatch:

1. **Pre-tokenisation**: tiktoken's ``r50k`` pattern (contractions, ``" ?\\p{L}+"``, ``" ?\\p{N}+"``,
   punctuation runs, whitespace that leaves its last space to the next word).  Python's ``re`` has no
   ``\\p{..}``, so :func:`_pattern` builds the letter/number classes from :mod:`unicodedata` (plus
   the Unicode 15-16 additions tiktoken knows and Python 3.11 does not), and
   ``\\s`` is spelled as Unicode's ``White_Space`` set (Python's ``\\s`` also matches U+001C-U+001F,
   which Rust's regex - tiktoken's engine - does not).
2. **Bytes to unicode**: GPT-2 stores tokens as printable strings; every byte maps to one character
   (:func:`bytes_to_unicode`).
3. **Merges by rank**: repeatedly merge the adjacent pair that appears *earliest* in ``vocab.bpe``
   (not the most frequent one), all its occurrences left to right.
4. **Special tokens**: ``<|endoftext|>`` is a single id only when allowed; by default its literal
   text raises ``ValueError``, exactly like tiktoken's ``disallowed_special="all"``.

Decoding joins the tokens' bytes and decodes them once (``errors="replace"``), so a multi-byte
character split across tokens survives.  The public names follow the bonus notebook:
``BPETokenizerSimple``, ``load_vocab_and_merges_from_openai``, ``train``, ``encode``, ``decode``.
"""
from __future__ import annotations

import functools
import heapq
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Collection, Iterable
from typing import Literal, Union

ENDOFTEXT = "<|endoftext|>"
Specials = Union[Collection[str], Literal["all"], None]

# Unicode's White_Space property (what Rust's ``\s`` means); stable since Unicode 6.3.
_WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


# Letters (L*) and numbers (N*) that Unicode 15.0-16.0 added: tiktoken's regex engine (Rust) knows
# them, Python 3.11's unicodedata (14.0) does not.  Found by classifying every code point with
# tiktoken (is ``c + "'s"`` split before the apostrophe?) and splitting the extras into L / N with
# the ``regex`` package's tables; tests/test_bpe_scratch.py re-checks samples against tiktoken.
NEWER_LETTERS: tuple[tuple[int, int], ...] = (
    (0x1C89, 0x1C8A), (0xA7CB, 0xA7CD), (0xA7DA, 0xA7DC), (0x105C0, 0x105F3), (0x10D4A, 0x10D65),
    (0x10D6F, 0x10D85), (0x10EC2, 0x10EC4), (0x1123F, 0x11240), (0x11380, 0x11389), (0x1138B, 0x1138B),
    (0x1138E, 0x1138E), (0x11390, 0x113B5), (0x113B7, 0x113B7), (0x113D1, 0x113D1), (0x113D3, 0x113D3),
    (0x11BC0, 0x11BE0), (0x11F02, 0x11F02), (0x11F04, 0x11F10), (0x11F12, 0x11F33), (0x1342F, 0x1342F),
    (0x13441, 0x13446), (0x13460, 0x143FA), (0x16100, 0x1611D), (0x16D40, 0x16D6C), (0x18CFF, 0x18CFF),
    (0x1B132, 0x1B132), (0x1B155, 0x1B155), (0x1DF25, 0x1DF2A), (0x1E030, 0x1E06D), (0x1E4D0, 0x1E4EB),
    (0x1E5D0, 0x1E5ED), (0x1E5F0, 0x1E5F0), (0x2B739, 0x2B739), (0x2EBF0, 0x2EE5D), (0x31350, 0x323AF),
)
NEWER_NUMBERS: tuple[tuple[int, int], ...] = (
    (0x10D40, 0x10D49), (0x116D0, 0x116E3), (0x11BF0, 0x11BF9), (0x11F50, 0x11F59), (0x16130, 0x16139),
    (0x16D70, 0x16D79), (0x1CCF0, 0x1CCF9), (0x1D2C0, 0x1D2D3), (0x1E4F0, 0x1E4F9), (0x1E5F1, 0x1E5FA),
)


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


def _ranges(codepoints: Iterable[int]) -> str:
    """A regex character-class body for sorted code points, compressed into ``a-b`` runs."""
    out: list[str] = []
    start = prev = -2
    for cp in codepoints:
        if cp != prev + 1:
            if start >= 0:
                out.append(_span(start, prev))
            start = cp
        prev = cp
    if start >= 0:
        out.append(_span(start, prev))
    return "".join(out)


def _span(a: int, b: int) -> str:
    esc = lambda cp: re.escape(chr(cp))  # noqa: E731 - tiny local helper
    return esc(a) if a == b else f"{esc(a)}-{esc(b)}"


@functools.lru_cache(maxsize=1)
def _pattern() -> re.Pattern[str]:
    """tiktoken's GPT-2 (``r50k``) split pattern, translated to Python's ``re``.

    ``\\p{L}``/``\\p{N}`` come from :mod:`unicodedata` (general categories L* / N*); ``$`` becomes
    ``\\Z`` because Rust's ``$`` never matches before a final newline.  Possessive quantifiers
    (Python >= 3.11) are kept as in tiktoken."""
    letters = {cp for a, b in NEWER_LETTERS for cp in range(a, b + 1)}
    numbers = {cp for a, b in NEWER_NUMBERS for cp in range(a, b + 1)}
    for cp in range(0x110000):
        cat = unicodedata.category(chr(cp))[0]
        if cat == "L":
            letters.add(cp)
        elif cat == "N":
            numbers.add(cp)
    L, N, S = _ranges(sorted(letters)), _ranges(sorted(numbers - letters)), _WHITE_SPACE
    return re.compile(
        rf"'(?:[sdmt]|ll|ve|re)| ?[{L}]++| ?[{N}]++| ?[^{S}{L}{N}]++|[{S}]++\Z|[{S}]+(?![^{S}])|[{S}]"
    )


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
    alphabet), ``inverse_vocab`` (the reverse), ``bpe_ranks`` ((left, right) -> rank; lower merges
    first) and ``bpe_merges`` ((left id, right id) -> merged id), plus ``special_tokens``."""

    def __init__(self) -> None:
        self.vocab: dict[int, str] = {}
        self.inverse_vocab: dict[str, int] = {}
        self.bpe_ranks: dict[tuple[str, str], int] = {}
        self.bpe_merges: dict[tuple[int, int], int] = {}
        self.special_tokens: dict[str, int] = {}
        self._byte_map = str.maketrans({chr(b): c for b, c in bytes_to_unicode().items()})
        self._byte_of = {c: b for b, c in bytes_to_unicode().items()}
        self._cache: dict[str, list[int]] = {}  # pre-token (byte-unicode form) -> ids
        self._id_bytes: dict[int, bytes] = {}

    # --- loading -------------------------------------------------------------------------------
    def load_vocab_and_merges_from_openai(self, vocab_path: str, bpe_merges_path: str) -> None:
        """Load GPT-2's ``encoder.json`` (token -> id) and ``vocab.bpe`` (one merge per line, in
        rank order after a ``#version`` header).  Tokens of the form ``<|...|>`` are special."""
        with open(vocab_path, encoding="utf-8") as f:
            encoder: dict[str, int] = json.load(f)
        with open(bpe_merges_path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        merges = [tuple(line.split(" ")) for line in lines if line and not line.startswith("#version")]
        specials = {t: i for t, i in encoder.items() if t.startswith("<|") and t.endswith("|>")}
        self._install(
            {i: t for t, i in encoder.items() if t not in specials},
            [(a, b) for a, b in merges],  # type: ignore[misc]
            specials,
        )

    def _install(
        self, vocab: dict[int, str], merges: list[tuple[str, str]], specials: dict[str, int]
    ) -> None:
        """Set every table from (ordinary vocab, merges in rank order, specials); one code path for
        loaded and trained tokenizers, so both encode the same way."""
        self.vocab = dict(vocab)
        self.inverse_vocab = {t: i for i, t in vocab.items()}
        self.bpe_ranks = {pair: r for r, pair in enumerate(merges)}
        self.bpe_merges = {
            (self.inverse_vocab[a], self.inverse_vocab[b]): self.inverse_vocab[a + b] for a, b in merges
        }
        self.special_tokens = dict(specials)
        for tok, i in specials.items():
            self.vocab[i] = tok
            self.inverse_vocab[tok] = i
        self._id_bytes = {i: bytes(self._byte_of[c] for c in t) for i, t in vocab.items()}
        self._id_bytes.update({i: t.encode("utf-8") for t, i in specials.items()})
        self._cache = {}

    # --- training ------------------------------------------------------------------------------
    def train(self, text: str, vocab_size: int, allowed_special: Specials = frozenset({ENDOFTEXT})) -> None:
        """Learn merges from ``text`` until the vocabulary (256 bytes + merges + specials) has
        ``vocab_size`` entries or no adjacent pair is left to merge.

        Like GPT-2, pairs never cross pre-token boundaries and the 256 byte tokens take ids 0-255 in
        :func:`bytes_to_unicode` order.  **Tie-breaking (documented, deterministic):** the most
        frequent pair wins; among equally frequent pairs, the one whose (left id, right id) is
        smallest.  It never depends on dict or set iteration order, so the merges are reproducible
        across runs and Python versions.  Special tokens take the ids after the last merge (GPT-2
        puts ``<|endoftext|>`` last too) and are cut out of the text before counting."""
        specials = sorted(self._resolve(allowed_special) if allowed_special else set())
        if vocab_size < 256 + len(specials):
            raise ValueError(f"vocab_size must be at least {256 + len(specials)}")
        base = list(bytes_to_unicode().values())
        vocab = dict(enumerate(base))
        tokens = list(base)  # id -> token string while training
        chunks = re.split("|".join(map(re.escape, specials)), text) if specials else [text]
        counts = Counter(
            w.encode("utf-8").decode("latin-1").translate(self._byte_map)
            for chunk in chunks
            for w in self._pretokenize(_clean(chunk))
        )
        ids_of = {c: i for i, c in enumerate(base)}
        words = [[ids_of[c] for c in w] for w in counts]
        freq = list(counts.values())
        merges: list[tuple[str, str]] = []
        for a, b in _learn(words, freq, vocab_size - 256 - len(specials)):
            new = len(tokens)
            tokens.append(tokens[a] + tokens[b])
            vocab[new] = tokens[new]
            merges.append((tokens[a], tokens[b]))
        self._install(vocab, merges, {t: len(tokens) + k for k, t in enumerate(specials)})

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
        byte_map = self._byte_map
        for piece in self._pretokenize(_clean(text)):
            word = piece.encode("utf-8").decode("latin-1").translate(byte_map)
            got = cache.get(word)
            if got is None:
                got = cache[word] = self._bpe(word)
            ids.extend(got)
        return ids

    def _pretokenize(self, text: str) -> list[str]:
        """GPT-2's pre-tokens of ``text``; merges never cross their borders (one method, so a test
        variant can swap the pattern)."""
        return _pattern().findall(text)

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


def _learn(words: list[list[int]], freq: list[int], n_merges: int) -> list[tuple[int, int]]:
    """The merge loop of :meth:`BPETokenizerSimple.train`: incremental pair counts + a lazy heap.

    ``words`` (symbol ids per distinct pre-token, mutated in place) weigh ``freq`` each.  Merged
    pairs get new ids 256, 257, ... in order.  The heap holds ``(-count, left, right)``; stale
    entries are skipped when popped, which gives "most frequent, then smallest ids" every round."""
    pair_count: Counter[tuple[int, int]] = Counter()
    where: dict[tuple[int, int], set[int]] = {}
    for w, (syms, f) in enumerate(zip(words, freq)):
        for p in zip(syms, syms[1:]):
            pair_count[p] += f
            where.setdefault(p, set()).add(w)
    heap = [(-c, a, b) for (a, b), c in pair_count.items()]
    heapq.heapify(heap)
    merges: list[tuple[int, int]] = []
    new_id = 256
    while len(merges) < n_merges and heap:
        neg, a, b = heapq.heappop(heap)
        if pair_count.get((a, b), 0) != -neg or neg == 0:
            continue  # stale entry
        merges.append((a, b))
        touched: set[tuple[int, int]] = set()
        for w in sorted(where.pop((a, b), ())):
            syms, f = words[w], freq[w]
            for p in zip(syms, syms[1:]):
                pair_count[p] -= f
                touched.add(p)
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
                touched.add(p)
                where.setdefault(p, set()).add(w)
        for p in touched:
            c = pair_count.get(p, 0)
            if c <= 0:
                pair_count.pop(p, None)
            else:
                heapq.heappush(heap, (-c, p[0], p[1]))
        pair_count.pop((a, b), None)
        new_id += 1
    return merges
