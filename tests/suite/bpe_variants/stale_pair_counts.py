"""Bug: training counts the pairs once, before the first merge, and never updates the counts.

Every merge is a pair of the text's original bytes, in order of their first count: the result is
still lossless and compresses, but the merges are not the ones BPE learns ("aaaa" learns "aa" and
then stops, instead of "aa" then "aaaa")."""
from __future__ import annotations

from collections import Counter
from unittest import mock

import reference.bpe_scratch as _ref
from reference.bpe_scratch import BPETokenizerSimple as _Correct


def _stale_learn(words, freq, n_merges, first_id):
    counts = Counter()
    for syms, f in zip(words, freq):
        for p in zip(syms, syms[1:]):
            counts[p] += f
    return sorted(counts, key=lambda p: -counts[p])[:max(n_merges, 0)]  # ties: first seen, as a Counter keeps them


class BPETokenizerSimple(_Correct):
    def train(self, text, vocab_size, allowed_special=frozenset({_ref.ENDOFTEXT})):
        with mock.patch.object(_ref, "_learn", _stale_learn):
            super().train(text, vocab_size, allowed_special)
