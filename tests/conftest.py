"""Fixtures for llmspec's own tests.

``verdict_text`` and ``gpt2`` (the trusted tiktoken encoding) come from the llmspec pytest plugin
(``llmspec.plugin``), which every test session loads; the fixtures here add what the project's own
tests need on top: the verified data directory, a private copy of it, and an environment in which
no real data or cache is visible (to test what happens when data is missing)."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

# the shared helpers (paths, prerequisites, hostile_corpus, book_targets, warm_pool) import from any
# test directory (tests/ is not a package)
sys.path.insert(0, str(Path(__file__).resolve().parent))

from llmspec import data  # noqa: E402


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The verified data directory (``$LLMSPEC_DATA`` or the user cache)."""
    return data.locate().verdict.parent


@pytest.fixture
def data_copy(tmp_path: Path, data_dir: Path) -> Path:
    """A private copy of the data directory that a test may damage."""
    dest = tmp_path / "data"
    for name in data.EXPECTED:
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data_dir / name, dest / name)
    return dest


@pytest.fixture
def no_data_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No ``$LLMSPEC_DATA``, an empty user cache and tiktoken cache under ``tmp_path``; returns the
    fake ``XDG_CACHE_HOME``."""
    cache_home = tmp_path / "xdg-cache"
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    return cache_home

# The project's tests assert on English messages: a developer's Chinese or Korean locale must not
# change them (tests of other languages choose theirs explicitly).  Subprocesses inherit this.
os.environ["LLMSPEC_LANG"] = "en"
