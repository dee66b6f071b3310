"""How long the whole spec suite takes against the reference, relative to the floor it cannot beat.

The floor is ``python -c "import torch, tiktoken; tiktoken.get_encoding('gpt2')"`` (what any run must
pay to start); the target is a ratio under ~2.5.  Each command runs ``--repeat`` times (default 3)
and the best wall time counts, so a busy machine disturbs the ratio as little as possible.  Prints
the numbers; asserts nothing (speed is not a test).

    LLMSPEC_DATA=/path/to/data python benchmarks/bench_suite.py [--repeat N] [-- extra pytest args]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def best_time(cmd: list[str], repeat: int, env: dict[str, str]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args()

    from llmspec.data import ensure_tiktoken_cache

    ensure_tiktoken_cache()  # sets TIKTOKEN_CACHE_DIR in this environment when unset
    env = dict(os.environ)
    floor_cmd = [sys.executable, "-c", "import torch, tiktoken; tiktoken.get_encoding('gpt2')"]
    suite_cmd = [sys.executable, "-m", "pytest", "spec_tests", "-q", "-p", "no:cacheprovider", *args.pytest_args]
    floor = best_time(floor_cmd, args.repeat, env)
    suite = best_time(suite_cmd, args.repeat, env)
    print(f"floor (import torch, tiktoken + get_encoding('gpt2')): {floor:.2f} s")
    print(f"suite (pytest spec_tests against the reference):        {suite:.2f} s")
    print(f"ratio suite/floor: {suite / floor:.2f}  (target < 2.5; best of {args.repeat}, load {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
