"""Bug: training runs one merge too many: ``vocab_size=1000`` leaves 1001 entries in ``vocab``."""
from __future__ import annotations

from reference.bpe_scratch import ENDOFTEXT
from reference.bpe_scratch import BPETokenizerSimple as _Correct


class BPETokenizerSimple(_Correct):
    def train(self, text, vocab_size, allowed_special=frozenset({ENDOFTEXT})):
        super().train(text, vocab_size + 1, allowed_special)
