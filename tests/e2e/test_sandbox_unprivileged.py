"""A grading run by an unprivileged user (``nobody``) is sandboxed by the kernel (Landlock): a hostile
submission that writes to the report directory, the grader's home, /tmp, /var/tmp and /dev/shm and
connects to a local listener through ``socket``, ``_socket`` and a child interpreter leaves no trace
and gets no connection through, and its honest tokenizer still earns its points.

It needs an interpreter other users can run (this machine's default one lives under /root):
``scripts/user_venv.sh`` builds one at ``/opt/llmspec-venv`` (``LLMSPEC_USER_VENV``); ``.ci/run``
does so before the tests.  Outside CI the test is skipped when that environment is absent; under
``CI=true`` its absence is a failure.  The grader runs from a copy of the project readable by
``nobody`` (and a copy of the book's data), so the checkout's own permissions do not matter.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest
from prerequisites import missing as prerequisite_missing
from hostile_corpus import HOSTILE, submission_text

from llmspec.sandbox import isolation, landlock

from paths import ROOT
VENV = Path(os.environ.get("LLMSPEC_USER_VENV", "/opt/llmspec-venv"))
CONFIG = """
[assignment]
name = "unprivileged sandbox"
stages = ["tokenizer_v1"]
[limits]
call_timeout = 10
memory_mb = 400
[stages.tokenizer_v1]
points = 15
"""


def user_python() -> Path:
    python = VENV / "bin" / "python"
    missing = None
    if not isolation.is_root():
        missing = "this test switches to the user nobody, which needs root"
    elif not python.exists():
        missing = f"{python} is missing (build it with scripts/user_venv.sh)"
    if missing:
        prerequisite_missing(missing, ci_must=f"CI must grade as an unprivileged user: {missing}")
    return python


class Listener:
    """A TCP listener on 127.0.0.1 counting every connection that arrives."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.arrived: list[bytes] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            conn.settimeout(1)
            try:
                self.arrived.append(conn.recv(64) or b"(connected)")
            except OSError:
                self.arrived.append(b"(connected)")
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


def copy_project(dest: Path) -> Path:
    ignore = shutil.ignore_patterns(".git", "__pycache__", "*.egg-info", "artifacts", "buggy", ".hypothesis")
    for name in ("llmspec", "reference", "spec_tests", "fixtures"):
        shutil.copytree(ROOT / name, dest / name, ignore=ignore)
    return dest


@pytest.fixture
def open_tmp():
    """A directory nobody can reach (pytest's own tmp_path lives under a 0700 directory)."""
    root = Path(tempfile.mkdtemp(prefix="llmspec-unpriv-"))
    os.chmod(root, 0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_an_unprivileged_grader_contains_every_escape(open_tmp):
    python = user_python()
    uid, gid = isolation.nobody_ids()
    root = open_tmp
    project = copy_project(root / "project")
    home, out, cls, marker = root / "home", root / "out", root / "class", root / "marker"
    for d in (home, out, cls, marker):
        d.mkdir()
        os.chown(d, uid, gid)
    tag = f"unpriv{os.getpid()}"
    listener = Listener()
    try:
        values = {"REPORT_DIR": out, "HOME_DIR": home, "PORT": listener.port, "TAG": tag}
        (cls / "escape_sandbox.py").write_text(submission_text(HOSTILE / "escape_sandbox.py", marker, **values))
        (cls / "honest_good.py").write_text((HOSTILE / "honest_good.py").read_text())
        (root / "c.toml").write_text(CONFIG)
        data = root / "data"  # a copy: the checkout's data may sit where nobody cannot read
        shutil.copytree(Path(os.environ.get("LLMSPEC_DATA", "/work/shared/data")).resolve(), data)
        os.chmod(data, 0o755)
        env = {"PATH": f"{python.parent}:/usr/bin:/bin", "HOME": str(home), "PYTHONPATH": str(project),
               "LLMSPEC_DATA": str(data), "LANG": "C.UTF-8",
               "PYTEST_PLUGINS": "llmspec.plugin"}  # the copy is not installed: no entry point
        proc = subprocess.run([str(python), "-m", "llmspec", "grade", str(cls), "--out", str(out),
                               "--config", str(root / "c.toml"), "--jobs", "2", "-q"],
                              cwd=home, env=env, user=uid, group=gid, extra_groups=[], text=True,
                              capture_output=True, timeout=300)
    finally:
        listener.close()
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    results = {p.parent.name: json.loads(p.read_text()) for p in out.glob("*/results.json")}
    assert results["honest_good"]["score"] == 15
    abi = landlock.abi_version()
    if abi < 4:  # no kernel sandbox for TCP here: the grader must say so, once
        assert proc.stderr.count("sandbox:") == 1, proc.stderr
        prerequisite_missing(f"this kernel's Landlock ABI is {abi}: writes and TCP cannot both be confined",
                             xfail=True)
    assert "sandbox:" not in proc.stderr
    assert results["escape_sandbox"]["score"] == 15  # its honest tokenizer, nothing more, nothing less
    assert listener.arrived == []
    # os.walk: it follows no link (a test's link to "/" or to its own parent would send a search
    # that follows them through the whole file system) and skips what other runs remove meanwhile
    escaped = [os.path.join(top, name) for d in (out, home, marker, "/tmp", "/var/tmp", "/dev/shm")
               for top, _dirs, files in os.walk(d) for name in files if name.startswith(f"llmspec-escaped-{tag}")]
    assert escaped == []


LOADER_AT_IMPORT = """
import torch
from torch.utils.data import DataLoader

loader = DataLoader(torch.arange(16), batch_size=4, num_workers=2)
first = next(iter(loader))
"""


def test_a_dataloader_with_workers_is_told_what_the_unprivileged_sandbox_forbids(open_tmp):
    """Without root the system's /dev/shm is shared, so it stays closed to the submission: a loader
    with ``num_workers=2`` fails, and the learner reads why and what to change (not a bare
    PermissionError)."""
    python = user_python()
    if landlock.abi_version() < 1:
        prerequisite_missing("this kernel offers no Landlock: nothing confines an unprivileged worker")
    uid, gid = isolation.nobody_ids()
    root = open_tmp
    project = copy_project(root / "project")
    home, sub = root / "home", root / "sub"
    for d in (home, sub):
        d.mkdir()
        os.chown(d, uid, gid)
    (sub / "workers.py").write_text(LOADER_AT_IMPORT)
    data = root / "data"
    shutil.copytree(Path(os.environ.get("LLMSPEC_DATA", "/work/shared/data")).resolve(), data)
    os.chmod(data, 0o755)
    env = {"PATH": f"{python.parent}:/usr/bin:/bin", "HOME": str(home), "PYTHONPATH": str(project),
           "LLMSPEC_DATA": str(data), "LANG": "C.UTF-8", "PYTEST_PLUGINS": "llmspec.plugin"}
    proc = subprocess.run([str(python), "-m", "llmspec", "check", "--isolate", str(sub / "workers.py")],
                          cwd=home, env=env, user=uid, group=gid, extra_groups=[], text=True,
                          capture_output=True, timeout=300)
    said = proc.stdout + proc.stderr
    assert proc.returncode != 0, said
    assert "PermissionError" in said and "runs confined here" in said and "num_workers=0" in said, said
