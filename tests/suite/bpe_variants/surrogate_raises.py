"""Outside the contract, so it passes: encode passes the text straight to UTF-8, so a lone surrogate
("\\ud800") raises UnicodeEncodeError where tiktoken encodes it as U+FFFD.  The book repository's
bonus notebook raises on it too (a character outside its vocabulary), and the stage accepts raising
wherever the notebook raises; returning ids other than tiktoken's would still fail."""
from __future__ import annotations

from reference.bpe_scratch import BPETokenizerSimple as _Correct


class BPETokenizerSimple(_Correct):
    def encode(self, text, allowed_special=None, disallowed_special="all"):
        text.encode("utf-8")  # raises on a lone surrogate
        return super().encode(text, allowed_special, disallowed_special)
