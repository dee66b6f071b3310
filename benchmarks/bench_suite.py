"""How long the whole spec suite takes against the reference, relative to the floor it cannot beat.

The floor is ``python -c "import torch, tiktoken; tiktoken.get_encoding('gpt2')"`` (what any run must
pay to start); the project's target is a ratio under ~2.5.  Floor and suite run alternately, ``--repeat``
times each (default 5), in the same environment (``PYTHONDONTWRITEBYTECODE`` as set by the caller, like
CI), and the *median* counts.  Two ratios are printed: wall time (the target's measure) and CPU time
(user + sys of the child; other engineers' jobs on a shared 2-core machine inflate wall time far more
than CPU time, so the CPU ratio is the steadier number).  Prints the numbers; asserts nothing (speed is
not a test).

    LLMSPEC_DATA=/path/to/data python benchmarks/bench_suite.py [--repeat N] [-- extra pytest args]
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR = [sys.executable, "-c", "import torch, tiktoken; tiktoken.get_encoding('gpt2')"]


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """``(wall seconds, CPU seconds)`` of one run of ``cmd``; exits when the command fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args()

    from llmspec.data import ensure_tiktoken_cache

    ensure_tiktoken_cache()  # sets TIKTOKEN_CACHE_DIR in this environment when unset
    env = dict(os.environ)
    suite_cmd = [sys.executable, "-m", "pytest", "spec_tests", "-q", "-p", "no:cacheprovider",
                 *args.pytest_args]
    timed(FLOOR, env)  # warm the page cache once (not counted)
    floor, suite = [], []
    for _ in range(args.repeat):  # alternate, so a burst of load hits both sides alike
        floor.append(timed(FLOOR, env))
        suite.append(timed(suite_cmd, env))
    fw, fc = (statistics.median(x[i] for x in floor) for i in (0, 1))
    sw, sc = (statistics.median(x[i] for x in suite) for i in (0, 1))
    load = os.getloadavg()[0]
    print(f"floor (import torch, tiktoken + get_encoding('gpt2')): wall {fw:.2f} s  cpu {fc:.2f} s")
    print(f"suite (pytest spec_tests against the reference):        wall {sw:.2f} s  cpu {sc:.2f} s")
    print(f"ratio suite/floor: wall {sw / fw:.2f}  cpu {sc / fc:.2f}  (target < 2.5; median of "
          f"{args.repeat}, load average {load:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
