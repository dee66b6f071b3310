"""The pytest plugin that turns ``spec_tests`` into a verdict per stage.

Registered through the ``pytest11`` entry point ``llmspec``, so it is loaded in *every* pytest run of an
environment where llmspec is installed.  It therefore stays inert unless the spec suite is collected:
options and markers are registered (harmless), but the Hypothesis profile, the adapter, the stage
selection, the per-stage table and the JSON report only happen once ``spec_tests/conftest.py`` calls
:func:`activate` and items carrying a stage marker exist.

Where each setting comes from (first wins): the command line, an environment variable, the
``[tool.llmspec]`` table of ``pyproject.toml`` in the rootdir (then the cwd), the default.
"""
from __future__ import annotations

import functools
import json
import os
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest

from llmspec.editions import AUTO, EDITION_CHOICES, check_edition
from llmspec.i18n import _
from llmspec.stages import CORE_STAGES, STAGES, judged_from_state, parse_stages
from llmspec.runtime.target import parse_impl_map
from llmspec.verdict import missing_lines, not_implemented, status_text, table_header, table_row

ENV = {
    "impl": "LLMSPEC_IMPL",
    "impl_map": "LLMSPEC_IMPL_MAP",
    "stages": "LLMSPEC_STAGES",
    "edition": "LLMSPEC_EDITION",
    "isolate": "LLMSPEC_ISOLATE",
    "report": "LLMSPEC_REPORT",
    "strict_names": "LLMSPEC_STRICT_NAMES",
}
PROFILE, DEEP_PROFILE = "llmspec", "llmspec-deep"


# --- settings -------------------------------------------------------------------------------------
@dataclass
class Settings:
    """The resolved options of one run (what is judged, how, and where the report goes)."""

    target: str | None = None  # None: the reference package
    impl_map: dict[str, str] = field(default_factory=dict)
    stages: tuple[str, ...] | None = None  # None: core stages (+ bpe_scratch when defined)
    edition: str = "auto"  # auto: probed from the target's tokenizer (llmspec.editions)
    isolate: bool = False
    report: str | None = None
    limits: dict[str, Any] = field(default_factory=dict)
    preset: Any = None  # an adapter the caller opened (the in-kernel check): judged instead of target
    strict_names: bool = False  # refuse book names in another letter case and earlier book names


def parse_map(items: list[str] | str | dict | None) -> dict[str, str]:
    """``--impl-map`` values (or a pyproject table), as a pytest usage error when malformed."""
    try:
        return parse_impl_map(items)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None


def _parse_limits(items: list[str] | None) -> dict[str, Any]:
    """``--llmspec-limit call_timeout=10`` -> ``{"call_timeout": 10}`` (numbers parsed, rest kept)."""
    out: dict[str, Any] = {}
    for key, value in parse_map(items or []).items():
        for cast in (int, float):
            try:
                out[key] = cast(value)
                break
            except ValueError:
                continue
        else:
            out[key] = value
    return out


def _pyproject_table(config: pytest.Config) -> tuple[dict[str, Any], Path | None]:
    from llmspec import _toml as tomllib

    for base in (config.rootpath, Path.cwd()):
        path = base / "pyproject.toml"
        if path.is_file():
            try:
                table = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {}).get("llmspec")
            except (OSError, tomllib.TOMLDecodeError):
                continue
            if table:
                return dict(table), path.parent
    return {}, None


def resolve_settings(config: pytest.Config) -> Settings:
    """Merge command line, environment and ``[tool.llmspec]`` into one :class:`Settings`."""
    table, table_dir = _pyproject_table(config)
    opt = config.option

    def pick(name: str, key: str | None = None) -> Any:
        value = getattr(opt, "llmspec_" + name, None)
        if value not in (None, [], False):
            return value
        if os.environ.get(ENV.get(name, "")):
            return os.environ[ENV[name]]
        return table.get(key or name.replace("_", "-"), table.get(key or name))

    target = pick("impl")
    if target and table_dir is not None and target == table.get("impl"):
        candidate = table_dir / str(target)  # a path in pyproject is relative to that pyproject
        target = str(candidate) if candidate.exists() else target
    stages = pick("stages")
    if isinstance(stages, list):
        stages = ",".join(stages)
    try:
        stage_sel = parse_stages(stages)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    try:
        edition = check_edition(str(pick("edition") or AUTO))
    except ValueError as exc:
        raise pytest.UsageError("--" + str(exc)) from None
    isolate, strict = pick("isolate"), pick("strict_names")
    isolate, strict = (v.strip().lower() in ("1", "true", "yes", "on") if isinstance(v, str) else v
                       for v in (isolate, strict))
    return Settings(
        target=str(target) if target else None,
        impl_map=parse_map(pick("impl_map")),
        stages=stage_sel,
        edition=edition,
        isolate=bool(isolate),
        strict_names=bool(strict),
        report=pick("report"),
        limits=_parse_limits(getattr(opt, "llmspec_limit", None)) or dict(table.get("limits", {})),
    )


# --- hooks: options, markers, profiles (always; harmless) -----------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("llmspec", "llmspec: the chapter-2 specification suite")
    group.addoption("--impl", dest="llmspec_impl", metavar="TARGET",
                    help="implementation under test: .py file, package dir, dotted module or .ipynb "
                    f"(env {ENV['impl']}; default: the reference)")
    group.addoption("--impl-map", dest="llmspec_impl_map", action="append", metavar="NAME=OTHER",
                    help="accept other names, e.g. create_dataloader_v1=make_loader (repeatable)")
    group.addoption("--stages", dest="llmspec_stages", metavar="A,B",
                    help=f"stages to run ({', '.join(STAGES)} or 'all'; default: the core stages)")
    group.addoption("--edition", dest="llmspec_edition", choices=EDITION_CHOICES,
                    help="which edition's regex the expectations use (default: auto, probed from the "
                    "target's SimpleTokenizerV1/V2; print when it has none)")
    group.addoption("--isolate", dest="llmspec_isolate", action="store_true", default=False,
                    help="run the implementation in a worker process (the grading mode)")
    group.addoption("--strict-names", dest="llmspec_strict_names", action="store_true", default=False,
                    help="accept only the book's exact names (by default SimpletokenizerV2 or the "
                    "earlier create_dataloader are accepted with a note)")
    group.addoption("--llmspec-report", dest="llmspec_report", metavar="PATH",
                    help="write a JSON report of stages and tests to PATH")
    group.addoption("--llmspec-limit", dest="llmspec_limit", action="append", metavar="KEY=VALUE",
                    help="pass a limit to the adapter, e.g. call_timeout=10 (repeatable; --isolate)")


def pytest_configure(config: pytest.Config) -> None:
    for stage in STAGES.values():
        config.addinivalue_line("markers", f"{stage.name}: llmspec stage '{stage.title}' ({stage.section})")
    config.addinivalue_line("markers", "golden(name, **where): llmspec golden cases of fixtures/<name>.json")
    config.addinivalue_line("markers", "part(name): needs an optional part of the stage's class (Stage.parts)")
    register_profiles()


def register_profiles() -> None:
    """Register the suite's Hypothesis profiles (loading one is :func:`activate`'s job).

    ``llmspec`` is derandomized so every run and every student sees the same examples, has no
    deadline (the first torch call is slow), few examples (the whole suite must stay within a few
    seconds) and no database (nothing written next to a submission)."""
    from hypothesis import HealthCheck, Phase, settings

    quiet = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
             HealthCheck.large_base_example]
    # No "explain" phase: on a failure it imports libcst (a second or more, plus deprecation
    # warnings) to annotate which parts of the example mattered; the shrunk example says enough.
    phases = [p for p in Phase if p.name != "explain"]
    # 20 examples per property: measured against the bug zoo (tests/variants, tests/bpe_variants),
    # 20 kills every variant that 30 did, in the stage it names; boundaries are pinned with @example,
    # so no kill depends on volume.  A grading run pays this per submission (the suite's speed target, see benchmarks/);
    # `--hypothesis-profile llmspec-deep` searches far deeper.
    settings.register_profile(PROFILE, derandomize=True, deadline=None, max_examples=20,
                              database=None, print_blob=False, suppress_health_check=quiet,
                              phases=phases)
    settings.register_profile(DEEP_PROFILE, derandomize=False, deadline=None, max_examples=1000,
                              database=None, print_blob=True, suppress_health_check=quiet)


# --- the run state (only once the suite is active) ------------------------------------------------
@dataclass
class Run:
    """Everything one pytest session knows about the implementation under test."""

    settings: Settings
    adapter: Any = None
    load_error: str | None = None
    description: dict[str, Any] = field(default_factory=dict)
    selected: tuple[str, ...] = ()
    missing: dict[str, list[str]] = field(default_factory=dict)
    item_stage: dict[str, str] = field(default_factory=dict)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: dict[str, str] = field(default_factory=dict)  # stage -> why it stopped early (isolated runs)
    started: float = field(default_factory=time.perf_counter)
    edition: str = "print"  # the edition judged (``--edition auto`` resolved by open())
    edition_reason: str = ""  # the one line ``auto`` prints: which edition, why, how to override
    report: dict[str, Any] | None = None  # the --llmspec-report dict, built once at the session's end

    def open(self) -> None:
        """Open the adapter once; a target that cannot load fails every test with one message."""
        if self.adapter is not None or self.load_error is not None:
            return
        s = self.settings
        if s.preset is not None:  # an adapter the caller opened (llmspec.suite.Preset)
            self.adapter = s.preset
            self.description = self.adapter.describe()
        else:
            self._open(s)
        self.edition = s.edition
        if s.edition == AUTO:
            from llmspec.editions import detect

            if self.adapter is None:
                self.edition = "print"
            else:
                self.edition, self.edition_reason = detect(self.adapter, self.description)

    def _open(self, s: Settings) -> None:
        """Load the target (in process or isolated); a failure becomes :attr:`load_error`."""
        from llmspec.runtime.connect import open_adapter
        from llmspec.errors import DataError, HarnessError

        limits = dict(s.limits)
        budgets = {k.partition(".")[2]: float(limits.pop(k)) for k in list(limits) if k.startswith("stage_timeout.")}
        default_budget = limits.pop("stage_timeout", None)
        try:
            self.adapter = open_adapter(s.target, s.impl_map or None, isolate=s.isolate,
                                        strict_names=s.strict_names, **limits)
            if s.isolate:  # a fault inside one stage costs that stage only (see llmspec.runtime.faults)
                from llmspec.runtime.faults import StageGuard

                self.adapter = StageGuard(self.adapter, budgets,
                                          None if default_budget is None else float(default_budget))
            self.description = self.adapter.describe()
        except DataError:
            raise
        except (HarnessError, OSError, ValueError) as exc:
            name, text = s.target or "reference", " ".join(str(exc).split())
            # the loader's reasons usually start with the target's own name (the worker's with its
            # absolute path): say it once
            said = next((p for p in (name, os.path.abspath(name)) if text.startswith(p + ":")), None)
            self.load_error = (_("cannot load {target}{rest}").format(target=name, rest=text[len(said):])
                               if said is not None else _("cannot load {target}: {error}").format(target=name, error=text))

    def close(self) -> None:
        if self.adapter is not None:
            self.faults = dict(getattr(self.adapter, "faults", {}))  # for the summary, after the close
            if self.adapter is not self.settings.preset:  # the caller's (llmspec.suite.Preset) stays open
                self.adapter.close()
            self.adapter = None


RUN_KEY = pytest.StashKey[Run]()


def activate(config: pytest.Config) -> None:
    """Called by ``spec_tests/conftest.py``: the spec suite is being collected, so take charge.

    Loads the ``llmspec`` Hypothesis profile unless the user chose one with ``--hypothesis-profile``
    (Hypothesis loads its own ``ci`` profile when ``CI`` is set; this overrides it on purpose: the
    same examples for every student on every machine)."""
    if RUN_KEY in config.stash:
        return
    from hypothesis import settings

    register_profiles()
    if not config.getoption("hypothesis_profile", default=None):
        settings.load_profile(PROFILE)
    _no_local_constants()
    _hypothesis_storage_outside_cwd()
    settings = resolve_settings(config)
    preset = next((p for p in config.pluginmanager.get_plugins() if getattr(p, "llmspec_preset", False)),
                  None)
    if preset is not None:  # llmspec.suite.Preset: a live namespace the caller already opened
        settings.target, settings.preset = preset.display, preset.adapter
    run = Run(settings)
    config.stash[RUN_KEY] = run
    config.pluginmanager.register(Reporter(run), "llmspec-reporter")
    _cheap_final_gc(config)


def _no_local_constants() -> None:
    """Hypothesis (6.1xx) seeds some draws with constants parsed from every *local* module's source,
    i.e. from the submission under test, and caches them in ``.hypothesis/constants`` in the cwd.  In
    the suite that would make the examples depend on the learner's code (two students would not see
    the same inputs) and write into their directory, so the suite turns it off.  Private API: on a
    Hypothesis without it nothing changes."""
    try:
        from hypothesis.internal.conjecture import providers

        empty = providers.Constants()
        providers._get_local_constants = lambda: empty
    except (ImportError, AttributeError):
        pass


def _hypothesis_storage_outside_cwd() -> None:
    """Hypothesis caches Unicode tables under ``./.hypothesis``; the suite runs in a learner's (or a
    grader's) directory, so keep that cache in llmspec's user cache instead (unless the user chose a
    place with ``HYPOTHESIS_STORAGE_DIRECTORY``)."""
    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        return
    try:
        from hypothesis.configuration import set_hypothesis_home_dir

        from llmspec.data import user_cache_root

        set_hypothesis_home_dir(str(user_cache_root() / "hypothesis"))
    except (ImportError, OSError):
        pass


def _cheap_final_gc(config: pytest.Config) -> None:
    """pytest's unraisable-exception check runs ``gc.collect()`` five times at exit; with torch's
    object graph loaded that alone cost ~1 s per run.  The suite freezes the imported heap after
    collection (:func:`_freeze_heap`), so one collection still finds every cycle the tests made."""
    try:
        from _pytest.unraisableexception import gc_collect_iterations_key
    except ImportError:  # a pytest without the knob: correct, only slower
        return
    config.stash[gc_collect_iterations_key] = 1


def _freeze_heap() -> None:
    """Move everything imported so far (torch, tiktoken, hypothesis, the target) to the permanent
    generation: every later garbage collection, pytest's and Hypothesis' explicit ones included,
    then scans only what the tests create.  The frozen objects live for the whole run anyway."""
    import gc

    gc.freeze()


def get_run(config: pytest.Config) -> Run | None:
    return config.stash.get(RUN_KEY, None)


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
    run.open()
    if run.load_error is None:
        run.missing = {k: list(v) for k, v in run.description.get("stages", {}).items() if v}
    if run.settings.stages is not None:
        run.selected = run.settings.stages
    else:
        extra = [n for n, s in STAGES.items() if s.optional and run.load_error is None
                 and n in run.description.get("stages", {}) and n not in run.missing]
        run.selected = CORE_STAGES + tuple(extra)
    # A stage the target implements inline (no class) is judged from state: only its test_state_*
    # tests run, and only the class tests otherwise.  --collect-only keeps both (the grader's
    # canonical list holds every test; its scoring picks the kind that ran).
    judged = run.description.get("judged", {}) if run.load_error is None else {}
    keep_both = config.option.collectonly
    absent = {} if keep_both or run.load_error else run.description.get("absent", {})
    unrun: dict[tuple[str, str], int] = {}  # (stage, absent part) -> its tests left out
    keep, drop = [], []
    for item in items:
        stage = stage_of(item)
        if stage is not None and stage not in run.selected:
            drop.append(item)
            continue
        if (stage is not None and STAGES[stage].state_names and not keep_both
                and judged_from_state(item.nodeid) != (judged.get(stage) == "state")):
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
    _freeze_heap()


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
    refused = getattr(run.adapter, "not_run", lambda: None)()
    if refused:  # an earlier test of this stage timed out or killed the worker
        pytest.fail(refused, pytrace=False)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tell a stage-guarded adapter which stage the coming calls (fixtures included) belong to."""
    run = get_run(item.config)
    stage = run.item_stage.get(item.nodeid) if run is not None else None
    if stage and stage != "?" and hasattr(run.adapter, "begin_stage"):
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

    ``None`` when the target failed to load: :func:`pytest_pyfunc_call` then fails each test with the
    load error before its body runs (a fixture error would show as a pytest "error", not a failure)."""
    return llmspec_run.adapter


@pytest.fixture(scope="session")
def edition(llmspec_run: Run) -> str:
    return llmspec_run.edition


@pytest.fixture(scope="session")
def verdict_text() -> str:
    from llmspec.data import read_verdict

    return read_verdict()


class Vocabulary(dict):  # type: ignore[type-arg]
    """A vocabulary fixture: a plain ``dict[str, int]`` that Hypothesis prints in one line.

    Hypothesis pretty-prints every argument of every explicit ``@example``, fixtures included,
    before it knows whether the example fails; a 1,130-word vocabulary took a sixth of a warm
    in-kernel check.  Implementations never see this class (the adapter passes a plain copy)."""

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(f"<vocabulary of {len(self)} tokens>")


@functools.lru_cache(maxsize=32)
def book_vocabulary(text: str, edition: str, special_tokens: bool) -> Vocabulary:
    """Listing 2.3's vocabulary of ``text`` (``reference.tokenizers.build_vocab``), built once per
    process: a grader asks the same few vocabularies of every submission, and its forked children
    inherit them from the warm-up run.  Shared, so nobody may change it (the adapter hands
    implementations a copy)."""
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


# --- results, summary table, JSON report ----------------------------------------------------------
def failure_message(report: pytest.TestReport) -> str:
    """Actionable text first: the failure's own message, then Hypothesis' minimal example."""
    if getattr(report, "llmspec_message", None) is not None:  # set by Reporter.pytest_runtest_makereport
        message = report.llmspec_message
        example = getattr(report, "llmspec_example", "")
        return (message + ("\n" + example if example else "")).strip()
    longrepr = report.longrepr
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        message = crash.message
        message = message[len("Failed: "):] if message.startswith("Failed: ") else message
    elif isinstance(longrepr, tuple):  # skip reports: (path, line, reason)
        message = str(longrepr[-1])
    else:
        message = str(longrepr or "")
    example = getattr(report, "llmspec_example", "")  # translated, fixtures hidden (Reporter)
    text = getattr(report, "longreprtext", "") or ""
    if example:
        message += "\n" + example
    elif "Falsifying example" in text and "Falsifying example" not in message:
        start = text.index("Falsifying example")
        message += "\n" + text[start:start + 800].split("\n\n")[0]
    if report.when != "call":
        message = _("error in test {phase}: {message}").format(phase=report.when, message=message)
    # Object reprs in Hypothesis' report ("<...ProxyAdapter object at 0x7f...>") differ per process:
    # drop the address so the same submission gets the same feedback on every run (grading).
    return _ADDRESS.sub(">", message).strip()


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+>")


_DIGESTS: dict[Any, bytes] = {}  # a property's function -> the digest Hypothesis derives its seed from


@contextmanager
def known_seed(test: Any) -> Iterator[None]:
    """Run a derandomized Hypothesis property with the seed Hypothesis itself would derive.

    Derandomized, Hypothesis seeds each run from a digest of the test's source (``inspect.getsource``,
    tokenize, sha384), recomputed on every run: about a millisecond a property, in every submission's
    trusted child.  The function and its source do not change within a process, so the digest is
    taken once (in a grader, during the warm-up run every forked child inherits) and handed over as
    the seed Hypothesis would have computed: the same random source, hence the same examples.  Only
    while the test runs, so a later randomized profile in the same process is not pinned."""
    handle = getattr(test, "hypothesis", None)
    inner = getattr(handle, "inner_test", None)
    used = getattr(test, "_hypothesis_internal_use_settings", None)
    if inner is None or used is None or not getattr(used, "derandomize", False) \
            or getattr(test, "_hypothesis_internal_use_seed", None) is not None:
        yield
        return
    digest = _DIGESTS.get(inner)
    try:  # private API: on a Hypothesis without it, Hypothesis computes the digest itself
        from hypothesis import core
        from hypothesis.internal.compat import int_from_bytes
        from hypothesis.internal.reflection import function_digest
    except ImportError:
        yield
        return
    if digest is None:
        digest = _DIGESTS[inner] = function_digest(inner)
    # the run's database key is the same digest (None under --hypothesis-seed), as Hypothesis has it
    keyed = not hasattr(test, "_hypothesis_internal_database_key")
    test._hypothesis_internal_use_seed = int_from_bytes(digest)
    if keyed:
        test._hypothesis_internal_database_key = digest if core.global_force_seed is None else None
    try:
        yield
    finally:
        test._hypothesis_internal_use_seed = None
        if keyed:
            del test._hypothesis_internal_database_key


class Reporter:
    """Per-session hooks, registered by :func:`activate` only when the spec suite is collected."""

    def __init__(self, run: Run) -> None:
        self.run = run

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Any:
        """Put Hypothesis' minimal example (its drawn arguments only, no fixtures) under the failure.

        ``pytest.fail(..., pytrace=False)`` shows the message alone, and Hypothesis keeps its example
        in exception notes that this style drops; the learner needs the example right there."""
        outcome = yield
        report = outcome.get_result()
        if item.nodeid not in self.run.item_stage:
            return
        # Hypothesis would turn the failing examples into a patch file: it imports libcst (slow,
        # warnings) and writes .hypothesis/patches/ into the learner's directory.  Not here.
        item.__dict__.pop("_hypothesis_failing_examples", None)
        if not report.failed or call.excinfo is None:
            return
        from llmspec.explain import hypothesis_example

        exc = call.excinfo.value
        example = hypothesis_example(getattr(exc, "__notes__", None), hide=set(item.fixturenames))
        if isinstance(exc, pytest.fail.Exception):
            report.llmspec_message = str(exc.msg)  # the teaching message, without the raw notes
        if example:
            report.llmspec_example = example
            if hasattr(report.longrepr, "addsection"):
                report.longrepr.addsection("Hypothesis' minimal example", example)

    # Outermost (tryfirst): it must read the property's own body before any other wrapper stands in
    # for it (the grader's example recorder swaps ``inner_test`` while it runs).
    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function) -> Any:
        with known_seed(pyfuncitem.obj):
            return (yield)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        run = self.run
        if report.nodeid not in run.item_stage:
            return
        entry = run.results.setdefault(report.nodeid, {
            "nodeid": report.nodeid, "name": report.nodeid.split("::", 1)[-1],
            "stage": run.item_stage[report.nodeid], "outcome": "passed", "message": "",
            "duration": 0.0,
        })
        entry["duration"] = round(entry["duration"] + report.duration, 4)
        if entry["outcome"] == "failed":
            return
        if report.failed:
            entry["outcome"], entry["message"] = "failed", failure_message(report)
        elif report.skipped:
            # The suite never skips; a skip (e.g. an assumption that always fails) counts as failed.
            entry["outcome"], entry["message"] = "failed", _("skipped: {reason}").format(
                reason=failure_message(report))

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_terminal_summary(self, terminalreporter: Any) -> Any:
        """The verdict comes last, after pytest's "short test summary" (the outermost wrapper's code
        after ``yield`` runs after every other summary), right above the "N failed" line."""
        result = yield
        if self.run.item_stage and not terminalreporter.config.option.collectonly:
            write_table(self.run, terminalreporter)  # nothing ran under --collect-only: no "0/0 fail"
        return result

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        run = self.run
        try:
            if run.item_stage and not session.config.option.collectonly:
                run.report = build_report(run)  # before the close: it reads the adapter
                if run.settings.report:
                    write_json(Path(run.settings.report), run.report)
        finally:
            run.close()


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Atomic write: a reader (the grader) never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    tmp.replace(path)


def stage_table(run: Run) -> dict[str, dict[str, Any]]:
    """``{stage: {"status", "passed", "total", "missing"}}`` for every stage of the table."""
    out: dict[str, dict[str, Any]] = {}
    collected = set(run.item_stage.values())  # a collected stage that did not run (crash, -x) fails
    for name in STAGES:
        tests = [r for r in run.results.values() if r["stage"] == name]
        passed = sum(r["outcome"] == "passed" for r in tests)
        missing = run.missing.get(name, [])
        if name not in run.selected:
            status = "not_selected"
        elif missing:
            status = "not_implemented"
        elif name not in collected:  # deselected by -k / node ids, or an optional stage not defined
            status = "not_selected"
        elif tests and passed == len(tests):
            status = "pass"
        else:
            status = "fail"
        out[name] = {"status": status, "passed": passed, "total": len(tests), "missing": missing}
        hints = {n: h for n, h in run.description.get("hints", {}).items() if n in missing}
        if hints and status == "not_implemented":
            out[name]["hints"] = hints
        if run.description.get("judged", {}).get(name) == "state" and status != "not_selected":
            out[name]["judged"] = "state"
    return out


def build_report(run: Run) -> dict[str, Any]:
    """The ``--llmspec-report`` JSON (the grader and the variant corpus read it)."""
    s = run.settings
    return {
        "target": s.target or "reference",
        "edition": run.edition,
        "edition_reason": run.edition_reason,
        "isolate": s.isolate,
        "error": run.load_error,
        "notes": list(run.description.get("notes", [])),
        "stages": stage_table(run),
        "tests": list(run.results.values()),
        "duration": round(time.perf_counter() - run.started, 3),
    }


def write_table(run: Run, tr: Any) -> None:
    """The per-stage table at the end of the terminal output (``stage  passed/total  status``)."""
    tr.section(_("llmspec: verdict per stage"))
    tr.write_line(_("target: {target}    edition: {edition}").format(
        target=run.settings.target or "reference", edition=run.edition)
                  + ("    " + _("(isolated)") if run.settings.isolate else ""))
    if run.edition_reason:
        tr.write_line(run.edition_reason)
    if run.settings.isolate:
        from llmspec.sandbox import isolation, landlock

        gap = landlock.coverage(isolation.is_root())
        if gap:
            tr.write_line(gap, yellow=True)
    if run.load_error:
        tr.write_line(run.load_error, red=True)
    for note in run.description.get("notes", []):
        tr.write_line(_("note: {note}").format(note=note))
    tr.write_line(table_header())
    table = stage_table(run)
    for name, row in table.items():
        if row["status"] != "not_selected":
            tr.write_line(table_row(name, row), green=row["status"] == "pass", red=row["status"] != "pass")
    for line in missing_lines(table):
        tr.write_line(line, red=True)
    for stage, reason in (run.faults or getattr(run.adapter, "faults", {})).items():  # once, not per test
        tr.write_line(_("{stage}: stopped after {reason}; its later tests did not run").format(
            stage=stage, reason=reason), red=True)


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    """Name the target and edition up front (only when the run is explicitly about an --impl)."""
    target = config.getoption("llmspec_impl", default=None)
    if not target:
        return None
    return [_("llmspec: target {target}, edition {edition}").format(
        target=target, edition=config.getoption("llmspec_edition") or AUTO)]
