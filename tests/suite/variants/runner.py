"""Run the spec suite on zoo variants (as subprocesses, two at a time) and read their JSON reports.

Used by ``tests/suite/test_variants.py``; run it directly to print the kill matrix:

    LLMSPEC_DATA=/work/shared/data python tests/suite/variants/runner.py [--full] [NAME ...]

``--full`` runs every core stage on every variant (slower) instead of each variant's
``stages_to_run`` (see ``manifest.py`` for why that selection is enough for the meta-test).

Speed: starting Python + torch + tiktoken costs more CPU than a whole stage of the suite, so by
default the variants are shared between two worker processes (``--worker``), each calling
``pytest.main`` once per variant, one fresh pytest session per variant, exactly as
``llmspec check`` runs the suite in-process.  A variant the workers could not finish (crash,
timeout) is re-run alone in its own ``python -m pytest`` subprocess, the way a learner runs it.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
for _path in (HERE, HERE.parents[1]):  # siblings, and tests/warm_pool.py (tests/ is not a package)
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import warm_pool  # noqa: E402

from manifest import ANY, CORE_STAGES, KNOWN_GAPS, Variant, variants  # noqa: E402

REPO = HERE.parents[2]
SPEC_TESTS = REPO / "spec_tests"
JOBS = warm_pool.JOBS
TIMEOUT = 300  # seconds per suite run: a hung variant must fail the meta-test, not stall it
PYTEST_FLAGS = ("-q", "-p", "no:cacheprovider", "-p", "no:randomly")


@dataclass
class Outcome:
    variant: Variant
    stages: tuple[str, ...]
    returncode: int
    report: dict | None  # the suite's --llmspec-report JSON, None if it was not written
    output: str  # tail of stdout+stderr, for failure messages

    def status(self, stage: str) -> str | None:
        if self.report is None:
            return None
        return self.report["stages"].get(stage, {}).get("status")

    def failed_tests(self, stage: str) -> list[dict]:
        if self.report is None:
            return []
        return [t for t in self.report["tests"] if t["stage"] == stage and t["outcome"] != "passed"]


def _suite_args(variant: Variant, stages: tuple[str, ...], report_path: Path) -> list[str]:
    return [str(SPEC_TESTS), "--impl", str(variant.path), "--stages", ",".join(stages),
            "--llmspec-report", str(report_path), *PYTEST_FLAGS]


def _report_path(workdir: Path, variant: Variant) -> Path:
    return workdir / f"{variant.kind}-{variant.name}.json"


def run_suite(variant: Variant, stages: tuple[str, ...], workdir: Path) -> Outcome:
    """``python -m pytest spec_tests --impl FILE --stages ... --llmspec-report R.json`` in a child."""
    report_path = _report_path(workdir, variant)
    cmd = [sys.executable, "-m", "pytest", *_suite_args(variant, stages, report_path)]
    try:
        proc = subprocess.run(cmd, cwd=REPO, env=warm_pool.child_env(), capture_output=True, text=True,
                              timeout=TIMEOUT)
        code, out = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as exc:
        code, out = -1, f"timed out after {TIMEOUT}s\n{exc.stdout or ''}"
    return Outcome(variant, stages, code, warm_pool.read_report(report_path), out[-200_000:])


def worker(jobs_file: Path) -> int:
    """Child side of :func:`run_batch`: one ``pytest.main`` session per job, results as JSON lines."""
    import pytest

    return warm_pool.serve(jobs_file, pytest.main)


def run_batch(selected: list[tuple[Variant, tuple[str, ...]]], workdir: Path, jobs: int = JOBS
              ) -> dict[str, Outcome]:
    """Share the variants between ``jobs`` worker processes; re-run alone whatever they left."""
    by_id = {v.id: (v, stages) for v, stages in selected}
    # longest first, dealt round-robin, so the two workers finish together
    order = sorted(selected, key=lambda vs: -len(vs[1]))
    rows = warm_pool.run(Path(__file__).resolve(),
                         [(v.id, _suite_args(v, st, _report_path(workdir, v))) for v, st in order],
                         workdir, tag="zoo", processes=jobs, env=warm_pool.child_env(), cwd=REPO,
                         timeout=TIMEOUT * max(1, len(selected) // jobs // 4 + 1))
    outcomes: dict[str, Outcome] = {}
    for vid, row in rows.items():
        v, stages = by_id[vid]
        report = warm_pool.read_report(_report_path(workdir, v))
        if report is not None:
            outcomes[v.id] = Outcome(v, stages, row["returncode"], report, row["output"])
    left = [by_id[vid] for vid in by_id if vid not in outcomes]
    if left:  # a worker died or hung: judge those variants the slow, fully isolated way
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            for o in pool.map(lambda vs: run_suite(vs[0], vs[1], workdir), left):
                outcomes[o.variant.id] = o
    return {vid: outcomes[vid] for vid in by_id}


def run_all(selected: list[Variant], full: bool = False, workdir: Path | None = None,
            jobs: int = JOBS, isolated: bool = False) -> dict[str, Outcome]:
    """Judge every selected variant; keyed by ``Variant.id``.  ``isolated`` = one subprocess per
    variant (slower; what the batch falls back to)."""
    tmp = None
    if workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="llmspec-zoo-")
        workdir = Path(tmp.name)
    pairs = [(v, CORE_STAGES if full else v.stages_to_run) for v in selected]
    try:
        if not isolated:
            return run_batch(pairs, workdir, jobs)
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {v.id: pool.submit(run_suite, v, st, workdir) for v, st in pairs}
            return {vid: f.result() for vid, f in futures.items()}
    finally:
        if tmp is not None:
            tmp.cleanup()


def wrong_stages(outcome: Outcome) -> dict[str, str]:
    """Stage -> how the suite's verdict differs from the manifest (empty = judged right)."""
    v = outcome.variant
    if outcome.report is None:
        return {"*": f"no report written (exit {outcome.returncode}):\n{outcome.output[-3000:]}"}
    problems = {}
    for stage in outcome.stages:
        want, got = v.expected(stage), outcome.status(stage)
        if want == ANY or want == got:
            continue
        detail = ""
        if got == "fail":
            first = outcome.failed_tests(stage)[:1]
            detail = f": {first[0]['name']}: {first[0]['message'][:300]}" if first else ""
        problems[stage] = f"expected {want}, suite said {got}{detail}"
    return problems


def mismatches(outcome: Outcome, include_known: bool = True) -> list[str]:
    """Every wrong verdict as a readable line; ``include_known=False`` leaves out KNOWN_GAPS."""
    known = KNOWN_GAPS.get(outcome.variant.id, {}) if not include_known else {}
    return [f"{stage}: {text}" for stage, text in wrong_stages(outcome).items() if stage not in known]


def kill_matrix(outcomes: dict[str, Outcome]) -> str:
    """One row per variant: each core stage as P(ass) / F(ail) / N(ot implemented) / . (not run),
    uppercase-marked ``!`` where the verdict contradicts the manifest."""
    short = {"pass": "P", "fail": "F", "not_implemented": "N", "not_selected": ".", None: "?"}
    cols = [s[:9] for s in CORE_STAGES]
    lines = [f"{'variant':42s} " + " ".join(f"{c:>9s}" for c in cols) + "  verdict"]
    for vid, o in outcomes.items():
        cells = []
        for stage in CORE_STAGES:
            got = o.status(stage) if stage in o.stages else "not_selected"
            mark = short.get(got, "?")
            want = o.variant.expected(stage)
            if stage in o.stages and want not in (ANY, got):
                mark += "!"
            cells.append(f"{mark:>9s}")
        verdict = "ok" if not mismatches(o) else "WRONG" if mismatches(o, include_known=False) else "known gap"
        lines.append(f"{vid:42s} " + " ".join(cells) + f"  {verdict}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--worker"]:
        return worker(Path(argv[1]))
    full, isolated = "--full" in argv, "--isolated" in argv
    names = [a for a in argv if not a.startswith("--")]
    selected = [v for v in variants() if not names or v.name in names or v.id in names]
    start = time.monotonic()
    outcomes = run_all(selected, full=full, isolated=isolated)
    print(kill_matrix(outcomes))
    print(f"\n{len(outcomes)} variants judged in {time.monotonic() - start:.1f}s")
    wrong = {vid: mismatches(o) for vid, o in outcomes.items() if mismatches(o)}
    unknown = {vid for vid, o in outcomes.items() if mismatches(o, include_known=False)}
    for vid, problems in wrong.items():
        print(f"\n{vid}:")
        for p in problems:
            print("   ", p)
    return 1 if unknown else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
