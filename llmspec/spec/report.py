"""What a run of the suite says: one verdict per test (:func:`fold`) and per stage, the table and the
``--llmspec-report`` JSON every caller reads (:func:`build_report`), applied by :class:`Reporter`."""
from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from llmspec.grading.atomic import write_text
from llmspec.i18n import _
from llmspec.spec.run import Run
from llmspec.stages import STAGES
from llmspec.verdict import annotate, table_lines


# --- results, summary table, JSON report ----------------------------------------------------------
def failure_message(report: pytest.TestReport) -> str:
    """Actionable text first: the failure's own message, then Hypothesis' minimal example."""
    example = getattr(report, "llmspec_example", "")  # translated, fixtures hidden (Reporter)
    if getattr(report, "llmspec_message", None) is not None:  # set by Reporter.pytest_runtest_makereport
        return (report.llmspec_message + ("\n" + example if example else "")).strip()
    longrepr = report.longrepr
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        message = crash.message.removeprefix("Failed: ")
    elif isinstance(longrepr, tuple):  # skip reports: (path, line, reason)
        message = str(longrepr[-1])
    else:
        message = str(longrepr or "")
    text = getattr(report, "longreprtext", "") or ""
    if example:
        message += "\n" + example
    elif "Falsifying example" in text and "Falsifying example" not in message:
        start = text.index("Falsifying example")
        message += "\n" + text[start:start + 800].split("\n\n")[0]
    if report.when != "call":
        message = _("error in test {phase}: {message}").format(phase=report.when, message=message)
    # Object reprs in Hypothesis' report ("<...ProxyAdapter object at 0x7f...>") differ per process:
    # drop the address so the same submission gets the same feedback on every run (grading).
    return _ADDRESS.sub(">", message).strip()


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+>")


class Reporter:
    """Per-session hooks, registered by :func:`activate` only when the spec suite is collected."""

    def __init__(self, run: Run) -> None:
        self.run = run

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Any:
        """Put Hypothesis' minimal example (drawn arguments only) under the failure: it lives in
        exception notes, which ``pytest.fail(..., pytrace=False)`` drops."""
        outcome = yield
        report = outcome.get_result()
        if item.nodeid not in self.run.item_stage or not report.failed or call.excinfo is None:
            return
        from llmspec.explain import hypothesis_example

        exc = call.excinfo.value
        example = hypothesis_example(getattr(exc, "__notes__", None), hide=set(item.fixturenames))
        if isinstance(exc, pytest.fail.Exception):
            report.llmspec_message = str(exc.msg)  # the teaching message, without the raw notes
        if example:
            report.llmspec_example = example
            if hasattr(report.longrepr, "addsection"):
                report.longrepr.addsection("Hypothesis' minimal example", example)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        run = self.run
        if report.nodeid not in run.item_stage:
            return
        entry = run.results.setdefault(report.nodeid, {
            "nodeid": report.nodeid, "name": report.nodeid.split("::", 1)[-1],
            "stage": run.item_stage[report.nodeid], "outcome": RUNNING, "message": "", "duration": 0.0,
        })
        fold(entry, report)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_terminal_summary(self, terminalreporter: Any) -> Any:
        """The verdict comes last, after pytest's "short test summary", above the "N failed" line."""
        result = yield
        if self.run.item_stage and not terminalreporter.config.option.collectonly:
            write_table(self.run, terminalreporter)  # nothing ran under --collect-only: no "0/0 fail"
        return result

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        run = self.run
        try:
            if run.item_stage and not session.config.option.collectonly:
                run.report = build_report(run)  # before the close: it reads the adapter
                if run.settings.report:
                    write_text(Path(run.settings.report), json.dumps(run.report, indent=1))
        finally:
            run.close()


RUNNING = "running"  # a test whose call has not passed yet: counted as failed if the run ends there


def fold(entry: dict[str, Any], report: pytest.TestReport) -> None:
    """The one pass/fail rule (check, in-kernel check, grader): fold one phase's report into the
    test's ``entry``.  A test passes when its call passed and no phase failed; the first failure's
    message is kept.  The suite never skips: a skip (an assumption that always fails) is a failure."""
    entry["duration"] = round(entry["duration"] + report.duration, 4)
    if entry["outcome"] == "failed":
        return
    if report.failed:
        entry["outcome"] = "failed"
        entry["message"] = failure_message(report) or f"{report.outcome} in {report.when}"
    elif report.skipped:
        entry["outcome"] = "failed"
        entry["message"] = _("skipped: {reason}").format(reason=failure_message(report))
    elif report.when == "call":
        entry["outcome"] = "passed"


def finished(entry: dict[str, Any]) -> dict[str, Any]:
    """A test's entry as the report gives it: one the run ended inside is a failure."""
    if entry["outcome"] != RUNNING:
        return entry
    return {**entry, "outcome": "failed", "message": entry["message"] or _("this test did not finish")}


def stage_table(run: Run) -> dict[str, dict[str, Any]]:
    """``{stage: {"status", "passed", "total", "missing"}}`` for every stage of the table."""
    out: dict[str, dict[str, Any]] = {}
    collected = set(run.item_stage.values())  # a collected stage that did not run (crash, -x) fails
    for name in STAGES:
        tests = [r for r in run.results.values() if r["stage"] == name]
        passed = sum(r["outcome"] == "passed" for r in tests)
        missing = run.missing.get(name, [])
        # not collected: deselected by -k / node ids, or an optional stage the target does not define
        if name not in run.selected or (not missing and name not in collected):
            status = "not_selected"
        elif missing:
            status = "not_implemented"
        else:
            status = "pass" if tests and passed == len(tests) else "fail"
        out[name] = {"status": status, "passed": passed, "total": len(tests), "missing": missing}
        hints = {n: h for n, h in run.description.get("hints", {}).items() if n in missing}
        if hints and status == "not_implemented":
            out[name]["hints"] = hints
        if run.description.get("judged", {}).get(name) == "state" and status != "not_selected":
            out[name]["judged"] = "state"
    return out


def build_report(run: Run) -> dict[str, Any]:
    """The ``--llmspec-report`` JSON (the grader and the variant corpus read it)."""
    s = run.settings
    return annotate({  # + the learner's code beside the listing, for failing stages (llmspec.hints)
        "target": s.target or "reference",
        "edition": run.edition,
        "edition_reason": run.edition_reason,
        "isolate": s.isolate,
        "worker": s.worker,
        "error": run.load_error,
        "notes": list(run.description.get("notes", [])),
        "stages": stage_table(run),
        "tests": [finished(r) for r in run.results.values()],
        "duration": round(time.perf_counter() - run.started, 3),
    }, run.description, getattr(run.adapter, "loaded", None))


def write_table(run: Run, tr: Any) -> None:
    """The per-stage table at the end of the terminal output (``stage  passed/total  status``)."""
    tr.section(_("llmspec: verdict per stage"))
    tr.write_line(_("target: {target}    edition: {edition}").format(
        target=run.settings.target or "reference", edition=run.edition)
                  + ("    " + _("(isolated)") if run.settings.isolate else "")
                  + ("    " + _("(in a worker)") if run.settings.worker and not run.settings.isolate else ""))
    if run.edition_reason:
        tr.write_line(run.edition_reason)
    if run.settings.isolate:
        from llmspec.sandbox import isolation, landlock

        gap = landlock.coverage(isolation.is_root())
        if gap:
            tr.write_line(gap, yellow=True)
    if run.load_error:
        tr.write_line(run.load_error, red=True)
    for note in run.description.get("notes", []):
        tr.write_line(_("note: {note}").format(note=note))
    for line, colour in table_lines(stage_table(run)):
        tr.write_line(line, **({colour: True} if colour else {}))
    for stage, reason in (run.faults or (run.adapter.faults if run.adapter is not None else {})).items():
        tr.write_line(_("{stage}: stopped after {reason}; its later tests did not run").format(
            stage=stage, reason=reason), red=True)
