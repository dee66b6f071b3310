"""Run the spec suite (``pytest spec_tests``) in this process and get its report as a dict.

``llmspec check`` and the in-kernel check (:mod:`llmspec.kernel`) both come through here, so a
learner gets the same tests, the same examples and the same verdict either way.  The report is
taken straight from the plugin's run state at the end of the session, not read back from a file.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from llmspec.spec.run import get_run


# No cache files in the learner's folder; and no assertion rewriting: the suite's checks carry their
# own messages (no bare ``assert`` in spec_tests), and a process that imported llmspec before the run
# (a kernel, the warm grader) would only get pytest's "cannot be rewritten" warnings in its log.
QUIET_SUITE = ("-p", "no:cacheprovider", "--assert=plain")


def spec_dir() -> Path:
    """The installed ``spec_tests`` package directory (the suite runs from wherever llmspec is)."""
    import spec_tests

    return Path(list(spec_tests.__path__)[0]).resolve()


class _Caller:
    """The caller's pytest plugin: it may hand the run an adapter it opened (a live kernel namespace,
    judged instead of loading ``--impl``: :meth:`llmspec.spec.run.Run.open`; the caller closes it),
    and it keeps the report the plugin builds at the session's end."""

    def __init__(self, adapter: Any, display: str) -> None:
        self.adapter, self.display = adapter, display
        self.llmspec_preset = adapter is not None  # how :func:`llmspec.plugin.activate` finds a preset
        self.report: dict[str, Any] | None = None

    @pytest.hookimpl(wrapper=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> Any:
        try:
            return (yield)
        finally:
            run = get_run(session.config)
            self.report = run.report if run is not None else None


def run_suite(args: list[str], adapter: Any = None, display: str = "") -> tuple[int, dict[str, Any] | None]:
    """``pytest.main([spec_tests, *args])`` quietly, judging ``adapter`` (named ``display``) when given;
    returns pytest's exit code and the report (``None`` when the suite did not run: a usage error,
    nothing collected)."""
    caller = _Caller(adapter, display)
    code = pytest.main([str(spec_dir()), *QUIET_SUITE, *args], plugins=[caller])
    return int(code), caller.report
