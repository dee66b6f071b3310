"""Honest, correct SimpleTokenizerV1 (the reference behaviour)."""
# llmspec-honest-stages: tokenizer_v1

import re as _re


class SimpleTokenizerV1:
    def __init__(self, vocab):
        self.str_to_int = vocab
        self.int_to_str = {i: s for s, i in vocab.items()}

    def encode(self, text):
        pre = [t.strip() for t in _re.split(r"([,.:;?_!\"()\x27]|--|\s)", text) if t.strip()]
        return [self.str_to_int[s] for s in pre]

    def decode(self, ids):
        text = " ".join(self.int_to_str[i] for i in ids)
        return _re.sub(r"\s+([,.?!\"()\x27])", r"\1", text)
