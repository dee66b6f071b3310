"""Honest, but reads a classmate's file by the bare name it has beside this one in the class directory:
a single file's neighbours are other submissions, so none is copied beside its code at grading time
(only a folder submission's own files are). Found, it would raise and earn nothing."""
# expect-score: 15
# @@HONEST_GOOD@@
try:
    with open("honest_good.py", encoding="utf-8") as _f:
        _f.read()
except OSError:
    pass
else:
    raise RuntimeError("a classmate's honest_good.py was copied beside this submission")
