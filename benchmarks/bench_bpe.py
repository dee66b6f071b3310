"""Encode throughput of the pure-Python reference BPE vs tiktoken (Rust), side by side in one run.

Input: the-verdict.txt repeated 100 times (about 2 MB).  Prints MB/s and tokens/s for both and the
ratio reference/tiktoken.  "cold" starts from an empty per-word cache (every distinct pre-token is
merged once), "warm" re-encodes with the cache filled - the steady state for a long corpus.  No
target, no assertion: the number is measured and reported honestly.

    LLMSPEC_DATA=../shared/data python benchmarks/bench_bpe.py [--repeat 100] [--runs 3]
"""
from __future__ import annotations

import argparse
import time

from llmspec.data import gpt2_encoding, locate, read_verdict
from reference.bpe_scratch import BPETokenizerSimple


def best_of(runs: int, fn) -> tuple[float, list[int]]:
    best, out = float("inf"), []
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=100, help="copies of the-verdict.txt (default 100)")
    ap.add_argument("--runs", type=int, default=3, help="best of N timings (default 3)")
    args = ap.parse_args(argv)

    text = read_verdict() * args.repeat
    mb = len(text.encode("utf-8")) / 1e6
    files = locate()
    ref = BPETokenizerSimple()
    ref.load_vocab_and_merges_from_openai(str(files.encoder_json), str(files.vocab_bpe))
    ref.encode("warm up the pattern")  # compile the regex outside the timing
    enc = gpt2_encoding()

    def cold() -> list[int]:
        ref._cache.clear()
        return ref.encode(text)

    t_cold, ids_cold = best_of(args.runs, cold)
    t_warm, ids_ref = best_of(args.runs, lambda: ref.encode(text))
    t_tik, ids_tik = best_of(args.runs, lambda: enc.encode_ordinary(text))
    assert ids_ref == ids_tik == ids_cold, "reference and tiktoken disagree: fix correctness first"

    n = len(ids_tik)
    print(f"input: the-verdict.txt x {args.repeat} = {mb:.2f} MB, {n} tokens (identical ids)")
    for name, t in (("reference (cold cache)", t_cold), ("reference (warm cache)", t_warm), ("tiktoken", t_tik)):
        print(f"{name:24} {t * 1000:9.1f} ms  {mb / t:7.2f} MB/s  {n / t / 1e6:6.2f} M tokens/s")
    print(f"ratio reference/tiktoken throughput: cold {t_tik / t_cold:.3f}  warm {t_tik / t_warm:.3f} "
          f"(tiktoken is {t_cold / t_tik:.1f}x / {t_warm / t_tik:.1f}x faster)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
