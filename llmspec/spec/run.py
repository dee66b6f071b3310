"""One run of the suite: what it judges and how (:class:`Settings`), and its state (:class:`Run`).

Each setting comes from (first wins) the command line, an environment variable (``LLMSPEC_`` and its
name in capitals), the ``[tool.llmspec]`` table of ``pyproject.toml`` in the rootdir (then the cwd), the
default.  :class:`Run` opens the adapter once, asks the target what it defines, resolves ``--edition
auto`` and collects what the report needs.
"""
from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from llmspec.editions import AUTO, EDITION_CHOICES, check_edition, detect
from llmspec.errors import DataError, HarnessError
from llmspec.i18n import _
from llmspec.runtime.names import parse_impl_map
from llmspec.stages import STAGES, parse_stages


# --- settings -------------------------------------------------------------------------------------
@dataclass
class Settings:
    """The resolved options of one run (what is judged, how, and where the report goes)."""

    target: str | None = None  # None: the reference package
    impl_map: dict[str, str] = field(default_factory=dict)
    stages: tuple[str, ...] | None = None  # None: core stages (+ bpe_scratch when defined)
    edition: str = "auto"  # auto: probed from the target's tokenizer (llmspec.editions)
    isolate: bool = False  # a sandboxed worker (grading)
    worker: bool = False  # a worker with the learner's own permissions (llmspec check)
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
    def number(value: str) -> Any:
        for cast in (int, float):
            with contextlib.suppress(ValueError):
                return cast(value)
        return value

    return {key: number(value) for key, value in parse_map(items or []).items()}


def _pyproject_table(config: pytest.Config) -> tuple[dict[str, Any], Path | None]:
    import tomllib

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

    def pick(name: str) -> Any:
        value = getattr(opt, "llmspec_" + name, None)
        if value not in (None, [], False):
            return value
        if os.environ.get("LLMSPEC_" + name.upper()):
            return os.environ["LLMSPEC_" + name.upper()]
        return table.get(name.replace("_", "-"), table.get(name))

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
    isolate, worker, strict = (v.strip().lower() in ("1", "true", "yes", "on") if isinstance(v, str) else v
                               for v in (pick("isolate"), pick("worker"), pick("strict_names")))
    return Settings(
        target=str(target) if target else None,
        impl_map=parse_map(pick("impl_map")),
        stages=stage_sel,
        edition=edition,
        isolate=bool(isolate),
        worker=bool(worker),
        strict_names=bool(strict),
        report=pick("report"),
        limits=_parse_limits(getattr(opt, "llmspec_limit", None)) or dict(table.get("limits", {})),
    )


# --- the command line -----------------------------------------------------------------------------
def add_options(parser: pytest.Parser) -> None:
    """The suite's command-line options (the plugin's ``pytest_addoption``)."""
    group = parser.getgroup("llmspec", "llmspec: the chapter-2 specification suite")
    group.addoption("--impl", dest="llmspec_impl", metavar="TARGET",
                    help="implementation under test: .py file, package dir, dotted module or .ipynb "
                    "(env LLMSPEC_IMPL; default: the reference)")
    group.addoption("--impl-map", dest="llmspec_impl_map", action="append", metavar="NAME=OTHER",
                    help="accept other names, e.g. create_dataloader_v1=make_loader (repeatable)")
    group.addoption("--stages", dest="llmspec_stages", metavar="A,B",
                    help=f"stages to run ({', '.join(STAGES)} or 'all'; default: the core stages)")
    group.addoption("--edition", dest="llmspec_edition", choices=EDITION_CHOICES,
                    help="which edition's regex the expectations use (default: auto, probed from the "
                    "target's SimpleTokenizerV1/V2; print when it has none)")
    group.addoption("--isolate", dest="llmspec_isolate", action="store_true", default=False,
                    help="run the implementation in a sandboxed worker process (the grading mode)")
    group.addoption("--worker", dest="llmspec_worker", action="store_true", default=False,
                    help="run the implementation in a worker process with your own permissions: a hang, "
                    "a crash or os._exit in it is reported (llmspec check's default)")
    group.addoption("--strict-names", dest="llmspec_strict_names", action="store_true", default=False,
                    help="accept only the book's exact names (by default SimpletokenizerV2 or the "
                    "earlier create_dataloader are accepted with a note)")
    group.addoption("--llmspec-report", dest="llmspec_report", metavar="PATH",
                    help="write a JSON report of stages and tests to PATH")
    group.addoption("--llmspec-limit", dest="llmspec_limit", action="append", metavar="KEY=VALUE",
                    help="pass a limit to the adapter, e.g. call_timeout=10 (repeatable; --isolate, --worker)")


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
    faults: dict[str, str] = field(default_factory=dict)  # stage -> why it stopped early (worker runs)
    started: float = field(default_factory=time.perf_counter)
    edition: str = "print"  # the edition judged (``--edition auto`` resolved by open())
    edition_reason: str = ""  # the one line ``auto`` prints: which edition, why, how to override
    report: dict[str, Any] | None = None  # the --llmspec-report dict, built once at the session's end
    undo_profiles: Any = None  # puts Hypothesis back as it was before the run (profiles.configure)

    def open(self) -> None:
        """Open the adapter once; a target that cannot load fails every test with one message."""
        if self.adapter is not None or self.load_error is not None:
            return
        s = self.settings
        if s.preset is not None:  # an adapter the caller opened (llmspec.suite.run_suite)
            self.adapter = s.preset
            self.description = self.adapter.describe()
        else:
            self._open(s)
        self.edition = "print" if s.edition == AUTO else s.edition
        if s.edition == AUTO and self.adapter is not None:
            self.edition, self.edition_reason = detect(self.adapter, self.description)

    def _open(self, s: Settings) -> None:
        """Load the target (in process or in a worker); a failure becomes :attr:`load_error`."""
        from llmspec.runtime.connect import open_adapter

        limits = dict(s.limits)
        budgets = {k.partition(".")[2]: float(limits.pop(k)) for k in list(limits) if k.startswith("stage_timeout.")}
        if budgets:
            limits["stage_timeouts"] = budgets
        try:
            self.adapter = open_adapter(s.target, s.impl_map or None, isolate=s.isolate, worker=s.worker,
                                        strict_names=s.strict_names, **limits)
            self.description = self.adapter.describe()
        except DataError:
            raise
        except (HarnessError, OSError, ValueError) as exc:
            name, text = s.target or "reference", " ".join(str(exc).split())
            # the loader's reasons usually start with the target's own name (the worker's with its
            # absolute path): say it once
            said = next((p for p in (name, os.path.abspath(name)) if text.startswith(p + ":")), None)
            self.load_error = (_("cannot load {target}{rest}").format(target=name, rest=text[len(said):])
                               if said is not None
                               else _("cannot load {target}: {error}").format(target=name, error=text))

    def close(self) -> None:
        if self.adapter is not None:
            self.faults = dict(self.adapter.faults)  # for the summary, after the close
            if self.adapter is not self.settings.preset:  # the caller's (llmspec.suite.run_suite) stays open
                self.adapter.close()
            self.adapter = None


RUN_KEY = pytest.StashKey[Run]()


def get_run(config: pytest.Config) -> Run | None:
    """The session's run, once the spec suite is active (``None`` in any other pytest session)."""
    return config.stash.get(RUN_KEY, None)
