"""The processes of a run: adopt what a submission abandons, find everything it started, kill it
all, reap it.

Why: a submission may fork, ``setsid()`` and double-fork to leave its process group and session.
The supervisor is therefore a child *subreaper*, so such a daemon comes back to it, and
:func:`kill_tree` finds the whole run from ``/proc`` and freezes it before killing it, so nothing
forks faster than we kill.  Used by the proxy, the grader and the fork server.
"""
from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Set as AbstractSet
from typing import NamedTuple

from llmspec.sandbox.isolation import _prctl

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


def set_child_subreaper() -> bool:
    """Make this (supervising) process adopt orphaned descendants instead of init: a daemon that
    left its session becomes *our* child, which :func:`kill_tree` finds."""
    return _prctl(PR_SET_CHILD_SUBREAPER, 1)


def die_with_parent(parent_pid: int) -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (set after changing uid, which
    clears the setting); exit at once if the parent is already gone."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:
        os._exit(70)


# --- finding and killing processes ---------------------------------------------------------------
class ProcInfo(NamedTuple):
    pid: int
    ppid: int
    pgid: int
    sid: int


def _proc_info(pid: int) -> ProcInfo | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
    except OSError:
        return None
    fields = raw[raw.rfind(b")") + 2 :].split()  # the command name may contain spaces and ')'
    if fields[0] in (b"Z", b"X"):  # zombie / dead: nothing runs any more
        return ProcInfo(pid, int(fields[1]), -1, -1)
    return ProcInfo(pid, int(fields[1]), int(fields[2]), int(fields[3]))


def processes() -> list[ProcInfo]:
    """Every process visible in ``/proc`` (a snapshot)."""
    infos = (_proc_info(int(name)) for name in os.listdir("/proc") if name.isdigit())
    return [info for info in infos if info is not None]


def _members(root: int, orphan_parent: int | None, exclude: AbstractSet[int]) -> set[int]:
    """The processes that belong to the run rooted at ``root``: its descendants, its session and
    process group, and escaped orphans re-parented to ``orphan_parent`` (the subreaper)."""
    snapshot = processes()
    my_sid = os.getsid(0)
    found = {root}
    for p in snapshot:
        if p.sid == root or p.pgid == root:
            found.add(p.pid)
        # An escapee adopted by the subreaper can never be in the subreaper's own session
        # (setsid() always creates a new one), which tells it apart from the supervisor's own
        # children; live workers of other proxies are excluded by the caller.
        elif orphan_parent is not None and p.ppid == orphan_parent and p.sid != my_sid and p.pid not in exclude:
            found.add(p.pid)
    children: dict[int, list[int]] = {}
    for p in snapshot:
        children.setdefault(p.ppid, []).append(p.pid)
    stack = list(found)
    while stack:
        for c in children.get(stack.pop(), ()):
            if c not in found and c not in exclude:
                found.add(c)
                stack.append(c)
    found.discard(os.getpid())
    return found - exclude


def kill_tree(root: int, orphan_parent: int | None = None, exclude: AbstractSet[int] = frozenset()) -> set[int]:
    """Freeze (SIGSTOP, rescanning until no new member appears), then SIGKILL ``root`` and everything
    of its run (:func:`_members`); reap those that are our children but ``root``; return the pids
    killed.  ``orphan_parent``: ``os.getpid()`` when this process called :func:`set_child_subreaper`."""
    killed: set[int] = set()
    for _ in range(50):
        new = _members(root, orphan_parent, exclude) - killed
        if not new:
            break
        _signal(new, signal.SIGSTOP)
        killed |= new
    _signal(killed, signal.SIGKILL)
    for pid in killed - {root}:  # the caller reaps the worker itself to learn its exit status
        reap(pid, timeout=1.0)
    return killed


def _signal(pids: set[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def reap(pid: int, timeout: float) -> int | None:
    """``waitpid`` our child ``pid`` for up to ``timeout`` s; its raw status, or None."""
    end = time.monotonic() + timeout
    while True:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return None
        if done:
            return status
        if time.monotonic() >= end:
            return None
        time.sleep(0.005)


def alive(pids: set[int]) -> set[int]:
    """Those of ``pids`` that still exist and are not zombies."""
    return {pid for pid in pids if (info := _proc_info(pid)) is not None and info.sid != -1}
