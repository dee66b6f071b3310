"""The CPU one adapter call costs through the isolated worker, against the same call in process,
measured in the same run.

A grade makes about 700 adapter calls per submission, each a round trip trusted side -> worker ->
trusted side (the proxy, the stage guard, the wire format, the worker's loop and the target's call
conditions).  The target is a learner-style file (``tests/suite/variants/correct/book_style.py``), judged
as a submission is: a forked worker with its stage guard.  Two calls: a short ``SimpleTokenizerV1.encode`` and an [8, 4] batch through
``InputEmbeddings`` (vocabulary 50, 16 dimensions).  The trusted side's CPU is this process's, the
worker's is read from ``/proc/<pid>/schedstat`` (nanoseconds on a CPU); the baseline is the target's
own method called directly, and the same call on an in-process adapter (its per-call conditions
included) is shown beside it.  Medians of ``--repeat`` runs; prints
the numbers, asserts nothing (speed is not a test).

    LLMSPEC_DATA=/path/to/data python benchmarks/bench_rpc.py [--repeat N] [--calls N]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET = ROOT / "tests" / "suite" / "variants" / "correct" / "book_style.py"
VOCAB = {"a": 0, "b": 1, ",": 2, "<|unk|>": 3}


def on_cpu_seconds(pid: int) -> float:
    """Seconds process ``pid`` has run on a CPU (the scheduler's own count, in nanoseconds)."""
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0]) / 1e9


def per_call(fn: Callable[[], Any], calls: int, worker: int | None = None) -> tuple[float, float]:
    """Microseconds of CPU per call of ``fn``: ``(this process, the worker)``."""
    for _ in range(min(200, calls)):
        fn()
    cpu, other = time.process_time(), on_cpu_seconds(worker) if worker else 0.0
    for _ in range(calls):
        fn()
    mine = (time.process_time() - cpu) / calls * 1e6
    return mine, ((on_cpu_seconds(worker) - other) / calls * 1e6 if worker else 0.0)


def calls_of(adapter: Any, bare: bool = False) -> dict[str, Callable[[], Any]]:
    """The two calls on ``adapter``; with ``bare``, the target's own methods called directly on
    the objects the (in-process) adapter made, without the adapter."""
    import torch

    tokenizer = adapter.tokenizer_new(1, VOCAB)
    embeddings = adapter.embeddings_new(50, 16, 4, 123)
    ids = torch.zeros(8, 4, dtype=torch.long)
    if bare:
        tok, emb = adapter._handle(tokenizer, "tokenizer"), adapter._handle(embeddings, "embeddings")
        return {"tokenizer_encode": lambda: tok.encode("a b, a"), "embeddings_forward [8, 4]": lambda: emb(ids)}
    return {"tokenizer_encode": lambda: adapter.tokenizer_encode(tokenizer, "a b, a"),
            "embeddings_forward [8, 4]": lambda: adapter.embeddings_forward(embeddings, ids)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    from llmspec.runtime.inprocess import InProcessAdapter
    from llmspec.runtime.proxy import ProxyAdapter

    local = InProcessAdapter.from_target(str(TARGET))
    proxy = ProxyAdapter(str(TARGET), start="fork")
    proxy.begin_stage("embeddings")
    try:
        bare_calls, local_calls, proxy_calls = calls_of(local, bare=True), calls_of(local), calls_of(proxy)
        for name in local_calls:
            bare = statistics.median(per_call(bare_calls[name], args.calls)[0] for _ in range(args.repeat))
            local_us = statistics.median(per_call(local_calls[name], args.calls)[0] for _ in range(args.repeat))
            runs = [per_call(proxy_calls[name], args.calls, proxy.worker_pid) for _ in range(args.repeat)]
            trusted = statistics.median(r[0] for r in runs)
            worker = statistics.median(r[1] for r in runs)
            print(f"{name}: the target's own call {bare:.0f} us CPU; in process {local_us:.0f} us "
                  f"({local_us / bare:.1f}x); isolated {trusted:.0f} us trusted + {worker:.0f} us worker "
                  f"({(trusted + worker) / bare:.1f}x)")
    finally:
        proxy.close()
        local.close()


if __name__ == "__main__":
    main()
