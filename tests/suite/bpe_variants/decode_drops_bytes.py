"""Bug: decode turns each token into text on its own (``errors="ignore"``).

A character whose UTF-8 bytes are split over two tokens (many emoji, rare CJK) silently vanishes;
ASCII text round-trips perfectly."""
from __future__ import annotations

from reference.bpe_scratch import BPETokenizerSimple as _Correct


class BPETokenizerSimple(_Correct):
    def decode(self, token_ids):
        return "".join(self.decode_bytes([i]).decode("utf-8", errors="ignore") for i in token_ids)
