"""The book repository's bonus notebook (``ch02/05_bpe-from-scratch/bpe-from-scratch.ipynb``, as it is
since 2026-04-10) in our own words: the contract of the bonus stage, which it must pass (with the
note on the one place the-verdict.txt shows its difference from GPT-2: ``a 'subject``).

What makes it the notebook and not GPT-2: words are cut at line breaks and spaces only (a word
keeps one preceding space as "Ġ", extra spaces are "Ġ" tokens, other whitespace is dropped); a
word's characters are looked up as they are, without UTF-8 bytes (a character outside the
vocabulary raises ``ValueError``); after training, encode merges any known pair scanning left to
right, repeatedly; decode writes a leading "Ġ" as a space and ids 198 and 201 as line breaks.
Training: base vocabulary chr(0)..chr(255), the text's other characters, "Ġ"; then the specials;
the most frequent pair merges first, ties to the pair seen first.  The corpus builds its two bonus
notebooks from this file and ``notebook_simple_style.py`` (tests/suite/corpus/corpus_parts.py).
"""
import json
import re
from collections import Counter

MARK = "Ġ"


def split_words(text):
    """Line breaks on their own ("\\r\\n" as two), each word with at most one "Ġ" in front."""
    words = []
    for chunk in re.split(r"(\r\n|\r|\n)", text):
        if chunk == "\r\n":
            words.extend(["\r", "\n"])
        elif chunk in ("\r", "\n"):
            words.append(chunk)
        else:
            waiting = 0
            for spaces, word in re.findall(r"( +)|(\S+)", chunk):
                if spaces:
                    waiting += len(spaces)
                else:
                    words.extend([MARK] * (waiting - 1))
                    words.append(MARK + word if waiting else word)
                    waiting = 0
            words.extend([MARK] * waiting)
    return words


def merge_pair(ids, pair, new_id):
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


class BPETokenizerSimple:
    def __init__(self):
        self.vocab = {}  # id -> token
        self.inverse_vocab = {}  # token -> id
        self.bpe_merges = {}  # (id, id) -> merged id
        self.bpe_ranks = {}  # (token, token) -> rank, GPT-2's
        self.special_tokens = []  # "<|...|>" tokens of the vocabulary

    def split_words(self, text):
        return split_words(text)

    def train(self, text, vocab_size, allowed_special={"<|endoftext|>"}):
        words = self.split_words(text)
        chars = [chr(i) for i in range(256)]
        chars += sorted({c for w in words for c in w} - set(chars))
        if MARK not in chars:
            chars.append(MARK)
        self.vocab = dict(enumerate(chars))
        self.inverse_vocab = {c: i for i, c in self.vocab.items()}
        for token in sorted(allowed_special or ()):
            if token not in self.inverse_vocab:
                self.inverse_vocab[token] = len(self.vocab)
                self.vocab[len(self.vocab)] = token
        self.special_tokens = sorted(allowed_special or ())
        sequences = [[self.inverse_vocab[c] for c in w] for w in words]
        for new_id in range(len(self.vocab), vocab_size):
            counts = Counter(p for seq in sequences for p in zip(seq, seq[1:]))
            if not counts:
                break
            pair = max(counts.items(), key=lambda item: item[1])[0]
            sequences = [merge_pair(seq, pair, new_id) for seq in sequences]
            self.bpe_merges[pair] = new_id
            self.vocab[new_id] = self.vocab[pair[0]] + self.vocab[pair[1]]
            self.inverse_vocab[self.vocab[new_id]] = new_id

    def load_vocab_and_merges_from_openai(self, vocab_path, bpe_merges_path):
        with open(vocab_path, encoding="utf-8") as f:
            self.inverse_vocab = json.load(f)
        self.vocab = {i: t for t, i in self.inverse_vocab.items()}
        self.special_tokens = [t for t in self.inverse_vocab if t.startswith("<|") and t.endswith("|>")]
        self.inverse_vocab["\n"], self.inverse_vocab["\r"] = 198, 201  # GPT-2's "Ċ" and "č"
        with open(bpe_merges_path, encoding="utf-8") as f:
            lines = [line.split() for line in f.read().splitlines()[1:]]
        self.bpe_ranks = {(a, b): rank for rank, (a, b) in enumerate(p for p in lines if len(p) == 2)}

    def encode(self, text, allowed_special=None):
        bad = [t for t in self.special_tokens if t in text and t not in (allowed_special or ())]
        if bad:
            raise ValueError(f"special tokens not allowed: {bad}")
        ids = []
        if allowed_special:
            pattern = "(" + "|".join(re.escape(t) for t in sorted(allowed_special, key=len, reverse=True)) + ")"
            pieces = re.split(pattern, text)
        else:
            pieces = [text]
        for k, piece in enumerate(pieces):
            if k % 2:
                ids.append(self.inverse_vocab[piece])
                continue
            for word in self.split_words(piece):
                if word in self.inverse_vocab:
                    ids.append(self.inverse_vocab[word])
                else:
                    ids.extend(self.bpe_word(word))
        return ids

    def bpe_word(self, word):
        missing = [c for c in word if c not in self.inverse_vocab]
        if missing:
            raise ValueError(f"Characters not found in vocab: {missing}")
        if not self.bpe_ranks:  # trained here: merge any known pair, left to right, until none is left
            ids = [self.inverse_vocab[c] for c in word]
            while True:
                out, i = [], 0
                while i < len(ids):
                    if i + 1 < len(ids) and (ids[i], ids[i + 1]) in self.bpe_merges:
                        out.append(self.bpe_merges[ids[i], ids[i + 1]])
                        i += 2
                    else:
                        out.append(ids[i])
                        i += 1
                if out == ids:
                    return ids
                ids = out
        symbols = list(word)  # GPT-2's files: the lowest rank first, every occurrence
        while len(symbols) > 1:
            pair = min(zip(symbols, symbols[1:]), key=lambda p: self.bpe_ranks.get(p, float("inf")))
            if pair not in self.bpe_ranks:
                break
            out, i = [], 0
            while i < len(symbols):
                if symbols[i:i + 2] == list(pair):
                    out.append(pair[0] + pair[1])
                    i += 2
                else:
                    out.append(symbols[i])
                    i += 1
            symbols = out
        return [self.inverse_vocab[s] for s in symbols]

    def decode(self, ids):
        out = []
        for i in ids:
            if i not in self.vocab:
                raise ValueError(f"Token ID {i} not found in vocab.")
            token = self.vocab[i]
            if i == 198 or token == "\n":
                out.append("\n")
            elif i == 201 or token == "\r":
                out.append("\r")
            elif token.startswith(MARK):
                out.append(" " + token[1:])
            else:
                out.append(token)
        return "".join(out)
