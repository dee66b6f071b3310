"""A correct GPT-2 BPE written independently of ``reference.bpe_scratch`` (the "good student").

Why a second correct implementation: the stage must *pass* something that is not the reference, or
a test could silently depend on the reference's internals.  This one shares no code with it and
differs on purpose in every layer: a hand-written pre-tokeniser (a scanner, no regex), ids instead
of strings, and merges applied one position at a time (leftmost lowest rank) like tiktoken, instead
of all occurrences per round like GPT-2's encoder.py.  Training follows the bonus notebook's rules
as the reference does (most frequent pair, then the pair seen first) but with a naive recount loop.
"""
from __future__ import annotations

import json
import unicodedata
from collections import Counter

_WS = set("\t\n\x0b\x0c\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | {chr(c) for c in range(0x2000, 0x200B)}
_CONTRACTIONS = ("ll", "ve", "re", "s", "d", "m", "t")
# The one thing shared with the reference: data, not code (Unicode 15-16 letters/numbers that
# tiktoken's regex engine knows and Python 3.11's unicodedata does not).
from reference.pretokenizer import NEWER_LETTERS, NEWER_NUMBERS  # noqa: E402


def _kind(ch: str) -> str:
    if ch in _WS:
        return "S"
    if ch.isalpha() or any(a <= ord(ch) <= b for a, b in NEWER_LETTERS):
        return "L"
    if unicodedata.category(ch)[0] == "N" or any(a <= ord(ch) <= b for a, b in NEWER_NUMBERS):
        return "N"
    return "P"


def pretokenize(text: str) -> list[str]:
    """tiktoken's r50k pattern as a scanner (alternatives tried in the pattern's order)."""
    out, i, n = [], 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "'":
            hit = next((c for c in _CONTRACTIONS if text.startswith(c, i + 1)), None)
            if hit:
                out.append(text[i : i + 1 + len(hit)])
                i += 1 + len(hit)
                continue
        j = i + 1 if ch == " " and i + 1 < n and _kind(text[i + 1]) != "S" else i
        if j < n and _kind(text[j]) != "S":
            k = _kind(text[j])
            j += 1
            while j < n and _kind(text[j]) == k:
                j += 1
            out.append(text[i:j])
            i = j
            continue
        j = i
        while j < n and text[j] in _WS:
            j += 1
        if j == n or j - i == 1:
            end = j if j == n else i + 1
        else:
            end = j - 1  # leave the last space to the next word
        out.append(text[i:end])
        i = end
    return out


def _byte_alphabet() -> list[int]:
    """GPT-2's first 256 ids in byte order: printable bytes first, then the rest."""
    keep = [b for b in range(256) if 33 <= b <= 126 or 161 <= b <= 172 or 174 <= b <= 255]
    return keep + [b for b in range(256) if b not in keep]


class BPETokenizerSimple:
    def __init__(self):
        self.vocab: dict[int, bytes] = {}
        self.ranks: dict[tuple[int, int], int] = {}  # (left id, right id) -> rank
        self.merged: dict[tuple[int, int], int] = {}  # (left id, right id) -> new id
        self.special: dict[str, int] = {}
        self.byte_id: dict[int, int] = {}

    def load_vocab_and_merges_from_openai(self, vocab_path, bpe_merges_path):
        order = _byte_alphabet()
        char_to_byte = {}
        extra = 0
        for b in order:
            c = chr(b) if b in order[:188] else chr(256 + extra)
            extra += b not in order[:188]
            char_to_byte[c] = b
        with open(vocab_path, encoding="utf-8") as f:
            encoder = json.load(f)
        self.special = {t: i for t, i in encoder.items() if t == "<|endoftext|>"}
        self.vocab = {i: bytes(char_to_byte[c] for c in t) for t, i in encoder.items() if t not in self.special}
        by_bytes = {v: k for k, v in self.vocab.items()}
        self.byte_id = {b: by_bytes[bytes([b])] for b in range(256)}
        with open(bpe_merges_path, encoding="utf-8") as f:
            lines = [ln for ln in f.read().splitlines()[1:] if ln]
        for rank, line in enumerate(lines):
            a, b = line.split(" ")
            ia = by_bytes[bytes(char_to_byte[c] for c in a)]
            ib = by_bytes[bytes(char_to_byte[c] for c in b)]
            self.ranks[(ia, ib)] = rank
            self.merged[(ia, ib)] = by_bytes[self.vocab[ia] + self.vocab[ib]]
        self._whole = by_bytes

    def train(self, text, vocab_size, allowed_special={"<|endoftext|>"}):
        """The bonus notebook's rules: 257 base tokens (the 256 bytes, and the space before a word
        as a token of its own, the notebook's "Ġ"), then the specials, then merges; ties go to the
        pair seen first."""
        self.vocab = {i: bytes([i]) for i in range(256)}
        self.vocab[256] = b" "
        self.byte_id = {b: 256 if b == 32 else b for b in range(256)}
        specials = sorted(allowed_special or ())
        self.special = {s: 257 + k for k, s in enumerate(specials)}
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")  # as tiktoken
        counts = Counter(pretokenize(text))  # first appearance order
        words = {tuple(self.byte_id[b] for b in w.encode("utf-8")): c for w, c in counts.items()}
        self.ranks, self.merged = {}, {}
        for new in range(257 + len(specials), vocab_size):
            pairs: Counter = Counter()
            for w, c in words.items():
                for p in zip(w, w[1:]):
                    pairs[p] += c
            if not pairs:
                break
            best = max(pairs.items(), key=lambda kv: kv[1])[0]
            self.ranks[best], self.merged[best] = len(self.ranks), new
            self.vocab[new] = self.vocab[best[0]] + self.vocab[best[1]]
            words = {self._merge(w, best, new): c for w, c in words.items()}
        self.vocab.update({i: s.encode() for s, i in self.special.items()})
        self._whole = {}

    @property
    def bpe_merges(self):
        return self.merged

    @staticmethod
    def _merge(w, pair, new):
        out, i = [], 0
        while i < len(w):
            if w[i : i + 2] == pair:
                out.append(new)
                i += 2
            else:
                out.append(w[i])
                i += 1
        return tuple(out)

    def _word(self, piece: str) -> list[int]:
        data = piece.encode("utf-8")
        if data in self._whole:
            return [self._whole[data]]
        ids = [self.byte_id[b] for b in data]
        while len(ids) > 1:
            r, i = min((self.ranks.get(p, float("inf")), i) for i, p in enumerate(zip(ids, ids[1:])))
            if r == float("inf"):
                break
            ids[i : i + 2] = [self.merged[(ids[i], ids[i + 1])]]
        return ids

    def encode(self, text, allowed_special=None):
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")  # as tiktoken
        allowed = set(self.special) if allowed_special == "all" else set(allowed_special or ())
        for s in self.special:
            if s in text and s not in allowed:
                raise ValueError(f"disallowed special token {s!r} in text")
        ids, rest = [], text
        while rest:
            hits = [(rest.find(s), s) for s in allowed if s in rest]
            pos, s = min(hits) if hits else (len(rest), None)
            for piece in pretokenize(rest[:pos]):
                ids.extend(self._word(piece))
            if s is None:
                break
            ids.append(self.special[s])
            rest = rest[pos + len(s) :]
        return ids

    def decode(self, token_ids):
        table = {**self.vocab, **{i: s.encode() for s, i in self.special.items()}}
        return b"".join(table[i] for i in token_ids).decode("utf-8", errors="replace")
