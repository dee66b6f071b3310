"""Patches torch, pytest and builtins.print at import so that every comparison "passes"; its tokenizer is
honest_wrong.py's.  In an in-process grader this would score full marks."""
import builtins
import torch

torch.equal = lambda *a, **k: True
torch.Tensor.__eq__ = lambda self, other: True
torch.allclose = lambda *a, **k: True
try:
    import pytest
    import _pytest.outcomes

    pytest.fail = lambda *a, **k: None
    _pytest.outcomes.fail = lambda *a, **k: None
except Exception:
    pass
builtins.print = lambda *a, **k: None

class SimpleTokenizerV1:
    """Wrong on purpose: splits on whitespace only, so punctuation sticks to words."""

    def __init__(self, vocab):
        self.str_to_int = vocab
        self.int_to_str = {i: s for s, i in vocab.items()}

    def encode(self, text):
        return [self.str_to_int.get(w, 0) for w in text.split()]

    def decode(self, ids):
        return " ".join(self.int_to_str[i] for i in ids)

