"""The worker: the process where submission code runs, answering a trusted proxy over a socket.

:func:`serve` loads the target with ``InProcessAdapter.from_target`` and answers each request
``{"id", "op", "kwargs"}`` in the strict :mod:`llmspec.runtime.wire` format (never pickle): whatever
a submission monkeypatches, it patches here only.  Before any submission code runs, :func:`_prepare`
confines the process (see :mod:`llmspec.sandbox.isolation`): its output capped in a log, a fresh
scratch dir, rlimits and, when sandboxed, a private network and ``/tmp``, uid ``nobody`` and Landlock.
``SIGUSR1`` dumps every thread's stack to the log; an ``os._exit`` of submission code first says where.
"""
from __future__ import annotations

import contextlib
import faulthandler
import io
import linecache
import os
import signal
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any, Callable

import torch

from llmspec import data
from llmspec.errors import HarnessError, ImplError, StageMissing, TargetError
from llmspec.runtime import wire
from llmspec.runtime.adapter import OPS
from llmspec.runtime.normalise import to_impl_error
from llmspec.sandbox import denied, forkserver, isolation, landlock, proctree, readrules

WORKER_CRASH = 70  # exit code of a worker whose own loop raised (EX_SOFTWARE)
STACK_SIGNAL = signal.SIGUSR1  # asks a worker for every thread's stack, written to its log
_exit = os._exit  # the real one: the worker's own exits never pass through the recorder below


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
            with contextlib.suppress(OSError):
                os.write(self._fd, f"\n[llmspec: further {self._name} output dropped]\n".encode())
        return len(s)

    def fileno(self) -> int:
        return self._fd

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def flush(self) -> None:
        pass


def _pin_data_dir() -> None:
    """Point ``$LLMSPEC_DATA`` at the verified data wherever it was found (e.g. the user cache).

    Called before ``HOME`` moves to the scratch dir (after which the user cache would be looked for
    there), so the data directory is also the one kept reachable under a private ``/tmp``: the
    book's files are served from it to downloads at import (:mod:`llmspec.sandbox.netblock`)."""
    if os.environ.get(data.DATA_ENV):
        return
    with contextlib.suppress(Exception):  # missing data is reported by the stages that need it
        os.environ[data.DATA_ENV] = str(data.locate().verdict.parent)


def _prepare(config: dict[str, Any], parent_pid: int) -> tuple[Any, dict[str, Any]]:
    """Everything between "process exists" and "submission code may run"; returns the adapter's
    class (imported before the sandbox closes) and the hello info."""
    limits = config["limits"]
    scratch = config["scratch"]
    cap = int(limits["output_kb"]) * 1024
    sys.stdout = _CappedText(1, cap, "stdout")
    sys.stderr = _CappedText(2, cap, "stderr")
    _pin_data_dir()
    os.chdir(scratch)
    confine = config["read_rules"]  # None unless sandboxed (ProxyAdapter._read_rules)
    if confine:  # the grader's environment (tokens, secrets) is not the submission's to read
        kept = forkserver.clean_environment()
        os.environ.clear()
        os.environ.update(kept)
    os.environ.update(HOME=scratch, TMPDIR=os.path.join(scratch, "tmp"), OMP_NUM_THREADS="1")
    os.environ.pop("PYTHONSTARTUP", None)
    tempfile.tempdir = None  # re-read TMPDIR
    faulthandler.enable(file=2)  # a segfault leaves a traceback in the log, not in the grader
    faulthandler.register(STACK_SIGNAL, file=2, all_threads=True)  # where a hang is, on request
    torch.set_num_threads(1)
    info: dict[str, Any] = {"pid": os.getpid()}
    if config.get("tiktoken_cache"):
        # tiktoken's usual cache lives in the supervisor's home, which nobody cannot read
        os.environ["TIKTOKEN_CACHE_DIR"] = config["tiktoken_cache"]
        try:
            cache = data.ensure_tiktoken_cache()
            for entry in [cache, *cache.iterdir()]:  # the cache writer makes 0600 files
                os.chmod(entry, 0o755 if entry.is_dir() else 0o644)
            import tiktoken

            tiktoken.get_encoding("gpt2")
        except Exception as exc:  # the bpe stage will report it; other stages still run
            info["tiktoken_error"] = str(exc)
    from llmspec.runtime.inprocess import InProcessAdapter

    drop = config["drop"]  # nobody's ids when the worker is isolated (root's grading run), else None
    info["netns"] = bool(drop) and isolation.unshare_network()
    # what must stay reachable under a private /tmp: the run dir, the Python environment (a venv
    # under /tmp still has modules nobody imported yet), the llmspec/reference checkout itself (an
    # editable install may live under /tmp, as in a CI clone), target and data
    keep = [Path(config["run_root"]), readrules.PROJECT_ROOT, *map(Path, readrules.python_roots())]
    if os.environ.get("LLMSPEC_DATA") and os.path.exists(os.environ["LLMSPEC_DATA"]):
        # a symlink under /tmp would vanish with the private mount: use the resolved directory
        os.environ["LLMSPEC_DATA"] = str(Path(os.environ["LLMSPEC_DATA"]).resolve())
    for candidate in (config["target"], os.environ.get("LLMSPEC_DATA")):
        if candidate and os.path.exists(candidate):
            path = Path(candidate).resolve()
            keep.append(path if path.is_dir() else path.parent)
    rules, own = None, []
    if confine:
        # what a submission may read: its own copy, the run dir, the book's data, the Python it runs
        own = [str(Path(p).resolve()) for p in [config["run_root"], *confine["own"], os.environ.get("LLMSPEC_DATA")]
               if p and os.path.exists(p)]
        rules = readrules.for_worker(own, confine.get("private"))
    hidden = [p for paths in (rules.private.values() if rules else ()) for p in paths]
    info["private_tmp"] = bool(drop) and isolation.private_world_writable(keep, hidden, own)
    info["limits"] = isolation.apply_limits(
        memory_mb=limits["memory_mb"],
        cpu_seconds=limits["cpu_seconds"],
        nofile=limits["nofile"],
        nproc=limits["nproc"] if drop else None,
        file_mb=limits["file_mb"],
    )
    if drop:
        # the capability only where the Python it runs is out of nobody's reach (pyenv under /root)
        info["read_all"] = not all(isolation.world_readable(p) for p in readrules.python_roots() if os.path.exists(p))
        info["dropped"] = isolation.drop_privileges(*drop, keep_read_all=info["read_all"])
    else:
        info["dropped"] = False
        isolation.set_no_new_privs()
    # last, so it holds for the submission and every process it starts: writes only in scratch, no TCP
    # and in the worker's own /dev/shm, where DataLoader worker processes share memory (see private_shm)
    unsandboxed = {"abi": 0, "error": "not sandboxed (the learner's own check)"}
    shm = isolation.private_shm(info["private_tmp"], keep)
    info["landlock"] = landlock.restrict([scratch, *shm], rules) if config["sandbox"] else unsandboxed
    if config["sandbox"]:
        denied.confined(shared_memory=bool(shm))
    if rules is not None:  # a witness of attempts on private places (the kernel has refused them)
        own_modules = {name.partition(".")[0] for d in confine["own"] if os.path.isdir(d) for name in os.listdir(d)}
        _WATCH.append(readrules.Watch(rules, own, own_modules))
    info["uid"] = os.getuid()
    proctree.die_with_parent(parent_pid)
    return InProcessAdapter, info


_WATCH: list[readrules.Watch] = []  # the worker's witness, once installed


def _with_flags(message: dict[str, Any]) -> dict[str, Any]:
    """``message`` plus the attempts seen since the last one (see :mod:`llmspec.sandbox.readrules`)."""
    new = _WATCH[0].take_new() if _WATCH else []
    return {**message, "flags": new} if new else message


def _hinted(err: ImplError, limits: dict[str, Any]) -> ImplError:
    """``err`` with what the worker's confinement had to do with it: the memory limit, or a refusal
    (:func:`llmspec.sandbox.denied.hint`)."""
    text = f"{err.exc_type} {err.message}"
    if err.is_a("MemoryError") or "can't allocate memory" in text or "Cannot allocate memory" in text:
        err.message += f" (memory limit of {limits['memory_mb']} MB exceeded)"
    err.message += denied.hint(err)
    return err


def _answer(adapter: Any, request: Any, limits: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(request, dict) or not isinstance(request.get("kwargs"), dict) or request.get("op") not in OPS:
        return {"harness_error": f"malformed request {str(request)[:200]}"}
    try:
        value = getattr(adapter, request["op"])(**request["kwargs"])
        if isinstance(value, dict) and isinstance(value.get("error"), dict):  # a *_many map stopped there
            value["error"] = _hinted(ImplError.from_wire(value["error"]), limits).to_wire()
        return {"ok": value}
    except ImplError as exc:
        return {"error": _hinted(exc, limits).to_wire()}
    except StageMissing as exc:
        return {"stage_missing": {"stage": exc.stage, "missing": exc.missing}}
    except TargetError as exc:
        return {"target_error": str(exc)}
    except HarnessError as exc:
        return {"harness_error": f"{type(exc).__name__}: {exc}"}
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # what describe (not an operation under _op) lets through
        return {"error": _hinted(to_impl_error(exc), limits).to_wire()}


def serve(fd: int, parent_pid: int) -> None:
    """The worker loop: read the config frame, set up, load the target, answer requests until the
    socket closes (the entry point of a spawned or forked worker)."""
    config = wire.recv(fd, max_bytes=64 * 1024 * 1024)
    max_bytes = int(config["limits"]["max_message_mb"]) * 1024 * 1024
    adapter_class, info = _prepare(config, parent_pid)
    info["log_start"] = os.fstat(2).st_size  # what the target writes comes after this
    wire.send(fd, {"hello": info}, max_bytes=max_bytes)
    os._exit = _exit_recorder(fd)
    try:
        adapter = adapter_class.from_target(config["target"], config.get("impl_map"), scratch=Path(config["scratch"]),
                                            strict_names=bool(config.get("strict_names")))
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        reason = str(exc) if isinstance(exc, TargetError) else f"{type(exc).__name__}: {exc}"
        wire.send(fd, _with_flags({"target_error": reason}), max_bytes=max_bytes)
        return
    wire.send(fd, _with_flags({"loaded": {}}), max_bytes=max_bytes)
    while True:
        try:
            request = wire.recv(fd, max_bytes=max_bytes)
        except wire.WireClosed:
            return
        released = request.get("release") if isinstance(request, dict) else None
        for handle in released if isinstance(released, list) else []:  # releases the proxy deferred
            if isinstance(handle, int):
                adapter.release(handle)
        response = _with_flags(_answer(adapter, request, config["limits"]))
        response["id"] = request.get("id") if isinstance(request, dict) else None
        try:
            payload = wire.encode(response, max_bytes)
        except wire.WireError as exc:
            payload = wire.encode({"id": response["id"], "harness_error": f"result is not sendable: {exc}"})
        wire.send_frame(fd, payload)


def _exit_recorder(fd: int) -> Callable[[int], None]:
    """``os._exit`` for submission code: first tells the proxy where it was called (file, line and
    the line's text), so "the worker exited" can say which line of the learner's code ended it.
    Best effort: code that calls ``posix._exit`` or kills itself is still reported by its status.
    A process the submission forked exits quietly: the socket it inherited is the worker's."""
    me = os.getpid()

    def exit_(status: int) -> None:
        if os.getpid() != me:
            _exit(status)
        try:
            frame = sys._getframe(1)
            where = frame.f_code.co_filename
            text = linecache.getline(where, frame.f_lineno).strip()[:120]
            wire.send(fd, {"exit": {"file": where, "line": frame.f_lineno, "text": text, "status": int(status)}},
                      max_bytes=64 * 1024)
        except BaseException:  # noqa: BLE001 - the exit goes ahead whatever happens
            pass
        _exit(status)

    return exit_


def main() -> int:  # ``python -m llmspec.runtime.worker FD PARENT_PID``
    fd, parent = int(sys.argv[1]), int(sys.argv[2])
    try:
        serve(fd, parent)
    except wire.WireClosed:
        pass
    except BaseException as exc:
        os.write(2, f"\nllmspec worker crashed: {type(exc).__name__}: {exc}\n".encode("utf-8", "replace"))
        _exit(WORKER_CRASH)
    return 0


def forked(fd: int, log_fd: int, parent_pid: int) -> None:
    """The worker's side of a fork from the trusted process: a session of its own, stdin empty,
    stdout/stderr to ``log_fd``, every descriptor but its socket ``fd`` closed, then :func:`serve`;
    never returns into the trusted process's code (pytest, the grader)."""
    code = 0
    try:
        os.setsid()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        for other in map(int, os.listdir("/proc/self/fd")):  # /proc: proctree needs it too
            if other > 2 and other != fd:
                with contextlib.suppress(OSError):  # the listing's own descriptor is closed already
                    os.close(other)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        serve(fd, parent_pid)
    except BaseException as exc:  # noqa: BLE001 - written to the log; the proxy reports the exit code
        code = WORKER_CRASH
        with contextlib.suppress(BaseException):
            os.write(2, f"\nllmspec worker crashed: {type(exc).__name__}: {exc}\n".encode("utf-8", "replace"))
            os.write(2, traceback.format_exc().encode("utf-8", "replace"))
    finally:
        _exit(code)


if __name__ == "__main__":
    sys.exit(main())
