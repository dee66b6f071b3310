"""One worker process, as the trusted side sees it: started, watched, asked where it is, stopped.

:func:`start` forks or spawns a worker connected by a socket, its output going to a log in its own
run directory; :class:`WorkerProcess` reads that log, asks a hung worker for its stack and kills its
whole tree.  The rest says in words why a worker stopped: where the submission's code was
(:func:`where_stuck`), which call of it ended the process (:func:`ended`), or what its exit status
means (:func:`describe_status`).
"""
from __future__ import annotations

import contextlib
import os
import stat
import re
import signal
import socket
import subprocess
import sys
import time
from typing import Any

from llmspec.i18n import _
from llmspec.runtime.resolve import CELL_MARK
from llmspec.runtime.worker import STACK_SIGNAL, WORKER_CRASH, forked
from llmspec.sandbox import forkserver, isolation, proctree
from llmspec.sandbox.readrules import PROJECT_ROOT, within


class WorkerProcess:
    """One live worker process as the proxy sees it (pid, socket, run dir, log)."""

    def __init__(self, pid: int, sock: socket.socket, run: isolation.RunDir, log_fd: int, popen: Any,
                 forked: forkserver.ForkedWorker | None = None):
        self.pid, self.sock, self.run, self.log_fd, self.popen = pid, sock, run, log_fd, popen
        self.forked = forked  # forked by the fork server: not our child, its status comes by pipe
        self.fd = sock.fileno()
        self.info: dict[str, Any] = {}
        self.status: int | None = None
        self.log_start = 0  # where the target's output begins (what came before is the worker's start-up)

    def reap(self, timeout: float) -> int | None:
        """The worker's raw wait status once it is gone (None if still running after ``timeout``)."""
        if self.forked is not None:
            status = self.forked.wait(timeout)
            return None if status is None or status < 0 else status
        return proctree.reap(self.pid, timeout)

    def log_size(self) -> int:
        try:
            return os.fstat(self.log_fd).st_size
        except OSError:
            return 0

    def output_tail(self, max_bytes: int = 2048, lines: int = 12, end: int | None = None) -> str:
        """Last lines the target's code wrote (not the worker's start-up: torch's warnings at import
        are nobody's last words), up to ``end``; read through our own descriptor (a symlink the
        submission plants in its dir cannot redirect this read)."""
        size = self.log_size() if end is None else end
        start = max(self.log_start, size - max_bytes)
        try:
            data = os.pread(self.log_fd, max(0, size - start), start)
        except OSError:
            return ""
        text = data.decode("utf-8", "replace")
        text = "".join(c if c.isprintable() or c in "\n\t" else "?" for c in text)
        return "\n".join(text.strip().splitlines()[-lines:])

    def stack_dump(self, end: int) -> str:
        """Every thread's stack, which the worker writes to its log after ``end`` when asked (a C
        signal handler: at once, whatever the Python code does); "" when it does not answer."""
        try:
            os.kill(self.pid, STACK_SIGNAL)
        except OSError:
            return ""
        deadline, size = time.monotonic() + 1.0, end
        while time.monotonic() < deadline:
            time.sleep(0.02)
            grown = self.log_size()
            if grown > end and grown == size:
                break
            size = grown
        try:
            return os.pread(self.log_fd, min(size - end, 64 * 1024), end).decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self, orphan_parent: int | None, others: set[int], status: int | None = None) -> None:
        """Kill the worker and everything it started (not ``others``: other proxies' workers);
        reap it, close our descriptors of it, remove its run dir."""
        proctree.kill_tree(self.pid, orphan_parent, others)
        self.status = self.reap(timeout=5.0) if status is None else status
        if self.popen is not None:
            self.popen.returncode = -1  # reaped already: keep Popen.__del__ from waiting for it
        if self.forked is not None:
            self.forked.close()
        with contextlib.suppress(OSError):
            self.sock.close()
        with contextlib.suppress(OSError):
            os.close(self.log_fd)
        isolation.remove_run_dir(self.run)


def start(run: isolation.RunDir, how: str, clean_env: bool = False) -> WorkerProcess:
    """A worker for ``run``: forked (``how="fork"``: torch already imported) from the fork server
    of a grading run where there is one (:mod:`llmspec.sandbox.forkserver`: nothing of this process in
    its memory), else from this process; or spawned as ``python -m llmspec.runtime.worker`` (a clean
    interpreter; with ``clean_env``, with only the environment a worker keeps)."""
    log_fd = os.open(run.log, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    parent_sock, child = socket.socketpair()
    child.set_inheritable(True)
    server = forkserver.current()
    if how == "fork" and server is not None:
        worker = server.fork_worker(child.fileno(), log_fd)
        child.close()
        return WorkerProcess(worker.pid, parent_sock, run, log_fd, None, worker)
    if how == "spawn":
        popen: Any = subprocess.Popen(
            [sys.executable, "-m", "llmspec.runtime.worker", str(child.fileno()), str(os.getpid())],
            pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL, stdout=log_fd, stderr=log_fd,
            cwd=run.scratch, env=forkserver.spawn_environment(clean_env), start_new_session=True)
        pid = popen.pid
    else:
        parent_pid = os.getpid()
        sys.stdout.flush()
        sys.stderr.flush()
        pid, popen = os.fork(), None
        if pid == 0:
            parent_sock.detach()  # the child closes its descriptor; the object must not close a reused number
            forked(child.fileno(), log_fd, parent_pid)  # never returns
    child.close()
    return WorkerProcess(pid, parent_sock, run, log_fd, popen)


def describe_status(status: int | None, limits: dict[str, Any], we_killed: bool) -> str:
    if status is None:
        return _("the worker vanished (exit status unknown)")
    if os.WIFEXITED(status):
        code = os.WEXITSTATUS(status)
        if code == WORKER_CRASH:
            return _("the worker's own loop crashed (exit code {code}; submission code broke the interpreter?)").format(
                code=code)
        return _("the worker exited with code {code} (os._exit/sys.exit or a crash in submission code?)").format(code=code)
    sig = os.WTERMSIG(status)
    name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
    text = _("the worker was killed by {signal}").format(signal=name)
    if sig == signal.SIGKILL and not we_killed:
        text += _(" (likely the memory limit of {mb} MB exceeded or the kernel's OOM killer)").format(
            mb=limits["memory_mb"])
    elif sig == signal.SIGXCPU:
        text += _(" (CPU time limit of {seconds} s exceeded)").format(seconds=limits["cpu_seconds"])
    elif sig == signal.SIGSEGV:
        text += _(" (segmentation fault; often memory exhaustion inside a C extension)")
    return text


def place(file: str, line: int, target: str) -> str:
    """``line 2`` in the target's own file, ``cell 3, line 2`` in a notebook, else the file's name."""
    path, _sep, cell = file.partition(CELL_MARK)
    if cell.isdigit():
        return _("cell {cell}, line {line}").format(cell=cell, line=line)
    if os.path.abspath(path) == os.path.abspath(target):
        return _("line {line}").format(line=line)
    return _("{file}, line {line}").format(file=os.path.basename(path), line=line)


def _own_line(file: str, line: int, target: str) -> str:
    """Line ``line`` of ``file`` when it is a regular file of the target's own (its folder, or the
    directory it is), read without following a link; else "".  The dump comes from the worker, so
    submission code may name any file in it: this trusted process must not read one for it."""
    own = os.path.realpath(target if os.path.isdir(target) else os.path.dirname(target))
    path = file.partition(CELL_MARK)[0]
    if not within(os.path.realpath(path), own):
        return ""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return ""
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return ""
        lines = f.read(4 * 2**20).decode("utf-8", "replace").splitlines()
    return lines[line - 1].strip()[:80] if 0 < line <= len(lines) else ""


def ended(info: dict[str, Any], target: str) -> str:
    """"your code ended the process (`os._exit(0)`, line 2)", from what the worker said as it left."""
    call = str(info.get("text") or "os._exit(...)")
    where = place(str(info.get("file", "")), int(info.get("line", 0)), target)
    return _("your code ended the process (`{call}`, {place})").format(call=call, place=where)


class Exited(Exception):
    """The worker's last message: submission code called ``os._exit`` (file, line, text, status)."""

    def __init__(self, info: dict[str, Any]):
        super().__init__("exit")
        self.info = info


def check_exit(msg: Any) -> None:
    if isinstance(msg, dict) and set(msg) == {"exit"} and isinstance(msg["exit"], dict):
        raise Exited(msg["exit"])


# One frame of a faulthandler dump: ``  File "/path/sub.py", line 3 in encode``.
_FRAME = re.compile(r'^\s*File "(?P<file>.+)", line (?P<line>\d+) in ')
_OURS = (str(PROJECT_ROOT / "llmspec"), sys.prefix, sys.base_prefix, sys.exec_prefix, "<")


def where_stuck(dump: str, target: str) -> str:
    """"; your code was at line 3 (`while True: pass`)" from a faulthandler dump, or "" when no frame
    of it is the target's own.  The innermost such frame of the thread that runs the worker's loop
    when there is one (a thread the submission started may loop too, but the call that hangs is the
    loop's); not llmspec's, the standard library's or an installed package's."""
    threads = re.split(r"^(?:Current thread|Thread) 0x[0-9a-f]+.*$", dump, flags=re.MULTILINE)
    serving = [t for t in threads if "llmspec/runtime/worker.py" in t]
    frames = (match for block in serving or threads for match in map(_FRAME.match, block.splitlines()))
    frame = next((m for m in frames if m and not m["file"].startswith(_OURS)), None)
    if frame is None:
        return ""
    file, line = frame["file"], int(frame["line"])
    text = _own_line(file, line, target)
    return _("; your code was at {place}").format(place=place(file, line, target) + (f" (`{text}`)" if text else ""))
