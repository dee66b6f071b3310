"""The out-of-process adapter: submission code runs in a worker, verdicts stay in the trusted process.

:class:`ProxyAdapter` implements :class:`~llmspec.runtime.adapter.Adapter` by sending each call to a
worker process (:mod:`llmspec.runtime.worker`) and decoding the answer with the strict
:mod:`llmspec.runtime.wire` format (never pickle).  Releases need no round trip of their own: they
travel with the next call.

Start methods: ``start="spawn"`` runs ``python -m llmspec.runtime.worker`` (clean interpreter; pays
the torch import each time) and ``start="fork"`` forks the current process (torch already imported:
cheap).  A forked worker can *read* whatever the trusted process held in memory at fork time, so
fork before loading anything secret (hidden expected values), as the grader's warm parent does.
``sandbox=False`` (``llmspec check``'s default) runs the worker with the learner's own permissions:
limits and containment, but no private mounts, no other user and no Landlock.

Failures: a call over ``call_timeout`` kills the worker's whole tree and raises
:class:`~llmspec.errors.CallTimeout` naming where the submission's code was (the worker's stack,
dumped on request); a worker that dies raises :class:`~llmspec.errors.WorkerDied` with the exit
code/signal, a memory-limit hint and its last output lines.  Either way the next call starts a fresh
worker (objects created before are gone: their handles raise ``HarnessError``).  A target that
cannot be loaded (syntax error, ``os._exit`` at import, a hang at import) raises
:class:`~llmspec.errors.TargetError` from the constructor and from every call.  Each stage gets its
own budget, and a fault costs only its stage (:mod:`llmspec.runtime.faults`).
"""
from __future__ import annotations

import atexit
import linecache
import os
import re
import signal
import socket
import subprocess
import sys
import time
import weakref
from typing import TYPE_CHECKING, Any

from llmspec.errors import CallTimeout, HarnessError, ImplError, StageMissing, TargetError, WorkerDied
from llmspec.i18n import _
from llmspec.runtime import wire
from llmspec.runtime.adapter import Adapter, DatasetTokenizer, SpecialSet
from llmspec.runtime.faults import StageGuard
from llmspec.runtime.worker import PROJECT_ROOT, STACK_SIGNAL, WORKER_CRASH, forked
from llmspec.sandbox import isolation

if TYPE_CHECKING:
    import torch

DEFAULT_FACTORY = "llmspec.runtime.inprocess:InProcessAdapter.from_target"
DEFAULT_LIMITS: dict[str, Any] = {
    "call_timeout": 60.0,  # wall-clock seconds per call
    "load_timeout": 120.0,  # wall-clock seconds to start the worker and load the target
    "submission_timeout": None,  # wall-clock seconds for everything this proxy runs (None: no cap)
    "memory_mb": 2048,  # new address space on top of the worker's baseline (see apply_limits)
    "cpu_seconds": None,
    "nofile": 256,
    "nproc": 256,  # only applied when the worker runs as nobody
    "file_mb": 64,  # largest file the worker may write (its output log included)
    "output_kb": 256,  # per stream (stdout, stderr) kept in the log
    "max_message_mb": 256,
}


_LIVE: "weakref.WeakSet[ProxyAdapter]" = weakref.WeakSet()


def _close_all() -> None:
    for proxy in list(_LIVE):
        proxy.close()


atexit.register(_close_all)


def _describe_status(status: int | None, limits: dict[str, Any], we_killed: bool) -> str:
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


class _Worker:
    """One live worker process as the proxy sees it (pid, socket, run dir, log)."""

    def __init__(self, pid: int, sock: socket.socket, run: isolation.RunDir, log_fd: int, popen: Any):
        self.pid, self.sock, self.run, self.log_fd, self.popen = pid, sock, run, log_fd, popen
        self.fd = sock.fileno()
        self.info: dict[str, Any] = {}
        self.status: int | None = None
        self.log_start = 0  # where the target's output begins (what came before is the worker's start-up)

    def let_go(self) -> None:
        """Close this process's descriptors of the worker; its process is waited for elsewhere (it
        was reaped, or it belongs to the process this one was forked from)."""
        if self.popen is not None:
            self.popen.returncode = -1  # keep Popen.__del__ from waiting for it
        for closer in (self.sock.close, lambda: os.close(self.log_fd)):
            try:
                closer()
            except OSError:
                pass

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


class ProxyAdapter(Adapter):
    """:class:`~llmspec.runtime.adapter.Adapter` whose implementation runs in an isolated worker process.

    ``ProxyAdapter(target, impl_map, start="spawn"|"fork", sandbox=True, call_timeout=60,
    load_timeout=120, submission_timeout=None, memory_mb=2048, cpu_seconds=None, ...)``; see the
    module docstring.
    ``stage_timeout`` (seconds, for every stage) and ``stage_timeouts`` (``{stage: seconds}``) give
    each stage its own budget, and a fault costs only its stage (:mod:`llmspec.runtime.faults`)."""

    def __init__(
        self,
        target: str | None = None,
        impl_map: dict[str, str] | None = None,
        *,
        start: str = "spawn",
        factory: str = DEFAULT_FACTORY,
        sys_path: list[str] | None = None,
        drop_privileges: bool | None = None,
        isolate_fs_net: bool | None = None,
        scratch_base: str | None = None,
        strict_names: bool = False,
        sandbox: bool = True,
        stage_timeout: float | None = None,
        stage_timeouts: dict[str, float] | None = None,
        **limits: Any,
    ):
        unknown = set(limits) - set(DEFAULT_LIMITS)
        if unknown:
            raise TypeError(f"unknown limit(s) {sorted(unknown)}; known: {sorted(DEFAULT_LIMITS)}")
        if start not in ("spawn", "fork"):
            raise ValueError(f"start must be 'spawn' or 'fork', not {start!r}")
        self.target = target if target is not None else "reference"
        self.impl_map = dict(impl_map or {})
        self.start, self.factory, self.sys_path = start, factory, list(sys_path or [])
        self.limits = {**DEFAULT_LIMITS, **limits}
        root = isolation.is_root()
        self.sandbox = bool(sandbox)
        self.drop = (root if drop_privileges is None else drop_privileges) and root and self.sandbox
        self.isolate_fs_net = (root if isolate_fs_net is None else isolate_fs_net) and self.sandbox
        self.scratch_base = scratch_base
        self.strict_names = bool(strict_names)
        self.max_bytes = int(self.limits["max_message_mb"]) * 1024 * 1024
        self.subreaper = isolation.set_child_subreaper()
        self._worker: _Worker | None = None
        self._generation = 0
        self._handles: dict[int, tuple[int, int]] = {}  # proxy handle -> (generation, worker handle)
        self._released: list[int] = []  # worker handles released since the last request (this generation)
        self._next_handle = 1
        self._next_id = 1
        self._target_error: str | None = None
        self._used = 0.0  # wall-clock seconds spent in the worker (load + calls)
        self._closed = False
        self.last_death: str | None = None
        self.startups: list[dict[str, Any]] = []  # timing of every worker start (benchmarks)
        self.guard = StageGuard(stage_timeouts, stage_timeout)
        self._stuck = ""  # where the last call that timed out found the submission's code
        _LIVE.add(self)
        self._ensure_worker()

    # --- process lifetime --------------------------------------------------------------------
    def _config(self, run: isolation.RunDir) -> dict[str, Any]:
        return {
            "target": self.target,
            "impl_map": self.impl_map or None,
            "strict_names": self.strict_names,
            "factory": self.factory,
            "sys_path": self.sys_path,
            "scratch": str(run.scratch),
            "run_root": str(run.root),
            "tiktoken_cache": str(run.tiktoken_cache),
            "drop": list(isolation.nobody_ids()) if self.drop else None,
            "isolate_fs_net": self.isolate_fs_net,
            "sandbox": self.sandbox,
            "limits": self.limits,
        }

    def _spawn(self, run: isolation.RunDir, child: socket.socket, log_fd: int) -> tuple[int, Any]:
        pkg_parent = str(PROJECT_ROOT)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([pkg_parent] + [p for p in [env.get("PYTHONPATH")] if p])
        env["MALLOC_ARENA_MAX"] = "2"  # glibc reserves 64 MB of address space per arena otherwise
        popen = subprocess.Popen(
            [sys.executable, "-m", "llmspec.runtime.worker", str(child.fileno()), str(os.getpid())],
            pass_fds=(child.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=log_fd,
            stderr=log_fd,
            cwd=run.scratch,
            env=env,
            start_new_session=True,
        )
        return popen.pid, popen

    def _fork(self, child: socket.socket, parent_sock: socket.socket, log_fd: int) -> int:
        parent_pid = os.getpid()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid:
            return pid
        parent_sock.detach()  # the child closes its descriptor; the object must not close a reused number
        forked(child.fileno(), log_fd, parent_pid)  # never returns
        raise AssertionError("unreachable")  # pragma: no cover

    def _ensure_worker(self) -> _Worker:
        if self._closed:
            raise HarnessError("this adapter was closed")
        if self._target_error is not None:
            raise TargetError(self._target_error)
        if self._worker is not None:
            return self._worker
        self._check_budget("starting a worker")
        t0 = time.monotonic()
        owner = isolation.nobody_ids() if self.drop else None
        run = isolation.make_run_dir(self.scratch_base, owner)
        log_fd = os.open(run.log, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        parent_sock, child = socket.socketpair()
        child.set_inheritable(True)
        if self.start == "spawn":
            pid, popen = self._spawn(run, child, log_fd)
        else:
            pid, popen = self._fork(child, parent_sock, log_fd), None
        child.close()
        worker = _Worker(pid, parent_sock, run, log_fd, popen)
        self._worker = worker
        self._generation += 1
        deadline = t0 + self._budget(self.limits["load_timeout"])
        try:
            wire.send(worker.fd, self._config(run), deadline)
            hello = self._expect(worker, deadline, "hello")
            worker.info, worker.log_start = hello, worker.log_size()
            t_hello = time.monotonic()
            loaded = self._expect(worker, deadline, "loaded")
        except (wire.WireError, _Unexpected, _Exited) as exc:
            why, tail = self._fail(exc, "loading the target")
            self._used += time.monotonic() - t0
            raise TargetError(why + tail) from None
        self._used += time.monotonic() - t0
        self.startups.append(
            {
                "start": self.start,
                "hello_seconds": round(t_hello - t0, 3),
                "ready_seconds": round(time.monotonic() - t0, 3),
                "load_seconds": loaded.get("seconds"),
            }
        )
        return worker

    def _expect(self, worker: _Worker, deadline: float, key: str) -> dict[str, Any]:
        msg = wire.recv(worker.fd, deadline, self.max_bytes)
        _check_exit(msg)
        if isinstance(msg, dict) and "target_error" in msg:
            raise _Unexpected(str(msg["target_error"]), target_error=True)
        if not isinstance(msg, dict) or set(msg) != {key} or not isinstance(msg[key], dict):
            raise _Unexpected(f"protocol violation: expected {key!r}, got {str(msg)[:200]}")
        return msg[key]

    def _fail(self, exc: Exception, during: str) -> tuple[str, str]:
        """Stop the worker after ``exc``; return (one-line reason, its output tail or "").
        A failure while loading becomes the target's permanent error."""
        worker = self._worker
        assert worker is not None
        if isinstance(exc, _Unexpected) and exc.target_error:
            self._stop()
            self._target_error = str(exc)
            return self._target_error, ""
        loading = during == "loading the target"
        where = _("loading the target") if loading else during
        self._stuck = ""
        if isinstance(exc, wire.WireTimeout):  # where the code is, before anything of it is gone
            end = worker.log_size()
            self._stuck = self._where_stuck(worker, end)
            tail = worker.output_tail(end=end)
        else:
            status = isolation.reap(worker.pid, timeout=2.0) if isinstance(exc, (wire.WireClosed, _Exited)) else None
            tail = worker.output_tail()  # after the reap: a dying worker's last words are written
        tail = "\n" + _("--- last output of the worker ---") + "\n" + tail if tail else ""
        if isinstance(exc, wire.WireTimeout):
            self._stop()
            limit = self.limits["load_timeout"] if loading else self.limits["call_timeout"]
            why = _("{during} did not finish within {limit} s (or the submission's budget); the worker was killed").format(
                during=where, limit=f"{limit:g}") + (self._stuck if loading else "")
        elif isinstance(exc, _Exited):  # it said where it called os._exit, then left
            self._stop(status)
            why = self._ended(exc.info)
            why = why if loading else _("{why} during {during}").format(why=why, during=where)
        elif isinstance(exc, wire.WireClosed):  # it closed the socket: dying or dead
            self._stop(status)
            why = _describe_status(worker.status, self.limits, we_killed=status is None)
            why = _("{why} during {during}").format(why=why, during=where)
        else:  # garbage on the wire: submission code broke (or forged) the worker's side
            self._stop()
            why = _("the worker sent an invalid message during {during} ({error}); it was killed").format(
                during=where, error=exc)
        if loading:
            self._target_error = why + tail
        self.last_death = why
        return why, tail

    # --- where the submission's code was ------------------------------------------------------
    def _where_stuck(self, worker: _Worker, end: int) -> str:
        """"; your code was at sub.py:3 (`while True: pass`)": the worker writes every thread's
        stack to its log when asked (:data:`~llmspec.runtime.worker.STACK_SIGNAL`); the first frame
        of the thread serving the call that is the target's own names the place.  "" when the
        worker cannot tell (it ignored the request, or no frame is the target's)."""
        try:
            os.kill(worker.pid, STACK_SIGNAL)
        except OSError:
            return ""
        deadline, size = time.monotonic() + 1.0, end
        while time.monotonic() < deadline:  # the dump is written at once, by a C signal handler
            time.sleep(0.02)
            grown = worker.log_size()
            if grown > end and grown == size:
                break
            size = grown
        try:
            dump = os.pread(worker.log_fd, min(size - end, 64 * 1024), end).decode("utf-8", "replace")
        except OSError:
            return ""
        frame = stuck_frame(dump)
        if frame is None:
            return ""
        file, line = frame
        text = linecache.getline(file, line).strip()[:80] if os.path.isfile(file) else ""
        place = self._place(file, line) + (f" (`{text}`)" if text else "")
        return _("; your code was at {place}").format(place=place)

    def _place(self, file: str, line: int) -> str:
        """``line 2`` in the target's own file, ``cell 3, line 2`` in a notebook, else the file's name."""
        path, _sep, cell = file.partition("#cell")
        if cell.isdigit():
            return _("cell {cell}, line {line}").format(cell=cell, line=line)
        if os.path.abspath(path) == os.path.abspath(self.target):
            return _("line {line}").format(line=line)
        return _("{file}, line {line}").format(file=os.path.basename(path), line=line)

    def _ended(self, info: dict[str, Any]) -> str:
        """"your code ended the process (`os._exit(0)`, line 2)"."""
        call = str(info.get("text") or "os._exit(...)")
        place = self._place(str(info.get("file", "")), int(info.get("line", 0)))
        return _("your code ended the process (`{call}`, {place})").format(call=call, place=place)

    def _stop(self, status: int | None = None) -> None:
        """Kill the worker and everything it started; remove its run dir."""
        worker, self._worker = self._worker, None
        self._released = []  # they die with this worker
        if worker is None:
            return
        others = {p._worker.pid for p in _LIVE if p is not self and p._worker is not None}
        isolation.kill_tree(worker.pid, os.getpid() if self.subreaper else None, others)
        if status is None:
            status = isolation.reap(worker.pid, timeout=5.0)
        worker.status = status
        worker.let_go()
        isolation.remove_run_dir(worker.run)

    def close(self) -> None:
        """Kill the worker, its children and any daemon it left; remove its scratch dir."""
        if not self._closed:
            self._stop()
            self._closed = True
            _LIVE.discard(self)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    @property
    def worker_pid(self) -> int | None:
        return self._worker.pid if self._worker is not None else None

    @property
    def worker_info(self) -> dict[str, Any]:
        return dict(self._worker.info) if self._worker is not None else {}

    # --- calls --------------------------------------------------------------------------------
    def _budget(self, per_call: float | None) -> float:
        total = self.limits["submission_timeout"]
        left = float("inf") if total is None else total - self._used
        return min(float("inf") if per_call is None else per_call, left)

    def start_budget(self, seconds: float | None) -> None:
        """From now on, ``seconds`` of wall clock for everything this proxy runs (``None``: no cap).
        The grader gives every stage its own budget, so a hang in one stage cannot spend another's."""
        self.limits["submission_timeout"] = seconds
        self._used = 0.0

    def _check_budget(self, what: str) -> None:
        if self._budget(None) <= 0:
            raise CallTimeout(_("{what}: the submission's wall-clock budget of {seconds} s is used up").format(
                what=what, seconds=self.limits["submission_timeout"]))

    def _map_handles(self, op: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        if "handle" not in kwargs:
            return kwargs
        handle = kwargs["handle"]
        entry = self._handles.get(handle) if isinstance(handle, int) else None
        if entry is None:
            raise HarnessError(f"{op}: unknown handle {handle!r}")
        generation, worker_handle = entry
        if generation != self._generation or self._worker is None:
            raise HarnessError(
                f"{op}: handle {handle} belongs to a worker that has since been restarted "
                f"({self.last_death or 'stopped'}); create the object again"
            )
        return {**kwargs, "handle": worker_handle}

    # --- stages (llmspec.runtime.faults) -----------------------------------------------------------
    def begin_stage(self, stage: str) -> None:
        if self.guard.begin_stage(stage):
            budget = self.guard.budget(stage)
            if budget is not None:  # none given: the proxy's own limits hold
                self.start_budget(budget)

    def not_run(self) -> str | None:
        return self.guard.not_run()

    @property
    def faults(self) -> dict[str, str]:
        return self.guard.faults

    def _call(self, op: str, kwargs: dict[str, Any]) -> Any:
        return self.guard.call(op, lambda: self._request(op, kwargs))

    def _request(self, op: str, kwargs: dict[str, Any]) -> Any:
        if op == "release":  # no round trip of its own: the worker frees it before the next call
            entry = self._handles.pop(kwargs.get("handle"), None)  # type: ignore[arg-type]
            if entry is not None and entry[0] == self._generation and self._worker is not None:
                self._released.append(entry[1])
            return None
        self._check_budget(op)
        worker = self._ensure_worker()
        wire_kwargs = self._map_handles(op, kwargs)
        request_id = self._next_id
        self._next_id += 1
        budget = self._budget(self.limits["call_timeout"])
        request: dict[str, Any] = {"id": request_id, "op": op, "kwargs": wire_kwargs}
        if self._released:
            request["release"], self._released = self._released, []
        t0 = time.monotonic()
        try:
            wire.send(worker.fd, request, t0 + budget, self.max_bytes)
            msg = wire.recv(worker.fd, t0 + budget, self.max_bytes)
            _check_exit(msg)
            if not isinstance(msg, dict) or msg.get("id") != request_id or len(msg) != 2:
                raise _Unexpected(f"protocol violation: unexpected answer {str(msg)[:200]}")
        except wire.WireTimeout:
            self._used += time.monotonic() - t0
            _why, tail = self._fail(wire.WireTimeout(), op)
            raise CallTimeout(_("{op} did not answer within {seconds} s; the worker was killed (it restarts on the "
                                "next call)").format(op=op, seconds=f"{budget:g}") + self._stuck + tail) from None
        except (wire.WireError, _Unexpected, _Exited) as exc:
            self._used += time.monotonic() - t0
            why, tail = self._fail(exc, op)
            raise WorkerDied(why + _("; the worker restarts on the next call") + tail) from None
        self._used += time.monotonic() - t0
        return self._result(op, msg)

    def _result(self, op: str, msg: dict[str, Any]) -> Any:
        if "ok" in msg:
            value = msg["ok"]
            if op.endswith("_new"):
                if not isinstance(value, int) or isinstance(value, bool):
                    raise HarnessError(f"{op}: the worker returned {value!r} instead of a handle")
                handle = self._next_handle
                self._next_handle += 1
                self._handles[handle] = (self._generation, value)
                return handle
            return value
        if "error" in msg:
            try:
                return _raise(ImplError.from_wire(msg["error"]))
            except (KeyError, TypeError):
                raise HarnessError(f"{op}: malformed error from the worker") from None
        if "stage_missing" in msg:
            sm = msg["stage_missing"]
            if isinstance(sm, dict) and isinstance(sm.get("stage"), str) and isinstance(sm.get("missing"), list):
                raise StageMissing(sm["stage"], [str(m) for m in sm["missing"]])
        if "target_error" in msg:
            raise TargetError(str(msg["target_error"]))
        if "harness_error" in msg:
            raise HarnessError(f"{op}: {msg['harness_error']}")
        raise HarnessError(f"{op}: malformed answer from the worker")

    # --- the operations: each one round trip (see llmspec.runtime.adapter for what they mean) ------
    def describe(self) -> dict[str, Any]:
        return self._call("describe", {})

    def tokenizer_new(self, version: int, vocab: dict[str, int]) -> int:
        return self._call("tokenizer_new", {"version": version, "vocab": vocab})

    def tokenizer_encode(self, handle: int, text: str) -> list[int]:
        return self._call("tokenizer_encode", {"handle": handle, "text": text})

    def tokenizer_decode(self, handle: int, ids: list[int]) -> str:
        return self._call("tokenizer_decode", {"handle": handle, "ids": ids})

    def tokenizer_encode_many(self, handle: int, texts: list[str]) -> dict[str, Any]:
        return self._call("tokenizer_encode_many", {"handle": handle, "texts": texts})

    def tokenizer_decode_many(self, handle: int, ids_list: list[list[int]]) -> dict[str, Any]:
        return self._call("tokenizer_decode_many", {"handle": handle, "ids_list": ids_list})

    def bpe_encode(self, text: str, allowed_special: SpecialSet = None,
                   disallowed_special: SpecialSet = None) -> list[int]:
        return self._call("bpe_encode", {"text": text, "allowed_special": allowed_special,
                                         "disallowed_special": disallowed_special})

    def bpe_decode(self, ids: list[int]) -> str:
        return self._call("bpe_decode", {"ids": ids})

    def bpe_info(self) -> dict[str, Any]:
        return self._call("bpe_info", {})

    def dataset_new(self, txt: str, max_length: int, stride: int, tokenizer: DatasetTokenizer = "gpt2") -> int:
        return self._call("dataset_new", {"txt": txt, "max_length": max_length, "stride": stride,
                                          "tokenizer": tokenizer})

    def dataset_len(self, handle: int) -> int:
        return self._call("dataset_len", {"handle": handle})

    def dataset_items(self, handle: int, indices: list[int]) -> list[list[torch.Tensor]]:
        return self._call("dataset_items", {"handle": handle, "indices": indices})

    def dataset_tokenizer_calls(self, handle: int) -> list[dict[str, Any]]:
        return self._call("dataset_tokenizer_calls", {"handle": handle})

    def dataloader_batches(self, txt: str, batch_size: int, max_length: int, stride: int, shuffle: bool,
                           drop_last: bool, num_workers: int = 0, seed: int | None = None,
                           max_batches: int | None = None) -> dict[str, Any]:
        return self._call("dataloader_batches", {
            "txt": txt, "batch_size": batch_size, "max_length": max_length, "stride": stride, "shuffle": shuffle,
            "drop_last": drop_last, "num_workers": num_workers, "seed": seed, "max_batches": max_batches})

    def dataloader_signature(self) -> list[dict[str, Any]]:
        return self._call("dataloader_signature", {})

    def embeddings_new(self, vocab_size: int, output_dim: int, context_length: int, seed: int | None = None) -> int:
        return self._call("embeddings_new", {"vocab_size": vocab_size, "output_dim": output_dim,
                                             "context_length": context_length, "seed": seed})

    def embeddings_state(self, handle: int) -> dict[str, Any]:
        return self._call("embeddings_state", {"handle": handle})

    def embeddings_forward(self, handle: int, ids: torch.Tensor) -> torch.Tensor:
        return self._call("embeddings_forward", {"handle": handle, "ids": ids})

    def embeddings_backward(self, handle: int, ids: torch.Tensor,
                            grad_output: torch.Tensor) -> dict[str, torch.Tensor | None]:
        return self._call("embeddings_backward", {"handle": handle, "ids": ids, "grad_output": grad_output})

    def state_read(self, names: list[str], rows: dict[str, list[int]] | None = None) -> dict[str, Any]:
        return self._call("state_read", {"names": names, "rows": rows})

    def bpe_scratch_new(self, encoder_json: str | None, vocab_bpe: str | None) -> int:
        return self._call("bpe_scratch_new", {"encoder_json": encoder_json, "vocab_bpe": vocab_bpe})

    def bpe_scratch_encode(self, handle: int, text: str, allowed_special: SpecialSet = None) -> list[int]:
        return self._call("bpe_scratch_encode", {"handle": handle, "text": text, "allowed_special": allowed_special})

    def bpe_scratch_decode(self, handle: int, ids: list[int]) -> str:
        return self._call("bpe_scratch_decode", {"handle": handle, "ids": ids})

    def bpe_scratch_train(self, handle: int, text: str, vocab_size: int, allowed_special: SpecialSet = None) -> None:
        return self._call("bpe_scratch_train", {"handle": handle, "text": text, "vocab_size": vocab_size,
                                                "allowed_special": allowed_special})

    def bpe_scratch_state(self, handle: int) -> dict[str, Any]:
        return self._call("bpe_scratch_state", {"handle": handle})

    def release(self, handle: int) -> None:
        return self._call("release", {"handle": handle})


def _raise(exc: BaseException) -> Any:
    raise exc


class _Exited(Exception):
    """The worker's last message: submission code called ``os._exit`` (file, line, text, status)."""

    def __init__(self, info: dict[str, Any]):
        super().__init__("exit")
        self.info = info


def _check_exit(msg: Any) -> None:
    if isinstance(msg, dict) and set(msg) == {"exit"} and isinstance(msg["exit"], dict):
        raise _Exited(msg["exit"])


# One frame of a faulthandler dump: ``  File "/path/sub.py", line 3 in encode``.
_FRAME = re.compile(r'^\s*File "(?P<file>.+)", line (?P<line>\d+) in ')
_OURS = (str(PROJECT_ROOT / "llmspec"), sys.prefix, sys.base_prefix, sys.exec_prefix, "<")


def stuck_frame(dump: str) -> tuple[str, int] | None:
    """The innermost frame of the target's own code in a faulthandler dump, as ``(file, line)``:
    of the thread that runs the worker's loop when there is one (a thread the submission started
    may loop too, but the call that hangs is the loop's), not llmspec's, not the standard library's
    or an installed package's."""
    threads = re.split(r"^(?:Current thread|Thread) 0x[0-9a-f]+.*$", dump, flags=re.MULTILINE)
    serving = [t for t in threads if "llmspec/runtime/worker.py" in t]
    for block in serving or threads:
        for line in block.splitlines():
            match = _FRAME.match(line)
            if match and not match["file"].startswith(_OURS):
                return match["file"], int(match["line"])
    return None


class _Unexpected(Exception):
    def __init__(self, text: str, target_error: bool = False):
        super().__init__(text)
        self.target_error = target_error


