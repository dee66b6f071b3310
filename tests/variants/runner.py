"""Run the spec suite on zoo variants (as subprocesses, two at a time) and read their JSON reports.

Used by ``tests/test_variants.py``; run it directly to print the kill matrix:

    LLMSPEC_DATA=/work/shared/data python tests/variants/runner.py [--full] [NAME ...]

``--full`` runs every core stage on every variant (slower) instead of each variant's
``stages_to_run`` (see ``manifest.py`` for why that selection is enough for the meta-test).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from manifest import ANY, CORE_STAGES, Variant, variants  # noqa: E402

REPO = HERE.parent.parent
SPEC_TESTS = REPO / "spec_tests"
JOBS = max(1, min(2, os.cpu_count() or 1))  # the machine has 2 cores; each suite is one process
TIMEOUT = 300  # seconds per suite run: a hung variant must fail the meta-test, not stall it


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


def run_suite(variant: Variant, stages: tuple[str, ...], workdir: Path) -> Outcome:
    """``python -m pytest spec_tests --impl FILE --stages ... --llmspec-report R.json`` in a child."""
    report_path = workdir / f"{variant.kind}-{variant.name}.json"
    cmd = [sys.executable, "-m", "pytest", str(SPEC_TESTS), "--impl", str(variant.path),
           "--stages", ",".join(stages), "--llmspec-report", str(report_path),
           "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMSPEC_IMPL")}
    env.setdefault("LLMSPEC_DATA", str(REPO.parent / "shared" / "data"))
    try:
        proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=TIMEOUT)
        code, out = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as exc:
        code, out = -1, f"timed out after {TIMEOUT}s\n{exc.stdout or ''}"
    report = json.loads(report_path.read_text()) if report_path.exists() else None
    return Outcome(variant, stages, code, report, out[-3000:])


def run_all(selected: list[Variant], full: bool = False, workdir: Path | None = None,
            jobs: int = JOBS) -> dict[str, Outcome]:
    """Run every selected variant, ``jobs`` suites at a time; keyed by ``Variant.id``."""
    tmp = None
    if workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="llmspec-zoo-")
        workdir = Path(tmp.name)
    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {v.id: pool.submit(run_suite, v, CORE_STAGES if full else v.stages_to_run, workdir)
                       for v in selected}
            return {vid: f.result() for vid, f in futures.items()}
    finally:
        if tmp is not None:
            tmp.cleanup()


def mismatches(outcome: Outcome) -> list[str]:
    """Every way the suite's verdict differs from the manifest, as readable lines (empty = right)."""
    v = outcome.variant
    if outcome.report is None:
        return [f"no report written (exit {outcome.returncode}):\n{outcome.output}"]
    problems = []
    for stage in outcome.stages:
        want, got = v.expected(stage), outcome.status(stage)
        if want == ANY or want == got:
            continue
        detail = ""
        if got == "fail":
            first = outcome.failed_tests(stage)[:1]
            detail = f": {first[0]['name']}: {first[0]['message'][:300]}" if first else ""
        problems.append(f"{stage}: expected {want}, suite said {got}{detail}")
    return problems


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
        verdict = "ok" if not mismatches(o) else "WRONG"
        lines.append(f"{vid:42s} " + " ".join(cells) + f"  {verdict}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    full = "--full" in argv
    names = [a for a in argv if not a.startswith("--")]
    selected = [v for v in variants() if not names or v.name in names or v.id in names]
    outcomes = run_all(selected, full=full)
    print(kill_matrix(outcomes))
    wrong = {vid: mismatches(o) for vid, o in outcomes.items() if mismatches(o)}
    for vid, problems in wrong.items():
        print(f"\n{vid}:")
        for p in problems:
            print("   ", p)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
