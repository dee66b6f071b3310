"""The pytest plugin that turns ``spec_tests`` into a verdict per stage: its hooks and fixtures.

The ``pytest11`` entry point loads it in *every* pytest run where llmspec is installed, so it stays
inert (options and markers only) until ``spec_tests/conftest.py`` calls :func:`activate` and items
carrying a stage marker exist.  Its parts live in :mod:`llmspec.spec`.
"""
from __future__ import annotations

import functools
import gc
from typing import Any

import pytest

from llmspec.editions import AUTO
from llmspec.i18n import _
from llmspec.spec import profiles
from llmspec.spec.report import Reporter
from llmspec.spec.run import RUN_KEY, Run, add_options, get_run, resolve_settings
from llmspec.stages import CORE_STAGES, STAGES, judged_from_state
from llmspec.verdict import not_implemented


# --- hooks: options, markers, profiles (always; harmless) -----------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    for stage in STAGES.values():
        config.addinivalue_line("markers", f"{stage.name}: llmspec stage '{stage.title}' ({stage.section})")
    config.addinivalue_line("markers", "golden(name, **where): llmspec golden cases of fixtures/<name>.json")
    config.addinivalue_line("markers", "part(name): needs an optional part of the stage's class (Stage.parts)")
    profiles.register()


def activate(config: pytest.Config) -> None:
    """Called by ``spec_tests/conftest.py``: the spec suite is being collected, so take charge."""
    if RUN_KEY in config.stash:
        return
    chosen = resolve_settings(config)
    preset = next((p for p in config.pluginmanager.get_plugins() if getattr(p, "llmspec_preset", False)),
                  None)
    if preset is not None:  # llmspec.suite: a live namespace the caller already opened
        chosen.target, chosen.preset = preset.display, preset.adapter
    run = Run(chosen, undo_profiles=profiles.configure(config))
    config.stash[RUN_KEY] = run
    config.pluginmanager.register(Reporter(run), "llmspec-reporter")


def pytest_unconfigure(config: pytest.Config) -> None:
    run = get_run(config)
    if run is not None and run.undo_profiles is not None:
        run.undo_profiles()


def stage_of(item: pytest.Item) -> str | None:
    """The single stage marker on an item (``None`` when it has none, or several)."""
    names = {m.name for m in item.iter_markers() if m.name in STAGES}
    return names.pop() if len(names) == 1 else None


@pytest.hookimpl(trylast=True)  # after -k / -m deselection: only items that will run get a stage
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    run = get_run(config)
    if run is None or not any(stage_of(i) for i in items):
        return
    run.open()  # a target that cannot load has an empty description: no stage missing, none judged from state
    run.missing = {k: list(v) for k, v in run.description.get("stages", {}).items() if v}
    defined = tuple(n for n, s in STAGES.items()
                    if s.optional and n in run.description.get("stages", {}) and n not in run.missing)
    run.selected = CORE_STAGES + defined if run.settings.stages is None else run.settings.stages
    # A stage the target implements inline (no class) is judged from state: only its test_state_*
    # tests run, and only the class tests otherwise.  --collect-only keeps both (the grader's
    # canonical list holds every test; its scoring picks the kind that ran).
    judged = run.description.get("judged", {})
    keep_both = config.option.collectonly
    absent = {} if keep_both else run.description.get("absent", {})
    unrun: dict[tuple[str, str], int] = {}  # (stage, absent part) -> its tests left out
    keep, drop = [], []
    for item in items:
        stage = stage_of(item)
        if stage is not None and (stage not in run.selected or (
                STAGES[stage].state_names and not keep_both
                and judged_from_state(item.nodeid) != (judged.get(stage) == "state"))):
            drop.append(item)
            continue
        needs = {m.args[0] for m in item.iter_markers("part")}
        lacking = [p for p in STAGES[stage].parts if p in needs and p in absent.get(stage, ())] if stage else []
        if lacking:
            unrun[stage, lacking[0]] = unrun.get((stage, lacking[0]), 0) + 1
            drop.append(item)
            continue
        run.item_stage[item.nodeid] = stage or "?"
        keep.append(item)
    for (stage, part), count in unrun.items():  # reported once, not as a failure per test
        run.description.setdefault("notes", []).append(_(
            "{stage}: {name}.{part} is not implemented, so the tests that need it did not run ({count}); the "
            "rest of the stage is judged").format(stage=stage, name=STAGES[stage].names[0], part=part, count=count))
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    # What is loaded now (torch, tiktoken, hypothesis, the target) lives for the whole run: in the permanent
    # generation, later collections (pytest's and Hypothesis' explicit ones) scan only what the tests create.
    gc.freeze()


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> None:
    """Fail a spec test *before* it calls the implementation when its stage cannot run."""
    run = get_run(pyfuncitem.config)
    if run is None or pyfuncitem.nodeid not in run.item_stage:
        return
    stage = run.item_stage[pyfuncitem.nodeid]
    if stage == "?":
        pytest.fail(_("spec suite bug: this test needs exactly one stage marker"), pytrace=False)
    if run.load_error:
        pytest.fail(run.load_error, pytrace=False)
    if stage in run.missing:
        pytest.fail(not_implemented(stage, run.missing[stage], run.description.get("hints", {})), pytrace=False)
    refused = run.adapter.not_run()
    if refused:  # an earlier test of this stage timed out or killed the worker
        pytest.fail(refused, pytrace=False)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tell a stage-guarded adapter which stage the coming calls (fixtures included) belong to."""
    run = get_run(item.config)
    stage = run.item_stage.get(item.nodeid) if run is not None else None
    if stage and stage != "?" and run.adapter is not None:
        run.adapter.begin_stage(stage)


# --- fixtures (session-wide: nothing is rebuilt per test) -----------------------------------------
@pytest.fixture(scope="session")
def llmspec_run(request: pytest.FixtureRequest) -> Run:
    run = get_run(request.config)
    if run is None:
        pytest.fail(_("the llmspec fixtures only work inside the spec suite (spec_tests/)"), pytrace=False)
    run.open()
    return run


@pytest.fixture(scope="session")
def impl(llmspec_run: Run):
    """The :class:`llmspec.runtime.adapter.Adapter`: the only door into the implementation under test.
    ``None`` when the target failed to load: :func:`pytest_pyfunc_call` then fails each test (a fixture
    error would show as a pytest "error", not a failure)."""
    return llmspec_run.adapter


@pytest.fixture(scope="session")
def edition(llmspec_run: Run) -> str:
    return llmspec_run.edition


@pytest.fixture(scope="session")
def verdict_text() -> str:
    from llmspec.data import read_verdict

    return read_verdict()


class Vocabulary(dict):  # type: ignore[type-arg]
    """A ``dict[str, int]`` that Hypothesis prints in one line: it pretty-prints every argument of
    every explicit ``@example`` before it knows whether it fails, and a 1,130-word vocabulary took a
    sixth of a warm in-kernel check.  Implementations get a plain copy."""

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(f"<vocabulary of {len(self)} tokens>")


@functools.lru_cache(maxsize=32)
def book_vocabulary(text: str, edition: str, special_tokens: bool) -> Vocabulary:
    """Listing 2.3's vocabulary of ``text``, built once per process: a grader asks the same few of
    every submission, and its forked children inherit them.  Shared: nobody may change it."""
    from reference.tokenizers import build_vocab

    return Vocabulary(build_vocab(text, edition=edition, special_tokens=special_tokens))


@pytest.fixture(scope="session")
def vocab(verdict_text: str, edition: str) -> dict[str, int]:
    """The book's V1 vocabulary, built by the trusted side (a learner is not judged on a helper the
    book never names)."""
    return book_vocabulary(verdict_text, edition, False)


@pytest.fixture(scope="session")
def vocab_v2(verdict_text: str, edition: str) -> dict[str, int]:
    """The V2 vocabulary: V1's plus ``<|endoftext|>`` and ``<|unk|>`` appended (2.4)."""
    return book_vocabulary(verdict_text, edition, True)


@pytest.fixture(scope="session")
def gpt2():
    """The trusted tiktoken ``gpt2`` encoding (offline cache seeded)."""
    from llmspec.data import gpt2_encoding

    return gpt2_encoding()


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    """Name the target and edition up front (only when the run is explicitly about an --impl)."""
    target = config.getoption("llmspec_impl", default=None)
    if not target:
        return None
    return [_("llmspec: target {target}, edition {edition}").format(
        target=target, edition=config.getoption("llmspec_edition") or AUTO)]
