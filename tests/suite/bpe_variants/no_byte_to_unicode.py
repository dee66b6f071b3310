"""Bug: no byte-to-unicode table; only the space is spelled "Ġ" (as the bonus notebook's training does).

ASCII words and spaces look right, so "Hello, world." passes; a newline (GPT-2's "Ċ") raises a
KeyError and "é" becomes one Latin-1 symbol instead of the two UTF-8 bytes "Ã©"."""
from __future__ import annotations

from reference.bpe_scratch import BPETokenizerSimple as _Correct
from reference.bpe_scratch import _clean


class BPETokenizerSimple(_Correct):
    def encode_ordinary(self, text: str) -> list[int]:
        ids: list[int] = []
        for piece in self._pretokenize(_clean(text)):
            ids.extend(self._bpe(piece.replace(" ", "Ġ")))
        return ids
