"""Honest: a folder submission whose code reads a small file of its own, notes.txt, by its bare name
(copied into the folder the code runs in, as `llmspec check` copies it). Not found, it would raise."""
# expect-score: 15
# @@HONEST_GOOD@@
with open("notes.txt", encoding="utf-8") as _f:
    NOTES = _f.read()
