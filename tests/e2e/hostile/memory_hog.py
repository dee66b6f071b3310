"""encode allocates memory without bound (the worker's memory cap must stop it)."""


class SimpleTokenizerV1:
    def __init__(self, vocab):
        self.str_to_int = vocab

    def encode(self, text):
        hog = []
        while True:
            hog.append(bytearray(50 * 1024 * 1024))

    def decode(self, ids):
        return ""
