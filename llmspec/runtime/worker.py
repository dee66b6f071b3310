"""The out-of-process adapter: submission code runs in a worker, verdicts stay in the trusted process.

:class:`ProxyAdapter` (trusted side) implements :class:`~llmspec.runtime.adapter.Adapter` by sending each
call ``{"id", "op", "kwargs"}`` (plus ``"release"``: the handles released since the previous call, which
need no round trip of their own) over a socket to a worker process and decoding the answer with the
strict :mod:`llmspec.runtime.wire` format (never pickle).  The worker (:func:`serve`) loads the target with
C1's ``InProcessAdapter.from_target`` and answers ``{"ok": value}``, ``{"error": ImplError wire}``,
``{"stage_missing": ...}``, ``{"target_error": ...}`` or ``{"harness_error": ...}``.  Whatever a
submission monkeypatches (``torch.equal``, ``builtins``, pytest, even this module) it patches in the
worker only; the process that holds the expected values never imports submission code.

Worker set-up, in order (see :mod:`llmspec.sandbox.isolation` for what is enforced as root vs. a user):
new session, every inherited descriptor closed except its socket, stdout/stderr to a log file in
its run dir (capped: a submission printing megabytes or fake "42 passed" lines never reaches the
grader's output), cwd/HOME/TMPDIR in a fresh scratch dir, torch imported with one thread, the GPT-2
encoding pre-loaded from a private tiktoken cache, a private network namespace and private
``/tmp`` (root), rlimits (memory = baseline + ``memory_mb``), uid ``nobody`` (root), then the
target is loaded.

Start methods: ``start="spawn"`` runs ``python -m llmspec.runtime.worker`` (clean interpreter; pays the torch
import each time) and ``start="fork"`` forks the current process (torch already imported: cheap).
A forked worker can *read* whatever the trusted process held in memory at fork time, so fork
before loading anything secret (hidden expected values), as the grader's warm parent does.

Failures: a call over ``call_timeout`` kills the worker's whole tree and raises
:class:`~llmspec.errors.CallTimeout`; a worker that dies raises :class:`~llmspec.errors.WorkerDied`
with the exit code/signal, a memory-limit hint and its last output lines.  Either way the next call
starts a fresh worker (objects created before are gone: their handles raise ``HarnessError``).  A
target that cannot be loaded (syntax error, ``os._exit`` at import, a hang at import) raises
:class:`~llmspec.errors.TargetError` from the constructor and from every call.
"""
from __future__ import annotations

import atexit
import inspect
import io
import os
import signal
import socket
import subprocess
import sys
import time
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmspec.runtime import wire
from llmspec.sandbox import isolation, landlock
from llmspec.runtime.adapter import OPS, Adapter, DatasetTokenizer, SpecialSet
from llmspec.runtime.faults import StageGuard
from llmspec.errors import CallTimeout, HarnessError, ImplError, StageMissing, TargetError, WorkerDied
from llmspec.i18n import _

if TYPE_CHECKING:
    import torch

WORKER_CRASH = 70  # exit code of a worker whose own loop raised (EX_SOFTWARE)
# The directory that holds the ``llmspec`` package (and, in a checkout, ``reference``): a spawned worker
# imports from it, and it must stay reachable under a private /tmp (a CI clone may live there).
PROJECT_ROOT = Path(__file__).resolve().parents[2]
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


# --- worker side ---------------------------------------------------------------------------------
class _CappedText(io.TextIOBase):
    """``sys.stdout``/``sys.stderr`` of the worker: keeps the first ``cap`` bytes, drops the rest
    silently (so honest code that prints a lot keeps working), and says once that it did."""

    def __init__(self, fd: int, cap: int, name: str):
        self._fd, self._left, self._name, self._noted = fd, cap, name, False

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        data = str(s).encode("utf-8", "backslashreplace")
        if self._left > 0:
            chunk = data[: self._left]
            self._left -= len(chunk)
            try:
                os.write(self._fd, chunk)
            except OSError:
                self._left = 0
        elif not self._noted:
            self._noted = True
            try:
                os.write(self._fd, f"\n[llmspec: further {self._name} output dropped]\n".encode())
            except OSError:
                pass
        return len(s)

    def fileno(self) -> int:
        return self._fd

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def flush(self) -> None:
        pass


def _close_inherited_fds(keep: set[int]) -> None:
    try:
        open_fds = [int(n) for n in os.listdir("/proc/self/fd")]
    except OSError:  # pragma: no cover
        open_fds = list(range(3, 1024))
    for fd in open_fds:
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _load_factory(spec: str) -> Any:
    module_name, _sep, attr = spec.partition(":")
    obj: Any = __import__(module_name, fromlist=["_"])
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _pin_data_dir() -> None:
    """Point ``$LLMSPEC_DATA`` at the verified data wherever it was found (e.g. the user cache).

    Called before ``HOME`` moves to the scratch dir (after which the user cache would be looked for
    there), so the data directory is also the one kept reachable under a private ``/tmp``: the
    book's files are served from it to downloads at import (:mod:`llmspec.sandbox.bookdownloads`)."""
    from llmspec import data

    if os.environ.get(data.DATA_ENV):
        return
    try:
        os.environ[data.DATA_ENV] = str(data.locate().verdict.parent)
    except Exception:  # missing data is reported by the stages that need it
        pass


def _prepare(fd: int, config: dict[str, Any], parent_pid: int) -> dict[str, Any]:
    """Everything between "process exists" and "submission code may run"; returns hello info."""
    t0 = time.monotonic()
    limits = config["limits"]
    scratch = config["scratch"]
    cap = int(limits["output_kb"]) * 1024
    sys.stdout = _CappedText(1, cap, "stdout")
    sys.stderr = _CappedText(2, cap, "stderr")
    _pin_data_dir()
    os.chdir(scratch)
    os.environ.update(HOME=scratch, TMPDIR=os.path.join(scratch, "tmp"), OMP_NUM_THREADS="1")
    os.environ.pop("PYTHONSTARTUP", None)
    import tempfile

    tempfile.tempdir = None  # re-read TMPDIR
    for p in reversed(config.get("sys_path") or []):
        sys.path.insert(0, p)

    import faulthandler

    faulthandler.enable(file=2)  # a segfault leaves a traceback in the log, not in the grader
    import torch

    torch.set_num_threads(1)
    info: dict[str, Any] = {"pid": os.getpid()}
    if config.get("tiktoken_cache"):
        # tiktoken's usual cache lives in the supervisor's home, which nobody cannot read
        os.environ["TIKTOKEN_CACHE_DIR"] = config["tiktoken_cache"]
        try:
            from llmspec import data

            cache = data.ensure_tiktoken_cache()
            for entry in [cache, *cache.iterdir()]:  # the cache writer makes 0600 files
                os.chmod(entry, 0o755 if entry.is_dir() else 0o644)
            import tiktoken

            tiktoken.get_encoding("gpt2")
        except Exception as exc:  # the bpe stage will report it; other stages still run
            info["tiktoken_error"] = str(exc)
    factory = _load_factory(config["factory"])
    info["netns"] = bool(config["isolate_fs_net"]) and isolation.unshare_network()
    # what must stay reachable under a private /tmp: the run dir, the Python environment (every
    # import path and prefix: a venv under /tmp still has modules nobody imported yet), the
    # llmspec/reference checkout itself (an editable install may live under /tmp, as in a CI clone),
    # target and data
    environment = [*sys.path, sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]  # sys_path too
    keep = [Path(config["run_root"]), PROJECT_ROOT, *(Path(p) for p in environment if p)]
    if os.environ.get("LLMSPEC_DATA") and os.path.exists(os.environ["LLMSPEC_DATA"]):
        # a symlink under /tmp would vanish with the private mount: use the resolved directory
        os.environ["LLMSPEC_DATA"] = str(Path(os.environ["LLMSPEC_DATA"]).resolve())
    for candidate in (config["target"], os.environ.get("LLMSPEC_DATA")):
        if candidate and os.path.exists(candidate):
            path = Path(candidate).resolve()
            keep.append(path if path.is_dir() else path.parent)
    info["private_tmp"] = bool(config["isolate_fs_net"]) and isolation.private_world_writable(keep)
    drop = config.get("drop")
    info["limits"] = isolation.apply_limits(
        memory_mb=limits["memory_mb"],
        cpu_seconds=limits["cpu_seconds"],
        nofile=limits["nofile"],
        nproc=limits["nproc"] if drop else None,
        file_mb=limits["file_mb"],
    )
    if drop:
        info["read_all"] = not all(isolation.world_readable(p) for p in keep if os.path.exists(p))
        info["dropped"] = isolation.drop_privileges(*drop, keep_read_all=info["read_all"])
    else:
        info["dropped"] = False
        isolation.set_no_new_privs()
    # last, so it holds for the submission and every process it starts: writes only in scratch, no TCP
    info["landlock"] = landlock.restrict([scratch])
    info["uid"] = os.getuid()
    isolation.die_with_parent(parent_pid)
    info["setup_seconds"] = round(time.monotonic() - t0, 3)
    return {"factory": factory, "info": info}


def _memory_hint(err: ImplError, limits: dict[str, Any]) -> ImplError:
    text = f"{err.exc_type} {err.message}"
    if err.is_a("MemoryError") or "can't allocate memory" in text or "Cannot allocate memory" in text:
        err.message += f" (memory limit of {limits['memory_mb']} MB exceeded)"
    return err


def _answer(adapter: Any, request: Any, limits: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(request, dict) or not isinstance(request.get("kwargs"), dict) or request.get("op") not in OPS:
        return {"harness_error": f"malformed request {str(request)[:200]}"}
    try:
        value = getattr(adapter, request["op"])(**request["kwargs"])
        if isinstance(value, dict) and isinstance(value.get("error"), dict):  # a *_many map stopped there
            value["error"] = _memory_hint(ImplError.from_wire(value["error"]), limits).to_wire()
        return {"ok": value}
    except ImplError as exc:
        return {"error": _memory_hint(exc, limits).to_wire()}
    except StageMissing as exc:
        return {"stage_missing": {"stage": exc.stage, "missing": exc.missing}}
    except TargetError as exc:
        return {"target_error": str(exc)}
    except HarnessError as exc:
        return {"harness_error": f"{type(exc).__name__}: {exc}"}
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # the adapter normally wraps these; be safe
        import traceback

        err = ImplError(type(exc).__name__, str(exc), [c.__name__ for c in type(exc).__mro__], traceback.format_exc())
        return {"error": _memory_hint(err, limits).to_wire()}


def serve(fd: int, config: dict[str, Any], parent_pid: int) -> None:
    """The worker loop: set up, load the target, answer requests until the socket closes."""
    max_bytes = int(config["limits"]["max_message_mb"]) * 1024 * 1024
    prepared = _prepare(fd, config, parent_pid)
    wire.send(fd, {"hello": prepared["info"]}, max_bytes=max_bytes)
    t0 = time.monotonic()
    try:
        factory = prepared["factory"]
        params = inspect.signature(factory).parameters
        extra: dict[str, Any] = {"scratch": Path(config["scratch"])} if "scratch" in params else {}
        if config.get("strict_names") and "strict_names" in params:
            extra["strict_names"] = True
        adapter = factory(config["target"], config.get("impl_map"), **extra)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        reason = str(exc) if isinstance(exc, TargetError) else f"{type(exc).__name__}: {exc}"
        wire.send(fd, {"target_error": reason}, max_bytes=max_bytes)
        return
    wire.send(fd, {"loaded": {"seconds": round(time.monotonic() - t0, 3)}}, max_bytes=max_bytes)
    while True:
        try:
            request = wire.recv(fd, max_bytes=max_bytes)
        except wire.WireClosed:
            return
        released = request.get("release") if isinstance(request, dict) else None
        for handle in released if isinstance(released, list) else []:  # releases the proxy deferred
            if isinstance(handle, int):
                adapter.release(handle)
        response = _answer(adapter, request, config["limits"])
        response["id"] = request.get("id") if isinstance(request, dict) else None
        try:
            payload = wire.encode(response, max_bytes)
        except wire.WireError as exc:
            payload = wire.encode({"id": response["id"], "harness_error": f"result is not sendable: {exc}"})
        wire.send_frame(fd, payload)


def _child_main(fd: int, parent_pid: int) -> None:
    """Entry point of a worker process (spawned or forked): read the config frame, then serve."""
    config = wire.recv(fd, max_bytes=64 * 1024 * 1024)
    serve(fd, config, parent_pid)


def main(argv: list[str] | None = None) -> int:  # ``python -m llmspec.runtime.worker FD PARENT_PID``
    args = sys.argv[1:] if argv is None else argv
    fd, parent = int(args[0]), int(args[1])
    try:
        _child_main(fd, parent)
    except wire.WireClosed:
        pass
    except BaseException as exc:
        os.write(2, f"\nllmspec worker crashed: {type(exc).__name__}: {exc}\n".encode("utf-8", "replace"))
        os._exit(WORKER_CRASH)
    return 0


# --- trusted side ----------------------------------------------------------------------------------
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

    def output_tail(self, max_bytes: int = 2048, lines: int = 12) -> str:
        """Last lines the worker wrote, read through our own descriptor (a symlink the submission
        plants in its dir cannot redirect this read)."""
        try:
            size = os.fstat(self.log_fd).st_size
            data = os.pread(self.log_fd, max_bytes, max(0, size - max_bytes))
        except OSError:
            return ""
        text = data.decode("utf-8", "replace")
        text = "".join(c if c.isprintable() or c in "\n\t" else "?" for c in text)
        return "\n".join(text.strip().splitlines()[-lines:])


class ProxyAdapter(Adapter):
    """:class:`~llmspec.runtime.adapter.Adapter` whose implementation runs in an isolated worker process.

    ``ProxyAdapter(target, impl_map, start="spawn"|"fork", call_timeout=60, load_timeout=120,
    submission_timeout=None, memory_mb=2048, cpu_seconds=None, ...)``; see the module docstring.
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
        self.drop = (root if drop_privileges is None else drop_privileges) and root
        self.isolate_fs_net = root if isolate_fs_net is None else isolate_fs_net
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
        code = 0
        try:  # the child: never return into the trusted process's code (pytest, the grader)
            os.setsid()
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(log_fd, 1)
            os.dup2(log_fd, 2)
            fd = child.fileno()
            parent_sock.detach()  # its descriptor is closed below; the object must not close a reused number
            _close_inherited_fds({fd})
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            _child_main(fd, parent_pid)
        except BaseException as exc:
            code = WORKER_CRASH
            try:
                os.write(2, f"\nllmspec worker crashed: {type(exc).__name__}: {exc}\n".encode("utf-8", "replace"))
                import traceback

                os.write(2, traceback.format_exc().encode("utf-8", "replace"))
            except BaseException:
                pass
        finally:
            os._exit(code)
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
            worker.info = hello
            t_hello = time.monotonic()
            loaded = self._expect(worker, deadline, "loaded")
        except (wire.WireError, _Unexpected) as exc:
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
        status = isolation.reap(worker.pid, timeout=2.0) if isinstance(exc, wire.WireClosed) else None
        tail = worker.output_tail()  # after the reap: a dying worker's last words are written
        tail = "\n" + _("--- last output of the worker ---") + "\n" + tail if tail else ""
        where = _("loading the target") if during == "loading the target" else during
        if isinstance(exc, wire.WireTimeout):
            self._stop()
            limit = self.limits["load_timeout"] if during == "loading the target" else self.limits["call_timeout"]
            why = _("{during} did not finish within {limit} s (or the submission's budget); the worker was killed").format(
                during=where, limit=f"{limit:g}")
        elif isinstance(exc, wire.WireClosed):  # it closed the socket: dying or dead
            self._stop(status)
            why = _describe_status(worker.status, self.limits, we_killed=status is None)
            why = _("{why} during {during}").format(why=why, during=where)
        else:  # garbage on the wire: submission code broke (or forged) the worker's side
            self._stop()
            why = _("the worker sent an invalid message during {during} ({error}); it was killed").format(
                during=where, error=exc)
        if during == "loading the target":
            self._target_error = why + tail
        self.last_death = why
        return why, tail

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
            if not isinstance(msg, dict) or msg.get("id") != request_id or len(msg) != 2:
                raise _Unexpected(f"protocol violation: unexpected answer {str(msg)[:200]}")
        except wire.WireTimeout:
            self._used += time.monotonic() - t0
            _why, tail = self._fail(wire.WireTimeout(), op)
            raise CallTimeout(_("{op} did not answer within {seconds} s; the worker was killed (it restarts on the "
                                "next call)").format(op=op, seconds=f"{budget:g}") + tail) from None
        except (wire.WireError, _Unexpected) as exc:
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


class _Unexpected(Exception):
    def __init__(self, text: str, target_error: bool = False):
        super().__init__(text)
        self.target_error = target_error


if __name__ == "__main__":
    sys.exit(main())
