"""Bug: the pre-tokenisation pattern lacks the contraction alternative ``'(?:[sdmt]|ll|ve|re)``.

"it's" splits as "it" + "'" + "s" instead of "it" + "'s" (ids 270, 338 in GPT-2)."""
from __future__ import annotations

import re

from reference.bpe_scratch import BPETokenizerSimple as _Correct
from reference.pretokenizer import gpt2_pattern

_PREFIX = "'(?:[sdmt]|ll|ve|re)|"


class BPETokenizerSimple(_Correct):
    def _pretokenize(self, text: str) -> list[str]:
        full = gpt2_pattern().pattern
        assert full.startswith(_PREFIX)
        return re.compile(full[len(_PREFIX) :]).findall(text)
