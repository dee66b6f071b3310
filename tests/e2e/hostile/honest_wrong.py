"""Honest but wrong SimpleTokenizerV1: the baseline the cheating variants must not beat."""

class SimpleTokenizerV1:
    """Wrong on purpose: splits on whitespace only, so punctuation sticks to words."""

    def __init__(self, vocab):
        self.str_to_int = vocab
        self.int_to_str = {i: s for s, i in vocab.items()}

    def encode(self, text):
        return [self.str_to_int.get(w, 0) for w in text.split()]

    def decode(self, ids):
        return " ".join(self.int_to_str[i] for i in ids)
