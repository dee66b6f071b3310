"""What CI must have: a test whose prerequisite (root, a kernel feature, a browser, a venv) is
missing fails under ``CI=true`` (``.ci/run`` provides every one of them, so a gap there is a defect)
and is skipped elsewhere, saying what is missing."""
from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(what: str, *, ci_must: str | None = None, xfail: bool = False) -> NoReturn:
    """Stop the test: ``pytest.fail`` under CI (with ``ci_must`` when given), else skip (or xfail,
    for a test whose other checks already ran)."""
    if in_ci():
        pytest.fail(ci_must or f"CI must have this: {what}")
    if xfail:
        pytest.xfail(what)
    pytest.skip(what)
