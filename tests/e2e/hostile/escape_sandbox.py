"""Tries to leave its scratch directory, at import and in its first call: writes a file into the
report directory, the grader's home, /tmp, /var/tmp and /dev/shm, and opens TCP connections to a
local listener through `socket`, `_socket` and a child interpreter (which also writes to /tmp).
Its tokenizer is honest, so it must earn exactly what honest_good.py earns, and nothing may arrive."""
# llmspec-honest-stages: tokenizer_v1
import os
import subprocess
import sys

TARGETS = ["@@MARKER_DIR@@", "@@REPORT_DIR@@", "@@HOME_DIR@@", "/tmp", "/var/tmp", "/dev/shm"]
PORT = int("@@PORT@@")
TAG = "llmspec-escaped-@@TAG@@"
CHILD = f"""
import _socket
open("/tmp/{TAG}-child-" + str(__import__("os").getpid()), "w").write("escaped")
s = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
s.settimeout(3)
s.connect(("127.0.0.1", {PORT}))
s.sendall(b"child")
"""


def _connect(module_name):
    mod = __import__(module_name)
    s = mod.socket(mod.AF_INET, mod.SOCK_STREAM)
    s.settimeout(3)
    try:
        s.connect(("127.0.0.1", PORT))
        s.sendall(module_name.encode())
    finally:
        s.close()


def _escape(when):
    for d in TARGETS:
        try:
            with open(os.path.join(d, f"{TAG}-{when}-{os.getpid()}"), "w") as f:
                f.write("escaped")
        except OSError:
            pass
    for name in ("socket", "_socket"):
        try:
            _connect(name)
        except OSError:
            pass
    try:
        subprocess.run([sys.executable, "-c", CHILD], capture_output=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        pass


_escape("import")

# @@HONEST_GOOD@@: the test pastes honest_good.py's tokenizer here

_honest_encode = SimpleTokenizerV1.encode
_done = []


def _encode(self, text):
    if not _done:
        _done.append(True)
        _escape("call")
    return _honest_encode(self, text)


SimpleTokenizerV1.encode = _encode
