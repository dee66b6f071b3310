"""No tokenizer of its own: at grading time, copies a classmate's file from the class directory."""
# expect-flags: submissions
# expect-score: 0
import shutil

try:
    shutil.copyfile("@@CLASS_DIR@@/honest_good.py", "stolen.py")
    from stolen import SimpleTokenizerV1
except Exception:
    pass
