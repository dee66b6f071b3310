"""Run the corpus three ways and print the verdict table: ``llmspec check`` (the learner's code in a
worker with their own permissions), ``llmspec check --isolate``, and ``llmspec grade`` (one grading run
for the whole corpus); ``--modes inprocess`` adds ``llmspec check --in-process``.

    LLMSPEC_DATA=/work/shared/data python tests/suite/corpus/runner.py [--modes check,isolated,grading] [NAME ...]

Exit code 0 when every entry got its expected verdict on every stage in every mode (and its failure
messages name what ``says`` asks), 1 otherwise.  Used by ``tests/suite/test_corpus.py``.

Speed: starting Python with torch costs more than checking a file, so the ``check`` runs are shared
between two warm processes (``--worker``), each calling ``llmspec.cli.main`` once per entry, the way
a learner's ``llmspec check`` runs (one fresh pytest session per file).  Grading is one
``llmspec grade`` over a directory holding the whole corpus, as an instructor grades a class.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
for _path in (HERE, HERE.parents[1]):  # siblings, and tests/warm_pool.py (tests/ is not a package)
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import warm_pool  # noqa: E402

from corpus_build import ensure_built  # noqa: E402
from corpus_manifest import BONUS, FAIL, NOT_IMPLEMENTED, PASS, STAGES, Entry, entries  # noqa: E402

REPO = HERE.parents[2]
JOBS = warm_pool.JOBS
TIMEOUT = 900  # seconds for a whole mode: a hang must fail the run, not stall it
MODES = ("check", "isolated", "grading")
CHECK_FLAGS = {"check": [], "inprocess": ["--in-process"], "isolated": ["--isolate"]}  # the check modes
GRADING_CONFIG = HERE / "grading.toml"
LETTER = {PASS: "P", FAIL: "F", NOT_IMPLEMENTED: "N"}


@dataclass
class Result:
    """What one mode said about one entry: stage -> verdict, and the failure messages per stage."""

    stages: dict[str, str] = field(default_factory=dict)
    messages: dict[str, list[str]] = field(default_factory=dict)
    output: str = ""
    flags: list[dict] = field(default_factory=list)  # attempts on private places (grading only)
    bonus: str = "?"  # the bonus stage's verdict (`llmspec check` only)
    notes: list[str] = field(default_factory=list)

    def code(self) -> str:
        return "".join(LETTER.get(self.stages.get(s, "?"), "?") for s in STAGES)


def expected_code(entry: Entry) -> str:
    return "".join(LETTER[entry.verdict(s)] for s in STAGES)


def from_check_report(report: dict | None, output: str) -> Result:
    result = Result(output=output[-20_000:])
    if report is None:
        return result
    for stage in STAGES:
        result.stages[stage] = report["stages"].get(stage, {}).get("status", "?")
    result.bonus = report["stages"].get(BONUS, {}).get("status", "?")
    result.notes = list(report.get("notes", []))
    for test in report.get("tests", []):
        if test.get("outcome") != "passed":
            result.messages.setdefault(test.get("stage", "?"), []).append(str(test.get("message") or ""))
    if report.get("error"):
        result.output = f"target error: {report['error']}\n" + result.output
    return result


# --- llmspec check, in two warm processes ------------------------------------------------------------
def worker(jobs_file: Path) -> int:
    """Child side of :func:`run_checks`: ``llmspec check`` once per job."""
    from llmspec import cli

    return warm_pool.serve(jobs_file, cli.main)


def run_checks(selected: list[Entry], paths: dict[str, Path], mode: str, workdir: Path) -> dict[str, Result]:
    reports = {e.name: workdir / f"{mode}-{e.name}.json" for e in selected}
    for report in reports.values():
        report.unlink(missing_ok=True)

    def argv(e: Entry) -> list[str]:
        return ["check", str(paths[e.name]), "--report", str(reports[e.name]), *CHECK_FLAGS[mode]]

    rows = warm_pool.run(Path(__file__).resolve(), [(e.name, argv(e)) for e in selected], workdir, tag=mode,
                         processes=JOBS, timeout=TIMEOUT, env=warm_pool.child_env(importable=True), cwd=workdir)
    outputs = {name: row["output"] for name, row in rows.items()}
    out = {}
    for e in selected:
        if e.name not in outputs:  # the warm worker died on an earlier entry: run this one alone
            done = subprocess.run([sys.executable, "-m", "llmspec", *argv(e)], cwd=workdir,
                                  env=warm_pool.child_env(importable=True),
                                  capture_output=True, text=True, timeout=300)
            outputs[e.name] = done.stdout + done.stderr
        out[e.name] = from_check_report(warm_pool.read_report(reports[e.name]), outputs[e.name])
    return out


# --- llmspec grade, once for the whole corpus ----------------------------------------------------------
def grading_stage_verdicts(results: dict) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Per-stage verdicts from a Gradescope ``results.json``: every test passed -> pass; some test
    says the stage is not implemented -> not_implemented; else fail."""
    by_stage: dict[str, list[dict]] = {}
    for test in results.get("tests", []):
        for tag in test.get("tags", []):
            by_stage.setdefault(tag, []).append(test)
    verdicts, messages = {}, {}
    for stage in STAGES:
        tests = by_stage.get(stage, [])
        failed = [t for t in tests if t.get("status") != "passed"]
        messages[stage] = [str(t.get("output") or "") for t in failed]
        if not tests:
            verdicts[stage] = "?"
        elif not failed:
            verdicts[stage] = PASS
        elif all("not implemented" in m for m in messages[stage]):
            verdicts[stage] = NOT_IMPLEMENTED
        else:
            verdicts[stage] = FAIL
    return verdicts, messages


def run_grading(selected: list[Entry], workdir: Path) -> dict[str, Result]:
    submissions = workdir / "submissions"
    shutil.rmtree(submissions, ignore_errors=True)  # exactly the selected entries, one submission each
    ensure_built(selected, submissions)
    out_dir = workdir / "grades"
    cmd = [sys.executable, "-m", "llmspec", "grade", str(submissions), "--out", str(out_dir), "--jobs", str(JOBS),
           "--force", "-q", "--config", str(GRADING_CONFIG)]
    done = subprocess.run(cmd, cwd=workdir, env=warm_pool.child_env(importable=True), capture_output=True, text=True,
                          timeout=TIMEOUT)
    out = {}
    for e in selected:
        result = Result(output=(done.stdout + done.stderr)[-20_000:])
        try:
            data = json.loads((out_dir / e.name / "results.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            out[e.name] = result
            continue
        result.stages, result.messages = grading_stage_verdicts(data)
        result.flags = data.get("extra_data", {}).get("flags") or []
        result.output = str(data.get("output", ""))[-20_000:]
        out[e.name] = result
    return out


# --- judging and the table ------------------------------------------------------------------------------
def problems(entry: Entry, result: Result | None, mode: str) -> list[str]:
    """Why ``result`` is not what ``entry`` expects (empty: it is)."""
    if result is None:
        return [f"{mode}: no result"]
    out = []
    for stage in STAGES:
        got, want = result.stages.get(stage, "?"), entry.verdict(stage)
        if got != want:
            out.append(f"{mode}: {stage} is {got}, expected {want}")
    for stage, text in entry.says.items():
        if not any(text in m for m in result.messages.get(stage, [])):
            out.append(f"{mode}: no {stage} failure names {text!r}")
    if result.flags:  # an honest learner's file is never taken for an attempt on the grader
        out.append(f"{mode}: flagged {result.flags}")
    if mode != "grading" and BONUS in entry.expected:
        if result.bonus != entry.expected[BONUS]:
            out.append(f"{mode}: {BONUS} is {result.bonus}, expected {entry.expected[BONUS]}")
        out += [f"{mode}: no note holds {text!r}" for text in entry.noted if not any(text in n for n in result.notes)]
    return out


def run(selected: list[Entry], modes: tuple[str, ...], workdir: Path) -> dict[str, dict[str, Result]]:
    paths = ensure_built(selected, workdir / "files")
    results: dict[str, dict[str, Result]] = {}
    for mode in CHECK_FLAGS:
        if mode in modes:
            results[mode] = run_checks(selected, paths, mode, workdir)
    if "grading" in modes:
        results["grading"] = run_grading(selected, workdir)
    return results


def table(selected: list[Entry], results: dict[str, dict[str, Result]], modes: tuple[str, ...]) -> str:
    head = ["style", "expected", *[{"inprocess": "in-process"}.get(m, m) for m in modes], "ok?"]
    rows = []
    for e in selected:
        codes = [results[m][e.name].code() for m in modes]
        bad = [p for m in modes for p in problems(e, results[m].get(e.name), m)]
        rows.append([e.name, expected_code(e), *codes, "ok" if not bad else "WRONG"])
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in [head, *rows]]
    legend = ("stages in order " + ", ".join(STAGES) + "; P pass, F fail, N not implemented, ? no verdict")
    return "\n".join([*lines, "", legend])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*")
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--keep", type=Path, help="work directory to keep (reports, grades)")
    args = ap.parse_args(argv)
    if args.worker:
        return worker(args.worker)
    modes = tuple(m for m in args.modes.split(",") if m)
    selected = entries(args.names)
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="llmspec-corpus-"))
    workdir.mkdir(parents=True, exist_ok=True)
    os.chmod(workdir, 0o755)
    try:
        t0 = time.monotonic()
        results = run(selected, modes, workdir)
        print(table(selected, results, modes))
        bad = [p for e in selected for m in modes for p in problems(e, results[m].get(e.name), m)]
        for e in selected:
            for m in modes:
                if problems(e, results[m].get(e.name), m):
                    print(f"\n--- {e.name} ({m}) ---\n" + "\n".join(problems(e, results[m][e.name], m))
                          + "\n" + results[m][e.name].output[-3000:])
        print(f"\n{len(selected)} entries, {len(modes)} modes, {len(bad)} wrong verdicts, "
              f"{time.monotonic() - t0:.1f} s")
        return 1 if bad else 0
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
