"""encode never returns."""


class SimpleTokenizerV1:
    def __init__(self, vocab):
        self.str_to_int = vocab

    def encode(self, text):
        while True:
            pass

    def decode(self, ids):
        while True:
            pass
