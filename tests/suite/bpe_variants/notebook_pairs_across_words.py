"""The bonus notebook before the book repository's "BPE whitespace fixes" (2026-03-07): train() counted
pairs over the whole text with each space as "Ġ", so it learned tokens such as "eĠ" that encode,
which cuts words first, never uses.  The current notebook counts pairs inside each word (its
tests.py: no learned token has a "Ġ" that is not leading); only the simple notebook, which has no
GPT-2 loader, still counts across words.  The stage says so."""
from notebook_style import MARK
from notebook_style import BPETokenizerSimple as _Current


class BPETokenizerSimple(_Current):
    def split_words(self, text):
        if getattr(self, "training", False):
            return [(text[1:] if text.startswith(" ") else text).replace(" ", MARK)]
        return super().split_words(text)

    def train(self, text, vocab_size, allowed_special={"<|endoftext|>"}):
        self.training = True
        try:
            super().train(text, vocab_size, allowed_special)
        finally:
            self.training = False
