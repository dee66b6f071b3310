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

# @@HONEST_WRONG@@: the test pastes honest_wrong.py's tokenizer here

