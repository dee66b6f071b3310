"""The conditions implementation code runs under, at load time and in every call.

Loading follows what learners' code expects from running the book top to bottom: the working
directory holds ``the-verdict.txt`` (Listing 2.1 opens it by its bare name at import time, some
learners from ``data/``), ``tiktoken.get_encoding("gpt2")`` works offline, the target's own
directory is importable (sibling helper modules, dropped from ``sys.modules`` afterwards so two
targets never see each other's), ``input()`` does not wait, and the network fails fast instead of
hanging.
"""
from __future__ import annotations

import atexit
import contextlib
import io
import itertools
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from llmspec.runtime.resolve import TargetSpec, source_texts
from llmspec.sandbox import netblock

# Where a learner keeps the book's text, relative to the directory they run from: a path literal
# ("data/the-verdict.txt") or two literals joined (os.path.join("data", "the-verdict.txt"),
# Path("data") / "the-verdict.txt").  Only plain relative directories; a URL or an absolute path never matches.
_VERDICT_PATHS = (re.compile(r"""["']((?:[\w-][\w.-]*/)+)the-verdict\.txt["']"""),
                  re.compile(r"""["']([\w-][\w.-]*)["']\s*\)?\s*[,/]\s*["']the-verdict\.txt["']"""))


def make_scratch(scratch: Path | None = None) -> Path:
    """A working directory (``scratch``, or a fresh temporary one) holding a copy of
    ``the-verdict.txt``; also seeds tiktoken's cache.

    A copy (not a link) so code that writes to or deletes the file cannot touch the shared data."""
    from llmspec import data

    data.ensure_tiktoken_cache()
    if scratch is None:
        scratch = Path(tempfile.mkdtemp(prefix="llmspec-run-"))
        atexit.register(shutil.rmtree, scratch, True)
    else:
        scratch = Path(scratch).resolve()
        scratch.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(data.locate().verdict, scratch / "the-verdict.txt")
    return scratch


def place_book_text(spec: TargetSpec, scratch: Path) -> None:
    """Copy ``the-verdict.txt`` to every relative directory the target's source reads it from
    (``open("data/the-verdict.txt")``: the learner runs from a folder that keeps the book's text in
    ``data/``), inside the scratch directory only.  The source is read as text, never run."""
    from llmspec import data

    source = "\n".join(source_texts(spec))
    folders = {m.group(1).strip("/") for pattern in _VERDICT_PATHS for m in pattern.finditer(source)}
    for folder in sorted(folders):
        parts = Path(folder).parts
        if ".." in parts:
            continue
        copy = scratch.joinpath(*parts, "the-verdict.txt")
        if not copy.exists():
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(data.locate().verdict, copy)


@contextlib.contextmanager
def running_in(scratch: Path | None) -> Iterator[None]:
    """The conditions implementation code runs under: cwd = scratch, network blocked, empty stdin
    (``input()`` raises EOFError instead of waiting), a non-interactive matplotlib backend."""
    old_cwd = os.getcwd()
    old_stdin = sys.stdin
    old_backend = os.environ.get("MPLBACKEND")
    if scratch is not None:
        os.chdir(scratch)
    sys.stdin = io.StringIO("")
    os.environ["MPLBACKEND"] = "Agg"
    try:
        with netblock.blocked():
            yield
    finally:
        os.chdir(old_cwd)
        sys.stdin = old_stdin
        if old_backend is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = old_backend


@contextlib.contextmanager
def captured() -> Iterator[io.StringIO]:
    """Capture what loading prints (notebooks print a lot); kept on the LoadedTarget, not shown."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        yield buf


# How many of the newest ``sys.modules`` names mark where a call's imports begin (see _imported_since).
_MARKS = 4


Marks = tuple[int, tuple[str, ...]]


def _module_marks() -> Marks:
    """How many modules there are now, and the newest names: a dict keeps insertion order, so every
    module imported after this point comes after them (a full snapshot of 2000+ names with torch
    loaded costs 10 us, more than a short call into the target)."""
    return len(sys.modules), tuple(itertools.islice(reversed(sys.modules), _MARKS))


def _imported_since(marks: Marks) -> list[str]:
    """The names put into ``sys.modules`` after :func:`_module_marks` returned ``marks``.

    Exact unless code deleted modules imported before the marks (or a mark itself, found again
    out of place): then every name is returned, and the caller's test of where each module lives
    decides alone."""
    count, newest = marks
    names = []
    for name in reversed(sys.modules):
        if name in newest:
            if len(sys.modules) - len(names) == count - newest.index(name):
                return names
            break
        names.append(name)
    return list(sys.modules)


@contextlib.contextmanager
def on_sys_path(directory: Path) -> Iterator[None]:
    """Put ``directory`` first on ``sys.path``, then drop the modules imported from it (never
    llmspec's own) so another submission's ``helpers.py`` is not mistaken for this one's."""
    marks = _module_marks()
    sys.path.insert(0, str(directory))
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(str(directory))
        _drop_modules_from(directory, _imported_since(marks))


def _drop_modules_from(directory: Path, names: list[str]) -> None:
    """Remove from ``sys.modules`` those of ``names`` whose file lies in ``directory`` (not llmspec's)."""
    for name in names:
        if name.startswith("llmspec") or name not in sys.modules:
            continue
        file = getattr(sys.modules[name], "__file__", None) or ""
        if file and Path(file).resolve().is_relative_to(directory):
            del sys.modules[name]
