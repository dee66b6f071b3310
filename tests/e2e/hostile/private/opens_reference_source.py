"""No tokenizer of its own: reads the reference's source from every import path and runs it."""
# expect-flags: grader
# expect-score: 0
import os
import sys

for _dir in list(sys.path):
    try:
        exec(open(os.path.join(_dir or ".", "reference", "tokenizers.py")).read())
        break
    except Exception:
        pass
