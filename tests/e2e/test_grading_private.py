"""A submission sees only itself: graded as root and as ``nobody``, the submissions of
``tests/e2e/hostile/private/`` (imports of the grader's packages by name and by path, reads of their
source, globs of the class and of the reports, a classmate's file copied at grading time, /proc,
the grading config, links to the grader's secrets, a classmate's file read by its bare name) earn
exactly what their own code earns and carry their flag; a folder submission reads its own small file;
an honest and a buggy file graded beside them keep their scores and carry none;
no secret of the grader (its environment, a root-only file, the config) reaches any report.
"""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hostile_corpus import HOSTILE, submission_text
from paths import VARIANTS
from test_sandbox_unprivileged import copy_project, open_tmp, user_python  # noqa: F401 (open_tmp: a fixture)

from llmspec.sandbox import isolation

PRIVATE = HOSTILE / "private"
SECRET = "SECRET-grader-4f1c9e"  # in the grader's environment, a file only it reads, the config
CONFIG = f"""# {SECRET}: hidden weights
[assignment]
name = "a submission sees only itself"
stages = ["tokenizer_v1"]
[limits]
call_timeout = 5
memory_mb = 400
[stages.tokenizer_v1]
points = 15
"""


def expected(path: Path) -> tuple[set[str], float]:
    text = path.read_text()
    flags = re.search(r"^# expect-flags:(.*)$", text, re.MULTILINE)
    score = re.search(r"^# expect-score:(.*)$", text, re.MULTILINE)
    return set(flags.group(1).split()) if flags else set(), float(score.group(1)) if score else 15.0


def build_class(root: Path, owner: tuple[int, int] | None) -> dict[str, tuple[set[str], float | None]]:
    """The class, the config and the secret file under ``root``; the expected flags and score of each."""
    cls, out = root / "class", root / "out"
    cls.mkdir()
    values = {"CLASS_DIR": cls, "REPORT_DIR": out, "CONFIG": root / "c.toml", "SECRET_FILE": root / "secret.txt"}
    (root / "c.toml").write_text(CONFIG)
    secret = root / "secret.txt"
    secret.write_text(SECRET + "\n")
    os.chmod(secret, 0o600)  # the grader's user alone may read it
    if owner:
        os.chown(secret, *owner)
    want = {"honest_good": (set(), 15.0), "honest_wrong": (set(), None)}  # None: short of full marks
    for name in ("honest_good.py", "honest_wrong.py"):
        shutil.copy(HOSTILE / name, cls / name)
    for path in sorted(PRIVATE.glob("*.py")):
        (cls / path.name).write_text(submission_text(path, root / "marker", **values))
        want[path.stem] = expected(path)
    links = cls / "links"
    links.mkdir()
    (links / "ch02.py").write_text(submission_text(PRIVATE / "links" / "ch02.py", root / "marker", **values))
    for name, target in (("environ.txt", "/proc/self/environ"), ("parent_environ.txt", f"/proc/{os.getpid()}/environ"),
                         ("secret.txt", secret), ("config.toml", root / "c.toml"), ("classmate.py", cls / "honest_good.py")):
        (links / name).symlink_to(target)
    want["links"] = expected(PRIVATE / "links" / "ch02.py")
    own = cls / "own_notes"  # a folder submission: its own notes.txt is copied where its code runs
    own.mkdir()
    (own / "ch02.py").write_text(submission_text(PRIVATE / "own_notes" / "ch02.py", root / "marker", **values))
    shutil.copy(PRIVATE / "own_notes" / "notes.txt", own / "notes.txt")
    want["own_notes"] = expected(PRIVATE / "own_notes" / "ch02.py")
    return want


def check_class(out: Path, want: dict[str, tuple[set[str], float | None]]) -> None:
    results = {p.parent.name: json.loads(p.read_text()) for p in out.glob("*/results.json")}
    assert set(results) == set(want)
    with open(out / "gradebook.csv", newline="") as f:
        rows = {r["submission"]: r for r in csv.DictReader(f)}
    for name, (flags, score) in want.items():
        r = results[name]
        if score is not None:
            assert r["score"] == score, (name, r["output"])
        else:
            assert 0 <= r["score"] < 15, (name, r["output"])
        seen = {f["kind"] for f in r.get("extra_data", {}).get("flags", [])}
        # what it was after is named (an import also opens the grader's directory: both may show)
        assert flags <= seen and bool(seen) == bool(flags), (name, r.get("extra_data"), r["output"][:600])
        assert set(rows[name]["flags"].split()) == seen, (name, rows[name])
        runners = (out / name / "classroom.env").read_text().splitlines()[0].partition("=")[2].split(",")
        assert ("attempts" in runners) == bool(flags), (name, runners)  # what a Classroom student reads
        if flags:
            assert "not allowed" in r["output"] or "links are not followed" in r["output"], r["output"]
    report = (out / "report.html").read_text()
    for name, (flags, _score) in want.items():
        if flags:
            assert f"{name}" in report and "flag" in report
    for path in out.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert SECRET.encode() not in data, path
            assert b"CI_DEPLOY_TOKEN" not in data, path


def test_as_root_a_submission_sees_only_itself(open_tmp):
    if not isolation.is_root():
        pytest.skip("the unprivileged run below covers a grader without root")
    want = build_class(open_tmp, None)
    env = dict(os.environ, CI_DEPLOY_TOKEN=SECRET, LLMSPEC_DATA=os.environ.get("LLMSPEC_DATA", "/work/shared/data"))
    proc = subprocess.run([sys.executable, "-m", "llmspec", "grade", str(open_tmp / "class"), "--out",
                           str(open_tmp / "out"), "--config", str(open_tmp / "c.toml"), "-q"],
                          cwd=open_tmp, env=env, text=True, capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    check_class(open_tmp / "out", want)


def test_as_nobody_a_submission_sees_only_itself(open_tmp):
    python = user_python()
    uid, gid = isolation.nobody_ids()
    root = open_tmp
    project = copy_project(root / "project")
    want = build_class(root, (uid, gid))
    home, out = root / "home", root / "out"
    home.mkdir()
    for d in (home, root / "class", root / "class" / "links"):
        os.chown(d, uid, gid, follow_symlinks=False)
    data = root / "data"
    shutil.copytree(Path(os.environ.get("LLMSPEC_DATA", "/work/shared/data")).resolve(), data)
    env = {"PATH": f"{python.parent}:/usr/bin:/bin", "HOME": str(home), "PYTHONPATH": str(project),
           "LLMSPEC_DATA": str(data), "LANG": "C.UTF-8", "CI_DEPLOY_TOKEN": SECRET,
           "PYTEST_PLUGINS": "llmspec.plugin"}
    out.mkdir()
    os.chown(out, uid, gid)
    proc = subprocess.run([str(python), "-m", "llmspec", "grade", str(root / "class"), "--out", str(out),
                           "--config", str(root / "c.toml"), "--jobs", "2", "-q"],
                          cwd=home, env=env, user=uid, group=gid, extra_groups=[], text=True,
                          capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    check_class(out, want)


def test_no_honest_submission_is_flagged(open_tmp):
    """The bug zoo, the partial submissions and the correct variants (a notebook among them),
    graded as one class: none carries a flag.  Each file is loaded whole (what it reads at import
    is seen); one stage's calls keep the run short (the corpus, graded on every stage by
    tests/suite/test_corpus.py, carries no flag either)."""
    sys.path.insert(0, str(VARIANTS))
    try:
        from manifest import variants
    finally:
        sys.path.pop(0)
    cls = open_tmp / "class"
    cls.mkdir()
    for v in variants():
        shutil.copy(v.path, cls / f"{v.kind}-{v.name}{v.path.suffix}")
    env = dict(os.environ, LLMSPEC_DATA=os.environ.get("LLMSPEC_DATA", "/work/shared/data"))
    (open_tmp / "c.toml").write_text(CONFIG)
    proc = subprocess.run([sys.executable, "-m", "llmspec", "grade", str(cls), "--out", str(open_tmp / "out"),
                           "--config", str(open_tmp / "c.toml"), "-q"],
                          cwd=open_tmp, env=env, text=True, capture_output=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(open_tmp / "out" / "gradebook.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(variants()) > 60
    assert [r["submission"] for r in rows if r["flags"]] == []
    correct = [r for r in rows if r["submission"].startswith("correct-")]
    assert correct and all(float(r["score"]) == float(r["max_score"]) == 15 for r in correct)
