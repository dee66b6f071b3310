"""Bug: whitespace runs are matched greedily (``\\s+`` without ``(?!\\S)``).

GPT-2 leaves the last space of a run to the next word ("a  b" -> "a", " ", " b"); this variant
keeps the run whole ("a", "  ", "b"), so indented code and double spaces tokenize differently."""
from __future__ import annotations

import re

from reference.bpe_scratch import BPETokenizerSimple as _Correct
from reference.pretokenizer import gpt2_pattern


class BPETokenizerSimple(_Correct):
    def _pretokenize(self, text: str) -> list[str]:
        pat = gpt2_pattern().pattern
        head, sep, _tail = pat.partition("++\\Z|")
        ws = head[head.rindex("|") + 1 :]  # the whitespace class, e.g. "[\t...]"
        return re.compile(head[: head.rindex("|") + 1] + ws + "+").findall(text)
