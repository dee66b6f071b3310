"""Bug: decode uses ``errors="strict"``: the ids of a partial UTF-8 character (one of the two ids of
"😀") raise UnicodeDecodeError where tiktoken returns U+FFFD."""
from __future__ import annotations

from reference.bpe_scratch import BPETokenizerSimple as _Correct


class BPETokenizerSimple(_Correct):
    def decode(self, token_ids):
        return self.decode_bytes(token_ids).decode("utf-8")
