"""Bug: train() ignores ``allowed_special``: the special tokens are never added to the vocabulary,
so ``<|endoftext|>`` cannot be encoded as one id after training."""
from __future__ import annotations

from reference.bpe_scratch import ENDOFTEXT
from reference.bpe_scratch import BPETokenizerSimple as _Correct


class BPETokenizerSimple(_Correct):
    def train(self, text, vocab_size, allowed_special=frozenset({ENDOFTEXT})):
        super().train(text, vocab_size, allowed_special=None)
