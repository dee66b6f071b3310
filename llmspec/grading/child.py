"""The trusted child: one forked pytest process per submission, and the warm parent it is forked from.

The child runs ``pytest.main([spec_tests, "--impl", SUB, "--isolate", ...])``: submission code runs only
in the sandboxed worker that the plugin's proxy forks from it, so the process that decides the verdict
never imports it.  It streams one JSON line per event to a file in a private directory
(:class:`Collector`), so a child killed for its time budget still leaves the tests it finished.
"""
from __future__ import annotations

import gc
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from llmspec.grading.config import GradingConfig
from llmspec.sandbox import proctree
from llmspec.suite import QUIET_SUITE, spec_dir


def test_id(nodeid: str) -> str:
    """``spec_tests/test_x.py::test_y[a]`` -> ``test_x.py::test_y[a]`` (independent of install path)."""
    path, sep, rest = nodeid.partition("::")
    return Path(path).name + sep + rest


class Collector:
    """The trusted child's pytest plugin: one JSON line per event, flushed at once.  Each finished
    test is sent as the suite's own plugin judged it (its entry of the ``--llmspec-report`` tests, by
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
        if entry is not None:  # the message cut as the reports cut it: the grader reads every event
            done = finished(entry)
            self.emit(event="test", test=test_id(nodeid), **{**done, "message": str(done["message"])[:20_000]})
        from llmspec.runtime.proxy import FLAGS_SEEN

        if len(FLAGS_SEEN) > self.flags_sent:  # what the workers saw the submission attempt
            self.emit(event="flags", flags=FLAGS_SEEN[self.flags_sent:])
            self.flags_sent = len(FLAGS_SEEN)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self.emit(event="finished", exitstatus=int(exitstatus))


def base_args(config: GradingConfig, edition: str | None = None) -> list[str]:
    """The suite with this assignment's edition (or ``edition``), stages and seed (no target: the
    reference).  Under ``PYTEST_DISABLE_PLUGIN_AUTOLOAD`` (set by :func:`warm_up`) only the plugins
    the suite needs are loaded: a plugin the grading machine happens to have (pytest-randomly
    reorders tests and reseeds) must not change a grade, nor cost every submission its start-up."""
    plugins = ["-p", "llmspec.plugin", "-p", "hypothesis.extra.pytestplugin"]
    args = [str(spec_dir()), "-q", "--no-header", *QUIET_SUITE, "-o", "addopts=",
            *(plugins if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD") else []),
            "--edition", edition or config.edition, "--stages", ",".join(config.stages)]
    if config.hypothesis_seed is not None:
        args += ["--hypothesis-seed", str(config.hypothesis_seed)]
    if config.strict_names:
        args.append("--strict-names")
    return args


def pytest_args(target: str, config: GradingConfig) -> list[str]:
    """The suite on ``target``, each call into it in a sandboxed worker with the config's limits."""
    args = base_args(config)
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
        collector = Collector(events)
        try:
            pytest.main(args, plugins=[collector])
            code = 0
        except BaseException as exc:  # noqa: BLE001 - report anything, then leave
            collector.emit(event="internal", message=f"{type(exc).__name__}: {exc}")
    finally:
        os._exit(code)


def warm_up() -> None:
    """Import everything a trusted child needs, once, before forking."""
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # see base_args
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
                 "llmspec.runtime.faults", "llmspec.explain", "reference", "spec_tests.conftest",
                 "spec_tests.strategies", *("spec_tests." + f.stem for f in sorted(spec_dir().glob("test_*.py")))):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the child reports real problems; this is only a cache
            pass
    proctree.set_child_subreaper()  # orphans of the children's workers come back to this process


def warm_suite(config: GradingConfig) -> None:
    """Run the suite once, in this process, on the trusted reference, then freeze the heap.

    Why: a fresh process pays ~1 s of first-call costs (torch's first backward, lazily built tables,
    Hypothesis' caches); paid here once, every forked child inherits them warm.  Only the reference
    runs here, and the suite is derandomized with no database, so this run changes no example.
    ``gc.freeze()`` keeps children's collections from walking (and copying) the parent's heap.
    Best effort: a failure here only costs speed; the children report real problems."""
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
