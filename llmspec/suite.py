"""Run the spec suite (``pytest spec_tests``) in this process and get its report as a dict.

``llmspec check`` and the in-kernel check (:mod:`llmspec.kernel`) both come through here, so a
learner gets the same tests, the same examples and the same verdict either way.  The report is
taken straight from the plugin's run state at the end of the session (:class:`_ReportCatcher`), not
read back from a file; an adapter opened by the caller (a live kernel namespace) can be handed to
the plugin instead of a target to load (:class:`Preset`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from llmspec.spec.run import get_run


def spec_dir() -> Path:
    """The installed ``spec_tests`` package directory (the suite runs from wherever llmspec is)."""
    import spec_tests

    return Path(list(spec_tests.__path__)[0]).resolve()


class Preset:
    """A pytest plugin object carrying an adapter the caller opened: the run judges it instead of
    loading ``--impl`` (see :meth:`llmspec.spec.run.Run.open`).  The caller closes it."""

    llmspec_preset = True  # how :func:`llmspec.plugin.activate` finds it among the plugins

    def __init__(self, adapter: Any, display: str) -> None:
        self.adapter = adapter
        self.display = display


class _ReportCatcher:
    """Keeps the JSON report of the run (the ``--llmspec-report`` dict the plugin builds at the end)."""

    def __init__(self) -> None:
        self.report: dict[str, Any] | None = None

    @pytest.hookimpl(wrapper=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> Any:
        try:
            return (yield)
        finally:
            run = get_run(session.config)
            self.report = run.report if run is not None else None


def run_suite(args: list[str], preset: Preset | None = None) -> tuple[int, dict[str, Any] | None]:
    """``pytest.main([spec_tests, *args])`` quietly; returns pytest's exit code and the report
    (``None`` when the suite did not run: a usage error, nothing collected)."""
    catcher = _ReportCatcher()
    plugins: list[Any] = [catcher] + ([preset] if preset is not None else [])
    code = pytest.main([str(spec_dir()), "-p", "no:cacheprovider", *args], plugins=plugins)
    return int(code), catcher.report
