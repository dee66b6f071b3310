"""Benchmark: `llmspec grade` on 40 submissions vs. one torch+tiktoken start-up, measured in the same run.

Makes 40 submissions in a tmp dir (copies of the correct and single-bug learner files of
tests/variants/), grades them with all core stages and `--jobs` = cores, and prints the wall time and the ratio to
`python -c "import torch, tiktoken; tiktoken.get_encoding('gpt2')"` (target: < 20x).  Optionally
grades the same class again (--repeat N) and checks every score is identical (fairness).
usage: LLMSPEC_DATA=... python benchmarks/bench_grade.py [--n 40] [--repeat 1] [--jobs N] [--keep DIR]
"""
from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = ROOT / "tests" / "variants"  # engineer F's corpus: correct and single-bug learner files


def class_files() -> list[Path]:
    """Correct variants first, then the buggy ones: a realistic class mixes both."""
    sys.path.insert(0, str(VARIANTS))
    from make_buggy import ensure_generated  # the bug zoo's generator (tests/ is not a package)

    correct = sorted((VARIANTS / "correct").glob("*.py"))
    buggy = sorted(ensure_generated().glob("*.py"))
    return correct + buggy


def startup_seconds() -> float:
    """The reference start-up, with tiktoken's offline cache seeded exactly as llmspec does."""
    from llmspec.data import ensure_tiktoken_cache

    os.environ["TIKTOKEN_CACHE_DIR"] = str(ensure_tiktoken_cache())
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch, tiktoken; tiktoken.get_encoding('gpt2')"], check=True)
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--keep", default=None)
    ap.add_argument("--jobs", type=int, default=None, help="passed to llmspec grade (default: its own)")
    args = ap.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-grade-"))
    cls = work / "class"
    cls.mkdir(parents=True, exist_ok=True)
    files = class_files()
    for i in range(args.n):
        f = files[i % len(files)]
        (cls / f"student{i:03d}_{f.parent.name}-{f.stem}.py").write_text(f.read_text())
    runs = []
    for r in range(args.repeat):
        out = work / f"out{r}"
        before = startup_seconds()  # measured around each run: a shared machine's load drifts
        t = time.perf_counter()
        cmd = [sys.executable, "-m", "llmspec", "grade", str(cls), "--out", str(out), "-q", "--force"]
        proc = subprocess.run(cmd + (["--jobs", str(args.jobs)] if args.jobs else []), capture_output=True, text=True)
        wall = time.perf_counter() - t
        startup = (before + startup_seconds()) / 2
        if proc.returncode != 0:
            print(proc.stdout, proc.stderr[-3000:], file=sys.stderr)
            return 1
        scores = {row["submission"]: row["score"] for row in csv.DictReader(open(out / "gradebook.csv"))}
        runs.append((wall, scores))
        print(f"run {r + 1}: graded {args.n} submissions in {wall:.1f} s = {wall / args.n:.2f} s each; "
              f"ratio to torch+tiktoken start-up ({startup:.2f} s, mean of before/after): {wall / startup:.1f}x (target < 20x)")
    kinds = {}
    for name, score in runs[0][1].items():
        kinds.setdefault(name.split("_", 1)[1], set()).add(score)
    print("scores by variant:", {k: sorted(v) for k, v in kinds.items()})
    same = all(r[1] == runs[0][1] for r in runs)
    print(f"identical scores across {len(runs)} run(s): {same}; cores: {os.cpu_count()}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
