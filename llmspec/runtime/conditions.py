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
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from llmspec.runtime.resolve import TargetSpec, source_texts
from llmspec.sandbox import netblock

# Where a learner's code reads a file, relative to the directory it runs from: a path literal
# ("data/the-verdict.txt", "../01_main-chapter-code/the-verdict.txt", "notes.txt"), two literals joined
# (os.path.join("data", "the-verdict.txt"), Path("data") / "the-verdict.txt"), or a folder of the book
# repository named alone, as the bonus notebooks search for their files ("../01_main-chapter-code/").
# Only plain relative paths; a URL or an absolute path never matches.  One scan (_paths_read) serves
# the book's files and the learner's own.
_BOOK_FILES = {"the-verdict.txt": "the-verdict.txt", "encoder.json": "gpt2/encoder.json",
               "vocab.bpe": "gpt2/vocab.bpe"}  # file name -> llmspec.data name
_BOOK_FOLDERS = {"01_main-chapter-code": ("the-verdict.txt",), "gpt2_model": ("encoder.json", "vocab.bpe")}
_FILE_PATHS = (re.compile(r"""["']((?:\.\.?/)*(?:[\w-][\w.-]*/)*)([\w-][\w.-]*)["']"""),
               re.compile(r"""["']((?:\.\./)*[\w-][\w.-]*)["']\s*\)?\s*[,/]\s*["']([\w-][\w.-]*)["']"""))
_FOLDER_PATHS = re.compile(  # a whole argument or list item, not a piece of a URL split over literals
    r"""["']((?:\.\./)*(?:[\w-][\w.-]*/)*(01_main-chapter-code|gpt2_model))/?["'](?=\s*[,)\]])""")
# The learner's own files copied beside the book's (llmspec check): small ones, a few.  Why bounded: the
# copy is made before every load, and a data set of the learner's is not what chapter 2 is judged on.
OWN_FILE_BYTES = 1024 * 1024
OWN_FILES = 20
_OWN_CANDIDATES = 500  # literals looked up in the target's folder at most (most are not paths at all)


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
    the names of the target's own folders).  Then the learner's own small files that the source names
    by a relative path in the target's folder (:func:`place_own_files`).  The source is read as text,
    never run."""
    from llmspec import data

    paths = _paths_read("\n".join(source_texts(spec)))
    wanted = {(folder, name) for folder, name in paths if name in _BOOK_FILES}
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
    # a module named by its dotted name has no source read here (read_sources), so no folder is searched
    place_own_files(home, workdir, sorted({os.path.join(f, n) for f, n in paths if n not in _BOOK_FILES}))
    return workdir


def _paths_read(source: str) -> set[tuple[str, str]]:
    """``(folder, file name)`` for every relative path the source names (see :data:`_FILE_PATHS`);
    ``folder`` is ``""`` for a bare name.  Most are not paths at all ("utf-8"): the caller decides."""
    found = {(m.group(1).rstrip("/"), m.group(2)) for pattern in _FILE_PATHS for m in pattern.finditer(source)}
    found |= {(m.group(1), name) for m in _FOLDER_PATHS.finditer(source) for name in _BOOK_FOLDERS[m.group(2)]}
    return found


def place_own_files(home: Path, workdir: Path, relative: list[str]) -> list[str]:
    """Copy into ``workdir``, at the same relative path, the regular files of ``home`` (the target's
    own folder) among ``relative``: at most :data:`OWN_FILES`, each at most :data:`OWN_FILE_BYTES`.
    Why so careful: the copy is made with the reader's rights, so a path never leaves ``home`` (no
    ``..``, no link followed at any level: each folder and the file are opened with ``O_NOFOLLOW``
    under the one before), and a file already placed (the book's) is never replaced.  Returns the
    relative paths copied.  In grading ``home`` is the grader's copy of one submission, read by the
    sandboxed worker: a single file's copy sits alone in its folder, so only a folder submission's
    own files are ever found (:mod:`llmspec.grading.submissions`)."""
    copied: list[str] = []
    for rel in relative[:_OWN_CANDIDATES]:
        parts = [p for p in Path(rel).parts if p != "."]
        if not parts or ".." in parts or Path(rel).is_absolute() or len(copied) >= OWN_FILES:
            continue
        target = workdir.joinpath(*parts)
        content = None if os.path.lexists(target) else _read_own(home, parts)
        if content is None:
            continue
        with contextlib.suppress(OSError):  # a folder name that is a file already: the load says what is missing
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "xb") as out:
                out.write(content)
            copied.append("/".join(parts))
    return copied


def _read_own(home: Path, parts: list[str]) -> bytes | None:
    """The bytes of ``home/parts...`` if it is a regular file of at most :data:`OWN_FILE_BYTES`
    reached through real folders only (no link at any level), else ``None``."""
    directory, nofollow = getattr(os, "O_DIRECTORY", 0), getattr(os, "O_NOFOLLOW", 0)
    opened: list[int] = []
    try:
        opened.append(os.open(home, os.O_RDONLY | directory))
        for part in parts[:-1]:
            opened.append(os.open(part, os.O_RDONLY | directory | nofollow, dir_fd=opened[-1]))
        opened.append(os.open(parts[-1], os.O_RDONLY | nofollow | getattr(os, "O_NONBLOCK", 0), dir_fd=opened[-1]))
        info = os.fstat(opened[-1])
        if not stat.S_ISREG(info.st_mode) or info.st_size > OWN_FILE_BYTES:
            return None
        with os.fdopen(os.dup(opened[-1]), "rb") as source:
            content = source.read(OWN_FILE_BYTES + 1)  # a file that grew since: still bounded
        return content if len(content) <= OWN_FILE_BYTES else None
    except OSError:  # missing, a link (ELOOP), not a folder: not the learner's file to copy
        return None
    finally:
        for fd in opened:
            os.close(fd)


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
