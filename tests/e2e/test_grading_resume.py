"""``llmspec grade`` run again on the same class: what it keeps, what it grades again, and what it
refuses to start on.  Only submissions that cannot run are graded here, so no suite runs."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def grade(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "llmspec", "grade", *args, "--jobs", "1", "-q"],
                          capture_output=True, text=True, timeout=300, cwd=cwd)


def reason(out: Path, name: str) -> str:
    return json.loads((out / name / "results.json").read_text())["extra_data"]["llmspec"]["reason"]


def test_a_changed_submission_is_graded_again_and_the_rest_kept(tmp_path: Path) -> None:
    cls, out = tmp_path / "class", tmp_path / "out"
    cls.mkdir()
    (cls / "alice.py").write_text("def broken(:\n")
    (cls / "bob.py").write_text("x = 1\ndef broken(:\n")
    first = grade(str(cls), "--out", str(out), cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "2 that could not run" in first.stdout and "0 unchanged" in first.stdout
    assert ":1:" in reason(out, "alice") and ":2:" in reason(out, "bob")
    bob_before = (out / "bob" / "results.json").read_text()
    again = grade(str(cls), "--out", str(out), cwd=tmp_path)
    assert "0 that could not run" in again.stdout and "2 unchanged since the last run" in again.stdout
    (cls / "alice.py").write_text("\n\ndef broken(:\n")  # a resubmission: the error moved to line 3
    third = grade(str(cls), "--out", str(out), cwd=tmp_path)
    assert "1 that could not run" in third.stdout and "1 unchanged since the last run" in third.stdout
    assert ":3:" in reason(out, "alice")
    assert (out / "bob" / "results.json").read_text() == bob_before


def test_nothing_to_grade_is_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for path, said in ((tmp_path / "no_such_class", "no such file or directory"),
                       (tmp_path / "empty", "no submission in")):
        proc = grade(str(path), "--out", str(tmp_path / "out"), cwd=tmp_path)
        assert proc.returncode == 2 and said in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
        assert not (tmp_path / "out").exists()
    # --single (Classroom, Gradescope): the student's missing file is graded 0, so the reporter runs
    proc = grade(str(tmp_path / "ch02.ipynb"), "--single", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "no such file" in reason(tmp_path / "out", "ch02")
