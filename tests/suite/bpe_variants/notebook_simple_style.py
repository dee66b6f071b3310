"""The book repository's simple bonus notebook (``ch02/05_bpe-from-scratch/bpe-from-scratch-simple.ipynb``,
as it is since 2026-04-10) in our own words: no GPT-2 loader and an ``encode(text)`` without
``allowed_special``, so the stage reports those tests once as not implemented and judges the rest,
which it must pass.

What makes it the simple notebook: training runs over the whole text as one sequence (each space
"Ġ", except a space at the very start, which is dropped), so pairs cross words; encode splits the
text on any whitespace (line breaks and extra spaces are lost) and puts "Ġ" before every word but
the first; a text with no pair to merge learns nothing (the fix of April 2026).
"""
from collections import Counter

MARK = "Ġ"


class BPETokenizerSimple:
    def __init__(self):
        self.vocab = {}
        self.inverse_vocab = {}
        self.bpe_merges = {}

    def train(self, text, vocab_size, allowed_special={"<|endoftext|>"}):
        body = text[1:] if text.startswith(" ") else text
        body = body.replace(" ", MARK)
        chars = [chr(i) for i in range(256)]
        chars += [c for c in sorted(set(body)) if c not in chars]
        if MARK not in chars:
            chars.append(MARK)
        self.vocab = dict(enumerate(chars))
        self.inverse_vocab = {c: i for i, c in self.vocab.items()}
        for token in sorted(allowed_special or ()):
            if token not in self.inverse_vocab:
                self.inverse_vocab[token] = len(self.vocab)
                self.vocab[len(self.vocab)] = token
        ids = [self.inverse_vocab[c] for c in body]
        for new_id in range(len(self.vocab), vocab_size):
            pairs = self.count_pairs(ids)
            if not pairs:
                break
            best = max(pairs.items(), key=lambda item: item[1])[0]
            ids = self.merge(ids, best, new_id)
            self.bpe_merges[best] = new_id
            self.vocab[new_id] = self.vocab[best[0]] + self.vocab[best[1]]
            self.inverse_vocab[self.vocab[new_id]] = new_id

    @staticmethod
    def count_pairs(ids):
        return Counter(zip(ids, ids[1:]))

    @staticmethod
    def merge(ids, pair, new_id):
        out, i = [], 0
        while i < len(ids):
            if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
                out.append(new_id)
                i += 2
            else:
                out.append(ids[i])
                i += 1
        return out

    def encode(self, text):
        words = text.replace("\n", " \n ").split()
        ids = []
        for k, word in enumerate(words):
            token = word if k == 0 or word.startswith("\n") else MARK + word
            if token in self.inverse_vocab:
                ids.append(self.inverse_vocab[token])
                continue
            missing = [c for c in token if c not in self.inverse_vocab]
            if missing:
                raise ValueError(f"Characters not found in vocab: {missing}")
            piece = [self.inverse_vocab[c] for c in token]
            while True:
                out, i = [], 0
                while i < len(piece):
                    if i + 1 < len(piece) and (piece[i], piece[i + 1]) in self.bpe_merges:
                        out.append(self.bpe_merges[piece[i], piece[i + 1]])
                        i += 2
                    else:
                        out.append(piece[i])
                        i += 1
                if out == piece:
                    break
                piece = out
            ids.extend(piece)
        return ids

    def decode(self, ids):
        text = ""
        for i in ids:
            if i not in self.vocab:
                raise ValueError(f"Token ID {i} not found in vocab.")
            token = self.vocab[i]
            text += " " + token[1:] if token.startswith(MARK) else token
        return text
