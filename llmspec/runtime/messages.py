"""The adapter's operations as messages: each call becomes ``(op, keyword arguments)``.

:class:`MessageAdapter` gives every operation of :class:`~llmspec.runtime.adapter.Adapter` the
Adapter's own signature and hands its name and arguments, by keyword, to :meth:`MessageAdapter._call`;
the worker calls the in-process adapter's method of that name with those keywords.
"""
from __future__ import annotations

import abc
import inspect
from typing import Any, Callable

from llmspec.runtime.adapter import OPS, Adapter


class MessageAdapter(Adapter):
    """Every operation as one message to :meth:`_call`."""

    @abc.abstractmethod
    def _call(self, op: str, kwargs: dict[str, Any]) -> Any:
        """Answer operation ``op`` called with ``kwargs``."""


def _message(op: str) -> Callable[..., Any]:
    """``Adapter.<op>`` as a message: every parameter by name, defaults filled in.  A call with every
    argument by position (the common one) is zipped with the names; any other is bound by Python
    itself (``Signature.bind``: the same defaults and ``TypeError`` as the written-out method)."""
    signature = inspect.signature(getattr(Adapter, op))
    names = tuple(signature.parameters)[1:]

    def send(self: MessageAdapter, *args: Any, **kwargs: Any) -> Any:
        if kwargs or len(args) != len(names):
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            args = tuple(bound.arguments.values())[1:]
        return self._call(op, dict(zip(names, args)))

    send.__name__, send.__qualname__ = op, f"MessageAdapter.{op}"
    send.__signature__ = signature  # type: ignore[attr-defined]
    return send


for _op in OPS:
    setattr(MessageAdapter, _op, _message(_op))
abc.update_abstractmethods(MessageAdapter)
