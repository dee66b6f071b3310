"""Find the submissions to grade and the one target (file, notebook, package) inside each.

A directory given on the command line is a *class*: each entry in it is one submission (unless
``single=True``, as for Gradescope's ``/autograder/submission``, or it is itself a package).  A problem
found here (missing path, syntax error, bad zip) does not stop the grader: the submission carries a
one-line ``problem`` and is graded 0 without running anything (syntax is checked by :func:`compile`).
Each is graded from a copy of its own regular files: a link is never followed by this trusted process
(one to ``/proc/self/environ`` would carry the grader's environment into the feedback).
"""
from __future__ import annotations

import hashlib
import os
import re
import stat
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from llmspec.errors import TargetError
from llmspec.i18n import _
from llmspec.runtime.resolve import MAX_SOURCE_BYTES, one_line, read_code_cells, resolve, source_texts
from llmspec.sandbox import readrules
from llmspec.stages import CONTRACT_NAMES

SOURCE_SUFFIXES = (".py", ".ipynb")
# Preferred entry-point names inside a multi-file submission, best first.
ENTRY_NAMES = ("ch02.py", "ch02.ipynb", "chapter2.py", "solution.py", "submission.py", "main.py")
MAX_ZIP_BYTES = 50 * 1024 * 1024
MAX_ZIP_FILES = 2000
IGNORED = re.compile(r"(^|/)(__MACOSX|\.ipynb_checkpoints|__pycache__|\.[^/]*)(/|$)")


@dataclass
class Submission:
    name: str  # unique, file-system safe: the report directory name
    source: str  # what the instructor gave (path as typed)
    target: str | None = None  # what the suite is pointed at
    problem: str | None = None  # one line: why it cannot be run (graded 0)
    notes: tuple[str, ...] = ()
    flags: list[dict[str, str]] = field(default_factory=list)  # attempts on private places (readrules.py)
    copy_dir: str = ""  # where the graded copy lives, with a trailing separator: see shown()
    digest: str = ""  # of the files graded (see _digest): a changed submission is graded again on resume

    def shown(self, text: str) -> str:
        """``text`` with the copy's paths said as the submission's own, by the names the student gave
        them (``ch02.py``, ``alice/helpers.py``): the copy lives in a temporary directory whose name would
        differ in every run, and the grader's own folders mean nothing to a student."""
        if not (self.copy_dir and text):
            return text
        root = self.copy_dir.rstrip(os.sep)  # the copy itself, named when all its files are judged together
        return text.replace(self.copy_dir, "").replace(root, os.path.basename(root))


def discover(paths: list[str], work_dir: Path, single: bool = False) -> list[Submission]:
    """Expand command-line paths into submissions with unique names, sorted by name."""
    found: list[tuple[str, Path]] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir() and not single and not (p / "__init__.py").exists():
            found.extend((str(e), e) for e in sorted(p.iterdir()) if not IGNORED.search(e.name))
        else:
            found.append((raw, p))
    subs: list[Submission] = []
    used: set[str] = {"gradebook.csv", "report.html"}  # the class's reports sit beside the submissions
    for raw, p in found:
        stem = p.stem if p.suffix in (".py", ".ipynb", ".zip") else p.name
        base = re.sub(r"[^A-Za-z0-9._@+-]+", "_", stem).strip("._")[:100] or "submission"  # file-system safe
        name, i = base, 2
        while name in used:
            name, i = f"{base}-{i}", i + 1
        used.add(name)
        sub = Submission(name=name, source=raw)
        try:
            sub.target = _resolve(p, work_dir / name, sub)
            if single and p.is_dir() and p.name and not (p / "__init__.py").exists():  # `.` is copied as itself
                sub.copy_dir += p.name + os.sep  # the platform's folder (Gradescope's submission/), no name of theirs
            sub.flags = readrules.merge_flags(sub.flags, _imports_of_grader(sub.target))
        except _Problem as exc:
            sub.problem = str(exc)
        except Exception as exc:  # noqa: BLE001 - whatever a submission holds is its problem, never the class's
            sub.problem = _("{name}: cannot be read ({error})").format(name=p.name, error=one_line(exc))
        try:
            sub.digest = _digest(work_dir / name, sub.problem)
        except Exception as exc:  # noqa: BLE001 - as above
            sub.problem = _("{name}: cannot be read ({error})").format(name=p.name, error=one_line(exc))
            sub.digest = _digest(Path(os.devnull), sub.problem)
        subs.append(sub)
    return sorted(subs, key=lambda s: s.name)


class _Problem(Exception):
    pass


def _digest(copy: Path, problem: str | None) -> str:
    """SHA-256 of the copy that is graded (each file's relative path and bytes, in order), or of the
    problem that kept it from being graded: the same digest means the same submission."""
    h = hashlib.sha256((problem or "").encode())
    for f in sorted(copy.rglob("*")) if copy.is_dir() else []:
        if f.is_symlink() or not f.is_file():  # the copy holds none: never followed all the same
            continue
        name = os.fsencode(f.relative_to(copy).as_posix())  # a name need not be UTF-8 (a zip from Windows)
        with open(f, "rb") as fh:
            h.update(len(name).to_bytes(8, "big") + name + hashlib.file_digest(fh, "sha256").digest())
    return h.hexdigest()


def _resolve(p: Path, scratch: Path, sub: Submission) -> str:
    if p.is_symlink():
        raise _Problem(_("{name}: a symbolic link; links are not followed, submit the file itself").format(name=p.name))
    if not p.exists():
        raise _Problem(_("{target}: no such file or directory").format(target=p))
    sub.copy_dir = str(scratch) + os.sep  # a file, a folder or a zip: each is graded from a copy here
    if p.is_dir():  # under its own name, inside a folder of its own (a package is imported from its parent)
        return _entry_in_dir(_copy_own(p, scratch, sub) / p.name)
    if p.suffix == ".zip":
        return _entry_in_dir(_unzip(p, scratch))
    if p.suffix in SOURCE_SUFFIXES:
        copy = _copy_own(p, scratch, sub) / p.name
        _check_source(copy)
        return str(copy)
    raise _Problem(_("{name}: not a .py file, .ipynb notebook, .zip archive or directory").format(name=p.name))


def _copy_own(p: Path, scratch: Path, sub: Submission) -> Path:
    """Copy the submission's regular files (a file, or a directory's tree without the entries
    :data:`IGNORED` names) into ``scratch``, never following a link: each link is left out with
    one line of feedback, and flagged when it points outside the submission.  Bounded like a zip."""
    _fresh(scratch)
    os.chmod(scratch.parent, 0o711)  # the worker (nobody, as root) may reach its own copy, list none
    count, size = 0, 0
    pending = [(p, scratch / p.name)] if p.is_dir() else []
    if not pending:
        if p.stat().st_size > MAX_ZIP_BYTES:
            raise _too_large(p)
        _copy_file(p, scratch / p.name)
    while pending:
        src, dst = pending.pop()
        dst.mkdir(exist_ok=True)
        try:
            with os.scandir(src) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            raise _unreadable(src, exc) from None
        for entry in entries:
            rel = (Path(entry.path).relative_to(p)).as_posix()
            if IGNORED.search(rel):
                continue
            mode = entry.stat(follow_symlinks=False).st_mode
            if stat.S_ISLNK(mode):
                _left_out_link(Path(entry.path), p, rel, sub)
            elif stat.S_ISDIR(mode):
                pending.append((Path(entry.path), dst / entry.name))
            elif not stat.S_ISREG(mode):  # a device, a pipe, a socket: never read
                sub.notes += (_("{path}: not a regular file, left out").format(path=rel),)
            else:
                count, size = count + 1, size + entry.stat(follow_symlinks=False).st_size
                if count > MAX_ZIP_FILES or size > MAX_ZIP_BYTES:
                    raise _too_large(p)
                _copy_file(Path(entry.path), dst / entry.name)
    for root, dirs, files in os.walk(scratch):  # readable by the worker, writable by none
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)
    os.chmod(scratch, 0o755)
    return scratch


def _fresh(scratch: Path) -> None:
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)


def _unreadable(p: Path, exc: OSError) -> _Problem:
    return _Problem(_("{name}: cannot be read ({error})").format(name=p.name, error=exc.strerror))


def _too_large(p: Path) -> _Problem:
    return _Problem(_("{name}: submission too large (limit {mb} MB, {files} files)").format(
        name=p.name, mb=MAX_ZIP_BYTES // 2**20, files=MAX_ZIP_FILES))


def _copy_file(src: Path, dst: Path) -> None:
    """Copy one regular file, opened without following a link (a file swapped for a link between
    the listing and the copy is refused by the kernel); one the grader may not read is a problem
    of this submission, not of the class."""
    try:
        fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise _unreadable(src, exc) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return
        with os.fdopen(os.dup(fd), "rb") as fin, open(dst, "xb") as fout:
            shutil.copyfileobj(fin, fout)
    finally:
        os.close(fd)


# Where a link of a submission's points at the grader's machine rather than at a file of the
# learner's (a link to the book's text on their own disk is honest, and only left out).
PRIVATE_PLACES = ("/proc", "/sys", "/dev", "/etc", "/root", "/run", "/var")


def _left_out_link(link: Path, root: Path, rel: str, sub: Submission) -> None:
    target = os.readlink(link)
    pointed = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(link)), target))
    sub.notes += (_("{path}: a symbolic link, left out (links are not followed; only your own files are "
                    "graded)").format(path=rel),)
    classmates = os.path.dirname(os.path.abspath(root))  # the class directory the submission sits in
    reaches_classmates = classmates != "/" and not readrules.within(pointed, os.path.abspath(root)) and (
        readrules.within(pointed, classmates) or readrules.within(classmates, pointed))  # or a folder above it
    if any(readrules.within(pointed, p) for p in PRIVATE_PLACES) or reaches_classmates:
        sub.flags = readrules.merge_flags(sub.flags, [{"kind": "links", "detail": f"{rel} -> {target}"}])


def _imports_of_grader(target: str) -> list[dict[str, str]]:
    """Imports of the grader's packages in the submission's copy, read and never run."""
    try:
        spec = resolve(target)
    except TargetError:
        return []
    root = Path(target) if Path(target).is_dir() else Path(target).parent
    own = {e.name.partition(".")[0] for e in root.iterdir()} if root.is_dir() else set()
    return readrules.scan_sources(source_texts(spec), own)


def _unzip(p: Path, scratch: Path) -> Path:
    """Extract safely: no absolute or ``..`` paths, no symlinks, bounded size and file count."""
    if p.stat().st_size > MAX_ZIP_BYTES:  # before reading its directory: that costs memory too
        raise _too_large(p)
    try:
        zf = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _Problem(_("{name}: not a readable zip archive ({error})").format(name=p.name, error=exc)) from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_FILES or sum(i.file_size for i in infos) > MAX_ZIP_BYTES:
            raise _Problem(_("{name}: zip archive too large (limit {mb} MB, {files} files)").format(
                name=p.name, mb=MAX_ZIP_BYTES // 2**20, files=MAX_ZIP_FILES))
        _fresh(scratch)
        for info in infos:
            parts = Path(info.filename).parts
            if info.filename.startswith("/") or ".." in parts or (info.external_attr >> 16) & 0o170000 == 0o120000:
                raise _Problem(_("{name}: unsafe path in zip archive: {path}").format(name=p.name, path=info.filename))
            zf.extract(info, scratch)
    return scratch


def _entry_in_dir(d: Path) -> str:
    """The target inside a directory: a package, the one source file, or the best named one."""
    if (d / "__init__.py").exists():
        return str(d.resolve())
    files = sorted(
        f for f in d.rglob("*")
        if f.is_file() and f.suffix in SOURCE_SUFFIXES and not IGNORED.search(f.relative_to(d).as_posix())
    )
    if not files:
        raise _Problem(_("{name}: contains no Python file or notebook").format(name=d.name))
    packages = sorted({f.parent for f in files if f.name == "__init__.py"}, key=lambda x: len(x.parts))
    if len(files) == 1:
        chosen = files[0]
    else:
        named = [f for n in ENTRY_NAMES for f in files if f.name == n]
        if not named and _is_split_chapter(d):
            return str(d.resolve())  # judged as `llmspec check DIR` judges it: every file together
        chosen = named[0] if named else max(files, key=_contract_score)
        if not named and _contract_score(chosen) == 0 and packages:
            return str(packages[0].resolve())
    _check_source(chosen)
    return str(chosen.resolve())


def _is_split_chapter(d: Path) -> bool:
    """A chapter kept as one file per listing (only ``.py`` files at the top): the target loader runs
    them all together, so grading must too, or a student is graded on one file of several."""
    try:
        return resolve(str(d)).kind == "directory"
    except TargetError:
        return False


def _contract_score(f: Path) -> tuple[int, int]:
    """How many book names a file defines (a text search: nothing is executed), then prefer .py."""
    try:
        text = f.read_text("utf-8", errors="replace")
    except OSError:
        return (0, 0)
    hits = sum(1 for n in CONTRACT_NAMES if re.search(rf"\b(class|def)\s+{n}\b", text))
    return (hits, int(f.suffix == ".py"))


def _check_source(f: Path) -> None:
    """A problem unless ``f`` is a notebook the loader reads, or a file that compiles."""
    try:
        if f.suffix == ".ipynb":  # not UTF-8, not JSON, nested too deep to read, or no cells
            read_code_cells(f, f.name)
            return
        data = f.read_bytes()
    except OSError as exc:
        raise _unreadable(f, exc) from None
    except TargetError as exc:
        raise _Problem(str(exc)) from None
    if len(data) > MAX_SOURCE_BYTES:  # not parsed here (the grader's memory): the worker loads it in its limits
        return
    try:
        compile(data, str(f), "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise _Problem(_("{name}:{line}: syntax error: {error}").format(name=f.name, line=exc.lineno, error=exc.msg)) from None
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, nesting no compiler holds
        raise _Problem(_("{name}: cannot be compiled ({error})").format(name=f.name, error=one_line(exc))) from None
