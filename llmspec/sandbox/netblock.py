"""Fail network access at once while implementation code runs.

Learner notebooks often download ``the-verdict.txt`` or GPT-2 files (``urllib.request.urlretrieve``,
``requests.get``).  On a grading machine with no network those calls can hang for minutes, so while
a target loads or answers a call every attempt to resolve a host name or to connect an internet
socket raises :class:`NetworkBlocked` (an :class:`OSError`, which is what download code already
expects and reports) immediately.

Mechanism: a :func:`sys.addaudithook` hook on the ``socket.*`` audit events.  Audit hooks cannot be
removed, so the hook is installed once per process and gated by a depth counter that
:func:`blocked` raises and lowers.  Unix-domain sockets stay allowed: torch's DataLoader workers
(``num_workers > 0``) pass tensors through them.

Downloads of the book's own files (``the-verdict.txt`` from the book repository, GPT-2's
``encoder.json`` / ``vocab.bpe``) never reach the hook: :mod:`llmspec.sandbox.bookdownloads` answers
them from the verified local copy while the block is active.

This is a guard against *accidents* (hanging downloads), not a sandbox: code that wants to can use
``ctypes``.  Isolation against tampering is the worker's job.
"""
from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any

from llmspec.sandbox import bookdownloads


class NetworkBlocked(ConnectionRefusedError):
    """Raised inside implementation code that tries to use the network while it is blocked."""


# Events whose first argument is a host name to resolve.
_RESOLVE_EVENTS = frozenset(
    {
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyname_ex",
        "socket.gethostbyaddr",
        "socket.getnameinfo",
    }
)
# Events whose second argument is the address a socket connects/sends to.
_ADDRESS_EVENTS = frozenset({"socket.connect", "socket.sendto", "socket.sendmsg"})

_depth = 0
_installed = False


def _describe(address: Any) -> str:
    if isinstance(address, tuple) and address:
        return ":".join(str(a) for a in address[:2])
    return repr(address)


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not _depth or not event.startswith("socket."):
        return
    if event in _RESOLVE_EVENTS:
        target = _describe(args[0]) if args else "?"
    elif event in _ADDRESS_EVENTS:
        address = args[1] if len(args) > 1 else None
        # AF_UNIX addresses are str/bytes paths (or None for sendmsg on a connected socket).
        if not isinstance(address, tuple):
            return
        target = _describe(address)
    else:
        return
    raise NetworkBlocked(
        f"network access is blocked while llmspec runs an implementation ({event} {target}); "
        "the book's data is already in the working directory (the-verdict.txt)"
    )


def install() -> None:
    """Install the audit hook once per process (idempotent, inert until :func:`blocked`)."""
    global _installed
    if not _installed:
        sys.addaudithook(_hook)
        bookdownloads.install(is_blocked)
        _installed = True


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
