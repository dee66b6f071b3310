"""The bonus notebook before the book repository fixed "multiple preceding spaces" (2026-01-10): of n
spaces before a word, the word took one as "Ġ" and the other n - 1 came *after* it, so "  Hello"
encoded as "ĠHello", "Ġ" (GPT-2: "Ġ", "ĠHello") and decoded as " Hello ".  The current notebook
puts them before the word, as GPT-2 does; the stage says so."""
from notebook_style import MARK
from notebook_style import BPETokenizerSimple as _Current


class BPETokenizerSimple(_Current):
    def split_words(self, text):
        out, waiting = [], 0
        for word in super().split_words(text):
            if word == MARK:
                waiting += 1
                continue
            # the old order: the extra spaces after the word that took one of them
            out += [word] + [MARK] * waiting if word.startswith(MARK) else [MARK] * waiting + [word]
            waiting = 0
        return out + [MARK] * waiting
