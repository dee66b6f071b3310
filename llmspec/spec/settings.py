"""What one run of the suite judges, and how: its settings, resolved from the command line, the
environment and ``pyproject.toml``.

Where each setting comes from (first wins): the command line, an environment variable, the
``[tool.llmspec]`` table of ``pyproject.toml`` in the rootdir (then the cwd), the default.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from llmspec.editions import AUTO, EDITION_CHOICES, check_edition
from llmspec.runtime.names import parse_impl_map
from llmspec.stages import STAGES, parse_stages

ENV = {
    "impl": "LLMSPEC_IMPL",
    "impl_map": "LLMSPEC_IMPL_MAP",
    "stages": "LLMSPEC_STAGES",
    "edition": "LLMSPEC_EDITION",
    "isolate": "LLMSPEC_ISOLATE",
    "worker": "LLMSPEC_WORKER",
    "report": "LLMSPEC_REPORT",
    "strict_names": "LLMSPEC_STRICT_NAMES",
}


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


# --- hooks: options, markers, profiles (always; harmless) -----------------------------------------
def add_options(parser: pytest.Parser) -> None:
    """The suite's command-line options (the plugin's ``pytest_addoption``)."""
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
