"""Open the adapter for an implementation: in this process, or isolated in a worker process.

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
    **limits: Any,
) -> Adapter:
    """Load ``target`` (``None`` = the reference implementation) and return its adapter.

    ``isolate=True`` returns ``llmspec.runtime.worker.ProxyAdapter(target, impl_map, **limits)``: submission
    code runs in a separate process, under ``limits`` (time, memory, ...), and only wire values come
    back.  In process, ``limits`` are accepted and ignored (there is nothing to enforce them with),
    so callers can pass the same options in both modes.  ``strict_names`` refuses book names in
    another letter case and the book's earlier names (accepted with a note by default).  Raises
    :class:`~llmspec.errors.TargetError` when the target cannot be loaded.
    """
    target = target or DEFAULT_TARGET
    if isolate:
        # the worker runs in its own scratch directory: a relative path must mean the caller's
        # (resolved here with the same rules the worker uses; a module name stays a module name)
        from llmspec.runtime.target import resolve

        if resolve(target).kind != "module":
            target = os.path.abspath(target)
        from llmspec.runtime.worker import ProxyAdapter  # lazily: only graders need the worker machinery

        return ProxyAdapter(target, impl_map, strict_names=strict_names, **limits)
    from llmspec.runtime.inprocess import InProcessAdapter

    return InProcessAdapter.from_target(target, impl_map, strict_names=strict_names)
