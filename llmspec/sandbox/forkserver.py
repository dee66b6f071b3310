"""A clean process to fork grading workers from: nothing of the grader is in a worker's memory.

Why: a fork is cheap (torch is already imported) but copies its parent's memory, and a worker forked
from a trusted grading child would hold ``reference``, the golden fixtures and the grading config,
reachable from Python (``sys.modules``, ``gc.get_objects()``); no kernel rule takes that back.  So the
grader starts this server once per run as a fresh interpreter importing only what workers need.  A
trusted child sends it its pid and three descriptors (the worker's socket, its log, a pipe for news);
a *shepherd* forks the worker, writes its pid and later its raw wait status into the pipe (the worker
is not the asker's child), adopts what the submission abandons and kills everything when the worker
or the asker dies.
"""
from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import struct
import subprocess
import sys
from dataclasses import dataclass

from llmspec.sandbox import proctree
from llmspec.sandbox.readrules import PROJECT_ROOT

# What a worker inherits of the grader's environment: locale and language (messages), where the
# book's data is, and the Python path that finds llmspec.  Nothing else (no tokens, no secrets).
KEEP_ENV = ("PATH", "HOME", "XDG_CACHE_HOME", "TIKTOKEN_CACHE_DIR", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE",
            "LC_MESSAGES", "TZ", "LLMSPEC_DATA", "LLMSPEC_LANG", "PYTHONPATH", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
_STATUS = struct.Struct("=i")
_current: "ForkServer | None" = None


def clean_environment() -> dict[str, str]:
    """The environment a worker starts from: :data:`KEEP_ENV` of ours."""
    return {k: v for k, v in os.environ.items() if k in KEEP_ENV}


def spawn_environment(clean: bool = True) -> dict[str, str]:
    """The environment of a new worker interpreter: :func:`clean_environment` (all of ours unless
    ``clean``), with llmspec importable from anywhere, and two malloc arenas (glibc reserves 64 MB
    of address space per arena otherwise)."""
    env = clean_environment() if clean else dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(PROJECT_ROOT)] + [p for p in [env.get("PYTHONPATH")] if p])
    env["MALLOC_ARENA_MAX"] = "2"
    return env


def current() -> "ForkServer | None":
    """The server of this grading run (inherited by the trusted children forked after it started)."""
    return _current


@dataclass
class ForkedWorker:
    """A worker forked by the server, as its trusted side sees it: pid and the news pipe."""

    pid: int
    news_fd: int

    def wait(self, timeout: float) -> int | None:
        """The worker's raw wait status once it is gone, or None if it still runs after ``timeout``."""
        ready, _w, _x = select.select([self.news_fd], [], [], max(0.0, timeout))
        if not ready:
            return None
        data = os.read(self.news_fd, _STATUS.size)
        return _STATUS.unpack(data)[0] if len(data) == _STATUS.size else None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.news_fd)


@dataclass
class ForkServer:
    """The trusted side's handle on the server process."""

    pid: int
    control: socket.socket

    @classmethod
    def start(cls) -> "ForkServer":
        """Start the server (in ``/``, with :func:`spawn_environment`); :meth:`wait_ready` waits
        until it has imported what workers need."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            popen = subprocess.Popen([sys.executable, "-m", "llmspec.sandbox.forkserver", str(theirs.fileno())],
                                     pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, cwd="/",
                                     env=spawn_environment(), start_new_session=True)
        finally:
            theirs.close()
        popen.returncode = 0  # reaped by close(), not by Popen.__del__
        return cls(popen.pid, ours)

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Raises OSError if the server did not come up within ``timeout`` seconds."""
        self.control.settimeout(timeout)
        try:
            if self.control.recv(16) != b"ready":
                raise OSError("it ended")
        except (OSError, socket.timeout) as exc:
            self.close()
            raise OSError(f"the fork server did not start ({exc})") from None
        self.control.settimeout(None)

    def install(self) -> None:
        """Make this the server that :class:`~llmspec.runtime.worker.ProxyAdapter` forks from, here and
        in every process forked from here on."""
        global _current
        _current = self

    def fork_worker(self, sock_fd: int, log_fd: int) -> ForkedWorker:
        """A new worker serving ``sock_fd`` (its log on ``log_fd``); it runs the worker loop of
        :mod:`llmspec.runtime.worker` and reads its config from the socket as a spawned one does."""
        news_r, news_w = os.pipe()
        try:
            header = json.dumps({"requester": os.getpid()}).encode()
            socket.send_fds(self.control, [header], [sock_fd, log_fd, news_w])
        finally:
            os.close(news_w)
        pid = ForkedWorker(0, news_r).wait(30.0)  # the first news is the worker's pid
        if pid is None:
            os.close(news_r)
            raise OSError("the fork server did not start a worker")
        return ForkedWorker(pid, news_r)

    def close(self) -> None:
        global _current
        if _current is self:
            _current = None
        self.control.close()
        proctree.kill_tree(self.pid)
        proctree.reap(self.pid, timeout=2.0)


# --- the server process ----------------------------------------------------------------------------
def _preload() -> None:
    """Import, once, what every worker needs, and nothing that holds the grader's answers; then pay
    torch's first-call costs (layer set-up, the first backward pass, a DataLoader) with calls of
    our own, so no worker pays them again."""
    import torch

    torch.set_num_threads(1)
    with contextlib.suppress(ImportError):
        import numpy  # noqa: F401 - learners import it; torch uses it for .numpy()
    import tiktoken
    from torch.utils.data import DataLoader, TensorDataset

    from llmspec import data
    from llmspec.runtime import inprocess, worker  # noqa: F401 - the worker loop and its adapter

    with contextlib.suppress(Exception):  # a worker reports a missing encoding itself
        data.ensure_tiktoken_cache()
        tiktoken.get_encoding("gpt2")  # parsed once here: every worker finds it in tiktoken's registry
    torch.manual_seed(0)
    ids = torch.randint(0, 50257, (2, 4))
    layer, positions = torch.nn.Embedding(50257, 256), torch.nn.Embedding(4, 256)
    (layer(ids) + positions(torch.arange(4))).sum().backward()
    for _batch in DataLoader(TensorDataset(ids, ids), batch_size=1, shuffle=True, drop_last=True):
        pass


def _shepherd(requester: int, sock_fd: int, log_fd: int, news_w: int) -> None:
    """Runs in a child of the server; forks the worker, reports on it, never returns."""
    from llmspec.runtime import worker

    proctree.set_child_subreaper()
    me = os.getpid()
    pid = os.fork()
    if pid == 0:
        try:
            worker.forked(sock_fd, log_fd, me)  # never returns
        finally:
            os._exit(worker.WORKER_CRASH)
    os.close(sock_fd)
    os.close(log_fd)
    os.write(news_w, _STATUS.pack(pid))
    mine = os.pidfd_open(pid)
    try:
        waiting = [mine, os.pidfd_open(requester)]
    except OSError:  # the asker is already gone
        waiting = [mine]
    ready, _w, _x = select.select(waiting, [], [])
    status = os.waitpid(pid, 0)[1] if mine in ready else None
    proctree.kill_tree(pid, orphan_parent=me)  # the worker (if the asker died) and what it left
    if status is None:
        status = proctree.reap(pid, timeout=5.0)
    with contextlib.suppress(OSError):
        os.write(news_w, _STATUS.pack(-1 if status is None else status))
    os._exit(0)


def serve(control_fd: int) -> None:
    """The server loop: one shepherd per request, reaped as they finish."""
    control = socket.socket(fileno=control_fd)
    if sys.path and sys.path[0] in ("/", os.getcwd()):  # ``-m`` put the start directory first
        del sys.path[0]
    _preload()
    control.send(b"ready")
    while True:
        ready, _w, _x = select.select([control], [], [], 1.0)
        with contextlib.suppress(ChildProcessError):  # reap finished shepherds
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        if not ready:
            continue
        try:
            data, fds, _flags, _addr = socket.recv_fds(control, 4096, 3)
        except OSError:
            return
        if not data:
            return  # the grader closed its end: the run is over
        if len(fds) != 3:
            for fd in fds:
                os.close(fd)
            continue
        requester = int(json.loads(data).get("requester", 0))
        if os.fork() == 0:
            control.close()
            try:
                _shepherd(requester, *fds)
            finally:
                os._exit(70)
        for fd in fds:
            os.close(fd)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        serve(int(sys.argv[1]))
