"""The out-of-process adapter: same answers as in process, and hostile submissions stay contained.

Each hostile submission is written inline into ``tmp_path``; every test bounds its own time with
small budgets (``call_timeout`` of a few seconds) and checks ``/proc`` afterwards."""
from __future__ import annotations

import builtins
import os
import re
import textwrap
import time
from pathlib import Path

import pytest
import torch
from prerequisites import missing as prerequisite_missing

from llmspec.sandbox import proctree
from llmspec.errors import CallTimeout, HarnessError, ImplError, TargetError, WorkerDied
from llmspec.runtime.inprocess import InProcessAdapter
from llmspec.runtime.proxy import ProxyAdapter, shown_seconds

VOCAB = {"hello": 0, ",": 1, "world": 2, "!": 3}
HEADER = "import os, sys, time, threading, builtins\nimport torch\n"


@pytest.fixture
def as_root() -> None:
    """What only a grader running as root enforces (CI runs as root: there, its absence fails)."""
    if os.geteuid() != 0:
        prerequisite_missing("needs root: the worker drops privileges and mounts a private /tmp")


AS_ROOT = pytest.mark.usefixtures("as_root")


def submission(tmp_path: Path, body: str, name: str = "sub.py") -> str:
    path = tmp_path / name
    path.write_text(HEADER + textwrap.dedent(body))
    return str(path)


def gone(pid: int) -> bool:
    return not proctree.alive({pid})


@pytest.fixture
def proxies():
    made: list[ProxyAdapter] = []

    def make(target: str, **kw) -> ProxyAdapter:
        kw.setdefault("start", "fork")
        kw.setdefault("call_timeout", 10)
        kw.setdefault("load_timeout", 30)
        p = ProxyAdapter(target, **kw)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


def calls(adapter) -> dict:
    """A few calls across the stages; both adapters must answer them identically."""
    t = adapter.tokenizer_new(2, {**VOCAB, "<|unk|>": 4, "<|endoftext|>": 5})
    d = adapter.dataset_new("In the sunlit terraces of the palace", 4, 2)
    e = adapter.embeddings_new(50, 3, 4, seed=123)
    ids = torch.tensor([[1, 2, 3]])
    return {
        "enc": adapter.tokenizer_encode(t, "hello, world! xyz"),
        "enc_many": adapter.tokenizer_encode_many(t, ["hello, world!", "xyz", "hello"]),
        "dec_many": adapter.tokenizer_decode_many(t, [[0, 1, 2], [4]]),
        "enc_many_stops": adapter.tokenizer_encode_many(adapter.tokenizer_new(1, VOCAB), ["hello", "xyz", "world"]),
        "state": adapter.embeddings_state(e),
        "bpe": adapter.bpe_encode("Hello <|endoftext|> there", allowed_special="all"),
        "dlen": adapter.dataset_len(d),
        "items": adapter.dataset_items(d, [0, 1]),
        "fwd": adapter.embeddings_forward(e, ids),
        "bwd": adapter.embeddings_backward(e, ids, torch.ones(1, 3, 3)),
        "loader": adapter.dataloader_batches("In the sunlit terraces of the palace " * 3, 2, 4, 4, True, True, seed=7, max_batches=2),
        "workers": adapter.dataloader_batches("In the sunlit terraces of the palace", 2, 4, 4, False, True,
                                              num_workers=2, max_batches=0),
        "signature": adapter.dataloader_signature(),
    }


def assert_same(a: object, b: object) -> None:
    if isinstance(a, torch.Tensor):
        assert type(b) is torch.Tensor and a.dtype == b.dtype and torch.equal(a, b)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys()
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    else:
        assert a == b


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_proxy_answers_like_the_in_process_adapter_on_the_reference(proxies, start: str) -> None:
    proxy = proxies("reference", start=start, load_timeout=60)
    local = InProcessAdapter.from_target("reference")
    try:
        assert_same(calls(proxy), calls(local))
        assert proxy.describe()["names"] == local.describe()["names"]
    finally:
        local.close()
    with pytest.raises(ImplError) as exc:  # implementation errors cross as ImplError, is_a works
        proxy.tokenizer_encode(proxy.tokenizer_new(1, VOCAB), "unknown words")
    assert exc.value.is_a("KeyError")
    cmdline = Path(f"/proc/{proxy.worker_pid}/cmdline").read_bytes().split(b"\0")
    assert (b"llmspec.runtime.worker" in cmdline) == (start == "spawn")  # the start method asked for


def test_monkeypatching_at_import_changes_nothing_on_the_trusted_side(proxies, tmp_path: Path) -> None:
    target = submission(tmp_path, """
        import pytest
        torch.equal = lambda *a, **k: True
        torch.Tensor.__eq__ = lambda *a, **k: True
        builtins.sorted = lambda *a, **k: []
        builtins.print = lambda *a, **k: None
        pytest.approx = lambda *a, **k: None
        class SimpleTokenizerV1:
            def __init__(self, vocab): pass
            def encode(self, text): return [7, 7, 7]
            def decode(self, ids): return "patched"
        """)
    original_equal = torch.equal
    proxy = proxies(target)
    h = proxy.tokenizer_new(1, VOCAB)
    assert proxy.tokenizer_encode(h, "hello, world") == [7, 7, 7]  # the real (wrong) answer
    assert torch.equal is original_equal and builtins.sorted([2, 1]) == [1, 2]
    assert not torch.equal(torch.tensor([1]), torch.tensor([2]))
    assert "tokenizer_v2" in proxy.describe()["stages"]


def test_sabotaging_the_worker_protocol_is_a_clean_failure(tmp_path: Path) -> None:
    target = submission(tmp_path, "builtins.len = lambda x: 0\n")  # breaks the worker's own framing
    with pytest.raises(TargetError, match="invalid message"):
        ProxyAdapter(target, start="fork", load_timeout=20)


def test_os_exit_at_import_names_the_call_and_its_line(tmp_path: Path) -> None:
    target = submission(tmp_path, "os.write(2, b'12 passed')\nos._exit(0)\n")  # line 4: after the two of HEADER
    t0 = time.monotonic()
    with pytest.raises(TargetError) as exc:
        ProxyAdapter(target, start="fork", load_timeout=20)
    assert str(exc.value).startswith("your code ended the process (`os._exit(0)`, line 4)"), str(exc.value)
    assert "12 passed" in str(exc.value)  # its own last words, after the reason
    assert time.monotonic() - t0 < 15


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_hang_at_import_ends_within_the_load_budget_and_names_its_line(tmp_path: Path, start: str) -> None:
    target = submission(tmp_path, "x = 0\nwhile True:\n    x += 1\n")
    t0 = time.monotonic()
    with pytest.raises(TargetError, match="did not finish within 8 s") as exc:
        ProxyAdapter(target, start=start, load_timeout=8)
    assert time.monotonic() - t0 < 15
    # the dump may catch the loop on either of its two lines (HEADER is two lines, so lines 4 and 5)
    assert re.search(r"; your code was at line (4 \(`while True:`\)|5 \(`x \+= 1`\))", str(exc.value)), str(exc.value)


def test_the_workers_start_up_output_is_never_the_targets_last_words(tmp_path: Path, monkeypatch) -> None:
    """What the worker printed before the target started (torch's "Failed to initialize NumPy"
    warning at import, in a spawned worker) is not quoted as the reason a target failed."""
    (tmp_path / "startup").mkdir()  # a spawned interpreter runs sitecustomize first
    (tmp_path / "startup" / "sitecustomize.py").write_text(
        "import sys\nprint('UserWarning: Failed to initialize NumPy: _ARRAY_API not found', file=sys.stderr)\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path / "startup"), os.environ.get("PYTHONPATH", "")]))
    target = submission(tmp_path, "os.write(1, b'loading...')\nos._exit(0)\n")
    with pytest.raises(TargetError) as exc:
        ProxyAdapter(target, start="spawn", load_timeout=60)
    assert "loading..." in str(exc.value) and "NumPy" not in str(exc.value), str(exc.value)


def test_infinite_loop_times_out_then_the_worker_restarts(proxies, tmp_path: Path) -> None:
    target = submission(tmp_path, """
        class SimpleTokenizerV1:
            def __init__(self, vocab): self.vocab = vocab
            def encode(self, text):
                if text == "loop":
                    while True: pass
                return [self.vocab[w] for w in text.split()]
            def decode(self, ids): return ""
        """)
    proxy = proxies(target, call_timeout=2)
    h = proxy.tokenizer_new(1, VOCAB)
    first_pid = proxy.worker_pid
    t0 = time.monotonic()
    with pytest.raises(CallTimeout, match="did not answer within 2 s") as exc:
        proxy.tokenizer_encode(h, "loop")
    assert "; your code was at line 8 (`while True: pass`)" in str(exc.value), str(exc.value)
    assert time.monotonic() - t0 < 6
    assert gone(first_pid)
    with pytest.raises(HarnessError, match="restarted"):  # objects did not survive the restart
        proxy.tokenizer_encode(h, "hello world")
    h2 = proxy.tokenizer_new(1, VOCAB)
    assert proxy.tokenizer_encode(h2, "hello world") == [0, 2]
    assert proxy.worker_pid != first_pid


def test_submission_budget_caps_total_wall_clock(proxies, tmp_path: Path) -> None:
    target = submission(tmp_path, """
        class SimpleTokenizerV1:
            def __init__(self, vocab): pass
            def encode(self, text): time.sleep(float(text)); return []
            def decode(self, ids): return ""
        """)
    proxy = proxies(target, call_timeout=10, submission_timeout=4)
    h = proxy.tokenizer_new(1, VOCAB)
    assert proxy.tokenizer_encode(h, "1.5") == []
    t0 = time.monotonic()
    with pytest.raises(CallTimeout):
        proxy.tokenizer_encode(h, "30")
    assert time.monotonic() - t0 < 5
    with pytest.raises(CallTimeout, match="budget"):
        proxy.tokenizer_new(1, VOCAB)


def test_unbounded_memory_is_stopped_by_the_cap_and_reported(proxies, tmp_path: Path) -> None:
    target = submission(tmp_path, """
        class SimpleTokenizerV1:
            def __init__(self, vocab): self.vocab = vocab
            def encode(self, text):
                if text == "hog":
                    hoard = []
                    while True:
                        hoard.append(bytearray(50 * 1024 * 1024))
                return [self.vocab[w] for w in text.split()]
            def decode(self, ids): return ""
        """)
    proxy = proxies(target, memory_mb=300, call_timeout=20)
    h = proxy.tokenizer_new(1, VOCAB)
    with pytest.raises((ImplError, WorkerDied)) as exc:
        proxy.tokenizer_encode(h, "hog")
    assert "memory limit of 300 MB" in str(exc.value)
    h = proxy.tokenizer_new(1, VOCAB)  # the run continues
    assert proxy.tokenizer_encode(h, "hello world") == [0, 2]


def test_death_in_a_call_is_worker_died_with_reason_and_output(proxies, tmp_path: Path) -> None:
    target = submission(tmp_path, """
        class SimpleTokenizerV1:
            def __init__(self, vocab): self.vocab = vocab
            def encode(self, text):
                if text == "die":
                    print("about to leave", file=sys.stderr, flush=True)
                    os._exit(3)
                return [self.vocab[w] for w in text.split()]
            def decode(self, ids): return ""
        """)
    proxy = proxies(target)
    h = proxy.tokenizer_new(1, VOCAB)
    with pytest.raises(WorkerDied, match=r"your code ended the process \(`os._exit\(3\)`, line 9\) during tokenizer_encode") as exc:
        proxy.tokenizer_encode(h, "die")
    assert "about to leave" in str(exc.value)
    assert proxy.tokenizer_encode(proxy.tokenizer_new(1, VOCAB), "world") == [2]


def test_threads_and_setsid_daemons_do_not_outlive_close(tmp_path: Path) -> None:
    target = submission(tmp_path, """
        threading.Thread(target=lambda: time.sleep(1000), daemon=False).start()
        def spawn_daemon():
            r, w = os.pipe()
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    os.write(w, str(os.getpid()).encode()); os.close(w)
                    while True: time.sleep(0.05)
                os._exit(0)
            os.close(w)
            pid = int(os.read(r, 32)); os.close(r)
            return pid
        class SimpleTokenizerV1:
            def __init__(self, vocab): pass
            def encode(self, text): return [spawn_daemon(), threading.active_count()]
            def decode(self, ids): return ""
        """)
    proxy = ProxyAdapter(target, start="fork", call_timeout=10)
    worker = proxy.worker_pid
    daemon, threads = proxy.tokenizer_encode(proxy.tokenizer_new(1, VOCAB), "go")
    assert threads >= 2 and not gone(daemon)
    proxy.close()
    deadline = time.monotonic() + 5
    while not (gone(daemon) and gone(worker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(daemon) and gone(worker)
    with pytest.raises(HarnessError):
        proxy.describe()


def test_megabytes_of_output_and_fake_pass_lines_never_reach_the_grader(proxies, tmp_path: Path, capfd) -> None:
    target = submission(tmp_path, """
        print("===== 42 passed in 0.01s =====")
        sys.stdout.write("x" * (50 * 1024 * 1024))
        class SimpleTokenizerV1:
            def __init__(self, vocab): pass
            def encode(self, text):
                print("42 passed" * 1000000); os.write(1, b"FAKE 42 passed\\n")
                return [1]
            def decode(self, ids): return ""
        """)
    proxy = proxies(target)
    assert proxy.tokenizer_encode(proxy.tokenizer_new(1, VOCAB), "x") == [1]
    log = proxy._worker.run.log
    assert log.stat().st_size < 2 * proxy.limits["output_kb"] * 1024 + 4096
    out, err = capfd.readouterr()
    assert "passed" not in out and "passed" not in err


@AS_ROOT
def test_writes_outside_the_scratch_dir_are_refused(proxies, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    os.chmod(reports, 0o755)
    os.chmod(tmp_path, 0o755)
    escape = Path("/tmp") / f"llmspec-c2-escape-{os.getpid()}"
    target = submission(tmp_path, f"""
        def attempt(path):
            try:
                with open(path, "w") as f: f.write("{{\\"score\\": 100}}")
                return "written"
            except OSError as exc:
                return type(exc).__name__
        class SimpleTokenizerV1:
            def __init__(self, vocab): pass
            def encode(self, text): return []
            def decode(self, ids):
                return ",".join([attempt({str(reports / 'results.json')!r}), attempt({str(escape)!r}),
                                 attempt("local.txt")])
        """)
    proxy = proxies(target)
    answer = proxy.tokenizer_decode(proxy.tokenizer_new(1, VOCAB), [])
    from llmspec.sandbox import landlock

    # /tmp is a private, throw-away mount; with Landlock the write is refused outright as well
    assert answer == ("PermissionError,PermissionError,written" if landlock.abi_version()
                      else "PermissionError,written,written")
    assert not (reports / "results.json").exists()
    assert not escape.exists()
    assert proxy.worker_info["dropped"] and proxy.worker_info["uid"] != 0


@AS_ROOT
def test_network_is_unreachable_even_through_ctypes_free_paths(proxies, tmp_path: Path) -> None:
    target = submission(tmp_path, """
        import socket, _socket
        class SimpleTokenizerV1:
            def __init__(self, vocab): pass
            def encode(self, text): return []
            def decode(self, ids):
                s = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
                s.settimeout(2)
                try:
                    s.connect(("1.1.1.1", 80)); return "connected"
                except OSError as exc:
                    return type(exc).__name__
        """)
    proxy = proxies(target)
    assert proxy.tokenizer_decode(proxy.tokenizer_new(1, VOCAB), []) != "connected"
    assert proxy.worker_info["netns"]


def test_a_crashing_worker_reports_its_traceback(tmp_path: Path) -> None:
    target = submission(tmp_path, "builtins.isinstance = lambda *a: True\n")  # breaks the worker loop
    with pytest.raises(TargetError, match="own loop crashed") as exc:
        ProxyAdapter(target, start="fork", load_timeout=20)
    assert "llmspec worker crashed: " in str(exc.value)


def test_a_relative_target_path_means_the_callers_directory(tmp_path: Path, monkeypatch) -> None:
    """The worker runs in its own scratch directory, so ``--isolate --impl sub.py`` must resolve
    ``sub.py`` where the user typed it, not in the scratch directory."""
    from llmspec.runtime.connect import open_adapter

    submission(tmp_path, "class SimpleTokenizerV1:\n    def __init__(self, vocab): self.v = vocab\n"
                         "    def encode(self, text): return [self.v[w] for w in text.split()]\n")
    monkeypatch.chdir(tmp_path)
    proxy = open_adapter("sub.py", isolate=True, start="fork", load_timeout=30)
    try:
        assert proxy.tokenizer_encode(proxy.tokenizer_new(1, VOCAB), "hello world") == [0, 2]
    finally:
        proxy.close()


# --- the Python environment stays whole under the private /tmp --------------------------------------
LAZY_SUBMISSION = """
    import importlib.metadata
    class SimpleTokenizerV1:
        def __init__(self, vocab): pass
        def encode(self, text): return []
        def decode(self, ids):
            import llmspec_lazy_probe.extra  # first imported inside a call, after the mounts
            return llmspec_lazy_probe.extra.WORD + " " + importlib.metadata.version("llmspec-lazy-probe")
    """


def lazy_environment(root: Path) -> Path:
    """A site-packages directory under ``root`` holding a package nothing imported yet (with the
    dist-info ``importlib.metadata.version`` reads, as the book's first cell does for torch)."""
    site = root / "site-packages"
    (site / "llmspec_lazy_probe").mkdir(parents=True)
    (site / "llmspec_lazy_probe" / "__init__.py").write_text("")
    (site / "llmspec_lazy_probe" / "extra.py").write_text("WORD = 'reachable'\n")
    dist = site / "llmspec_lazy_probe-1.2.3.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: llmspec-lazy-probe\nVersion: 1.2.3\n")
    for path in [root, *root.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    return site


@AS_ROOT
@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_import_paths_under_tmp_stay_reachable_for_lazy_imports(proxies, tmp_path: Path, monkeypatch, start: str) -> None:
    site = lazy_environment(tmp_path / "env")
    assert str(site).startswith("/tmp/")
    monkeypatch.syspath_prepend(str(site))  # fork: the worker inherits sys.path
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))  # spawn
    (tmp_path / "sub").mkdir()  # apart from the environment: the target's directory is kept anyway
    proxy = proxies(submission(tmp_path / "sub", LAZY_SUBMISSION), start=start)
    assert proxy.tokenizer_decode(proxy.tokenizer_new(1, VOCAB), []) == "reachable 1.2.3"
    assert proxy.worker_info["private_tmp"] and proxy.worker_info["dropped"]


@AS_ROOT
def test_a_venv_under_tmp_keeps_its_modules_in_the_worker(tmp_path: Path) -> None:
    """``sys.prefix`` itself under /tmp: a venv (sharing this interpreter's packages) whose own
    site-packages holds the lazily imported package; the worker is started by the venv's python."""
    import subprocess
    import sys

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)], check=True)
    py = venv / "bin" / "python"
    venv_site = Path(subprocess.run([str(py), "-c", "import site; print(site.getsitepackages()[0])"],
                                    check=True, capture_output=True, text=True).stdout.strip())
    probe = lazy_environment(tmp_path / "probe")
    for entry in probe.iterdir():
        os.rename(entry, venv_site / entry.name)
    (tmp_path / "sub").mkdir()
    target = submission(tmp_path / "sub", LAZY_SUBMISSION)
    script = textwrap.dedent(f"""
        import sys
        from llmspec.runtime.proxy import ProxyAdapter
        p = ProxyAdapter({target!r}, start="spawn", call_timeout=10, load_timeout=60)
        try:
            print(sys.prefix.startswith("/tmp/"), p.worker_info["private_tmp"],
                  p.tokenizer_decode(p.tokenizer_new(1, {{"a": 0}}), []))
        finally:
            p.close()
        """)
    for path in [tmp_path, *tmp_path.rglob("*")]:
        if not path.is_symlink():
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
    done = subprocess.run([str(py), "-c", script], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "True True reachable 1.2.3", done.stderr[-3000:]


def test_the_project_root_holds_the_packages_a_spawned_worker_imports() -> None:
    """A spawned worker imports ``llmspec`` and ``reference`` from ``PROJECT_ROOT`` and keeps it
    reachable under its private /tmp (a CI clone may live there): it must be the checkout's root."""
    from llmspec.runtime import worker
    from llmspec.sandbox.readrules import PROJECT_ROOT

    assert (PROJECT_ROOT / "llmspec" / "runtime" / "worker.py").samefile(worker.__file__)
    assert (PROJECT_ROOT / "reference" / "__init__.py").is_file()


def test_a_release_needs_no_round_trip_and_reaches_the_worker_with_the_next_call(proxies, tmp_path: Path) -> None:
    target = submission(tmp_path, """
        FREED = []
        class SimpleTokenizerV1:
            def __init__(self, vocab):
                pass
            def encode(self, text):
                return [len(FREED)]
            def decode(self, ids):
                return ""
            def __del__(self):
                FREED.append(1)
    """)
    proxy = proxies(target)
    first, second = proxy.tokenizer_new(1, VOCAB), proxy.tokenizer_new(1, VOCAB)
    calls_before = proxy._next_id
    proxy.release(first)
    assert proxy._next_id == calls_before  # nothing was sent
    assert proxy.tokenizer_encode(second, "x") == [1]  # freed in the worker before this answer
    with pytest.raises(HarnessError, match="unknown handle"):
        proxy.tokenizer_encode(first, "x")


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_every_call_in_a_worker_starts_under_the_targets_conditions(proxies, tmp_path: Path, start: str) -> None:
    """Each call starts in the scratch directory, with an empty stdin, the network blocked and the
    target's directory first on sys.path, whatever the call before it changed, and a sibling module
    a call imports is dropped after it, as in process."""
    (tmp_path / "helpers.py").write_text("import builtins\nbuiltins.HELPER_RUNS = getattr(builtins, 'HELPER_RUNS', 0) + 1\n")
    target = submission(tmp_path, """
        import io, json, socket
        class SimpleTokenizerV1:
            def __init__(self, vocab): pass
            def encode(self, text): return []
            def decode(self, ids):
                try:
                    socket.getaddrinfo("example.com", 80)
                    net = "resolved"
                except OSError as exc:
                    net = type(exc).__name__
                fresh = "helpers" not in sys.modules
                import helpers
                seen = {"cwd": os.getcwd(), "verdict": os.path.isfile("the-verdict.txt"), "stdin": sys.stdin.read(),
                        "mpl": os.environ.get("MPLBACKEND"), "net": net, "path0": sys.path[0], "fresh": fresh,
                        "helper_runs": builtins.HELPER_RUNS}
                # what a careless (or wilful) call leaves behind
                from llmspec.sandbox import netblock
                os.chdir("/")
                sys.stdin = io.StringIO("typed ahead")
                os.environ["MPLBACKEND"] = "TkAgg"
                netblock._depth = 0
                sys.path.remove(sys.path[0])
                return json.dumps(seen)
        """)
    proxy = proxies(target, start=start)
    handle = proxy.tokenizer_new(1, VOCAB)
    import json

    first, second = (json.loads(proxy.tokenizer_decode(handle, [])) for _ in range(2))
    assert first["verdict"] and first["cwd"] != "/" and first["stdin"] == ""
    assert first["mpl"] == "Agg" and first["net"] == "NetworkBlocked" and first["path0"] == str(tmp_path)
    assert first["fresh"] and first["helper_runs"] == 1
    assert second == {**first, "helper_runs": 2}  # the same conditions; helpers was imported afresh


def test_every_operation_travels_as_one_message_with_the_adapters_parameter_names() -> None:
    """The proxy's side of the protocol (``llmspec.runtime.proxy._message``): each operation of
    the Adapter, and only those, as ``(op, kwargs)`` with exactly the Adapter's parameter names, so
    the worker can call the in-process adapter's method of that name with those keywords."""
    import inspect

    from llmspec.runtime.adapter import OPS, Adapter
    from llmspec.runtime.proxy import ProxyAdapter

    class Recorder(ProxyAdapter):
        def __init__(self):  # no worker: the messages are only recorded
            self._closed = True

        def _call(self, op, kwargs):
            return op, kwargs

    recorder = Recorder()
    for op in OPS:
        assert inspect.signature(getattr(ProxyAdapter, op)) == inspect.signature(getattr(Adapter, op)), op
        params = list(inspect.signature(getattr(Adapter, op)).parameters)[1:]
        args = [object() for _ in params]
        assert recorder.__getattribute__(op)(*args) == (op, dict(zip(params, args))), op
        assert recorder.__getattribute__(op)(**dict(zip(params, args))) == (op, dict(zip(params, args))), op
    # defaults filled in as the Adapter declares them; a wrong call fails as a Python call would
    assert recorder.bpe_encode("x") == ("bpe_encode", {"text": "x", "allowed_special": None,
                                                       "disallowed_special": None})
    assert recorder.dataset_new("t", 4, stride=2) == ("dataset_new", {"txt": "t", "max_length": 4, "stride": 2,
                                                                      "tokenizer": "gpt2"})
    with pytest.raises(TypeError):
        recorder.tokenizer_new(1)
    with pytest.raises(TypeError):
        recorder.tokenizer_decode(1, [2], 3)


def test_the_learners_own_worker_keeps_their_permissions(proxies, tmp_path: Path) -> None:
    """``sandbox=False`` (``llmspec check``'s worker): the limits and the containment of a worker,
    but the learner's own user, files and /tmp: no other user, no private mounts, no Landlock."""
    outside = tmp_path / "written-by-the-learner.txt"
    target = submission(tmp_path, f"""
        class SimpleTokenizerV1:
            def __init__(self, vocab): pass
            def encode(self, text): return []
            def decode(self, ids):
                with open({str(outside)!r}, "w") as f:
                    f.write("mine")
                return str(os.getuid())
        """)
    proxy = proxies(target, sandbox=False)
    assert proxy.tokenizer_decode(proxy.tokenizer_new(1, VOCAB), []) == str(os.getuid())
    assert outside.read_text() == "mine"
    info = proxy.worker_info
    assert not info["dropped"] and not info["private_tmp"] and not info["netns"] and "fs" not in info["landlock"]


def test_time_limits_are_shown_as_a_learner_reads_them() -> None:
    """A limit in whole or tenth seconds; a stage budget all but used up is never "within 0 s"."""
    assert [shown_seconds(x) for x in (120, 60.0, 2.5, 1.04)] == ["120", "60", "2.5", "1"]
    small = (0.5, 0.034, 0.0004, 0.00001, 0.999)
    assert [shown_seconds(x) for x in small] == ["0.5", "0.034", "0.0004", "0.00001", "1"]
