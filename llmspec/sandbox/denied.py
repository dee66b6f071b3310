"""Why a ``PermissionError`` under the sandbox gets a sentence of its own.

Confined (``llmspec check --isolate``, ``llmspec grade``), a submission may write only in its scratch
folder and read only its own folder, the book's data and the Python it runs; the kernel refuses the
rest with a bare ``[Errno 13] Permission denied``.  On a learner's own machine the same line would
mean a file of theirs is read-only, so a learner looks in the wrong place: a write to
``../data/out.txt`` that works under plain ``llmspec check`` fails here, and a DataLoader with
``num_workers=2`` fails inside ``multiprocessing`` with no path at all (its worker processes share
memory through ``/dev/shm``, which is the worker's own only where the grader runs as root).

The worker calls :func:`confined` once, after the kernel confined it; only then does :func:`hint` say
anything, so a ``PermissionError`` under plain ``llmspec check`` stays the learner's own.
"""
from __future__ import annotations

from llmspec.errors import ImplError
from llmspec.i18n import _

# Set once by the worker after it is confined: {"shared_memory": whether /dev/shm is writable there}
_CONFINED: dict[str, bool] = {}
# What a failure of DataLoader worker processes to share memory looks like in a traceback or message
_SHARED_MEMORY_SIGNS = ("multiprocessing", "shared memory", "/dev/shm", "SemLock")


def confined(shared_memory: bool) -> None:
    """Record that this process runs confined; ``shared_memory``: its code may create semaphores
    and shared memory (its own private ``/dev/shm``)."""
    _CONFINED["shared_memory"] = bool(shared_memory)


def is_confined() -> bool:
    return bool(_CONFINED)


def hint(err: ImplError) -> str:
    """Text to append to a refused operation's message ("" when not confined, or not refused)."""
    if not _CONFINED or not (err.is_a("PermissionError") or _refused_shared_memory(err)):
        return ""
    if not _CONFINED["shared_memory"] and any(sign in err.tb or sign in err.message for sign in _SHARED_MEMORY_SIGNS):
        return _(" (your code runs confined here, where the worker processes of a DataLoader cannot share memory: "
                 "build it with num_workers=0, the default of Listing 2.6, and the batches are made in your "
                 "code's own process)")
    return _(" (your code runs confined here: it may write only in its scratch folder, the folder it starts in, "
             "and read only its own folder, the book's data and Python's libraries)")


def _refused_shared_memory(err: ImplError) -> bool:
    """torch's own refusal (a RuntimeError) to open shared memory for a batch made in a worker."""
    return "shared memory" in err.message and "Permission denied" in err.message
