"""Atomic file and directory writes, so an interrupted grading run leaves no half-written report.

A file or a submission's report directory is written under a temporary name next to its target and
renamed over it (``os.replace`` is atomic on POSIX).
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def write_text(path: str | Path, text: str) -> None:
    """UTF-8; a file name that was not (``\udcff`` from a zip made on Windows) is written as ``\udcff``."""
    write_bytes(path, text.encode("utf-8", "backslashreplace"))


def write_bytes(path: str | Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def replace_dir(staging: Path, final: Path) -> None:
    """Move the finished ``staging`` directory to ``final``, removing whatever was there before.

    Two renames (old out of the way, new in) keep the window where ``final`` is missing tiny; a
    crash inside it leaves either the old or no directory, never a mix, and resume regrades it."""
    final = Path(final)
    old = None
    if final.exists() or final.is_symlink():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        os.replace(final, old)
    os.replace(staging, final)
    if old is not None:
        _remove(old)


def staging_dir(parent: Path, name: str) -> Path:
    """A fresh private directory next to where ``name`` will live (same file system: rename works)."""
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{name}.staging-", dir=parent))


def clean_stale(parent: Path) -> None:
    """Remove staging leftovers of an interrupted run (their names start with a dot)."""
    for p in parent.iterdir():
        if p.name.startswith(".") and (".staging-" in p.name or ".old-" in p.name or p.name.endswith(".tmp")):
            _remove(p)


def _remove(p: Path) -> None:
    """A directory with its tree, anything else (a link too, never followed) by itself."""
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        p.unlink(missing_ok=True)
