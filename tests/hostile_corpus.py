"""The hostile submissions of ``tests/e2e/hostile/`` as the grader sees them (shared by the grading tests
and ``benchmarks/bench_grade.py``).

An attack names the honest code it keeps instead of copying it, so each file holds only its attack:
a line ``# @@HONEST_GOOD@@`` / ``# @@HONEST_WRONG@@`` becomes the whole of ``honest_good.py`` /
``honest_wrong.py`` (a SimpleTokenizerV1), a line ``# @@BOOK_STYLE@@`` the whole of
``tests/suite/variants/correct/book_style.py`` (every listing of chapter 2, written as the book does),
``@@MARKER_DIR@@`` the directory the attack tries to write into, and ``@@REPORT_DIR@@``,
``@@HOME_DIR@@``, ``@@PORT@@`` (a local TCP listener), ``@@TAG@@`` (a name unique to the run) what
the caller gives (by default the marker directory, the discard port 9 and "hostile").  A line
``# llmspec-honest-stages: a b`` names the stages whose code is the book's, which must earn every
point however the attack behaves.
"""
from __future__ import annotations

import re
from pathlib import Path

from paths import BOOK_STYLE, HOSTILE
_PASTE = re.compile(r"^# @@(HONEST_GOOD|HONEST_WRONG|BOOK_STYLE)@@.*$", re.MULTILINE)


def submission_text(path: Path, marker: Path | str, **values: object) -> str:
    """A hostile file as a complete submission (see the module docstring); ``values`` fill the
    other placeholders, e.g. ``PORT=8123``."""
    pasted = {"HONEST_GOOD": HOSTILE / "honest_good.py", "HONEST_WRONG": HOSTILE / "honest_wrong.py",
              "BOOK_STYLE": BOOK_STYLE}
    text = _PASTE.sub(lambda m: pasted[m.group(1)].read_text(), Path(path).read_text())
    fill = {"MARKER_DIR": marker, "REPORT_DIR": marker, "HOME_DIR": marker, "PORT": 9, "TAG": "hostile",
            **values}
    return re.sub(r"@@([A-Z_]+)@@", lambda m: str(fill.get(m.group(1), m.group(0))), text)


def honest_stages(path: Path) -> list[str]:
    m = re.search(r"^# llmspec-honest-stages:(.*)$", Path(path).read_text(), re.MULTILINE)
    return m.group(1).split() if m else []


def hostile_files() -> list[Path]:
    return sorted(HOSTILE.glob("*.py"))
