"""The out-of-process adapter: submission code runs in a worker, verdicts stay in the trusted process.

:class:`ProxyAdapter` sends each call to a worker (:mod:`llmspec.runtime.worker`) and decodes the
answer with the strict :mod:`llmspec.runtime.wire` format: never pickle, which from a hostile
submission is code.  ``start="fork"`` is cheap (torch already imported) but the worker can read what
this process held at fork time, so fork before loading anything secret; ``start="spawn"`` runs a
clean interpreter.  ``sandbox=False`` (``llmspec check``) keeps the limits and containment but not
the learner-proofing: no private mounts, no other user, no Landlock.  A call that times out or a
worker that dies is reported with where the code was and its last output, and the next call starts
a fresh worker (earlier handles are gone); a target that cannot load stays a ``TargetError``.
"""
from __future__ import annotations

import abc
import atexit
import contextlib
import inspect
import json
import os
import time
import weakref
from pathlib import Path
from typing import Any, Callable

from llmspec.errors import CallTimeout, HarnessError, ImplError, StageMissing, TargetError, WorkerDied
from llmspec.i18n import _
from llmspec.runtime import process, wire
from llmspec.runtime.adapter import OPS, Adapter
from llmspec.runtime.faults import StageGuard
from llmspec.sandbox import isolation, proctree, readrules

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
# Every attempt on a private place reported by any worker of this process (one submission's grading).
FLAGS_SEEN: list[readrules.Flag] = []


def _close_all() -> None:
    for proxy in list(_LIVE):
        proxy.close()


atexit.register(_close_all)


def _message(op: str) -> Callable[..., Any]:
    """``Adapter.<op>`` as a message to :meth:`ProxyAdapter._call`: its name and every parameter by name,
    defaults filled in, which the worker passes to the in-process adapter's method of that name.  A call
    with every argument by position (the common one) is zipped with the names; any other is bound by
    Python itself (``Signature.bind``: the same defaults and ``TypeError`` as a written-out method)."""
    signature = inspect.signature(getattr(Adapter, op))
    names = tuple(signature.parameters)[1:]

    def send(self: ProxyAdapter, *args: Any, **kwargs: Any) -> Any:
        if kwargs or len(args) != len(names):
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            args = tuple(bound.arguments.values())[1:]
        return self._call(op, dict(zip(names, args)))

    send.__name__, send.__qualname__ = op, f"ProxyAdapter.{op}"
    send.__signature__ = signature  # type: ignore[attr-defined]
    return send


def shown_seconds(seconds: float) -> str:
    """A time limit as a learner reads it: ``120``, ``2.5``; a remainder under a second keeps two
    significant digits (``0.034``), so a budget all but used up is never shown as "0 s"."""
    if seconds >= 1:
        return f"{round(seconds, 1):g}"
    return f"{float(f'{seconds:.2g}'):f}".rstrip("0").rstrip(".")  # two digits, no exponent


class ProxyAdapter(Adapter):
    """:class:`~llmspec.runtime.adapter.Adapter` whose implementation runs in an isolated worker process.

    ``limits`` are the keys of :data:`DEFAULT_LIMITS`.  ``stage_timeout`` (seconds, for every stage)
    and ``stage_timeouts`` (``{stage: seconds}``) give each stage its own budget, and a fault costs
    only its stage (:mod:`llmspec.runtime.faults`).  Each operation reaches :meth:`_call` as a :func:`_message`."""

    def __init__(
        self,
        target: str | None = None,
        impl_map: dict[str, str] | None = None,
        *,
        start: str = "spawn",
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
        self.start = start
        self.limits = {**DEFAULT_LIMITS, **limits}
        self.sandbox = bool(sandbox)
        self.drop = self.sandbox and isolation.is_root()  # as nobody, in a private network and /tmp
        self.strict_names = bool(strict_names)
        self.max_bytes = int(self.limits["max_message_mb"]) * 1024 * 1024
        self.subreaper = proctree.set_child_subreaper()
        self._worker: process.WorkerProcess | None = None
        self._generation = 0
        self._handles: dict[int, tuple[int, int]] = {}  # proxy handle -> (generation, worker handle)
        self._released: list[int] = []  # worker handles released since the last request (this generation)
        self._next_handle = 1
        self._next_id = 1
        self._target_error: str | None = None
        self._used = 0.0  # wall-clock seconds spent in the worker (load + calls)
        self._closed = False
        self.last_death: str | None = None
        self.guard = StageGuard(stage_timeouts, stage_timeout)
        _LIVE.add(self)
        self._ensure_worker()

    # --- process lifetime --------------------------------------------------------------------
    def _config(self, run: isolation.RunDir) -> dict[str, Any]:
        return {
            "target": self.target,
            "impl_map": self.impl_map or None,
            "strict_names": self.strict_names,
            "scratch": str(run.scratch),
            "run_root": str(run.root),
            "tiktoken_cache": str(run.tiktoken_cache),
            "drop": list(isolation.nobody_ids()) if self.drop else None,
            "sandbox": self.sandbox,
            "limits": self.limits,
            "read_rules": self._read_rules(),
        }

    def _read_rules(self) -> dict[str, Any] | None:
        """The grading read rules for the worker (None: it reads what the user running it may).
        Its own: the directory of the target (a file's folder, a split chapter's directory).  A
        module name (``reference``, a maintainer's installed port) is part of the environment the
        grader trusts, so it is not confined: submissions are always files or directories."""
        target = Path(self.target)
        if not self.sandbox or not target.is_absolute() or not target.exists():
            return None  # open_adapter made every file target absolute; a bare name is a module
        own = [str(target if target.is_dir() and not (target / "__init__.py").exists() else target.parent)]
        private = json.loads(os.environ.get(readrules.PRIVATE_ENV) or "{}")
        return {"own": own, "private": private if isinstance(private, dict) else {}}

    def _take_flags(self, msg: Any) -> Any:
        """Keep the attempts the worker reports with ``msg`` (see :mod:`llmspec.sandbox.readrules`)."""
        if isinstance(msg, dict) and "flags" in msg:
            flags = msg.pop("flags")
            new = readrules.merge_flags(flags if isinstance(flags, list) else [])  # each once, in the flags' form
            FLAGS_SEEN[:] = readrules.merge_flags(FLAGS_SEEN, new)
        return msg

    def _ensure_worker(self) -> process.WorkerProcess:
        if self._closed:
            raise HarnessError("this adapter was closed")
        if self._target_error is not None:
            raise TargetError(self._target_error)
        if self._worker is not None:
            return self._worker
        self._check_budget("starting a worker")
        t0 = time.monotonic()
        owner = isolation.nobody_ids() if self.drop else None
        run = isolation.make_run_dir(None, owner)
        worker = self._worker = process.start(run, self.start, clean_env=self.sandbox)
        self._generation += 1
        budget = self._budget(self.limits["load_timeout"])
        deadline = t0 + budget
        try:
            wire.send(worker.fd, self._config(run), deadline)
            hello = self._expect(worker, deadline, "hello")
            start = hello.get("log_start")
            worker.info, worker.log_start = hello, start if type(start) is int else worker.log_size()
            self._expect(worker, deadline, "loaded")
        except (wire.WireError, process.Exited) as exc:
            raise self._fail(exc, None, budget) from None
        finally:
            self._used += time.monotonic() - t0
        return worker

    def _expect(self, worker: process.WorkerProcess, deadline: float, key: str) -> dict[str, Any]:
        msg = self._take_flags(wire.recv(worker.fd, deadline, self.max_bytes))
        process.check_exit(msg)
        if isinstance(msg, dict) and "target_error" in msg:
            self._stop()
            self._target_error = str(msg["target_error"])
            raise TargetError(self._target_error)
        if not isinstance(msg, dict) or set(msg) != {key} or not isinstance(msg[key], dict):
            raise wire.WireError(f"protocol violation: expected {key!r}, got {str(msg)[:200]}")
        return msg[key]

    def _fail(self, exc: Exception, op: str | None, budget: float = 0.0) -> HarnessError:
        """Stop the worker after ``exc`` in call ``op`` (None: while loading the target) and return
        the error that says why, with the worker's last output; a failed load is the target's for good."""
        worker = self._worker
        assert worker is not None
        during = op or _("loading the target")
        timeout = isinstance(exc, wire.WireTimeout)
        status, stuck = None, ""
        if timeout:  # where the code is, before anything of it is gone
            end = worker.log_size()
            stuck = process.where_stuck(worker.stack_dump(end), self.target)
            tail = worker.output_tail(end=end)
        else:
            if isinstance(exc, (wire.WireClosed, process.Exited)):
                status = worker.reap(timeout=2.0)
            tail = worker.output_tail()  # after the reap: a dying worker's last words are written
        tail = "\n" + _("--- last output of the worker ---") + "\n" + tail if tail else ""
        self._stop(status)
        if timeout:
            why = _("{during} did not finish within {limit} s; the worker was killed").format(
                during=during, limit=shown_seconds(budget)) + ("" if op else stuck)
        elif isinstance(exc, process.Exited):  # it said where it called os._exit, then left
            why = process.ended(exc.info, self.target)
            why = _("{why} during {during}").format(why=why, during=during) if op else why
        elif isinstance(exc, wire.WireClosed):  # it closed the socket: dying or dead
            why = process.describe_status(worker.status, self.limits, we_killed=status is None)
            why = _("{why} during {during}").format(why=why, during=during)
        else:  # garbage on the wire: submission code broke (or forged) the worker's side
            why = _("the worker sent an invalid message during {during} ({error}); it was killed").format(
                during=during, error=exc)
        self.last_death = why
        if op is None:
            self._target_error = why + tail
            return TargetError(self._target_error)
        if timeout:
            return CallTimeout(_("{op} did not answer within {seconds} s; the worker was killed (it restarts on the "
                                 "next call)").format(op=op, seconds=shown_seconds(budget)) + stuck + tail)
        return WorkerDied(why + _("; the worker restarts on the next call") + tail)

    def _stop(self, status: int | None = None) -> None:
        """Kill the worker and everything it started; remove its run dir."""
        worker, self._worker = self._worker, None
        self._released = []  # they die with this worker
        if worker is None:
            return
        others = {p._worker.pid for p in _LIVE if p is not self and p._worker is not None}
        worker.stop(os.getpid() if self.subreaper else None, others, status)

    def close(self) -> None:
        """Kill the worker, its children and any daemon it left; remove its scratch dir."""
        if not self._closed:
            self._stop()
            self._closed = True
            _LIVE.discard(self)

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

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
        """A new stage gets its own wall-clock budget (none given: the proxy's own limits hold), so a
        hang in one stage cannot spend another's."""
        if self.guard.begin_stage(stage):
            budget = self.guard.budget(stage)
            if budget is not None:
                self.limits["submission_timeout"] = budget
                self._used = 0.0

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
            msg = self._take_flags(wire.recv(worker.fd, t0 + budget, self.max_bytes))
            process.check_exit(msg)
            if not isinstance(msg, dict) or msg.get("id") != request_id or len(msg) != 2:
                raise wire.WireError(f"protocol violation: unexpected answer {str(msg)[:200]}")
        except (wire.WireError, process.Exited) as exc:
            self._used += time.monotonic() - t0
            raise self._fail(exc, op, budget) from None
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
                error = ImplError.from_wire(msg["error"])
            except (KeyError, TypeError):
                raise HarnessError(f"{op}: malformed error from the worker") from None
            raise error
        if "stage_missing" in msg:
            sm = msg["stage_missing"]
            if isinstance(sm, dict) and isinstance(sm.get("stage"), str) and isinstance(sm.get("missing"), list):
                raise StageMissing(sm["stage"], [str(m) for m in sm["missing"]])
        if "target_error" in msg:
            raise TargetError(str(msg["target_error"]))
        if "harness_error" in msg:
            raise HarnessError(f"{op}: {msg['harness_error']}")
        raise HarnessError(f"{op}: malformed answer from the worker")


for _op in OPS:
    setattr(ProxyAdapter, _op, _message(_op))
abc.update_abstractmethods(ProxyAdapter)
