"""Prints ~20 MB at import and on every call; its tokenizer is otherwise correct."""
# llmspec-honest-stages: tokenizer_v1
import sys

sys.stdout.write("x" * (20 * 1024 * 1024))

# @@HONEST_GOOD@@: the test pastes honest_good.py's tokenizer here

_encode = SimpleTokenizerV1.encode


def _noisy_encode(self, text):
    print("noise " * 10000)
    return _encode(self, text)


SimpleTokenizerV1.encode = _noisy_encode
