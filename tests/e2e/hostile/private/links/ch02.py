"""An honest tokenizer beside links the test plants: to /proc/self/environ, to the grader's parent's
environment, to a file only the grader may read, to the grading config and to a classmate's file.
Whatever it reads through them it raises as its feedback."""
# expect-flags: links
# expect-score: 15
# @@HONEST_GOOD@@
import os

_here = os.path.dirname(os.path.abspath(__file__))
for _name in ("environ.txt", "parent_environ.txt", "secret.txt", "config.toml", "classmate.py"):
    try:
        _text = open(os.path.join(_here, _name)).read()
    except OSError:
        continue
    raise RuntimeError(_name + ": " + _text)
