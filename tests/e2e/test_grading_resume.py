"""``llmspec grade`` run again on the same class: what it keeps, what it grades again, and what it
refuses to start on; and the names a student reads.  Only submissions that cannot load are graded
here, so no test reaches submission code."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path


def grade(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "llmspec", "grade", *args, "--jobs", "1", "-q"],
                          capture_output=True, text=True, timeout=300, cwd=cwd, env=env)


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


def test_students_read_their_own_file_names(tmp_path: Path) -> None:
    """Feedback names a file as the student did, whether it came as a file or inside a zip, and even
    when the grader's temporary folder is reached through a link (as macOS's is)."""
    cls, real = tmp_path / "class", tmp_path / "real-tmp"
    cls.mkdir()
    real.mkdir()
    (tmp_path / "tmp").symlink_to(real)
    code = "raise RuntimeError('loaded from ' + __file__)\n"
    (cls / "eve.py").write_text(code)
    with zipfile.ZipFile(cls / "carol.zip", "w") as zf:
        zf.writestr("ch02.py", code)
    proc = grade(str(cls), "--out", str(tmp_path / "out"), cwd=tmp_path,
                 env=dict(os.environ, TMPDIR=str(tmp_path / "tmp")))
    assert proc.returncode == 0, proc.stderr[-2000:]
    for name, file in (("eve", "eve.py"), ("carol", "ch02.py")):
        said = json.loads((tmp_path / "out" / name / "results.json").read_text())["output"]
        assert f"loaded from {file}" in said and str(real) not in said and "llmspec-grade-" not in said, said
