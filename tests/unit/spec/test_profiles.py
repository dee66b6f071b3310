"""How the suite configures Hypothesis (``llmspec.spec.profiles``), and the one Hypothesis internal
llmspec touches: this test fails loudly the day it moves."""
from __future__ import annotations

from pathlib import Path

import hypothesis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmspec.spec import profiles

CONSTANTS_SINCE = (6, 131, 1)  # the Hypothesis release that began to mine local sources for constants


def _version() -> tuple[int, ...]:
    return tuple(int(part) for part in hypothesis.__version__.split(".")[:3])


def test_the_local_constants_switch_still_reaches_hypothesis() -> None:
    """On a Hypothesis that mines constants, the private function llmspec replaces must exist and be
    what Hypothesis asks; replaced, it yields no constant although local modules (llmspec's own)
    hold many; undone, Hypothesis' own function is back."""
    if _version() < CONSTANTS_SINCE:
        assert profiles.local_constants_off()() is None  # nothing to switch off
        return
    from hypothesis.internal.conjecture import providers

    original = getattr(providers, "_get_local_constants", None)
    assert callable(original), (
        "Hypothesis moved _get_local_constants: llmspec.spec.profiles.local_constants_off needs updating")
    assert "_get_local_constants()" in Path(providers.__file__).read_text(), "Hypothesis no longer calls it"
    undo = profiles.local_constants_off()
    try:
        assert providers._get_local_constants is not original and len(providers._get_local_constants()) == 0
    finally:
        undo()
    assert providers._get_local_constants is original


def test_the_suite_profile_is_derandomized_without_a_database() -> None:
    profiles.register()
    chosen = settings.get_profile(profiles.PROFILE)
    assert chosen.derandomize and chosen.database is None and chosen.deadline is None


def test_a_derandomized_property_sees_the_same_examples_every_run() -> None:
    profiles.register()
    seen: list[list[int]] = []

    def run() -> list[int]:
        drawn: list[int] = []

        @settings(settings.get_profile(profiles.PROFILE), max_examples=10)
        @given(st.integers(0, 10**6))
        def prop(x: int) -> None:
            drawn.append(x)

        prop()
        return drawn

    seen = [run(), run()]
    assert seen[0] == seen[1] and len(set(seen[0])) > 1


@pytest.mark.parametrize("set_by_user", [False, True])
def test_hypothesis_files_stay_out_of_the_working_directory(tmp_path: Path, monkeypatch, set_by_user) -> None:
    from hypothesis.configuration import storage_directory

    monkeypatch.chdir(tmp_path)
    if set_by_user:
        monkeypatch.setenv("HYPOTHESIS_STORAGE_DIRECTORY", str(tmp_path / "mine"))
    else:
        monkeypatch.delenv("HYPOTHESIS_STORAGE_DIRECTORY", raising=False)
    undo = profiles._storage_outside_cwd()
    try:
        where = storage_directory("probe", intent_to_write=False)
        where = Path(getattr(where, "path", where))  # a StorageDirectory since 6.14x, a Path before
        assert not where.is_relative_to(tmp_path) or set_by_user
    finally:
        undo()
