"""Open the adapter for an implementation: in this process, or in a worker process.

The one place the plugin, ``llmspec check`` and the graders choose between "import the learner's
code here" and "talk to it over a pipe"; the tests never know which one they got.
"""
from __future__ import annotations

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

    ``isolate=True`` (grading, ``--isolate``): a :class:`~llmspec.runtime.proxy.ProxyAdapter` with a
    sandboxed worker under ``limits``.  ``worker=True`` (``llmspec check``): a worker forked from this
    process with the learner's own permissions, so a hang, a crash or ``os._exit`` is reported, not
    suffered.  In process, ``limits`` are ignored (nothing could enforce them), so callers pass the
    same options in every mode.  ``strict_names`` refuses book names in another letter case and the
    book's earlier names.  Raises :class:`~llmspec.errors.TargetError` when the target cannot load.
    """
    target = target or DEFAULT_TARGET
    if isolate or worker:
        # the worker runs in its own scratch directory: a relative path must mean the caller's
        # (resolved here with the same rules the worker uses; a module name stays a module name)
        from llmspec.runtime.target import resolve

        spec = resolve(target)
        if spec.kind != "module":
            target = spec.location
        from llmspec.runtime.proxy import ProxyAdapter  # lazily: only these modes need the worker machinery

        if not isolate:
            limits = {"start": "fork", **limits}
        return ProxyAdapter(target, impl_map, strict_names=strict_names, sandbox=isolate, **limits)
    from llmspec.runtime.inprocess import InProcessAdapter

    return InProcessAdapter.from_target(target, impl_map, strict_names=strict_names)
