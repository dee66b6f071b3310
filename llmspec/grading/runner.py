"""Grade many submissions: one warm parent, one forked *trusted* pytest process per submission.

Why this shape:
* The parent imports torch, tiktoken, pytest, Hypothesis and the suite once (~1.5 s); each submission
  is graded by a child forked from it, so start-up is paid once per run, not once per submission.
  It also runs the suite once on the reference and freezes its heap (:func:`warm_suite`), so the
  first-call costs of torch, Hypothesis and the suite are paid once too (measured: about a third
  of each submission's time), and no child's garbage collection walks the parent's objects.
* The child runs ``pytest.main([spec_tests, "--impl", SUB, "--isolate", ...])``: submission code runs
  only in the worker that the proxy forks from the child, so the process that decides the verdict
  never imports it.  The child streams one JSON line per test report to a file in a private
  directory, so a child killed for its time budget still leaves the tests it finished.
* The parent enforces the per-submission wall clock, kills the child's whole tree, reaps orphans (it
  is a child subreaper, so daemonised grandchildren come back to it) and writes every report itself,
  after the child is dead.
"""
from __future__ import annotations

import ctypes
import importlib
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
from typing import Any, Callable

import pytest

from llmspec.grading.config import GradingConfig
from llmspec.grading.scoring import Graded, Outcome, score
from llmspec.grading.submissions import Submission
from llmspec.i18n import _
from llmspec.suite import spec_dir

PR_SET_CHILD_SUBREAPER = 36


def test_id(nodeid: str) -> str:
    """``spec_tests/test_x.py::test_y[a]`` -> ``test_x.py::test_y[a]`` (independent of install path)."""
    path, sep, rest = nodeid.partition("::")
    return Path(path).name + sep + rest


def warm_up() -> None:
    """Import everything a trusted child needs, once, before forking."""
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # see named_plugins
    import torch

    torch.set_num_threads(1)
    import hypothesis  # noqa: F401

    from llmspec.data import ensure_tiktoken_cache

    ensure_tiktoken_cache()
    import tiktoken

    tiktoken.get_encoding("gpt2")  # parsed once here; forked children and workers inherit it
    # The suite's profile must be the default BEFORE its modules are imported here: a @settings(...)
    # decorator inherits the default profile at import time (derandomize, no deadline), and the child
    # reuses these module objects.  Without this, graded examples would be random: unfair.
    from llmspec.spec import profiles

    profiles.load()
    for name in ("tiktoken", "llmspec.plugin", "llmspec.runtime.connect", "llmspec.runtime.proxy",
                 "llmspec.runtime.faults", "llmspec.explain",
                 "reference", "spec_tests.conftest", "spec_tests.strategies"):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the child reports real problems; this is only a cache
            pass
    for f in sorted(spec_dir().glob("test_*.py")):
        try:
            importlib.import_module("spec_tests." + f.stem)
        except Exception:  # noqa: BLE001
            pass
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def warm_suite(config: GradingConfig) -> None:
    """Run the suite once, in this process, on the trusted reference, then freeze the heap.

    Why: a fresh process pays ~1 s of first-call costs (torch's first autograd backward ~0.25 s,
    lazily built dispatch and regex tables, Hypothesis' strategy and engine caches, the explain
    helpers).  Paid here once, every forked trusted child and every worker forked from it inherits
    them warm.  Only the reference runs here (never submission code), and the examples a
    submission is asked do not depend on this run: the suite is derandomized and keeps no database.
    ``gc.freeze()`` afterwards moves the whole warm heap out of the collector's reach, so no child
    walks (and thereby copies, page by page) the parent's objects in a garbage collection.
    Best effort: a failure here only costs speed; the children report real problems."""
    import gc

    import pytest

    saved = [os.dup(1), os.dup(2)]
    null = os.open(os.devnull, os.O_WRONLY)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
        pytest.main(base_args(config) + ["-p", "no:faulthandler"])
    except Exception:  # noqa: BLE001 - a cache, not a verdict
        pass
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, null):
            os.close(fd)
    gc.collect()
    gc.freeze()


# --- the trusted child --------------------------------------------------------------------------
class Collector:
    """A pytest plugin object for the trusted child: one JSON line per event, flushed at once (a
    child killed for its time budget still leaves the tests it finished).  Each finished test is
    sent as the suite's own plugin judged it (its entry of the ``--llmspec-report`` tests, by
    :func:`llmspec.plugin.fold`): the grader decides nothing about a test the plugin has not."""

    def __init__(self, events: Path) -> None:
        self.fh = open(events, "a", encoding="utf-8", buffering=1)
        self.run: Any = None

    def emit(self, **obj: Any) -> None:
        self.fh.write(json.dumps(obj) + "\n")
        self.fh.flush()

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.emit(event="collect_error", nodeid=report.nodeid, message=str(report.longreprtext)[-2000:])

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        from llmspec.plugin import get_run, stage_of

        run = self.run = get_run(session.config)
        self.emit(event="collected", tests=[[test_id(i.nodeid), stage_of(i) or "?"] for i in session.items],
                  edition=run.edition if run else None, edition_reason=run.edition_reason if run else "",
                  notes=[str(n)[:300] for n in (run.description.get("notes", []) if run else [])][:20])

    @pytest.hookimpl(trylast=True)  # after the plugin folded the test's last report
    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        from llmspec.plugin import finished

        entry = self.run.results.get(nodeid) if self.run is not None else None
        if entry is not None:
            self.emit(event="test", test=test_id(nodeid), **finished(entry))

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self.emit(event="finished", exitstatus=int(exitstatus))


def base_args(config: GradingConfig, edition: str | None = None) -> list[str]:
    """The suite with this assignment's edition (or ``edition``), stages and seed (no target: the
    reference)."""
    args = [str(spec_dir()), "-q", "--no-header", "-p", "no:cacheprovider", "-o", "addopts=", *named_plugins(),
            "--edition", edition or config.edition, "--stages", ",".join(config.stages)]
    if config.hypothesis_seed is not None:
        args += ["--hypothesis-seed", str(config.hypothesis_seed)]
    if config.strict_names:
        args.append("--strict-names")
    return args


def named_plugins() -> list[str]:
    """Under ``PYTEST_DISABLE_PLUGIN_AUTOLOAD`` (set by :func:`warm_up`) only the plugins the suite
    needs are loaded, by module: a plugin the grading machine happens to have (pytest-randomly
    reorders tests and reseeds) must not change a grade, nor cost every submission its start-up."""
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        return ["-p", "llmspec.plugin", "-p", "hypothesis.extra.pytestplugin"]
    return []  # installed plugins load themselves (these two among them)


def pytest_args(target: str | None, config: GradingConfig, collect_only: bool = False,
                edition: str | None = None) -> list[str]:
    args = base_args(config, edition)
    if collect_only:
        return args + ["--collect-only"]
    return args + ["--impl", str(target), "--isolate",
                   "--llmspec-limit", "start=fork",
                   "--llmspec-limit", f"call_timeout={config.call_timeout:g}",
                   "--llmspec-limit", f"stage_timeout={config.stage_timeout:g}",
                   *[a for s, t in sorted(config.stage_timeouts.items())
                     for a in ("--llmspec-limit", f"stage_timeout.{s}={t:g}")],
                   "--llmspec-limit", f"memory_mb={config.memory_mb}"]


def _child(args: list[str], events: Path, log: Path, scratch: Path) -> None:
    """Runs in the forked child; never returns."""
    code = 70
    try:
        os.setpgid(0, 0)
        os.chdir(scratch)
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        import pytest

        collector = Collector(events)
        try:
            pytest.main(args, plugins=[collector])
            code = 0
        except BaseException as exc:  # noqa: BLE001 - report anything, then leave
            collector.emit(event="internal", message=f"{type(exc).__name__}: {exc}")
    finally:
        os._exit(code)


# --- the parent ---------------------------------------------------------------------------------
@dataclass
class Job:
    sub: Submission
    pid: int
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


def outcomes_from(events: list[dict]) -> dict[str, Outcome]:
    """The tests the child finished, as the suite's plugin judged them."""
    return {e["test"]: Outcome(e["test"], e["stage"], e["outcome"] == "passed", e["message"], float(e["duration"]))
            for e in events if e["event"] == "test"}


def log_tail(log: Path, lines: int = 3) -> str:
    try:
        text = log.read_text("utf-8", errors="replace")[-4000:]
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:])


def _kill_group(pid: int) -> None:
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except (ProcessLookupError, PermissionError):
            pass


def reap_orphans(keep: set[int]) -> None:
    """Kill and reap any child of ours that is not a running trusted child: workers or daemons of
    finished submissions re-parented to us (we are their subreaper)."""
    me = str(os.getpid())
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, pgid = int(stat.parent.name), int(fields[2])
        if fields[1] != me or pid in keep:
            continue
        if pgid != os.getpgrp():
            _kill_group(pgid)
        _kill_group(pid)
        try:
            os.waitpid(pid, 0)  # only this pid: never steal a running child's exit status
        except ChildProcessError:
            pass


class Runner:
    """Runs trusted children with at most ``jobs`` at a time and a wall-clock budget each."""

    def __init__(self, config: GradingConfig, jobs: int, work: Path | None = None) -> None:
        self.config = config
        self.jobs = max(1, jobs)
        self.work = Path(work or tempfile.mkdtemp(prefix="llmspec-grade-"))
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
            _child(args, events, log, scratch)
        return pid, events, log

    def start_canonical(self) -> None:
        """Fork the collections of the test list every submission is scored against (collected on
        the reference; under ``edition = "auto"`` one list per edition) and return at once: the parent
        can warm up meanwhile (:func:`warm_suite`), the collections running on another core."""
        from llmspec.editions import AUTO
        from llmspec.stages import EDITIONS

        editions = EDITIONS if self.config.edition == AUTO else (self.config.edition,)
        self._collecting = [(edition, *self._fork("canonical", pytest_args(None, self.config, collect_only=True,
                                                                            edition=edition)))
                            for edition in editions]

    def finish_canonical(self) -> list[tuple[str, str]]:
        collecting, self._collecting = self._collecting, []
        try:
            for edition, pid, events, log in collecting:
                self.canonicals[edition] = self._collected(pid, events, log)
        finally:  # a failed collection leaves none of the others running
            for _edition, pid, _events, _log in collecting:
                _kill_group(pid)
                try:
                    os.waitpid(pid, 0)
                except ChildProcessError:
                    pass  # reaped already
        self.canonical = self.canonicals[collecting[0][0]]
        return self.canonical

    def _collected(self, pid: int, events: Path, log: Path) -> list[tuple[str, str]]:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        _kill_group(pid)
        evs = read_events(events)
        tests = [tuple(t) for e in evs if e["event"] == "collected" for t in e["tests"]]
        errors = [e["message"] for e in evs if e["event"] in ("collect_error", "internal")]
        if not tests or errors:
            from llmspec.errors import HarnessError

            raise HarnessError("the spec suite could not be collected: "
                               + (errors[0].strip().splitlines()[-1] if errors else log_tail(log)))
        return tests

    def problem(self, sub: Submission) -> Graded:
        return score(sub.name, sub.source, self.canonical, {}, self.config, missing_reason=sub.problem or "",
                     status="problem", reason=sub.problem or "")

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
                    running[pid] = Job(sub, pid, time.monotonic(), events, log)
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
        outcomes = outcomes_from(events)
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
        collect_errors = [e["message"] for e in events if e["event"] == "collect_error"]
        notes = [_("collection error: {error}").format(error=m.strip().splitlines()[-1])
                 for m in collect_errors if m.strip()]
        collected = next((e for e in events if e["event"] == "collected"), {})
        canonical = self.canonicals.get(collected.get("edition") or "", self.canonical)
        notes[:0] = [collected["edition_reason"]] if collected.get("edition_reason") else []
        notes += [_("note: {note}").format(note=n) for n in collected.get("notes") or []]
        return score(job.sub.name, job.sub.source, canonical, outcomes, self.config,
                     missing_reason=reason or _("this test did not run (see the collection errors)"),
                     status=st, reason=reason, execution_time=elapsed, notes=notes)
