"""Downloads of the book's own files are answered from the verified copy; every other address fails fast.

Listing 2.1 fetches ``the-verdict.txt`` with ``urllib.request.urlretrieve`` (the book repository's
ch02 notebook now uses ``requests.get``); the bonus byte-pair notebooks fetch GPT-2's
``encoder.json`` and ``vocab.bpe``.  These tests run such code in process (through the target
loader, as ``llmspec check`` does) and in the isolated worker (which as root has no network at all).
"""
from __future__ import annotations

import hashlib
import textwrap
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from llmspec import data
from llmspec.runtime import target as target_mod
from llmspec.runtime.proxy import ProxyAdapter
from llmspec.sandbox import netblock

VERDICT_URL = data.ORIGINS["the-verdict.txt"]
BOOK_URLS = {
    VERDICT_URL: "the-verdict.txt",
    VERDICT_URL.replace("/main/", "/refs/heads/main/"): "the-verdict.txt",
    "https://raw.githubusercontent.com/rasbt/LLMs-from-scratch/some-branch/ch02/the-verdict.txt": "the-verdict.txt",
    "http://raw.githubusercontent.com/rasbt/llms-from-scratch/main/ch02/01_main-chapter-code/the-verdict.txt":
        "the-verdict.txt",
    "https://github.com/rasbt/LLMs-from-scratch/raw/main/ch02/01_main-chapter-code/the-verdict.txt": "the-verdict.txt",
    "https://github.com/rasbt/LLMs-from-scratch/blob/main/ch02/01_main-chapter-code/the-verdict.txt?raw=true":
        "the-verdict.txt",
    data.ORIGINS["gpt2/encoder.json"]: "gpt2/encoder.json",
    data.ORIGINS["gpt2/vocab.bpe"]: "gpt2/vocab.bpe",
    "https://openaipublic.blob.core.windows.net/gpt-2/models/117M/encoder.json": "gpt2/encoder.json",
    "https://openaipublic.blob.core.windows.net/gpt-2/models/124M/vocab.bpe": "gpt2/vocab.bpe",
}
OTHER_URLS = [
    "https://example.com/the-verdict.txt",
    "https://raw.githubusercontent.com/someone-else/LLMs-from-scratch/main/the-verdict.txt",
    "https://raw.githubusercontent.com/rasbt/LLMs-from-scratch/main/ch02/01_main-chapter-code/ch02.ipynb",
    "https://github.com/rasbt/LLMs-from-scratch/blob/main/ch02/01_main-chapter-code/the-verdict.txt",  # HTML page
    "https://openaipublic.blob.core.windows.net/gpt-2/models/124M/model.ckpt.index",
    "ftp://raw.githubusercontent.com/rasbt/LLMs-from-scratch/main/the-verdict.txt",
]


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


@pytest.mark.parametrize("url", sorted(BOOK_URLS))
def test_book_urls_are_recognised(url: str) -> None:
    assert netblock.book_file_for(url) == BOOK_URLS[url]


@pytest.mark.parametrize("url", OTHER_URLS)
def test_other_urls_are_not(url: str) -> None:
    assert netblock.book_file_for(url) is None


def test_urllib_answers_book_files_only_while_blocked(tmp_path: Path) -> None:
    with netblock.blocked():
        path, headers = urllib.request.urlretrieve(VERDICT_URL, tmp_path / "the-verdict.txt")
        assert sha(Path(path).read_bytes()) == data.EXPECTED["the-verdict.txt"]
        assert int(headers["Content-Length"]) == Path(path).stat().st_size
        with urllib.request.urlopen(data.ORIGINS["gpt2/vocab.bpe"], timeout=5) as resp:
            assert resp.status == 200 and sha(resp.read()) == data.EXPECTED["gpt2/vocab.bpe"]
        opener = urllib.request.build_opener()  # a learner's own opener is answered too
        assert sha(opener.open(VERDICT_URL).read()) == data.EXPECTED["the-verdict.txt"]
        # refused by the block itself: a real attempt would fail otherwise (no route, a timeout)
        with pytest.raises(urllib.error.URLError, match="network access is blocked"):
            urllib.request.urlopen("https://example.com/the-verdict.txt", timeout=5)
    assert not netblock.is_blocked()


def test_requests_answers_book_files_in_every_reading_style() -> None:
    import requests  # a dependency of tiktoken, so always installed beside it
    with netblock.blocked():
        resp = requests.get(VERDICT_URL, timeout=30)
        resp.raise_for_status()
        assert sha(resp.content) == data.EXPECTED["the-verdict.txt"]
        assert resp.text == data.read_verdict() and resp.encoding == "utf-8"
        stream = requests.get("https://openaipublic.blob.core.windows.net/gpt-2/models/117M/encoder.json", stream=True)
        body = b"".join(stream.iter_content(chunk_size=1000))
        assert int(stream.headers["content-length"]) == len(body)
        assert sha(body) == data.EXPECTED["gpt2/encoder.json"]
        with pytest.raises(requests.exceptions.ConnectionError, match="network access is blocked"):
            requests.get("https://example.com/x", timeout=30)


IMPORT_TIME_DOWNLOADS = """
    import os, urllib.request
    URL = ("https://raw.githubusercontent.com/rasbt/LLMs-from-scratch/main/ch02/"
           "01_main-chapter-code/the-verdict.txt")
    os.remove("the-verdict.txt")  # the scratch copy: make the download below do the work
    urllib.request.urlretrieve(URL, "the-verdict.txt")
    with open("the-verdict.txt", encoding="utf-8") as f:
        raw_text = f.read()
    import requests
    TEXT = requests.get(URL.replace("/main/", "/refs/heads/main/"), timeout=30).text

    class SimpleTokenizerV1:
        def __init__(self, vocab): pass
        def encode(self, text): return []
        def decode(self, ids):
            return f"{len(raw_text)} {TEXT == raw_text} " + urllib.request.urlopen(URL).read()[:8].decode()
    """


def test_import_time_downloads_load_in_process(tmp_path: Path) -> None:
    (tmp_path / "sub.py").write_text(textwrap.dedent(IMPORT_TIME_DOWNLOADS))
    loaded = target_mod.load(target_mod.resolve(str(tmp_path / "sub.py")))
    try:
        with loaded.running():
            tok = loaded.namespace["SimpleTokenizerV1"]({})
            assert tok.decode([]) == "20479 True I HAD al"
    finally:
        loaded.close()


def test_import_time_downloads_load_in_the_isolated_worker(tmp_path: Path) -> None:
    (tmp_path / "sub.py").write_text(textwrap.dedent(IMPORT_TIME_DOWNLOADS))
    proxy = ProxyAdapter(str(tmp_path / "sub.py"), start="fork", call_timeout=10, load_timeout=30)
    try:
        assert proxy.tokenizer_decode(proxy.tokenizer_new(1, {"a": 0}), []) == "20479 True I HAD al"
    finally:
        proxy.close()


def test_downloads_in_the_worker_are_served_from_the_user_cache_under_tmp(tmp_path: Path, monkeypatch) -> None:
    """No ``$LLMSPEC_DATA``: the data is found in the user cache (here under /tmp, which the worker
    replaces by a private mount as root) and must still answer the download."""
    cache = tmp_path / "xdg"
    for name in data.EXPECTED:
        (cache / "llmspec" / "data" / name).parent.mkdir(parents=True, exist_ok=True)
        (cache / "llmspec" / "data" / name).write_bytes((Path(data.locate().verdict).parent / name).read_bytes())
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "sub.py").write_text(textwrap.dedent(IMPORT_TIME_DOWNLOADS))
    proxy = ProxyAdapter(str(tmp_path / "sub" / "sub.py"), start="spawn", call_timeout=10, load_timeout=60)
    try:
        assert proxy.tokenizer_decode(proxy.tokenizer_new(1, {"a": 0}), []) == "20479 True I HAD al"
    finally:
        proxy.close()
