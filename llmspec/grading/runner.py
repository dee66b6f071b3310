"""Grade many submissions: one warm parent, one forked *trusted* pytest process per submission
(:mod:`llmspec.grading.child` says why this shape).

The parent enforces the per-submission wall clock, kills the child's whole tree, reaps orphans (it is
a child subreaper, so daemonised grandchildren come back to it) and writes every report itself, after
the child is dead, from the tests the child reported as the plugin judged them.
"""
from __future__ import annotations

import json
import os
import select
import signal
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from llmspec.errors import HarnessError
from llmspec.grading.child import base_args, pytest_args, run_child
from llmspec.grading.config import GradingConfig
from llmspec.grading.scoring import Graded, Outcome, score, with_listing_hints
from llmspec.grading.submissions import Submission
from llmspec.i18n import _
from llmspec.sandbox import proctree, readrules


@dataclass
class Job:
    sub: Submission
    started: float
    events: Path
    log: Path


def read_events(path: Path) -> list[dict]:
    out = []
    try:
        lines = path.read_text("utf-8", errors="replace").splitlines()
    except OSError:
        return out
    for line in lines:
        try:
            out.append(json.loads(line))
        except ValueError:
            pass  # a line cut by a kill
    return out


def log_tail(log: Path) -> str:
    try:
        text = log.read_text("utf-8", errors="replace")[-4000:]
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text.strip().splitlines()[-3:])


def _kill_group(pid: int) -> None:
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _reap(pid: int) -> None:
    """Wait for ``pid`` only (never steal a running child's exit status); already reaped is fine."""
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def reap_orphans(keep: set[int]) -> None:
    """Kill and reap any child of ours that is not a running trusted child: workers or daemons of
    finished submissions re-parented to us (we are their subreaper).  The fork server lives on."""
    from llmspec.sandbox import forkserver

    server = forkserver.current()
    keep = keep | ({server.pid} if server is not None else set())
    me, group = os.getpid(), os.getpgrp()
    for proc in proctree.processes():
        if proc.ppid != me or proc.pid in keep:
            continue
        if proc.pgid not in (-1, group):  # -1: a zombie, already dead
            _kill_group(proc.pgid)
        _kill_group(proc.pid)
        _reap(proc.pid)


def _collected(events: Path, log: Path) -> list[tuple[str, str]]:
    """The test list a collection child reported; a collection that failed stops the run."""
    evs = read_events(events)
    tests = [tuple(t) for e in evs if e["event"] == "collected" for t in e["tests"]]
    errors = [e["message"] for e in evs if e["event"] in ("collect_error", "internal")]
    if not tests or errors:
        raise HarnessError("the spec suite could not be collected: "
                           + (errors[0].strip().splitlines()[-1] if errors else log_tail(log)))
    return tests


class Runner:
    """Runs trusted children with at most ``jobs`` at a time and a wall-clock budget each."""

    def __init__(self, config: GradingConfig, jobs: int, work: Path) -> None:
        self.config = config
        self.jobs = max(1, jobs)
        self.work = work
        self.work.mkdir(parents=True, exist_ok=True)
        os.chmod(self.work, 0o700)
        self.canonical: list[tuple[str, str]] = []
        # edition -> its canonical list (golden cases differ per edition; ``auto`` grades each
        # submission against the list of the edition its tokenizer was probed as)
        self.canonicals: dict[str, list[tuple[str, str]]] = {}
        self._collecting: list[tuple[str, int, Path, Path]] = []

    def _fork(self, key: str, args: list[str]) -> tuple[int, Path, Path]:
        d = Path(tempfile.mkdtemp(prefix=f"{key[:40]}-", dir=self.work))
        scratch = d / "scratch"
        scratch.mkdir()
        events, log = d / "events.jsonl", d / "pytest.log"
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            run_child(args, events, log, scratch)
        return pid, events, log

    def start_canonical(self) -> None:
        """Fork the collections of the test list every submission is scored against (collected on
        the reference; under ``edition = "auto"`` one list per edition) and return at once: the parent
        can warm up meanwhile (:func:`warm_suite`), the collections running on another core."""
        from llmspec.editions import AUTO
        from llmspec.stages import EDITIONS

        editions = EDITIONS if self.config.edition == AUTO else (self.config.edition,)
        self._collecting = [(edition, *self._fork("canonical", base_args(self.config, edition) + ["--collect-only"]))
                            for edition in editions]

    def finish_canonical(self) -> None:
        collecting, self._collecting = self._collecting, []
        try:
            for edition, pid, events, log in collecting:
                _reap(pid)
                self.canonicals[edition] = _collected(events, log)
        finally:  # what a collection left, and the others when one failed, stop here
            for _edition, pid, _events, _log in collecting:
                _kill_group(pid)
                _reap(pid)
        self.canonical = self.canonicals[collecting[0][0]]

    def problem(self, sub: Submission) -> Graded:
        return score(sub.name, sub.source, self.canonical, {}, self.config, missing_reason=sub.problem or "",
                     status="problem", reason=sub.problem or "", flags=sub.flags)

    def run(self, subs: list[Submission], on_done: Callable[[Graded, Path], None],
            progress: Callable[[int, int, int], None] | None = None) -> None:
        pending = deque(subs)
        running: dict[int, Job] = {}
        done = 0
        try:
            while pending or running:
                while pending and len(running) < self.jobs:
                    sub = pending.popleft()
                    pid, events, log = self._fork(sub.name, pytest_args(sub.target, self.config))
                    running[pid] = Job(sub, time.monotonic(), events, log)
                finished = False
                for pid, job in list(running.items()):
                    timed_out = time.monotonic() - job.started > self.config.submission_timeout
                    if timed_out:
                        _kill_group(pid)
                    try:
                        wpid, status = os.waitpid(pid, 0 if timed_out else os.WNOHANG)
                    except ChildProcessError:
                        wpid, status = pid, 0
                    if wpid == 0:
                        continue
                    del running[pid]
                    _kill_group(pid)
                    reap_orphans(set(running))
                    on_done(self.finish(job, status, timed_out), job.log)
                    done += 1
                    finished = True
                if progress:
                    progress(done, len(running), len(pending))
                if running and not (finished and pending):  # a freed core takes the next one at once
                    self._wait_any(running)
        finally:
            for pid in running:
                _kill_group(pid)
            reap_orphans(set())

    def _wait_any(self, running: dict[int, Job]) -> None:
        """Sleep until a child exits or the next budget runs out (at most 0.5 s for the progress
        line).  A pidfd wakes us the moment a child exits, so a free core gets its next submission
        at once instead of after a polling interval; without pidfds (old kernels), poll every 30 ms."""
        next_deadline = min(j.started for j in running.values()) + self.config.submission_timeout
        timeout = max(0.0, min(0.5, next_deadline - time.monotonic()))
        fds = []
        try:
            for pid in running:
                fds.append(os.pidfd_open(pid))
            select.select(fds, [], [], timeout)
        except (AttributeError, OSError):  # no pidfd_open, or a child already reaped by a race
            time.sleep(min(timeout, 0.03))
        finally:
            for fd in fds:
                os.close(fd)

    def finish(self, job: Job, status: int, timed_out: bool) -> Graded:
        elapsed = time.monotonic() - job.started
        events = read_events(job.events)
        # the tests the child finished, as the suite's plugin judged them
        outcomes = {e["test"]: Outcome(e["test"], e["stage"], e["outcome"] == "passed", job.sub.shown(e["message"]),
                                       float(e["duration"])) for e in events if e["event"] == "test"}
        finished = any(e["event"] == "finished" for e in events)
        internal = [e["message"] for e in events if e["event"] == "internal"]
        if timed_out:
            st = "timeout"
            reason = _("grading stopped: the submission exceeded its time budget of {seconds} s (a call into it "
                       "probably never returned)").format(seconds=f"{self.config.submission_timeout:g}")
        elif finished and not internal:
            st, reason = "graded", ""
        else:
            st = "crashed"
            how = (_("signal {number}").format(number=os.WTERMSIG(status)) if os.WIFSIGNALED(status)
                   else _("exit code {code}").format(code=os.waitstatus_to_exitcode(status)))
            reason = _("grading stopped: the test process ended unexpectedly ({how}): ").format(how=how) + (
                internal[0] if internal else log_tail(job.log))
        collected = next((e for e in events if e["event"] == "collected"), {})
        canonical = self.canonicals.get(collected.get("edition") or "", self.canonical)
        notes = [collected["edition_reason"]] if collected.get("edition_reason") else []
        notes += [_("collection error: {error}").format(error=e["message"].strip().splitlines()[-1])
                  for e in events if e["event"] == "collect_error" and e["message"].strip()]
        notes += [_("note: {note}").format(note=n) for n in [*job.sub.notes, *(collected.get("notes") or [])]]
        flags = readrules.merge_flags(job.sub.flags, *(e["flags"] for e in events if e["event"] == "flags"))
        graded = score(job.sub.name, job.sub.source, canonical, outcomes, self.config,
                       missing_reason=reason or _("this test did not run (see the collection errors)"),
                       status=st, reason=job.sub.shown(reason), execution_time=elapsed,
                       notes=[job.sub.shown(n) for n in notes], flags=flags)
        return with_listing_hints(graded, job.sub.target, collected.get("edition") or "print", self.config.strict_names)
