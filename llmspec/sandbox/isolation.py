"""Process isolation of the worker (:mod:`llmspec.runtime.worker`): limits, privileges, namespaces
and run directories.

For every user: resource limits, ``PR_SET_NO_NEW_PRIVS`` (setuid binaries do not elevate) and, on
top, Landlock's rules (:mod:`llmspec.sandbox.landlock`).  As root also: the uid ``nobody`` with
``RLIMIT_NPROC`` (for a normal user it would count all of the user's processes), private empty
world-writable directories, the grader's directories hidden, no network.  Every function
degrades to "not enforced" rather than failing when the kernel refuses (the worker reports which
guarantees it got in its hello message).
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import os
import pwd
import resource
import shutil
import signal
import stat
import tempfile
from pathlib import Path
from typing import Any, NamedTuple

from llmspec.sandbox.readrules import within

PR_SET_NO_NEW_PRIVS = 38
CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_REC, MS_PRIVATE, MS_BIND, MS_NOSUID, MS_NODEV = 0x1, 0x4000, 1 << 18, 0x1000, 0x2, 0x4
CAP_DAC_READ_SEARCH = 2
PR_SET_KEEPCAPS = 8
_CAP_VERSION_3 = 0x20080522
# Directories any user may write to; a submission gets private empty ones (root only).
WORLD_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm")
MB = 1024 * 1024


@functools.cache
def libc() -> Any:
    """The C library (for prctl/unshare/mount, which :mod:`os` does not expose)."""
    return ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


def _prctl(option: int, arg: int) -> bool:
    return libc().prctl(option, ctypes.c_ulong(arg), 0, 0, 0) == 0


def is_root() -> bool:
    return os.geteuid() == 0


# --- limits -------------------------------------------------------------------------------------
def _set(which: int, value: int) -> None:
    _soft, hard = resource.getrlimit(which)
    value = value if hard == resource.RLIM_INFINITY else min(value, hard)
    resource.setrlimit(which, (value, value))


def apply_limits(
    memory_mb: int | None = None,
    cpu_seconds: int | None = None,
    nofile: int | None = None,
    nproc: int | None = None,
    file_mb: int | None = None,
) -> dict[str, Any]:
    """Cap this process (in the worker, after the heavy imports, before submission code); returns
    what was set, for the worker's hello message.

    ``RLIMIT_AS`` bounds *virtual* size, and torch alone maps over a gigabyte it never touches, so
    a fixed cap would kill honest workers or be far too loose: the submission gets ``memory_mb`` of
    *new* address space beyond the size measured now.  ``SIGXFSZ`` is ignored so a write past
    ``file_mb`` fails with ``EFBIG`` instead of killing the worker."""
    applied: dict[str, Any] = {}
    _set(resource.RLIMIT_CORE, 0)
    if memory_mb is not None:
        baseline = int(Path("/proc/self/statm").read_text().split()[0]) * resource.getpagesize()  # VmSize
        _set(resource.RLIMIT_AS, baseline + memory_mb * MB)
        applied.update(memory_mb=memory_mb, baseline_vm_mb=baseline // MB)
    if file_mb is not None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    for key, which, value, unit in (("cpu_seconds", resource.RLIMIT_CPU, cpu_seconds, 1),
                                    ("nofile", resource.RLIMIT_NOFILE, nofile, 1),
                                    ("nproc", resource.RLIMIT_NPROC, nproc, 1),
                                    ("file_mb", resource.RLIMIT_FSIZE, file_mb, MB)):
        if value is not None:
            _set(which, int(value) * unit)
            applied[key] = int(value)
    return applied


# --- privileges, namespaces -----------------------------------------------------------------------
def nobody_ids() -> tuple[int, int]:
    pw = pwd.getpwnam("nobody")
    return pw.pw_uid, pw.pw_gid


def world_readable(path: str | os.PathLike[str]) -> bool:
    """Whether a user with no special rights can reach ``path`` (every ancestor searchable by
    "other", the path itself readable by "other")."""
    p = Path(path).resolve()
    try:
        for ancestor in reversed(p.parents):
            if not os.stat(ancestor).st_mode & stat.S_IXOTH:
                return False
        return bool(os.stat(p).st_mode & stat.S_IROTH)
    except OSError:
        return False


def drop_privileges(uid: int, gid: int, keep_read_all: bool = False) -> bool:
    """Become ``uid``/``gid`` (``nobody``, when root) and forbid regaining privileges; True if the
    uid changed.  Call it after everything that needs root (namespaces, reading root-only caches).
    ``keep_read_all`` keeps ``CAP_DAC_READ_SEARCH`` (read any file, write none) where Python itself
    lives out of ``nobody``'s reach (pyenv under ``/root``); writes are still ``nobody``'s."""
    set_no_new_privs()
    if not is_root():
        return False
    if keep_read_all:
        _prctl(PR_SET_KEEPCAPS, 1)
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if keep_read_all:
        header = (ctypes.c_uint32 * 2)(_CAP_VERSION_3, 0)  # version, pid (0: this process)
        data = (ctypes.c_uint32 * 6)(1 << CAP_DAC_READ_SEARCH, 1 << CAP_DAC_READ_SEARCH)  # effective, permitted, ...
        # a container may not grant it (Docker's default set lacks it): go on without, as nobody
        libc().capset(header, data)
    try:  # must be impossible now
        os.setuid(0)
    except PermissionError:
        return True
    raise RuntimeError("could not drop root privileges")  # pragma: no cover


def set_no_new_privs() -> bool:
    """Forbid this process and its children to gain privileges (setuid binaries stop elevating)."""
    return _prctl(PR_SET_NO_NEW_PRIVS, 1)


def unshare_network() -> bool:
    """Move this process into a fresh network namespace (no interfaces): root only, else False."""
    return is_root() and libc().unshare(CLONE_NEWNET) == 0


def bind_points(keep: list[Path] | list[str]) -> list[tuple[str, str]]:
    """``(mount point, source directory)`` pairs that keep every path of ``keep`` reachable under
    private ``/tmp``-like mounts, parents first.  A file (a zipped stdlib) keeps its directory; a
    path is kept under its own spelling *and* its resolved one, since a symlinked venv under ``/tmp``
    is reached through both (``sys.path`` holds the one, ``os.path.realpath`` the other)."""
    wanted: dict[str, str] = {}
    for k in keep:
        spelled = os.path.abspath(k)
        if not os.path.exists(spelled):
            continue
        real = os.path.realpath(spelled)
        if not os.path.isdir(real):
            spelled, real = os.path.dirname(spelled), os.path.dirname(real)
        for point in (spelled, real):
            if any(point.startswith(d + "/") for d in WORLD_WRITABLE):  # hidden by a private mount
                wanted.setdefault(point, real)
    out: list[tuple[str, str]] = []
    for point in sorted(wanted):
        if not any(point.startswith(outer + "/") for outer, _ in out):  # else the outer bind shows it
            out.append((point, wanted[point]))
    return out


def private_world_writable(keep: list[Path] | list[str], hide: list[str] = (), own: list[str] = ()) -> bool:
    """Give this process private, empty tmpfs mounts over ``/tmp``, ``/var/tmp``, ``/dev/shm``, then
    cover ``hide`` (see :func:`_hide`).

    Why: dropping to ``nobody`` protects root-owned directories, but world-writable ones stay
    writable; with private mounts a file the submission writes there vanishes with the worker.
    What of ``keep`` lies under them (a venv under ``/tmp`` must still import the modules it has
    not imported yet) is bind-mounted back (:func:`bind_points`).  Root only; False if the kernel
    refused (nothing is half-done that matters: the mounts are private to us)."""
    if not is_root():
        return False
    points = bind_points(keep)
    c = libc()
    if c.unshare(CLONE_NEWNS) != 0 or c.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return False
    fds: dict[str, int] = {}
    try:
        for _point, source in points:  # opened before the tmpfs hides them
            if source not in fds:
                fds[source] = os.open(source, os.O_RDONLY | os.O_DIRECTORY)
        for d in WORLD_WRITABLE:
            if not os.path.isdir(d) or os.path.islink(d):
                continue
            if c.mount(b"tmpfs", d.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, b"mode=1777,size=64m") != 0:
                return False
            for point, source in points:
                if point.startswith(d + "/"):
                    os.makedirs(point, exist_ok=True)
                    fd = fds[source]
                    if c.mount(f"/proc/self/fd/{fd}".encode(), point.encode(), None, MS_BIND | MS_REC, None) != 0:
                        return False
    finally:
        for fd in fds.values():
            os.close(fd)
    return _hide(hide, own)


def private_shm(private_tmp: bool, keep: list[Path] | list[str] = ()) -> list[str]:
    """``["/dev/shm"]`` when it is this worker's own (``private_tmp``: :func:`private_world_writable`
    mounted a private tmpfs there, not through a symlink) and nothing of ``keep`` is bound back into it
    (a run directory under ``/dev/shm`` stays out of the submission's reach), else ``[]``: where the
    submission may also write.

    Why: a DataLoader with ``num_workers=2`` starts worker processes that share batches and locks
    through ``/dev/shm`` (``multiprocessing``'s semaphores, torch's shared memory); refused, correct
    code fails.  A private tmpfs of 64 MB, gone with the worker's mount namespace, holds nothing of
    the grader's or another submission's, so writing there gains an attacker nothing the scratch
    folder does not give.  Without root the system's ``/dev/shm`` is shared: it stays closed (the
    learner is told why, :mod:`llmspec.sandbox.denied`)."""
    shm = "/dev/shm"
    bound = any(point.startswith(shm + "/") for point, _source in bind_points(keep))
    private = private_tmp and not bound and shm in WORLD_WRITABLE
    return [shm] if private and os.path.isdir(shm) and not os.path.islink(shm) else []


def _hide(paths: list[str], own: list[str]) -> bool:
    """Cover each of ``paths`` in this mount namespace: a directory by an empty read-only tmpfs, a
    file by ``/dev/null``; a path holding something of ``own`` is left to the read rules."""
    c = libc()
    for path in paths:
        if any(within(o, path) for o in own) or os.path.islink(path):
            continue
        if os.path.isdir(path):
            ok = c.mount(b"tmpfs", path.encode(), b"tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, b"size=4k,mode=0555")
        elif os.path.isfile(path):
            ok = c.mount(b"/dev/null", path.encode(), None, MS_BIND, None)
        else:
            continue
        if ok != 0:
            return False
    return True


# --- scratch directories --------------------------------------------------------------------------
class RunDir(NamedTuple):
    """``root`` (owned by the supervisor) holds ``scratch/`` (the worker's cwd, HOME and TMPDIR,
    handed to ``nobody`` when root), ``output.log`` (the worker's stdout/stderr, opened by the
    supervisor so the worker only ever holds a write descriptor) and tiktoken's cache."""

    root: Path
    scratch: Path
    log: Path
    tiktoken_cache: Path


def make_run_dir(base: str | os.PathLike[str] | None = None, owner: tuple[int, int] | None = None) -> RunDir:
    """Create a fresh run dir; ``owner`` = (uid, gid) the scratch dir is handed to."""
    root = Path(tempfile.mkdtemp(prefix="llmspec-run-", dir=base))
    os.chmod(root, 0o711)  # the worker may traverse to scratch/, not list or write here
    run = RunDir(root, root / "scratch", root / "output.log", root / "tiktoken")
    (run.scratch / "tmp").mkdir(parents=True)
    if owner is not None:  # handed to the unprivileged worker user
        for path in (run.scratch, run.scratch / "tmp"):
            os.chown(path, *owner)
    return run


def remove_run_dir(run: RunDir) -> None:
    """Delete a run dir.  ``shutil.rmtree`` never follows symlinks a submission planted."""
    for path, _dirs, _files in os.walk(run.root):  # a submission may have chmod-ed things to 000
        with contextlib.suppress(OSError):
            if not os.path.islink(path):
                os.chmod(path, stat.S_IRWXU)
    shutil.rmtree(run.root, ignore_errors=True)
