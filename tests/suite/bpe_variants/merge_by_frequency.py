"""Bug: merges chosen by how often a pair occurs in the word, not by rank.

A learner reuses the training rule ("merge the most frequent pair") at encode time.  Words whose
pairs all occur once still come out right, so short golden strings can pass; "banana"-like words
with a repeated pair do not."""
from __future__ import annotations

from collections import Counter

from reference.bpe_scratch import BPETokenizerSimple as _Correct


class BPETokenizerSimple(_Correct):
    def _bpe(self, word: str) -> list[int]:
        if word in self.inverse_vocab and word not in self.special_tokens:
            return [self.inverse_vocab[word]]
        symbols = list(word)
        while len(symbols) > 1:
            counts = Counter(p for p in zip(symbols, symbols[1:]) if p in self.bpe_ranks)
            if not counts:
                break
            (first, second), _ = max(counts.items(), key=lambda kv: (kv[1], -self.bpe_ranks[kv[0]]))
            merged, i = [], 0
            while i < len(symbols):
                if symbols[i : i + 2] == [first, second]:
                    merged.append(first + second)
                    i += 2
                else:
                    merged.append(symbols[i])
                    i += 1
            symbols = merged
        return [self.inverse_vocab[s] for s in symbols]
