"""An honest tokenizer; globs the output directory for the classmates' reports."""
# expect-flags: reports
# expect-score: 15
# @@HONEST_GOOD@@
import glob

for _file in glob.glob("@@REPORT_DIR@@/*/results.json") + glob.glob("@@REPORT_DIR@@/*"):
    try:
        open(_file).read()
    except Exception:
        pass
