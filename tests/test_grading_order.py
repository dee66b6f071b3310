"""The order a class is graded in (llmspec.grading.order): the longest expected first, so a hang waits
out its budget beside the others' work instead of after it.  No score depends on it (the graded
classes of test_grading_faults and the benchmark's shuffled orders check that); these tests check
the estimate."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmspec.grading.order import endless_loops, estimated_seconds, grading_order

ROOT = Path(__file__).resolve().parents[1]

# (source, loops that cannot end once entered)
LOOPS = [
    ("while True:\n    pass\n", 1),
    ("while 1:\n    x = 2\n", 1),
    ("while True:\n    if x:\n        break\n", 0),
    ("while True:\n    for y in z:\n        break\n", 1),  # that break leaves only the inner loop
    ("def f():\n    while True:\n        return 1\n", 0),
    ("def f():\n    while True:\n        yield 1\n", 0),  # a generator: its consumer stops it
    ("while True:\n    def g():\n        return 1\n", 1),  # that return belongs to g
    ("while True:\n    try:\n        x()\n    except E:\n        break\n", 0),
    ("while True:\n    sys.exit(0)\n", 0),
    ("while False:\n    pass\n", 0),
    ("i = 0\nwhile i < n:\n    x += 1\n", 1),  # the counter is never advanced
    ("i = 0\nwhile i < n:\n    i += 1\n", 0),
    ("while q:\n    q.pop()\n", 0),
    ("while not done():\n    pass\n", 0),  # a call may change what the condition reads
    ("while x:\n    pass\nelse:\n    y = 1\n", 0),
    ("while True:\n    pass\nwhile True:\n    pass\n", 2),
    ("def broken(:\n", 0),  # does not parse: no estimate
]


@pytest.mark.parametrize(("source", "count"), LOOPS, ids=[f"case{i}" for i in range(len(LOOPS))])
def test_endless_loops(source: str, count: int) -> None:
    assert endless_loops(source) == count


def test_the_hanging_hostile_files_are_found_and_no_honest_file_is() -> None:
    """The estimate on the code it is for: the hostile files that hang in a loop are found, and none
    of the learner-style files of the corpora (correct, buggy, notebooks, split chapters, BPE ports)
    nor the reference is mistaken for one."""
    hostile = ROOT / "tests" / "hostile"
    assert estimated_seconds(str(hostile / "dataset_init_loops.py"), 10) == 10
    assert estimated_seconds(str(hostile / "infinite_loop.py"), 10) == 20  # encode and decode
    honest = [f for d in ("tests/variants", "tests/corpus", "tests/bpe_variants", "examples", "reference")
              for f in (ROOT / d).rglob("*") if f.suffix in (".py", ".ipynb")]
    assert len(honest) > 50
    assert [str(f.relative_to(ROOT)) for f in honest if estimated_seconds(str(f), 10)] == []


def test_notebooks_and_directories_are_read(tmp_path: Path) -> None:
    nb = tmp_path / "ch02.ipynb"
    nb.write_text(json.dumps({"cells": [
        {"cell_type": "markdown", "source": ["while True:\n", "    pass\n"]},
        {"cell_type": "code", "source": ["while True:\n", "    pass\n"]}], "nbformat": 4}))
    assert estimated_seconds(str(nb), 10) == 10  # the code cell, not the markdown one
    split = tmp_path / "split"  # a chapter kept as one file per listing: every file is read
    split.mkdir()
    (split / "listing_2_5.py").write_text("while True:\n    pass\n")
    (split / "listing_2_6.py").write_text("while 1:\n    pass\n")
    assert estimated_seconds(str(split), 10) == 20
    (tmp_path / "broken.ipynb").write_text("{not json")
    assert estimated_seconds(str(tmp_path / "broken.ipynb"), 10) == 0
    assert estimated_seconds(None, 10) == 0


def _graded(out: Path, name: str, seconds: float) -> None:
    d = out / name
    d.mkdir(parents=True)
    (d / "results.json").write_text(json.dumps({
        "score": 1.0, "tests": [], "execution_time": seconds,
        "extra_data": {"llmspec": {"complete": True, "config": "x"}}}))


def test_first_grading_starts_with_the_files_that_loop(tmp_path: Path) -> None:
    quiet = tmp_path / "quiet.py"
    quiet.write_text("x = 1\n")
    loops = tmp_path / "loops.py"
    loops.write_text("def encode(text):\n    while True:\n        pass\n")
    names = ["a", "b", "c", "d"]
    targets = [str(quiet), str(loops), None, str(loops)]
    assert [names[i] for i in grading_order(tmp_path / "out", names, targets, 10)] == ["b", "d", "a", "c"]


def test_regrading_starts_with_what_took_longest(tmp_path: Path) -> None:
    """Re-grading into the same directory, the submissions that took longest last time go first;
    one never graded there counts as the median, plus its loops' budgets."""
    for name, seconds in (("quick", 0.5), ("hangs", 21.0), ("median", 1.0), ("slow", 3.0)):
        _graded(tmp_path, name, seconds)
    loops = tmp_path / "loops.py"
    loops.write_text("while True:\n    pass\n")
    names = ["quick", "new", "hangs", "median", "slow", "new_loops"]
    targets = [None, None, str(loops), None, None, str(loops)]
    order = [names[i] for i in grading_order(tmp_path, names, targets, 10)]
    # hangs took 21 s (its loop is not counted again); new_loops: the median 1 s + one budget
    assert order == ["hangs", "new_loops", "slow", "new", "median", "quick"]
