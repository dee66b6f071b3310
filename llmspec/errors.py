"""Exceptions that cross the line between the harness and an implementation.

The spec tests never see an implementation's own exception objects: an adapter turns each one into
:class:`ImplError`, which carries only names and text.  That keeps the in-process and the
out-of-process (worker) modes identical, and keeps submission objects out of the trusted side.
"""
from __future__ import annotations


class HarnessError(Exception):
    """The harness could not ask the implementation (not the implementation's fault as such)."""


class DataError(HarnessError):
    """The book's data is missing or corrupt; the message says how to fix it."""


class TargetError(HarnessError):
    """The implementation could not be loaded at all (missing path, syntax error, ...)."""


class StageMissing(HarnessError):
    """The implementation does not define the names a stage needs."""

    def __init__(self, stage: str, missing: list[str]):
        self.stage = stage
        self.missing = list(missing)
        from llmspec.i18n import _

        super().__init__(_("{stage}: not implemented (missing {names})").format(
            stage=stage, names=", ".join(self.missing)))


class WorkerDied(HarnessError):
    """The worker process running the implementation died (crash, os._exit, memory cap)."""


class CallTimeout(HarnessError):
    """A call into the implementation took longer than its wall-clock budget."""


class ImplError(Exception):
    """The implementation raised while answering a call: ``mro`` holds its classes' names, so tests
    ask ``err.is_a("KeyError")`` without holding the implementation's class objects."""

    def __init__(self, exc_type: str, message: str, mro: list[str] | None = None, tb: str = ""):
        self.exc_type = exc_type
        self.message = message
        self.mro = list(mro or [exc_type])
        self.tb = tb
        super().__init__(f"{exc_type}: {message}")

    def is_a(self, *names: str) -> bool:
        return any(n in self.mro for n in names)

    def to_wire(self) -> dict:
        return {"exc_type": self.exc_type, "message": self.message, "mro": self.mro, "tb": self.tb}

    @classmethod
    def from_wire(cls, d: dict) -> "ImplError":
        """Cut to what a learner reads: a worker's 20 MB message would otherwise go into every report."""
        return cls(str(d["exc_type"])[:200], _cut(str(d["message"])), [str(m)[:200] for m in d["mro"][:50]],
                   _cut(str(d["tb"])))


def _cut(text: str, limit: int = 20_000) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... [{len(text) - limit} more characters]"
