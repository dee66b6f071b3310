"""Open the adapter for an implementation: in this process, or in a worker process.

This is the only function the pytest plugin, ``llmspec check`` and the graders call to reach an
implementation, so the choice "import the learner's code here" versus "talk to it over a pipe" is
made in one place and the tests never know which one they got.
"""
from __future__ import annotations

import os
from typing import Any

from llmspec.runtime.adapter import Adapter

DEFAULT_TARGET = "reference"


def open_adapter(
    target: str | None,
    impl_map: dict[str, str] | None = None,
    isolate: bool = False,
    strict_names: bool = False,
    worker: bool = False,
    **limits: Any,
) -> Adapter:
    """Load ``target`` (``None`` = the reference implementation) and return its adapter.

    ``isolate=True`` (grading, ``--isolate``) returns a :class:`~llmspec.runtime.proxy.ProxyAdapter`
    whose worker is sandboxed: submission code runs in a separate process, under ``limits`` (time,
    memory, ...), and only wire values come back.  ``worker=True`` (``llmspec check``'s default) runs
    it in a worker forked from this process with the learner's own permissions: a hang, a crash or
    ``os._exit`` in their code is reported, not suffered.  In process, ``limits`` are accepted and
    ignored (there is nothing to enforce them with), so callers can pass the same options in every
    mode.  ``strict_names`` refuses book names in another letter case and the book's earlier names
    (accepted with a note by default).  Raises :class:`~llmspec.errors.TargetError` when the target
    cannot be loaded.
    """
    target = target or DEFAULT_TARGET
    if isolate or worker:
        # the worker runs in its own scratch directory: a relative path must mean the caller's
        # (resolved here with the same rules the worker uses; a module name stays a module name)
        from llmspec.runtime.target import resolve

        if resolve(target).kind != "module":
            target = os.path.abspath(target)
        from llmspec.runtime.proxy import ProxyAdapter  # lazily: only these modes need the worker machinery

        if not isolate:
            limits = {"start": "fork", **limits}
        return ProxyAdapter(target, impl_map, strict_names=strict_names, sandbox=isolate, **limits)
    from llmspec.runtime.inprocess import InProcessAdapter

    return InProcessAdapter.from_target(target, impl_map, strict_names=strict_names)
