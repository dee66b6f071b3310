"""``--shard K/N``: a deterministic slice of a class, so N machines (a CI matrix, a Slurm array) grade
disjoint parts that ``llmspec merge`` recombines.

A submission's shard is a hash of its *name* (not its position), so adding or removing a submission
never moves the others to another shard, and every machine agrees without talking to the others.
"""
from __future__ import annotations

import hashlib
from typing import Iterable, TypeVar

T = TypeVar("T")


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """``"2/4"`` -> ``(2, 4)`` (1-based); ``ValueError`` with one clear line otherwise."""
    if not text:
        return None
    try:
        k_text, n_text = text.split("/")
        k, n = int(k_text), int(n_text)
    except ValueError:
        raise ValueError(f"--shard expects K/N such as 2/4, not {text!r}") from None
    if n < 1 or not 1 <= k <= n:
        raise ValueError(f"--shard {text}: need 1 <= K <= N")
    return k, n


def shard_of(name: str, n: int) -> int:
    """1-based shard of a submission name (stable across machines and Python versions)."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % n + 1


def select(items: Iterable[T], shard: tuple[int, int] | None) -> list[T]:
    """The items (submissions: anything with a ``name``) of ``shard``, sorted by name."""
    items = sorted(items, key=lambda it: it.name)
    return items if shard is None else [it for it in items if shard_of(it.name, shard[1]) == shard[0]]
