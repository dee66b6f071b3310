"""No tokenizer of its own: globs the submissions (its own copy's neighbours and the class
directory) and runs a classmate's file."""
# expect-flags: submissions
# expect-score: 0
import glob
import os

_here = os.path.dirname(os.path.abspath(__file__))
_found = glob.glob(os.path.join(_here, "..", "..", "*", "*.py")) + glob.glob(os.path.join("@@CLASS_DIR@@", "*.py"))
for _file in sorted(_found):
    if "honest" in _file:
        try:
            exec(open(_file).read())
            break
        except Exception:
            pass
