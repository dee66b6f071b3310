"""Trusted expectations shared by several stage modules (test modules never import each other).

Everything here is computed on the harness side from the book's listings, never by the implementation
under test, so a wrong submission cannot make its own expectation.
"""
from __future__ import annotations


def book_windows(ids: list[int], max_length: int, stride: int) -> list[tuple[list[int], list[int]]]:
    """Listing 2.5's loop: ``(ids[i : i+L], ids[i+1 : i+L+1])`` for ``i`` in
    ``range(0, n - L, stride)``; the dataset, the dataloader and their goldens all derive from it."""
    return [(ids[i:i + max_length], ids[i + 1:i + max_length + 1])
            for i in range(0, len(ids) - max_length, stride)]
