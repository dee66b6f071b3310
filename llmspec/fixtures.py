"""The golden values: ``fixtures/<name>.json``, each case citing the document it comes from.

Read from the checkout's ``fixtures/`` (an edit shows up at once), else from the installed package
``llmspec._fixtures`` (pyproject maps it to ``fixtures/``)."""
from __future__ import annotations

import functools
import importlib.resources
import json
from pathlib import Path
from typing import Any

REPO_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@functools.lru_cache(maxsize=None)
def _load_text(name: str) -> str:
    filename = f"{name}.json"
    path = REPO_FIXTURES / filename
    if path.is_file():
        return path.read_text(encoding="utf-8")
    try:
        return importlib.resources.files("llmspec._fixtures").joinpath(filename).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise FileNotFoundError(f"no fixture file {filename} (looked in {REPO_FIXTURES} and llmspec._fixtures)") from exc


def load(name: str) -> dict[str, Any]:
    """The whole fixture file ``name`` (a fresh copy: callers may mutate it)."""
    return json.loads(_load_text(name))


def cases(name: str, edition: str | None = None) -> list[dict[str, Any]]:
    """Cases of ``name`` that apply to ``edition`` (edition-neutral cases always apply)."""
    return [c for c in load(name)["cases"] if c.get("edition") in (None, edition)]


def case(name: str, case_id: str) -> dict[str, Any]:
    """The one case ``case_id`` of fixture file ``name``; ``KeyError`` names the known ids."""
    all_cases = load(name)["cases"]
    for c in all_cases:
        if c["id"] == case_id:
            return c
    raise KeyError(f"{name}.json has no case {case_id!r}; ids: {', '.join(c['id'] for c in all_cases)}")
