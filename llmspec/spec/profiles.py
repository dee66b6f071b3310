"""Hypothesis, as the suite uses it: its profiles, and where Hypothesis keeps its files.

Every setting goes through Hypothesis' public switches (profiles, ``derandomize``,
``database=None``, :func:`hypothesis.configuration.set_hypothesis_home_dir`), except one that has
none: :func:`local_constants_off`, the one place llmspec touches a Hypothesis internal (with a test,
``tests/unit/spec/test_profiles.py``, that fails when it moves).
"""
from __future__ import annotations

import os
from typing import Callable

import pytest

PROFILE, DEEP_PROFILE = "llmspec", "llmspec-deep"


def register() -> None:
    """Register the suite's profiles (loading one is :func:`configure`'s job).

    ``llmspec`` is derandomized so every run and every student sees the same examples, has no
    deadline (the first torch call is slow), few examples (the whole suite must stay within a few
    seconds) and no database (nothing written next to a submission)."""
    from hypothesis import HealthCheck, Phase, settings

    quiet = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
             HealthCheck.large_base_example]
    # No "explain" phase: on a failure it imports libcst (a second or more, plus deprecation
    # warnings) to annotate which parts of the example mattered; the shrunk example says enough.
    phases = [p for p in Phase if p.name != "explain"]
    # 20 examples per property.  No kill of the bug zoo (tests/suite/variants, tests/suite/bpe_variants)
    # depends on the count (the kill matrix is the same at 3, 5, 10 and 20): boundaries are pinned with
    # @example, so the count buys search for bugs nobody has listed, and 10 would save only 7% of a
    # graded submission (benchmarks/README.md).  `--hypothesis-profile llmspec-deep` searches far deeper.
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
    """Configure Hypothesis for a run of the suite; returns what puts it back as it was (the
    in-kernel check leaves the learner's session as it found it).  The ``llmspec`` profile wins over
    Hypothesis' own ``ci`` profile (the same examples for every student on every machine); only
    ``--hypothesis-profile`` overrides it."""
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
    """Hypothesis caches Unicode tables under ``./.hypothesis``; the suite runs in a learner's (or a
    grader's) directory, so keep that cache in llmspec's user cache instead (unless the user chose a
    place with ``HYPOTHESIS_STORAGE_DIRECTORY``).  Undone to Hypothesis' default place."""
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
    """Keep Hypothesis from drawing constants it parsed out of local source files; returns what
    turns it back on.

    Hypothesis (6.131.1 on) seeds draws with constants from the source of every *local* module: in
    process, that includes the submission, so two students would not see the same examples.  There is
    no public switch, so this replaces the private function Hypothesis asks (see the module doc)."""
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
