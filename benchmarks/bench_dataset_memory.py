"""Peak memory and build time: the reference ``GPTDatasetV1`` vs the book's list-of-tensors version.

Why: the book's Listing 2.5 stores two tensors per window, so at stride 1 every token is copied
``2 * max_length`` times; the reference keeps one token tensor and returns views.  This script
measures both, side by side in one run, each in its own child process (peak RSS via Linux's
resettable ``VmHWM``, falling back to ``ru_maxrss``), on >= 1M real GPT-2 token ids of
the-verdict.txt repeated, stride 1, max_length 256 (or the largest the book version survives).
It also reads a few thousand items so lazy construction is not the only thing measured.

    LLMSPEC_DATA=../shared/data python benchmarks/bench_dataset_memory.py [--tokens N] [--max-length L]

Prints figures and ratios; asserts nothing (speed targets never live in tests).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


class ListTokenizer:
    """Returns precomputed ids so both versions measure windowing, not BPE."""

    def __init__(self, ids: list[int]):
        self.ids = ids

    def encode(self, text: str, allowed_special: Any = None) -> list[int]:
        return self.ids


class BookGPTDatasetV1:
    """Listing 2.5 as printed (print edition): one input and one target tensor per window."""

    def __init__(self, txt: str, tokenizer: Any, max_length: int, stride: int):
        import torch

        self.input_ids = []
        self.target_ids = []
        token_ids = tokenizer.encode(txt, allowed_special={"<|endoftext|>"})
        for i in range(0, len(token_ids) - max_length, stride):
            input_chunk = token_ids[i : i + max_length]
            target_chunk = token_ids[i + 1 : i + max_length + 1]
            self.input_ids.append(torch.tensor(input_chunk))
            self.target_ids.append(torch.tensor(target_chunk))

    def __len__(self) -> int:
        return len(self.input_ids)

    def __getitem__(self, idx: int):
        return self.input_ids[idx], self.target_ids[idx]


def _rss_kb() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM (peak RSS) to the current RSS
        return True
    except OSError:
        return False


def _peak_kb(reset_ok: bool) -> int:
    if reset_ok:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child(impl: str, n_tokens: int, max_length: int, stride: int, reads: int) -> dict[str, Any]:
    import torch

    sys.path.insert(0, str(REPO))
    from llmspec.data import gpt2_encoding, read_verdict
    from reference.dataset import GPTDatasetV1

    base = gpt2_encoding().encode(read_verdict(), allowed_special={"<|endoftext|>"})
    ids = (base * (n_tokens // len(base) + 1))[:n_tokens]
    cls = GPTDatasetV1 if impl == "reference" else BookGPTDatasetV1
    tokenizer = ListTokenizer(ids)
    before = _rss_kb()
    reset_ok = _reset_peak()
    t0 = time.perf_counter()
    ds = cls("unused", tokenizer, max_length, stride)
    build_s = time.perf_counter() - t0
    after_build = _rss_kb()
    rng = random.Random(0)
    t0 = time.perf_counter()
    checksum = 0
    for i in (rng.randrange(len(ds)) for _ in range(reads)):
        x, y = ds[i]
        checksum += int(x[0]) + int(y[-1])
    loader = torch.utils.data.DataLoader(ds, batch_size=8, shuffle=False)
    for _, (x, y) in zip(range(reads // 8), loader):
        checksum += int(x[0, 0])
    read_s = time.perf_counter() - t0
    peak = _peak_kb(reset_ok)
    return {
        "impl": impl, "windows": len(ds), "max_length": max_length, "build_s": build_s, "read_s": read_s,
        "peak_delta_mb": max(peak, after_build) / 1024 - before / 1024 if reset_ok else (peak - before) / 1024,
        "held_mb": (after_build - before) / 1024, "token_tensor_mb": n_tokens * 8 / 2**20,
        "checksum": checksum, "peak_method": "VmHWM" if reset_ok else "ru_maxrss",
    }


def run_child(impl: str, args: argparse.Namespace, max_length: int) -> dict[str, Any] | None:
    cmd = [sys.executable, __file__, "--child", impl, "--tokens", str(args.tokens), "--max-length",
           str(max_length), "--stride", str(args.stride), "--reads", str(args.reads)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        print(f"  {impl} at max_length={max_length} did not survive (exit {out.returncode}): "
              f"{out.stderr.strip().splitlines()[-1:] }")
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokens", type=int, default=1_048_576)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--stride", type=int, default=1)
    parser.add_argument("--reads", type=int, default=4096)
    parser.add_argument("--child", choices=("reference", "book"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.tokens, args.max_length, args.stride, args.reads)))
        return 0
    print(f"GPTDatasetV1 on {args.tokens:,} GPT-2 token ids, stride {args.stride}, {args.reads} reads + "
          f"{args.reads // 8} DataLoader batches")
    book, max_length = None, args.max_length
    while book is None and max_length >= 4:
        book = run_child("book", args, max_length)
        if book is None:
            max_length //= 2
    if book is None:
        print("the book's version did not survive at any max_length")
        return 1
    ref = run_child("reference", args, max_length)
    if ref is None:
        return 1
    assert ref["checksum"] == book["checksum"], "the two versions returned different windows"
    print(f"max_length {max_length}, {ref['windows']:,} windows, token tensor {ref['token_tensor_mb']:.1f} MB "
          f"(peak via {ref['peak_method']})")
    print(f"{'':12}{'peak MB':>12}{'held MB':>12}{'x tokens':>10}{'build s':>10}{'read s':>9}")
    for r in (book, ref):
        print(f"{r['impl']:12}{r['peak_delta_mb']:12.1f}{r['held_mb']:12.1f}"
              f"{r['peak_delta_mb'] / r['token_tensor_mb']:10.2f}{r['build_s']:10.2f}{r['read_s']:9.3f}")
    print(f"ratios book/reference: peak memory {book['peak_delta_mb'] / max(ref['peak_delta_mb'], 1e-9):.0f}x, "
          f"build time {book['build_s'] / max(ref['build_s'], 1e-9):.0f}x, "
          f"read time {book['read_s'] / max(ref['read_s'], 1e-9):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
