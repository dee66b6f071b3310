"""The Gradescope autograder, run the way Gradescope runs it (gradescope/autograder_samples
docs/specs.md): the bundle unpacked at ``/autograder/source``, a ready environment at
``/autograder/venv`` (what ``setup.sh`` builds; here a venv over this interpreter's packages with the
bundled llmspec installed into it, since the test has no internet), the student's file in
``/autograder/submission``, ``run_autograder`` copied to ``/autograder/run_autograder`` and run; the
verdict must be ``/autograder/results/results.json``.

Everything lives on a tmpfs mounted over ``/autograder`` in a private mount namespace
(``unshare -m``), so nothing of it survives the test; that needs root (CI runs as root).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from prerequisites import missing as prerequisite_missing
from hostile_corpus import BOOK_STYLE, HOSTILE, submission_text

from paths import ROOT, VARIANTS
SCRIPT = r"""
set -euo pipefail
mount -t tmpfs -o size=1g llmspec-autograder /autograder
mkdir -p /autograder/source /autograder/submission /autograder/results /autograder/home
export HOME=/autograder/home
"$PY" -m zipfile -e "$WORK/autograder.zip" /autograder/source
chmod +x /autograder/source/setup.sh /autograder/source/run_autograder
# what setup.sh leaves behind: a venv with torch, tiktoken, pytest, hypothesis and the bundled llmspec
"$PY" -m venv --system-site-packages --without-pip /autograder/venv
/autograder/venv/bin/python -m pip install -q --no-deps --no-build-isolation --no-index --force-reinstall \
    /autograder/source/llmspec-src >"$WORK/pip.log" 2>&1
LLMSPEC_DATA=/autograder/source/data /autograder/venv/bin/python -c \
    "from llmspec.data import ensure_tiktoken_cache; ensure_tiktoken_cache()"
cp /autograder/source/run_autograder /autograder/run_autograder
cp "$WORK/$SUBMISSION" /autograder/submission/
cd /autograder
/autograder/run_autograder >"$WORK/run.log" 2>&1
cp /autograder/results/results.json "$WORK/results.json"
/autograder/venv/bin/python -c "import llmspec; print(llmspec.__file__)" >"$WORK/llmspec_path.txt"
"""


def run_as_gradescope(work: Path, submission: Path, config: str | None = None) -> dict:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        prerequisite_missing("needs root and unshare(1) for a private mount namespace",
                             ci_must="CI must run the Gradescope autograder test (needs root and unshare)")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LLMSPEC_DATA", "TIKTOKEN_CACHE_DIR")}
    bundle = [sys.executable, "-m", "llmspec", "gradescope-bundle", "--out", str(work / "autograder.zip")]
    if config is not None:
        (work / "grading.toml").write_text(config)
        bundle += ["--config", str(work / "grading.toml")]
    proc = subprocess.run(bundle, cwd=ROOT, env={**os.environ}, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    shutil.copy(submission, work / submission.name)
    made = not os.path.exists("/autograder")
    if made:
        os.mkdir("/autograder")  # an empty mount point; the tmpfs over it is private to the namespace
    try:
        proc = subprocess.run(["unshare", "-m", "--propagation", "private", "bash", "-c", SCRIPT],
                              env={**env, "PY": sys.executable, "WORK": str(work), "SUBMISSION": submission.name},
                              capture_output=True, text=True, timeout=300)
    finally:
        if made:
            try:
                os.rmdir("/autograder")
            except OSError:
                pass
    logs = "".join(p.read_text()[-3000:] for p in (work / "pip.log", work / "run.log") if p.exists())
    assert proc.returncode == 0, proc.stderr[-3000:] + logs
    # the bundle's own copy of llmspec graded it, not this checkout
    assert (work / "llmspec_path.txt").read_text().startswith("/autograder/venv/")
    return json.loads((work / "results.json").read_text())


def test_run_autograder_grades_a_correct_submission_at_full_marks(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "ch02.py").write_text(BOOK_STYLE.read_text())
    data = run_as_gradescope(tmp_path, sub / "ch02.py")
    assert data["score"] == 100 and data["extra_data"]["llmspec"]["status"] == "graded"
    assert sum(Decimal(str(t["max_score"])) for t in data["tests"]) == 100
    assert sum(Decimal(str(t["score"])) for t in data["tests"]) == 100
    assert all(t["status"] == "passed" for t in data["tests"])
    assert isinstance(data["execution_time"], float) and data["output"].startswith("Score: 100/100")


def test_run_autograder_writes_results_for_a_submission_that_exits_at_import(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "ch02.py").write_text(submission_text(HOSTILE / "exit_at_import.py", tmp_path))
    first = run_as_gradescope(tmp_path, sub / "ch02.py")  # the same container grading a second time:
    data = run_as_gradescope(tmp_path, sub / "ch02.py")  # a regrade, never an earlier run's report
    assert first == {**data, "execution_time": first["execution_time"]}
    assert data["score"] == 0 and data["tests"] and all(t["status"] == "failed" for t in data["tests"])
    assert "your code ended the process (`os._exit(0)`" in data["tests"][0]["output"]


def test_a_hidden_stage_stays_hidden_in_what_the_student_sees(tmp_path):
    """A buggy dataset stage marked hidden, strict form: read the autograder's results.json as
    Gradescope shows it to a student (tests/unit/grading/test_gradescope_view.py), before and after publication."""
    from report_audit import student_view

    sys.path.insert(0, str(VARIANTS))
    try:
        import make_buggy
    finally:
        sys.path.remove(str(VARIANTS))
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "ch02.py").write_text((make_buggy.ensure_generated() / "ds_stride_ignored.py").read_text())
    data = run_as_gradescope(tmp_path, sub / "ch02.py", config='[assignment]\nhidden_visibility = "hidden"\n'
                                                                '[stages.dataset]\nvisibility = "hidden"\n')
    stage = data["extra_data"]["llmspec"]["stages"]["dataset"]
    assert 0 < stage["score"] < 25 and 0 < data["score"] < 100  # both distinctive: 9.62 and 76.54 here
    before = student_view(data, due_date_passed=True)
    text = json.dumps(before, ensure_ascii=False)
    assert "score" not in before and str(data["score"]) not in text and f"{stage['score']}" not in text
    assert "Score:" not in before["output"] and not [t for t in before["tests"] if "dataset" in t["tags"]]
    published = student_view(data, published=True)
    assert published["score"] == data["score"]
    assert any(t["output"].startswith(f"Score: {data['score']}/100") for t in published["tests"])
