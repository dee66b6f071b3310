"""The Landlock rules on their own: a forked process restricts itself, then tries what a hostile
submission would.  Landlock needs no privileges, so this runs as any user."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from prerequisites import missing as prerequisite_missing

from llmspec.sandbox import landlock


def in_sandbox(scratch: Path, attempts) -> dict:
    """Run ``attempts()`` in a forked child after ``landlock.restrict([scratch])``; its dict back."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(r)
        try:
            info = landlock.restrict([str(scratch)])
            out = {"info": info, **attempts()}
        except BaseException as exc:  # noqa: BLE001
            out = {"crash": repr(exc)}
        os.write(w, json.dumps(out).encode())
        os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    return json.loads(data)


def test_writes_stay_in_scratch_and_tcp_is_refused_for_children_too(tmp_path):
    abi = landlock.abi_version()
    if abi < 4:
        prerequisite_missing(f"this kernel's Landlock ABI is {abi}",
                             ci_must=f"CI's kernel must offer Landlock ABI >= 4 (it offers {abi})")
    scratch, outside = tmp_path / "scratch", tmp_path / "outside"
    scratch.mkdir()
    outside.mkdir()
    (outside / "old.txt").write_text("keep")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]

    def attempts() -> dict:
        def write(path):
            try:
                with open(path, "w") as f:
                    f.write("x")
                return "written"
            except OSError as exc:
                return exc.strerror

        def connect():
            s = socket.socket()
            s.settimeout(2)
            try:
                s.connect(("127.0.0.1", port))
                return "connected"
            except OSError as exc:
                return exc.strerror
            finally:
                s.close()

        child = subprocess.run([sys.executable, "-c", f"import _socket; s = _socket.socket(); "
                                f"s.connect(('127.0.0.1', {port}))"], capture_output=True, text=True)
        with open(scratch / "sub.txt", "w") as f:
            f.write("fine")
        os.rename(scratch / "sub.txt", scratch / "moved.txt")
        return {"scratch": write(scratch / "a.txt"), "outside": write(outside / "b.txt"),
                "truncate": write(outside / "old.txt"), "devnull": write(os.devnull),
                "tcp": connect(), "child": child.returncode, "child_err": child.stderr[-200:],
                "reads": (outside / "old.txt").read_text()}

    got = in_sandbox(scratch, attempts)
    assert "crash" not in got, got
    assert got["info"]["abi"] == abi and got["info"]["tcp"] and got["info"]["writable"] == [str(scratch)]
    assert got["scratch"] == "written" and got["devnull"] == "written" and got["reads"] == "keep"
    assert got["outside"] == "Permission denied" and got["truncate"] == "Permission denied"
    assert got["tcp"] == "Permission denied"
    assert got["child"] != 0 and "PermissionError" in got["child_err"]
    with pytest.raises(OSError):  # nothing arrived
        listener.accept()
    listener.close()
    assert sorted(p.name for p in outside.iterdir()) == ["old.txt"] and (outside / "old.txt").read_text() == "keep"
    assert (scratch / "moved.txt").read_text() == "fine"


def test_what_is_not_enforced_is_said_in_one_line():
    assert landlock.coverage(root=True, abi=7) is None
    # root without Landlock: reads and the network rest on namespaces the kernel may refuse; said once
    assert "no Landlock" in landlock.coverage(root=True, abi=0)
    assert landlock.coverage(root=False, abi=7) is None
    assert "cannot block TCP" in landlock.coverage(root=False, abi=3)
    assert "NOT enforced" in landlock.coverage(root=False, abi=0)
