"""The conditions implementation code runs under, at load time and in every call: what learners'
code expects from running the book top to bottom (``the-verdict.txt`` where Listing 2.1 opens it,
GPT-2's files offline, its sibling modules importable), and no waiting on ``input()`` or the network.
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

# Where a learner's code reads the book's files, relative to the directory it runs from: a path literal
# ("data/the-verdict.txt", "../01_main-chapter-code/the-verdict.txt"), two literals joined
# (os.path.join("data", "the-verdict.txt"), Path("data") / "the-verdict.txt"), or a folder of the book
# repository named alone, as the bonus notebooks search for their files ("../01_main-chapter-code/").
# Only plain relative paths; a URL or an absolute path never matches.
_BOOK_FILES = {"the-verdict.txt": "the-verdict.txt", "encoder.json": "gpt2/encoder.json",
               "vocab.bpe": "gpt2/vocab.bpe"}  # file name -> llmspec.data name
_BOOK_FOLDERS = {"01_main-chapter-code": ("the-verdict.txt",), "gpt2_model": ("encoder.json", "vocab.bpe")}
_NAME = r"(the-verdict\.txt|encoder\.json|vocab\.bpe)"
_FILE_PATHS = (re.compile(r"""["']((?:\.\./)*(?:[\w-][\w.-]*/)*)""" + _NAME + """["']"""),
               re.compile(r"""["']((?:\.\./)*[\w-][\w.-]*)["']\s*\)?\s*[,/]\s*["']""" + _NAME + """["']"""))
_FOLDER_PATHS = re.compile(  # a whole argument or list item, not a piece of a URL split over literals
    r"""["']((?:\.\./)*(?:[\w-][\w.-]*/)*(01_main-chapter-code|gpt2_model))/?["'](?=\s*[,)\]])""")


def make_scratch(scratch: Path | None = None) -> Path:
    """A working directory (``scratch``, or a fresh temporary one) holding a copy of
    ``the-verdict.txt``; also seeds tiktoken's cache.

    A copy (not a link) so code that writes to or deletes the file cannot touch the shared data."""
    from llmspec import data

    data.ensure_tiktoken_cache()  # first: when the data is missing, no directory is made
    if scratch is None:
        scratch = Path(tempfile.mkdtemp(prefix="llmspec-run-"))
        atexit.register(shutil.rmtree, scratch, True)
    else:
        scratch = Path(scratch).resolve()
        scratch.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(data.locate().verdict, scratch / "the-verdict.txt")
    return scratch


def place_book_files(spec: TargetSpec, scratch: Path) -> Path:
    """Copy the book's files to every relative path the target's source reads them from, inside the
    scratch directory only, and return the directory to run in: ``scratch``, or a folder inside it
    deep enough that paths leaving the working directory land in ``scratch`` too (a bonus notebook
    run in the book repository reads ``../01_main-chapter-code/the-verdict.txt``; the folder takes
    the names of the target's own folders).  The source is read as text, never run."""
    from llmspec import data

    source = "\n".join(source_texts(spec))
    wanted = {(m.group(1).rstrip("/"), m.group(2)) for pattern in _FILE_PATHS for m in pattern.finditer(source)}
    wanted |= {(m.group(1), name) for m in _FOLDER_PATHS.finditer(source) for name in _BOOK_FOLDERS[m.group(2)]}
    # a bare name: the cwd has the text; ("the-verdict.txt", "encoder.json") is a list of names, not a path
    wanted = {(folder, name) for folder, name in wanted if folder and Path(folder).name not in _BOOK_FILES}
    depth = max((Path(folder).parts.count("..") for folder, _name in wanted), default=0)
    home = Path(spec.location) if spec.kind in ("package", "directory") else Path(spec.location).parent
    workdir = scratch.joinpath(*(["work"] * depth + list(home.parts[1:]))[-depth:]) if depth else scratch
    for folder, name in sorted(wanted):
        copy = Path(os.path.normpath(workdir / folder / name))
        if copy.is_relative_to(scratch) and not copy.exists():
            with contextlib.suppress(OSError):  # a folder name that is a file already: nothing to place
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(data.locate().path_of(_BOOK_FILES[name]), copy)
    if workdir != scratch:  # Listing 2.1 reads the text by its bare name
        workdir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data.locate().verdict, workdir / "the-verdict.txt")
    return workdir


@contextlib.contextmanager
def running_in(scratch: Path | None) -> Iterator[None]:
    """The conditions implementation code runs under: cwd = scratch, network blocked, empty stdin
    (``input()`` raises EOFError instead of waiting), a non-interactive matplotlib backend."""
    old_stdin = sys.stdin
    old_backend = os.environ.get("MPLBACKEND")
    sys.stdin = io.StringIO("")
    os.environ["MPLBACKEND"] = "Agg"
    try:
        with contextlib.chdir(scratch or os.getcwd()), netblock.blocked():
            yield
    finally:
        sys.stdin = old_stdin
        if old_backend is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = old_backend


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
def on_sys_path(directory: Path | None) -> Iterator[None]:
    """Put ``directory`` (if any) first on ``sys.path``, then drop the modules imported from it (never
    llmspec's own) so another submission's ``helpers.py`` is not mistaken for this one's."""
    if directory is None:
        yield
        return
    marks = _module_marks()
    sys.path.insert(0, str(directory))
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(str(directory))
        for name in _imported_since(marks):
            if name.startswith("llmspec") or name not in sys.modules:
                continue
            file = getattr(sys.modules[name], "__file__", None) or ""
            if file and Path(file).resolve().is_relative_to(directory):
                del sys.modules[name]
