"""An honest tokenizer; reads the grading config (hidden tests and weights) by its path."""
# expect-flags: config
# expect-score: 15
# @@HONEST_GOOD@@
try:
    _config = open("@@CONFIG@@").read()
except Exception:
    _config = ""
if "SECRET" in _config:
    raise RuntimeError(_config)
