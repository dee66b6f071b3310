"""Isolation primitives: limits, killing a whole run (daemons included), run dirs."""
from __future__ import annotations

import os
import resource
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from llmspec.sandbox import isolation, proctree

DAEMONIZE = textwrap.dedent("""
    import os, sys, time
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            print(os.getpid(), flush=True)
            while True: time.sleep(0.05)
        os._exit(0)
    time.sleep(1000)
""")


def test_kill_tree_finds_a_setsid_daemon_through_the_subreaper() -> None:
    assert proctree.set_child_subreaper()
    proc = subprocess.Popen([sys.executable, "-c", DAEMONIZE], stdout=subprocess.PIPE, start_new_session=True, text=True)
    daemon = int(proc.stdout.readline())
    time.sleep(0.2)  # the middle process has exited: the daemon is now our (adopted) child
    assert proctree.alive({daemon})
    killed = proctree.kill_tree(proc.pid, orphan_parent=os.getpid())
    proc.wait(timeout=5)
    assert {proc.pid, daemon} <= killed
    assert not proctree.alive({proc.pid, daemon})


def test_kill_tree_leaves_unrelated_children_alone() -> None:
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True)
    try:
        killed = proctree.kill_tree(victim.pid, orphan_parent=os.getpid(), exclude={bystander.pid})
        victim.wait(timeout=5)
        assert bystander.pid not in killed and bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_apply_limits_caps_address_space_relative_to_the_baseline() -> None:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: cap, then try to go over the cap
        try:
            applied = isolation.apply_limits(memory_mb=100, nofile=64, file_mb=1)
            try:
                blob = bytearray(300 * 1024 * 1024)
                verdict = f"allocated {len(blob)}"
            except MemoryError:
                verdict = "MemoryError"
            soft, _ = resource.getrlimit(resource.RLIMIT_AS)
            mb = 1024 * 1024
            base = applied["baseline_vm_mb"] + 100
            ok = base * mb <= soft < (base + 1) * mb and resource.getrlimit(resource.RLIMIT_NOFILE)[0] == 64
            os.write(w, f"{verdict} {ok} {applied['memory_mb']}".encode())
        finally:
            os._exit(0)
    os.close(w)
    answer = os.read(r, 200).decode()
    os.waitpid(pid, 0)
    assert answer == "MemoryError True 100"


def test_world_readable() -> None:
    assert isolation.world_readable("/etc/passwd")
    assert not isolation.world_readable("/definitely/not/here")


def test_run_dir_removal_never_follows_planted_symlinks(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.txt").write_text("x")
    run = isolation.make_run_dir(tmp_path)
    assert run.scratch.is_dir() and (run.scratch / "tmp").is_dir()
    (run.scratch / "link").symlink_to(precious)
    (run.scratch / "locked").mkdir()
    os.chmod(run.scratch / "locked", 0)
    isolation.remove_run_dir(run)
    assert not run.root.exists()
    assert (precious / "keep.txt").read_text() == "x"


def test_bind_points_keep_files_symlinks_and_drop_nested(tmp_path: Path) -> None:
    real = tmp_path / "real" / "venv"
    (real / "lib" / "site-packages").mkdir(parents=True)
    (real / "lib" / "stdlib.zip").write_bytes(b"")
    link = tmp_path / "venv-link"
    link.symlink_to(real)
    points = dict(isolation.bind_points([
        real / "lib" / "site-packages",   # nested in the prefix below: dropped
        real,
        real / "lib" / "stdlib.zip",      # a file keeps its directory (nested too)
        link,                             # kept under its own spelling, bound to the real dir
        tmp_path / "missing",             # nothing to keep
        "/usr/lib",                       # not under a world-writable directory: no mount needed
    ]))
    assert points == {str(real): str(real), str(link): str(real)}
