"""The bonus notebook before the book repository fixed "multiple preceding spaces" (2026-01-10): of n
spaces before a word, the word took one as "Ġ" and the other n - 1 came *after* it, so "  Hello"
encoded as "ĠHello", "Ġ" (GPT-2: "Ġ", "ĠHello") and decoded as " Hello ".  The current notebook
puts them before the word, as GPT-2 does; the stage says so."""
import re

from notebook_style import MARK
from notebook_style import BPETokenizerSimple as _Current


def split_words(text):
    words = []
    for chunk in re.split(r"(\r\n|\r|\n)", text):
        if chunk == "\r\n":
            words.extend(["\r", "\n"])
        elif chunk in ("\r", "\n"):
            words.append(chunk)
        else:
            waiting = 0
            for spaces, word in re.findall(r"( +)|(\S+)", chunk):
                if spaces:
                    waiting += len(spaces)
                else:
                    words.append(MARK + word if waiting else word)
                    words.extend([MARK] * (waiting - 1))  # the old order: after the word
                    waiting = 0
            words.extend([MARK] * waiting)
    return words


class BPETokenizerSimple(_Current):
    def split_words(self, text):
        return split_words(text)
