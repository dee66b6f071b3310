"""Bug: ``allowed_special`` is ignored, so ``<|endoftext|>`` is split into ordinary pieces.

``"<|endoftext|>"`` becomes [27, 91, 437, 1659, 5239, 91, 29] instead of [50256]."""
from __future__ import annotations

from reference.bpe_scratch import BPETokenizerSimple as _Correct


class BPETokenizerSimple(_Correct):
    def encode(self, text, allowed_special=None, disallowed_special="all"):
        return self.encode_ordinary(text)
