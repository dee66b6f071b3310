"""The trusted child: one forked pytest process per submission, judging it through the suite's plugin.

It runs ``pytest.main([spec_tests, "--impl", SUB, "--isolate", ...])``: submission code runs only in
the sandboxed worker that the plugin's proxy forks from it, so the process that decides the verdict
never imports it.  It streams one JSON line per event to a file in a private directory
(:class:`Collector`), so a child killed for its time budget still leaves the tests it finished.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from llmspec.grading.config import GradingConfig
from llmspec.suite import spec_dir


def test_id(nodeid: str) -> str:
    """``spec_tests/test_x.py::test_y[a]`` -> ``test_x.py::test_y[a]`` (independent of install path)."""
    path, sep, rest = nodeid.partition("::")
    return Path(path).name + sep + rest


# --- the trusted child --------------------------------------------------------------------------
class Collector:
    """A pytest plugin object for the trusted child: one JSON line per event, flushed at once (a
    child killed for its time budget still leaves the tests it finished).  Each finished test is
    sent as the suite's own plugin judged it (its entry of the ``--llmspec-report`` tests, by
    :func:`llmspec.spec.report.fold`): the grader decides nothing about a test the plugin has not."""

    def __init__(self, events: Path) -> None:
        self.fh = open(events, "a", encoding="utf-8", buffering=1)
        self.run: Any = None
        self.flags_sent = 0

    def emit(self, **obj: Any) -> None:
        self.fh.write(json.dumps(obj) + "\n")
        self.fh.flush()

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.emit(event="collect_error", nodeid=report.nodeid, message=str(report.longreprtext)[-2000:])

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        from llmspec.plugin import stage_of
        from llmspec.spec.run import get_run

        run = self.run = get_run(session.config)
        self.emit(event="collected", tests=[[test_id(i.nodeid), stage_of(i) or "?"] for i in session.items],
                  edition=run.edition if run else None, edition_reason=run.edition_reason if run else "",
                  notes=[str(n)[:300] for n in (run.description.get("notes", []) if run else [])][:20])

    @pytest.hookimpl(trylast=True)  # after the plugin folded the test's last report
    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        from llmspec.spec.report import finished

        entry = self.run.results.get(nodeid) if self.run is not None else None
        if entry is not None:
            self.emit(event="test", test=test_id(nodeid), **finished(entry))
        from llmspec.runtime.proxy import FLAGS_SEEN

        if len(FLAGS_SEEN) > self.flags_sent:  # what the workers saw the submission attempt
            self.emit(event="flags", flags=FLAGS_SEEN[self.flags_sent:])
            self.flags_sent = len(FLAGS_SEEN)

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
    from llmspec.sandbox import forkserver

    # a worker is forked only from the clean fork server, never from a process holding the answers
    start = "fork" if forkserver.current() is not None else "spawn"
    return args + ["--impl", str(target), "--isolate",
                   "--llmspec-limit", f"start={start}",
                   "--llmspec-limit", f"call_timeout={config.call_timeout:g}",
                   "--llmspec-limit", f"stage_timeout={config.stage_timeout:g}",
                   *[a for s, t in sorted(config.stage_timeouts.items())
                     for a in ("--llmspec-limit", f"stage_timeout.{s}={t:g}")],
                   "--llmspec-limit", f"memory_mb={config.memory_mb}"]


def run_child(args: list[str], events: Path, log: Path, scratch: Path) -> None:
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
