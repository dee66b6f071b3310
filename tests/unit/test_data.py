"""Data location (``llmspec.data``): the search order, sha256 verification, one clear message for
missing or corrupt data, ``llmspec data`` exit codes, and tiktoken working offline from the seeded
cache (also for plain ``tiktoken.get_encoding("gpt2")`` in a fresh process)."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from llmspec import data
from llmspec.commands import data as data_command
from llmspec.errors import DataError

# A child process in which any socket use fails at once: proof that tiktoken did not download.
OFFLINE_CHILD = """
import socket, sys
def refuse(*a, **k):
    raise OSError("network used")
socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
import tiktoken
enc = tiktoken.get_encoding("gpt2")
print(enc.encode("Akwirw ier"))
"""


def run_data_command(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    data_command.add_parser(parser.add_subparsers(), "data", "data")
    return data_command.run(parser.parse_args(["data", *argv]))


def test_locate_uses_llmspec_data(monkeypatch: pytest.MonkeyPatch, no_data_env: Path, data_copy: Path) -> None:
    monkeypatch.setenv(data.DATA_ENV, str(data_copy))
    files = data.locate()
    assert files == data.DataFiles(data_copy / "the-verdict.txt", data_copy / "gpt2/encoder.json",
                                   data_copy / "gpt2/vocab.bpe")
    assert len(data.read_verdict()) == 20479


def test_locate_falls_back_to_user_cache(no_data_env: Path, data_copy: Path) -> None:
    cached = no_data_env / "llmspec" / "data"
    cached.parent.mkdir(parents=True)
    data_copy.rename(cached)
    assert data.locate().verdict == cached / "the-verdict.txt"


def test_missing_data_is_one_clear_message(monkeypatch: pytest.MonkeyPatch, no_data_env: Path, tmp_path: Path) -> None:
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path / "empty"))
    with pytest.raises(DataError) as info:
        data.locate()
    message = str(info.value)
    for needle in ("the-verdict.txt", "gpt2/encoder.json", "gpt2/vocab.bpe", str(tmp_path / "empty"),
                   "LLMSPEC_DATA", "llmspec data fetch"):
        assert needle in message
    assert "\n" not in message


def test_corrupt_file_is_named(monkeypatch: pytest.MonkeyPatch, no_data_env: Path, data_copy: Path) -> None:
    bpe = data_copy / "gpt2" / "vocab.bpe"
    bpe.write_bytes(bpe.read_bytes()[:-1] + b"X")
    monkeypatch.setenv(data.DATA_ENV, str(data_copy))
    with pytest.raises(DataError, match=r"corrupt.*gpt2/vocab\.bpe") as info:
        data.locate()
    problem = str(info.value).split("fix:")[0]
    assert "the-verdict.txt" not in problem and "encoder.json" not in problem  # only the bad file is blamed


def test_data_status_exit_codes(monkeypatch: pytest.MonkeyPatch, no_data_env: Path, data_copy: Path,
                                capsys: pytest.CaptureFixture) -> None:
    assert run_data_command("status") == 3
    err = capsys.readouterr().err
    assert "llmspec data fetch" in err and "Traceback" not in err
    monkeypatch.setenv(data.DATA_ENV, str(data_copy))
    assert run_data_command("status") == 0
    assert run_data_command("path") == 0
    assert capsys.readouterr().out.strip().endswith(str(data_copy))


def test_ensure_tiktoken_cache_makes_gpt2_work_offline(monkeypatch: pytest.MonkeyPatch, data_copy: Path,
                                                       tmp_path: Path) -> None:
    cache = tmp_path / "tiktoken-cache"
    monkeypatch.setenv(data.DATA_ENV, str(data_copy))
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    assert data.ensure_tiktoken_cache() == cache
    names = sorted(p.name for p in cache.iterdir())
    assert names == sorted(data.tiktoken_cache_name(data.ORIGINS[f]) for f in data.TIKTOKEN_FILES)
    assert data.ensure_tiktoken_cache() == cache  # idempotent
    out = subprocess.run([sys.executable, "-c", OFFLINE_CHILD], capture_output=True, text=True,
                         env={**os.environ, "TIKTOKEN_CACHE_DIR": str(cache)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[33901, 86, 343, 86, 220, 959]"


def test_ensure_tiktoken_cache_sets_default_dir_for_children(no_data_env: Path, data_copy: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(data.DATA_ENV, str(data_copy))
    cache = data.ensure_tiktoken_cache()
    assert cache == no_data_env / "llmspec" / "tiktoken"
    assert os.environ["TIKTOKEN_CACHE_DIR"] == str(cache)


def test_concurrent_cache_seeding_is_safe(data_copy: Path, tmp_path: Path) -> None:
    cache = tmp_path / "shared-cache"
    env = {**os.environ, data.DATA_ENV: str(data_copy), "TIKTOKEN_CACHE_DIR": str(cache)}
    code = "from llmspec.data import ensure_tiktoken_cache as e\nfor _ in range(20): e()"
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env) for _ in range(2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    assert len(list(cache.iterdir())) == 2  # no temp files left behind
    for name in data.TIKTOKEN_FILES:
        assert data.sha256_file(cache / data.tiktoken_cache_name(data.ORIGINS[name])) == data.EXPECTED[name]


def test_corrupt_tiktoken_cache_entry_is_replaced(monkeypatch: pytest.MonkeyPatch, data_copy: Path,
                                                  tmp_path: Path) -> None:
    cache = tmp_path / "tc"
    cache.mkdir()
    target = cache / data.tiktoken_cache_name(data.ORIGINS["gpt2/vocab.bpe"])
    target.write_bytes(b"not the merges")
    monkeypatch.setenv(data.DATA_ENV, str(data_copy))
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    data.ensure_tiktoken_cache()
    assert data.sha256_file(target) == data.EXPECTED["gpt2/vocab.bpe"]


def test_fetch_offline_is_a_data_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("no network in this test")

    monkeypatch.setattr(data.urllib.request, "urlopen", refuse)
    with pytest.raises(DataError, match="could not download the-verdict.txt"):
        data.fetch(tmp_path / "dest")


def test_fetch_skips_files_already_verified(monkeypatch: pytest.MonkeyPatch, data_copy: Path) -> None:
    monkeypatch.setattr(data.urllib.request, "urlopen", lambda *a, **k: pytest.fail("downloaded anyway"))
    assert data.fetch(data_copy).vocab_bpe == data_copy / "gpt2/vocab.bpe"


def test_cli_data_status_exit_code(no_data_env: Path, tmp_path: Path) -> None:
    """Through the real console entry (``python -m llmspec``): exit 3, one fix line, no traceback."""
    env = {**os.environ, data.DATA_ENV: str(tmp_path / "nowhere")}
    out = subprocess.run([sys.executable, "-m", "llmspec", "data", "status"], capture_output=True, text=True, env=env)
    assert out.returncode == 3
    assert "MISSING" in out.stdout and "llmspec data fetch" in out.stderr and "Traceback" not in out.stderr
