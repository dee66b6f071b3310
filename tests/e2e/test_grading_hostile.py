"""`llmspec grade` end to end, in isolated workers: hostile submissions are contained, bad input is
graded, reports are valid, results are deterministic, resume skips, shard + merge equals one run,
and the HTML renders in headless Chromium (when installed; CI must `apt-get install chromium`).

One grading run of the whole hostile class (module fixture) keeps this file within CI's budget: the
config selects only the ``tokenizer_v1`` stage and small limits.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prerequisites import missing as prerequisite_missing

from hostile_corpus import hostile_files, submission_text
from paths import ROOT

CONFIG = """
[assignment]
name = "hostile class"
stages = ["tokenizer_v1"]
[limits]
submission_timeout = 30
call_timeout = 3
memory_mb = 300
[stages.tokenizer_v1]
points = 15
"""
BUDGET = 240  # seconds for the whole hostile class on 2 loaded cores (the grader must finish)


def grade(*args: str, cwd: Path, timeout: float = BUDGET) -> subprocess.CompletedProcess:
    env = dict(os.environ, LLMSPEC_DATA=os.environ.get("LLMSPEC_DATA", "/work/shared/data"))
    return subprocess.run([sys.executable, "-m", "llmspec", *args], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=timeout)


def leftovers(tag: str) -> list[str]:
    """Processes still running whose command line names this run's directory (forks inherit it)."""
    found = []
    for cmd in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmd.read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (cmd.parent / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if tag in text and state != "Z" and int(cmd.parent.name) != os.getpid():
            found.append(f"{cmd.parent.name}: {text[:120]}")
    return found


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    cls, marker = root / "class", root / "marker"
    cls.mkdir()
    marker.mkdir()
    for f in hostile_files():
        (cls / f.name).write_text(submission_text(f, marker))
    (cls / "syntax_error.py").write_text("def broken(:\n")
    (cls / "not_json.ipynb").write_text("{this is not json")
    (root / "v1.toml").write_text(CONFIG)
    t0 = time.monotonic()
    proc = grade("grade", str(cls), str(root / "missing.py"), "--out", str(root / "out"),
                 "--config", str(root / "v1.toml"), "--jobs", "2", cwd=root)
    elapsed = time.monotonic() - t0
    time.sleep(0.5)
    results = {p.parent.name: json.loads(p.read_text()) for p in (root / "out").glob("*/results.json")}
    return {"root": root, "proc": proc, "elapsed": elapsed, "results": results, "marker": marker,
            "leftovers": leftovers(str(root))}


def test_grader_finishes_within_budget_and_leaves_nothing_running(graded_class):
    assert graded_class["proc"].returncode == 0, graded_class["proc"].stderr[-2000:]
    assert graded_class["elapsed"] < BUDGET
    assert graded_class["leftovers"] == []
    assert list(graded_class["marker"].iterdir()) == []  # nothing written outside scratch


def test_cheating_earns_exactly_what_the_real_code_earns(graded_class):
    r = graded_class["results"]
    assert r["honest_good"]["score"] == 15 and r["honest_wrong"]["score"] < 15
    for cheater in ("patch_torch_pytest", "fake_reports"):
        assert r[cheater]["score"] == r["honest_wrong"]["score"], cheater
    assert r["hardcoded_golden"]["score"] < 15
    for correct_but_noisy in ("background", "prints_megabytes"):
        assert r[correct_but_noisy]["score"] == 15, correct_but_noisy


def test_crashes_hangs_and_memory_are_failed_tests_with_a_reason(graded_class):
    r = graded_class["results"]
    for name, words in (("exit_at_import", "ended the process (`os._exit(0)`"), ("infinite_loop", "within"),
                        ("memory_hog", "memory")):
        data = r[name]
        assert data["score"] == 0 and len(data["tests"]) == len(r["honest_good"]["tests"])
        assert all(t["status"] == "failed" for t in data["tests"])
        assert words in data["tests"][0]["output"], data["tests"][0]["output"][:300]


def test_bad_input_is_graded_zero_with_one_line(graded_class):
    r = graded_class["results"]
    for name, words in (("syntax_error", "syntax error"), ("not_json", "invalid JSON"),
                        ("missing", "no such file")):
        meta = r[name]["extra_data"]["llmspec"]
        assert r[name]["score"] == 0 and meta["status"] == "problem" and words in meta["reason"]
        assert r[name]["output"].splitlines()[0] == meta["reason"]


def test_fake_output_and_files_do_not_reach_the_reports(graded_class):
    out = graded_class["root"] / "out"
    assert "42 passed" not in graded_class["proc"].stdout + graded_class["proc"].stderr
    fake = json.loads((out / "fake_reports" / "results.json").read_text())
    assert fake["extra_data"]["llmspec"]["complete"] is True and fake["score"] < 15
    assert sorted(p.name for p in (out / "fake_reports").iterdir()) == [
        "classroom.env", "junit.xml", "pytest.log", "results.json"]


def test_class_reports_exist_and_list_everyone(graded_class):
    out = graded_class["root"] / "out"
    rows = (out / "gradebook.csv").read_text().splitlines()
    assert len(rows) == 1 + len(graded_class["results"])
    html = (out / "report.html").read_text()
    assert 'id="histogram"' in html and "honest_good" in html
    log = (out / "honest_good" / "pytest.log").read_text()
    assert "warnings summary" not in log  # the instructor's log: no noise
    assert "target: honest_good.py" in log and "llmspec-grade-" not in log  # not the grader's temporary copy


def test_resume_skips_graded_and_determinism(graded_class, tmp_path):
    """A second run skips everything (resume); a forced regrade of two gives the same scores."""
    root = graded_class["root"]
    proc = grade("grade", str(root / "class"), "--out", str(root / "out"), "--config", str(root / "v1.toml"),
                 "-q", cwd=root)
    assert proc.returncode == 0 and "graded 0 submission(s)" in proc.stdout
    sub = tmp_path / "two"
    sub.mkdir()
    for n in ("honest_wrong.py", "hardcoded_golden.py"):
        shutil.copy(root / "class" / n, sub / n)
    proc = grade("grade", str(sub), "--out", str(tmp_path / "again"), "--config", str(root / "v1.toml"),
                 "-q", "--jobs", "1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for name in ("honest_wrong", "hardcoded_golden"):
        again = json.loads((tmp_path / "again" / name / "results.json").read_text())
        first = graded_class["results"][name]
        assert [t["status"] for t in again["tests"]] == [t["status"] for t in first["tests"]]
        assert again["score"] == first["score"]


def test_shards_merge_to_the_unsharded_gradebook(graded_class, tmp_path):
    """Shards are computed from the graded outputs (no regrading): split the results by shard, then
    merge; the merged gradebook equals the one-run gradebook."""
    from llmspec.grading.shard import shard_of

    out = graded_class["root"] / "out"
    listed = {line.split(",")[0] for line in (out / "gradebook.csv").read_text().splitlines()[1:]}
    for k in (1, 2, 3):
        (tmp_path / f"s{k}").mkdir()
    for d in out.iterdir():
        if d.is_dir() and d.name in listed:  # the latest run's gradebook (resume re-ran a subset)
            shutil.copytree(d, tmp_path / f"s{shard_of(d.name, 3)}" / d.name)
    proc = grade("merge", *(str(tmp_path / f"s{k}") for k in (1, 2, 3)), "--out", str(tmp_path / "m"),
                 cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "m" / "gradebook.csv").read_text() == (out / "gradebook.csv").read_text()
    assert (tmp_path / "m" / "report.html").read_text() == (out / "report.html").read_text()


def test_html_report_renders_in_headless_chromium(graded_class, tmp_path):
    report = graded_class["root"] / "out" / "report.html"
    html = report.read_text()
    assert "<script" not in html and "https://" not in html and "<svg" in html
    if not shutil.which("chromium"):
        prerequisite_missing("chromium not installed here (apt-get install chromium): only the static checks ran",
                             ci_must="chromium is not installed: .ci/run must apt-get install chromium", xfail=True)
    script = ROOT / "scripts" / "screenshot_report.sh"
    artefacts = Path(os.environ.get("LLMSPEC_ARTIFACTS", tmp_path))
    artefacts.mkdir(parents=True, exist_ok=True)
    png = artefacts / "class-report.png"
    proc = subprocess.run(["bash", str(script), str(report), str(png)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # a blank page compresses far smaller
