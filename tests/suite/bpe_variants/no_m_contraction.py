"""Bug: the contraction alternative lacks ``'m``: ``'(?:[sdt]|ll|ve|re)``.

"I'm" splits as "I" + "'m" -> "I", "'", "m" ([40, 6, 76]) instead of GPT-2's [40, 1101]; the other
contractions are fine, so only the pretokenizer enumeration is sure to see it."""
from __future__ import annotations

import re

from reference.bpe_scratch import BPETokenizerSimple as _Correct
from reference.pretokenizer import gpt2_pattern


class BPETokenizerSimple(_Correct):
    def _pretokenize(self, text: str) -> list[str]:
        full = gpt2_pattern().pattern
        assert full.startswith("'(?:[sdmt]|")
        return re.compile(full.replace("'(?:[sdmt]|", "'(?:[sdt]|", 1)).findall(text)
