"""Answer downloads of the book's own files from the verified local copy while the network is blocked.

Chapter 2 code fetches its data at import time: Listing 2.1's
``urllib.request.urlretrieve(url, "the-verdict.txt")`` (in the book repository's notebook today
``requests.get(url, timeout=30)``), and the bonus byte-pair notebooks fetch GPT-2's ``encoder.json``
and ``vocab.bpe``.  Under llmspec the network is blocked (:mod:`llmspec.sandbox.netblock`; as root the
worker even has no network interfaces), so such a file would fail to load although llmspec holds the
very same bytes, checked by sha256 (:mod:`llmspec.data`).  While :func:`netblock.blocked` is active,
a request through ``urllib.request`` (``urlopen``, ``urlretrieve``, any opener) or ``requests`` for
one of those files is answered from that copy inside the process; every other address still goes
to the network and fails fast.

Which addresses count (see :func:`book_file_for`): ``the-verdict.txt`` anywhere in the book
repository ``rasbt/LLMs-from-scratch`` (raw.githubusercontent.com in any branch form, or github.com's
``/raw/`` and ``?raw=true`` forms), and ``encoder.json`` / ``vocab.bpe`` under GPT-2's public
``openaipublic.blob.core.windows.net/gpt-2/`` origin (``encodings/main/``, which tiktoken uses, and
``models/<size>/``, which the book's bonus notebooks use).

Like the block itself this is a convenience for honest code, not a security boundary: it patches
``urllib.request.AbstractHTTPHandler.do_open`` and ``requests.adapters.HTTPAdapter.send`` (the
latter when ``requests`` is imported, by a :data:`sys.meta_path` hook, so code that never imports
``requests`` does not pay for it).  Outside a blocked block both behave exactly as before.
"""
from __future__ import annotations

import email.message
import importlib.abc
import importlib.machinery
import io
import re
import sys
import urllib.parse
import urllib.request
import urllib.response
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

BOOK_REPO = "rasbt/llms-from-scratch"  # compared case-insensitively, as GitHub does
GPT2_HOST = "openaipublic.blob.core.windows.net"
_GPT2_PATH = re.compile(r"/gpt-2/(?:encodings/main|models/[^/]+)/(encoder\.json|vocab\.bpe)")
CONTENT_TYPES = {
    "the-verdict.txt": "text/plain; charset=utf-8",
    "gpt2/encoder.json": "application/json",
    "gpt2/vocab.bpe": "application/octet-stream",
}

_installed = False
_is_active: Callable[[], bool] = lambda: False  # noqa: E731  (set by install)


def book_file_for(url: str) -> str | None:
    """The :data:`llmspec.data.EXPECTED` name ``url`` downloads, or None if it is not a book file."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https"):
        return None
    host = (parts.hostname or "").lower()
    path = urllib.parse.unquote(parts.path)
    if host == GPT2_HOST:
        m = _GPT2_PATH.fullmatch(path)
        return f"gpt2/{m.group(1)}" if m else None
    if not path.endswith("/the-verdict.txt"):
        return None
    segments = [s for s in path.split("/") if s]
    if len(segments) < 4 or "/".join(segments[:2]).lower() != BOOK_REPO:
        return None
    if host == "raw.githubusercontent.com":  # /owner/repo/<branch or refs/heads/branch>/.../file
        return "the-verdict.txt"
    if host in ("github.com", "www.github.com"):  # /owner/repo/raw/<ref>/... or blob/<ref>/...?raw=true
        raw_query = "raw=true" in parts.query.lower()
        if segments[2] == "raw" or (segments[2] == "blob" and raw_query):
            return "the-verdict.txt"
    return None


def local_bytes(name: str) -> bytes:
    """The verified bytes of book file ``name`` (raises :class:`~llmspec.errors.DataError`)."""
    from llmspec import data

    return data.locate().path_of(name).read_bytes()


def _headers(name: str, size: int) -> dict[str, str]:
    return {"Content-Type": CONTENT_TYPES[name], "Content-Length": str(size)}


# --- urllib.request ------------------------------------------------------------------------------
def _urllib_response(req: urllib.request.Request, name: str) -> urllib.response.addinfourl:
    body = local_bytes(name)
    headers = email.message.Message()
    for key, value in _headers(name, len(body)).items():
        headers[key] = value
    resp = urllib.response.addinfourl(io.BytesIO(body), headers, req.full_url, code=200)
    resp.msg = "OK"  # type: ignore[attr-defined]  (what http.client responses carry)
    return resp


def _patch_urllib() -> None:
    original = urllib.request.AbstractHTTPHandler.do_open

    def do_open(self: Any, http_class: Any, req: urllib.request.Request, **kwargs: Any) -> Any:
        name = book_file_for(req.full_url) if _is_active() else None
        if name is not None:
            return _urllib_response(req, name)
        return original(self, http_class, req, **kwargs)

    do_open.__wrapped__ = original  # type: ignore[attr-defined]
    urllib.request.AbstractHTTPHandler.do_open = do_open  # type: ignore[method-assign]


# --- requests ------------------------------------------------------------------------------------
def _patch_requests(adapters: ModuleType) -> None:
    adapter_cls = adapters.HTTPAdapter
    if getattr(adapter_cls.send, "_llmspec_book_files", False):
        return
    original = adapter_cls.send

    def send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        name = book_file_for(request.url) if _is_active() else None
        if name is None:
            return original(self, request, *args, **kwargs)
        import requests

        body = local_bytes(name)
        resp = requests.models.Response()
        resp.status_code, resp.reason, resp.url, resp.request = 200, "OK", request.url, request
        resp.headers = requests.structures.CaseInsensitiveDict(_headers(name, len(body)))
        resp.encoding = requests.utils.get_encoding_from_headers(resp.headers)
        resp.raw = io.BytesIO(body)  # for r.raw.read() and iter_content(stream=True)
        resp._content, resp._content_consumed = body, True  # for r.text / r.content
        resp.connection = self
        return resp

    send._llmspec_book_files = True  # type: ignore[attr-defined]
    send.__wrapped__ = original  # type: ignore[attr-defined]
    adapter_cls.send = send


class _PatchRequestsOnImport(importlib.abc.MetaPathFinder):
    """Patches ``requests.adapters`` right after it is first imported (by anyone)."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        if fullname != "requests.adapters":
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return None
        loader = spec.loader
        exec_module = loader.exec_module

        def exec_and_patch(module: ModuleType) -> None:
            exec_module(module)
            _patch_requests(module)

        loader.exec_module = exec_and_patch  # type: ignore[method-assign]
        return spec


def install(is_active: Callable[[], bool]) -> None:
    """Patch once per process; the patches answer only while ``is_active()`` is true."""
    global _installed, _is_active
    _is_active = is_active
    if _installed:
        return
    _installed = True
    _patch_urllib()
    if "requests.adapters" in sys.modules:
        _patch_requests(sys.modules["requests.adapters"])
    else:
        sys.meta_path.insert(0, _PatchRequestsOnImport())
