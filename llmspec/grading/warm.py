"""The grader's warm parent: everything a trusted child needs, imported and warmed once, before forking.

The parent imports torch, tiktoken, pytest, Hypothesis and the suite once (:func:`warm_up`), and, for
a class, runs the suite once on the reference and freezes its heap (:func:`warm_suite`), so each
forked child starts with the first-call costs of torch, Hypothesis and the suite already paid.
"""
from __future__ import annotations

import importlib
import os
import sys

from llmspec.grading.child import base_args
from llmspec.grading.config import GradingConfig
from llmspec.sandbox import proctree
from llmspec.suite import spec_dir


def warm_up() -> None:
    """Import everything a trusted child needs, once, before forking."""
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # see llmspec.grading.child.named_plugins
    import torch

    torch.set_num_threads(1)
    import hypothesis  # noqa: F401

    from llmspec.data import ensure_tiktoken_cache

    ensure_tiktoken_cache()
    import tiktoken

    tiktoken.get_encoding("gpt2")  # parsed once here; forked children and workers inherit it
    # The suite's profile must be the default BEFORE its modules are imported here: a @settings(...)
    # decorator inherits the default profile at import time (derandomize, no deadline), and the child
    # reuses these module objects.  Without this, graded examples would be random: unfair.
    from llmspec.spec import profiles

    profiles.load()
    for name in ("tiktoken", "llmspec.plugin", "llmspec.runtime.connect", "llmspec.runtime.proxy",
                 "llmspec.runtime.faults", "llmspec.explain",
                 "reference", "spec_tests.conftest", "spec_tests.strategies"):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the child reports real problems; this is only a cache
            pass
    for f in sorted(spec_dir().glob("test_*.py")):
        try:
            importlib.import_module("spec_tests." + f.stem)
        except Exception:  # noqa: BLE001
            pass
    proctree.set_child_subreaper()  # orphans of the children's workers come back to this process


def warm_suite(config: GradingConfig) -> None:
    """Run the suite once, in this process, on the trusted reference, then freeze the heap.

    Why: a fresh process pays ~1 s of first-call costs (torch's first autograd backward ~0.25 s,
    lazily built dispatch and regex tables, Hypothesis' strategy and engine caches, the explain
    helpers).  Paid here once, every forked trusted child and every worker forked from it inherits
    them warm.  Only the reference runs here (never submission code), and the examples a
    submission is asked do not depend on this run: the suite is derandomized and keeps no database.
    ``gc.freeze()`` afterwards moves the whole warm heap out of the collector's reach, so no child
    walks (and thereby copies, page by page) the parent's objects in a garbage collection.
    Best effort: a failure here only costs speed; the children report real problems."""
    import gc

    import pytest

    saved = [os.dup(1), os.dup(2)]
    null = os.open(os.devnull, os.O_WRONLY)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
        pytest.main(base_args(config) + ["-p", "no:faulthandler"])
    except Exception:  # noqa: BLE001 - a cache, not a verdict
        pass
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, null):
            os.close(fd)
    gc.collect()
    gc.freeze()
