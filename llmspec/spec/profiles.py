"""Hypothesis, as the suite uses it: its profiles, and where Hypothesis keeps its files.

Every setting goes through Hypothesis' public switches except one that has none:
:func:`local_constants_off`, the one place llmspec touches a Hypothesis internal (with a test,
``tests/unit/spec/test_profiles.py``, that fails when it moves).
"""
from __future__ import annotations

import os
from typing import Callable

import pytest

PROFILE, DEEP_PROFILE = "llmspec", "llmspec-deep"


def register() -> None:
    """Register the suite's profiles.  ``llmspec`` is derandomized (every student sees the same
    examples), has no deadline (the first torch call is slow), few examples (the suite must stay
    within seconds) and no database (nothing written next to a submission)."""
    from hypothesis import HealthCheck, Phase, settings

    quiet = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
             HealthCheck.large_base_example]
    # No "explain" phase: on a failure it imports libcst (a second or more); the shrunk example says enough.
    phases = [p for p in Phase if p.name != "explain"]
    # 20 examples: no kill of the bug zoo depends on the count (boundaries are pinned with @example), so
    # it buys search for unlisted bugs; 10 would save only 7% of a graded submission (benchmarks/README.md).
    settings.register_profile(PROFILE, derandomize=True, deadline=None, max_examples=20,
                              database=None, print_blob=False, suppress_health_check=quiet,
                              phases=phases)
    settings.register_profile(DEEP_PROFILE, derandomize=False, deadline=None, max_examples=1000,
                              database=None, print_blob=True, suppress_health_check=quiet)


def load() -> None:
    """Make the ``llmspec`` profile the default (before the spec modules are imported: a
    ``@settings(...)`` decorator inherits the default profile when it runs)."""
    from hypothesis import settings

    register()
    settings.load_profile(PROFILE)


def configure(config: pytest.Config) -> Callable[[], None]:
    """Configure Hypothesis for a run of the suite; returns what puts it back as it was (for the
    in-kernel check).  The ``llmspec`` profile wins over Hypothesis' own ``ci`` profile (the same
    examples on every machine); only ``--hypothesis-profile`` overrides it."""
    from hypothesis import settings

    register()
    before = settings.default
    chosen = config.getoption("hypothesis_profile", default=None)
    if not chosen:
        settings.load_profile(PROFILE)
    undo = [local_constants_off(), _storage_outside_cwd()]

    def restore() -> None:
        for step in undo:
            step()
        if not chosen:  # the settings of before, under a name of llmspec's (Hypothesis has no public "reload")
            settings.register_profile("llmspec-saved", parent=before)
            settings.load_profile("llmspec-saved")

    return restore


def _storage_outside_cwd() -> Callable[[], None]:
    """Hypothesis caches Unicode tables under ``./.hypothesis``, but the suite runs in a learner's
    directory: keep it in llmspec's user cache (unless ``HYPOTHESIS_STORAGE_DIRECTORY`` is set)."""
    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        return lambda: None
    from hypothesis.configuration import set_hypothesis_home_dir

    from llmspec.data import user_cache_root

    try:
        set_hypothesis_home_dir(str(user_cache_root() / "hypothesis"))
    except OSError:
        return lambda: None
    return lambda: set_hypothesis_home_dir(None)


def local_constants_off() -> Callable[[], None]:
    """Keep Hypothesis (6.131.1 on) from seeding draws with constants parsed out of *local* modules'
    source: in process that includes the submission, so two students would not see the same examples.
    No public switch: this replaces the private function Hypothesis asks.  Returns the undo."""
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:
        return lambda: None
    previous = getattr(providers, "_get_local_constants", None)
    if previous is None:
        return lambda: None
    empty = providers.Constants()
    providers._get_local_constants = lambda: empty
    return lambda: setattr(providers, "_get_local_constants", previous)
