"""Bug: the pattern lacks the whitespace-run alternative ``\\s+(?!\\S)``.

A run of whitespace before a word ("x\\n\\n\\ny") is cut into single characters instead of one run
plus the last character, so blank lines take more ids than GPT-2's."""
from __future__ import annotations

import re

from reference.bpe_scratch import BPETokenizerSimple as _Correct
from reference.pretokenizer import gpt2_pattern


class BPETokenizerSimple(_Correct):
    def _pretokenize(self, text: str) -> list[str]:
        pat = gpt2_pattern().pattern
        head, sep, tail = pat.partition("++\\Z|")
        run = tail[: tail.index("|") + 1]  # "[\s]+(?![^\s])|"
        assert run.endswith("+(?![^" + run[1:run.index("]")] + "])|"), run
        return re.compile(head + sep + tail[len(run):]).findall(text)
