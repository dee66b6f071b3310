"""A submission's later stages graded while a stalled call waits out its budget.

A call that hangs is known to hang only when its call budget (10 s by default) runs out, and a
``GPTDatasetV1`` that never returns makes two stages wait so: its own, and the dataloader's, which
builds one.  So when a call has run for ``stall_after`` seconds (a stall, see
:meth:`llmspec.runtime.worker.ProxyAdapter._wait_or_stall`), the grading child forks.  The copy
leaves the stalled call to the original (:class:`~llmspec.errors.LeaveTest` takes it out of the
test without a verdict), starts a fresh worker and grades the stages after the stalled one, writing
each report to a file; the original waits out the budget, finishes its stage and, reaching the next
one, waits for the copy and hands its reports to pytest as its own (as pytest-xdist hands on a
worker's), so every plugin, the grader's event log among them, sees the same reports in the same order.

Why they are the reports the original would have made: a stage after a timeout or a crash starts in
a fresh worker (:mod:`llmspec.runtime.faults`), as the copy's stages do, on the same examples (the
suite is derandomized; each test's seed is pinned).  Where the original's worker survived the stall
(a slow but honest call answered in time) its later stages would run in that worker instead, so the
copy is stopped and the original grades them itself; so it does when the copy did not finish.
``LLMSPEC_GRADE_NO_RUNAHEAD=1`` turns the copies off (a diagnostic: the reports must be the same
either way; tests/test_grading_faults.py checks it).
"""
from __future__ import annotations

import json
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from llmspec.errors import LeaveTest
from llmspec.i18n import _


@dataclass
class _Copy:
    pid: int
    start: int  # index of the first item it grades
    reports: Path  # one JSON line per report, then its stage faults, then "done"


class Runahead:
    """A pytest plugin for a grading child, beside ``events`` (the plugin that writes the grader's
    event log).  Its stall events say which process of the submission waits (``on`` true) or works
    again: one that waits holds no core (:class:`llmspec.grading.runner.Job` counts them)."""

    def __init__(self, events: Any, directory: Path) -> None:
        self.events = events
        self.emit = events.emit
        self.directory = directory
        self.config: pytest.Config | None = None
        self.stages: list[str] = []  # of the session's items, in order
        self.position: dict[str, int] = {}
        self.index = -1  # of the item running now
        self.in_call = False  # a test body runs (the only place a copy may leave: no fixture is half-made)
        self.first = 0  # a copy grades the items from this one on
        self.sink: Any = None  # a copy's report file
        self.copy: _Copy | None = None
        self.taken: dict[str, list[dict[str, Any]]] | None = None  # the copy's reports, once accepted

    # --- the hooks ---------------------------------------------------------------------------
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        from llmspec.plugin import get_run

        run = get_run(session.config)
        self.config = session.config
        self.stages = [run.item_stage.get(i.nodeid, "?") if run else "?" for i in session.items]
        self.position = {i.nodeid: n for n, i in enumerate(session.items)}

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
        self.index = self.position.get(item.nodeid, -1)
        if self.index < self.first:  # a copy: the original grades this one
            try:  # what the stalled test set up and the next item does not need goes (pytest's own step)
                item.session._setupstate.teardown_exact(nextitem)
            except Exception:  # noqa: BLE001 - a fixture's teardown: the original reports it
                pass
            return True
        if self.copy is not None and self.index >= self.copy.start:
            if self.taken is None:
                self._take()
            if self.taken is not None:
                self._hand_on(item)
                return True
        return None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Any:
        self.in_call = True
        try:
            return (yield)
        finally:
            self.in_call = False

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.sink is not None and self.position.get(report.nodeid, -1) >= self.first:
            assert self.config is not None
            data = self.config.hook.pytest_report_to_serializable(config=self.config, report=report)
            self.sink.write(json.dumps({"report": data}, default=str) + "\n")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.copy is not None and self.taken is not None:  # the log tells why its progress line jumps
            terminalreporter.write_line(_(
                "{first} and the stages after it were graded while {stalled} waited out a call budget, by a "
                "copy of this process (the same tests, examples and order)").format(
                    first=self.stages[self.copy.start], stalled=self.stages[self.copy.start - 1]))

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.sink is not None:  # a copy: its faults, then the mark that every report is written
            self.sink.write(json.dumps({"faults": dict(getattr(self._guard(), "faults", {}))}) + "\n")
            self.sink.write('{"done": true}\n')
            self.sink.close()
            self.emit(event="stall", pid=os.getpid(), on=True)  # it holds no core any more
        self._stop_copy()

    # --- a stall -----------------------------------------------------------------------------
    def on_stall(self, on: bool) -> None:
        """Called by the proxy when a call has run for ``stall_after`` seconds, and when it ends."""
        self.emit(event="stall", pid=os.getpid(), on=bool(on))
        if on and self.in_call and self.copy is None and not os.environ.get("LLMSPEC_GRADE_NO_RUNAHEAD"):
            start = self._next_stage()
            if start is not None:
                self._fork(start)

    def _next_stage(self) -> int | None:
        """The first item of the stages after the running one, if there is one and the running
        stage has no item after it."""
        if not 0 <= self.index < len(self.stages):
            return None
        stage = self.stages[self.index]
        later = [n for n in range(self.index + 1, len(self.stages)) if self.stages[n] != stage]
        if not later or stage in self.stages[later[0]:]:
            return None
        return later[0]

    def _fork(self, start: int) -> None:
        reports = self.directory / f"runahead-{os.getpid()}-{start}.jsonl"
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid:
            self.copy = _Copy(pid, start, reports)
            return
        try:  # the copy: leave the stalled call to the original and grade from ``start`` on
            from llmspec.sandbox import isolation

            isolation.set_child_subreaper()  # not inherited: orphans of its own workers come to it
            proxy = self._proxy()
            proxy.detach()
            # stopped by the original (its worker survived the stall): its own copy and worker too
            signal.signal(signal.SIGTERM, lambda *_: (self._stop_copy(), proxy.close(), os._exit(0)))
            assert self.config is not None
            pm = self.config.pluginmanager
            for plugin in (pm.get_plugin("terminalreporter"), self.events):  # the original's to write
                if plugin is not None and pm.is_registered(plugin):
                    pm.unregister(plugin)
            self.events.only_stalls = True  # not even an internal error: the original grades on
            self.first, self.copy, self.taken = start, None, None
            self.sink = open(reports, "w", encoding="utf-8", buffering=1)
            self.emit(event="stall", pid=os.getpid(), on=False)  # a process that holds a core
        except BaseException:  # noqa: BLE001 - the original grades everything itself then
            os._exit(70)
        raise LeaveTest

    # --- the original takes the copy's reports -------------------------------------------------
    def _take(self) -> None:
        """Wait for the copy; accept its reports if this process's worker is gone (the next stage
        starts a fresh one, as the copy's did) and the copy finished."""
        assert self.copy is not None
        guard = self._guard()
        if getattr(self._proxy(), "worker_pid", None) is not None:
            self._stop_copy()
            return
        self.emit(event="stall", pid=os.getpid(), on=True)  # waiting, not working
        try:
            _pid, status = os.waitpid(self.copy.pid, 0)
        except ChildProcessError:
            status = -1
        self.emit(event="stall", pid=os.getpid(), on=False)
        lines = _read_lines(self.copy.reports)
        if status != 0 or not lines or lines[-1] != {"done": True}:
            self.copy = None  # it did not finish: the original grades the rest
            return
        taken: dict[str, list[dict[str, Any]]] = {}
        for line in lines:
            if "report" in line:
                taken.setdefault(line["report"].get("nodeid", ""), []).append(line["report"])
            elif "faults" in line and hasattr(guard, "faults"):
                guard.faults.update(line["faults"])
        self.taken = taken  # the copy stays: its items are handed on

    def _hand_on(self, item: pytest.Item) -> None:
        """Give pytest the copy's reports of ``item`` as if it had just run here."""
        assert self.taken is not None
        hook = item.ihook
        hook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
        for data in self.taken.get(item.nodeid, []):
            report = item.config.hook.pytest_report_from_serializable(config=item.config, data=data)
            hook.pytest_runtest_logreport(report=report)
        hook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)

    def _stop_copy(self) -> None:
        """Stop a copy whose reports were not taken (it kills its worker and its own copy)."""
        if self.copy is None or self.taken is not None:
            return
        try:
            os.kill(self.copy.pid, signal.SIGTERM)
            os.waitpid(self.copy.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        self.copy = None

    def _proxy(self) -> Any:
        """The isolated adapter under the stage guard: the one that owns the worker."""
        guard = self._guard()
        return getattr(guard, "inner", guard)

    def _guard(self) -> Any:
        from llmspec.plugin import get_run

        run = get_run(self.config) if self.config is not None else None
        return run.adapter if run is not None else None


def _read_lines(path: Path) -> list[dict[str, Any]]:
    out = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    return out  # cut short: not "done"
    except OSError:
        pass
    return out
