"""Where the project's own test material lives (one place, so a move is one edit).

``tests/unit/`` mirrors the package, ``tests/suite/`` verifies the spec suite itself (the bug zoo,
the corpus, mutation testing), ``tests/e2e/`` runs llmspec as its users do (grading, the sandbox, a
real kernel, Gradescope's autograder)."""
from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
SUITE = TESTS / "suite"
VARIANTS = SUITE / "variants"  # the bug zoo and the correct variants
BPE_VARIANTS = SUITE / "bpe_variants"
CORPUS = SUITE / "corpus"  # learners' styles with their expected verdicts
MUTATION = SUITE / "mutation"
HOSTILE = TESTS / "e2e" / "hostile"
BOOK_STYLE = VARIANTS / "correct" / "book_style.py"  # every listing of chapter 2, written as the book does
