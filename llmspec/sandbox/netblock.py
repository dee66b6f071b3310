"""Network access inside the target's process: fail fast, except downloads of the book's own files.

Learner notebooks download at import (Listing 2.1's ``urlretrieve``, GPT-2's ``encoder.json`` and
``vocab.bpe`` in the bonus notebooks); without network such a call can hang for minutes.  So while
:func:`blocked` is active a host-name lookup or internet-socket connect raises :class:`NetworkBlocked`
(an :class:`OSError`, which download code expects) at once, and a request for a book file is answered
from llmspec's verified copy.  A guard against accidents, not a sandbox: that is the kernel's job.
"""
from __future__ import annotations

import contextlib
import email.message
import functools
import importlib.abc
import importlib.machinery
import io
import re
import sys
import urllib.parse
import urllib.request
import urllib.response
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any


class NetworkBlocked(ConnectionRefusedError):
    """Raised inside implementation code that tries to use the network while it is blocked."""


# Events whose first argument is a host name to resolve.
_RESOLVE_EVENTS = frozenset({"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex",
                             "socket.gethostbyaddr", "socket.getnameinfo"})
# Events whose second argument is the address a socket connects/sends to.
_ADDRESS_EVENTS = frozenset({"socket.connect", "socket.sendto", "socket.sendmsg"})

BOOK_REPO = "rasbt/llms-from-scratch"  # compared case-insensitively, as GitHub does
GPT2_HOST = "openaipublic.blob.core.windows.net"
_GPT2_PATH = re.compile(r"/gpt-2/(?:encodings/main|models/[^/]+)/(encoder\.json|vocab\.bpe)")
CONTENT_TYPES = {
    "the-verdict.txt": "text/plain; charset=utf-8",
    "gpt2/encoder.json": "application/json",
    "gpt2/vocab.bpe": "application/octet-stream",
}

_depth = 0


def _describe(address: Any) -> str:
    if isinstance(address, tuple) and address:
        return ":".join(str(a) for a in address[:2])
    return repr(address)


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not _depth:
        return
    if event in _RESOLVE_EVENTS:
        target = _describe(args[0]) if args else "?"
    elif event in _ADDRESS_EVENTS and len(args) > 1 and isinstance(args[1], tuple):
        target = _describe(args[1])  # not AF_UNIX (DataLoader workers): its addresses are paths or None
    else:
        return
    raise NetworkBlocked(
        f"network access is blocked while llmspec runs an implementation ({event} {target}); "
        "the book's data is already in the working directory (the-verdict.txt)"
    )


@functools.cache
def install() -> None:
    """Install the hook (it cannot be removed) and the patches once per process, inert until :func:`blocked`
    raises the depth they are gated by."""
    sys.addaudithook(_hook)
    _patch_urllib()
    if "requests.adapters" in sys.modules:
        _patch_requests(sys.modules["requests.adapters"])
    else:
        sys.meta_path.insert(0, _PatchRequestsOnImport())


def is_blocked() -> bool:
    """True while some :func:`blocked` block is active in this process."""
    return _depth > 0


@contextlib.contextmanager
def blocked() -> Iterator[None]:
    """Block network access for the duration of the ``with`` block (nestable); afterwards the
    block is as it was before, whatever the code inside did to it."""
    global _depth
    install()
    before = _depth
    _depth = before + 1
    try:
        yield
    finally:
        _depth = before


# --- the book's files ----------------------------------------------------------------------------
def book_file_for(url: str) -> str | None:
    """The :data:`llmspec.data.EXPECTED` name ``url`` downloads, or None if it is not a book file:
    ``the-verdict.txt`` anywhere in the book repository (raw.githubusercontent.com in any branch
    form, github.com's ``/raw/`` and ``?raw=true`` forms), GPT-2's ``encoder.json`` / ``vocab.bpe``
    where tiktoken (``encodings/main/``) and the bonus notebooks (``models/<size>/``) fetch them."""
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


def _book_file(url: str) -> tuple[bytes, dict[str, str]] | None:
    """The verified bytes and headers answering ``url`` while blocked, or None (to the network)."""
    name = book_file_for(url) if is_blocked() else None
    if name is None:
        return None
    from llmspec import data

    body = data.locate().path_of(name).read_bytes()  # a DataError if the copy is missing
    return body, {"Content-Type": CONTENT_TYPES[name], "Content-Length": str(len(body))}


def _patch_urllib() -> None:
    original = urllib.request.AbstractHTTPHandler.do_open

    def do_open(self: Any, http_class: Any, req: urllib.request.Request, **kwargs: Any) -> Any:
        found = _book_file(req.full_url)
        if found is None:
            return original(self, http_class, req, **kwargs)
        body, headers = found
        message = email.message.Message()
        for key, value in headers.items():
            message[key] = value
        resp = urllib.response.addinfourl(io.BytesIO(body), message, req.full_url, code=200)
        resp.msg = "OK"  # type: ignore[attr-defined]  (what http.client responses carry)
        return resp

    urllib.request.AbstractHTTPHandler.do_open = do_open  # type: ignore[method-assign]


def _patch_requests(adapters: ModuleType) -> None:
    original = adapters.HTTPAdapter.send

    def send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        found = _book_file(request.url)
        if found is None:
            return original(self, request, *args, **kwargs)
        import requests

        body, headers = found
        resp = requests.models.Response()
        resp.status_code, resp.reason, resp.url, resp.request = 200, "OK", request.url, request
        resp.headers = requests.structures.CaseInsensitiveDict(headers)
        resp.encoding = requests.utils.get_encoding_from_headers(resp.headers)
        resp.raw = io.BytesIO(body)  # for r.raw.read() and iter_content(stream=True)
        resp._content, resp._content_consumed = body, True  # for r.text / r.content
        resp.connection = self
        return resp

    adapters.HTTPAdapter.send = send


class _PatchRequestsOnImport(importlib.abc.MetaPathFinder):
    """Patches ``requests.adapters`` once it is first imported: code that never imports it pays nothing."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        if fullname != "requests.adapters":
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return None
        exec_module = spec.loader.exec_module

        def exec_and_patch(module: ModuleType) -> None:
            exec_module(module)
            _patch_requests(module)

        spec.loader.exec_module = exec_and_patch  # type: ignore[method-assign]
        return spec
