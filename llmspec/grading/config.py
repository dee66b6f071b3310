"""Grading configuration: points per stage and per test, visibility, per-submission limits.

Read from TOML with :mod:`tomllib` (stdlib).  Points live per *stage* (the instructor thinks in book
sections) and are split over that stage's tests by weight, so a class's maximum score never depends on
how many tests the suite happens to have.  A fingerprint of the effective config is stored in every
``results.json`` so a resumed run never reuses a result graded under different rules.
"""
from __future__ import annotations

import fnmatch
import hashlib
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import tomllib
from llmspec.editions import EDITION_CHOICES
from llmspec.i18n import LANGUAGES
from llmspec.stages import CORE_STAGES, STAGES

VISIBILITIES: tuple[str, ...] = ("visible", "hidden", "after_due_date", "after_published")
# What a test written as ``hidden`` becomes in Gradescope's results.json.  ``after_due_date`` (the
# default) shows the tests and the total after the due date: what an instructor writing "hidden"
# almost always means.  How the total of ``hidden`` tests stays hidden: llmspec.grading.results.
HIDDEN_AS: tuple[str, ...] = ("after_due_date", "after_published", "hidden")


@dataclass(frozen=True)
class TestRule:
    """A per-test override; ``match`` is an fnmatch pattern on the test id."""

    match: str
    weight: float | None = None
    visibility: str | None = None


@dataclass(frozen=True)
class GradingConfig:
    """An assignment's rules; every value comes from the TOML laid over ``default_points.toml``."""

    name: str
    edition: str
    stages: tuple[str, ...]
    points: dict[str, float]
    stage_visibility: dict[str, str]
    rules: tuple[TestRule, ...]
    hypothesis_seed: int | None
    submission_timeout: float
    call_timeout: float
    stage_timeout: float
    stage_timeouts: dict[str, float]  # a stage's own budget, else stage_timeout
    memory_mb: int
    max_output_chars: int
    hidden_visibility: str
    language: str | None  # the class language of the feedback (en, zh, ko); None: the grader's
    strict_names: bool  # accept only the book's exact names (no letter-case variants)
    raw: dict[str, Any] = field(compare=False, repr=False)

    def _ruled(self, test_id: str, key: str, default: Any) -> Any:
        """The last matching rule that sets ``key`` wins (like a .gitignore), so specific rules go last."""
        for rule in reversed(self.rules):
            if getattr(rule, key) is not None and fnmatch.fnmatchcase(test_id, rule.match):
                return getattr(rule, key)
        return default

    def weight(self, test_id: str) -> float:
        return self._ruled(test_id, "weight", 1.0)

    def visibility(self, test_id: str, stage: str) -> str:
        vis = self._ruled(test_id, "visibility", self.stage_visibility.get(stage, "visible"))
        return self.hidden_visibility if vis == "hidden" else vis

    @property
    def max_score(self) -> float:
        return float(sum(self.points[s] for s in self.stages))

    def fingerprint(self) -> str:
        """Changes whenever anything that can change a score or its feedback changes."""
        blob = json.dumps(
            [self.edition, self.stages, self.points, self.stage_visibility,
             [vars(r) for r in self.rules], self.hypothesis_seed, self.call_timeout,
             self.memory_mb, self.max_output_chars, self.submission_timeout, self.hidden_visibility,
             self.strict_names, self.stage_timeout, self.stage_timeouts]
            + ([self.language] if self.language not in (None, "en") else []),  # English: as before
            sort_keys=True, default=str,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def default_config_text() -> str:
    return resources.files("llmspec.grading").joinpath("default_points.toml").read_text("utf-8")


# Every key a grading config may hold, per table: anything else is a typo that would otherwise be
# ignored in silence (an instructor's `pionts = 10` must not grade a stage out of its default).
KEYS: dict[str, tuple[str, ...]] = {
    "assignment": ("name", "edition", "stages", "hypothesis_seed", "hidden_visibility", "language",
                   "strict_names"),
    "limits": ("stage_timeout", "call_timeout", "submission_timeout", "memory_mb", "max_output_chars"),
    "stages": ("points", "visibility", "timeout"),
    "tests": ("match", "weight", "visibility"),
}


def load_config(path: str | Path | None = None) -> GradingConfig:
    """Load ``path`` (or the packaged defaults); a bad file raises ``ValueError`` with one clear line."""
    try:
        text = default_config_text() if path is None else Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"grading config {path}: cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"grading config {path}: {exc}") from None
    return parse_config(data, where=str(path or "default_points.toml"))


def with_defaults(data: dict[str, Any], bad) -> dict[str, Any]:
    """``data`` laid over the packaged defaults, key by key: a config says only what it changes, so
    a file holding one ``[[tests]]`` rule still grades every stage out of its default points.  A
    key the defaults do not know is refused by name (``bad`` builds the error)."""
    for table in data:
        if table not in KEYS:
            raise bad(f"unknown table [{table}]; a config holds {', '.join(f'[{t}]' for t in KEYS)}")
    defaults = tomllib.loads(default_config_text())
    merged: dict[str, Any] = {}
    for table in ("assignment", "limits"):
        given = _table(data.get(table, {}), table, bad, kind=table)
        merged[table] = {**defaults[table], **given}
    given_stages = _table(data.get("stages", {}), "stages", bad)
    merged["stages"] = {name: dict(table) for name, table in defaults["stages"].items()}
    for name, table in given_stages.items():
        if name not in STAGES:
            raise bad(f"unknown stage [stages.{name}]; stages are {', '.join(STAGES)}")
        table = _table(table, f"stages.{name}", bad, kind="stages")
        merged["stages"][name] = {**merged["stages"].get(name, {}), **table}
    rules = data.get("tests", [])
    if not isinstance(rules, list):
        raise bad("tests must be written as [[tests]] entries")
    for i, rule in enumerate(rules):
        _table(rule, f"tests[{i}]", bad, kind="tests")
    merged["tests"] = rules
    # optional stages (the bonus) are graded when the config gives them points
    merged["optional"] = [n for n in given_stages if STAGES[n].optional]
    return merged


def _table(value: Any, where: str, bad, kind: str | None = None) -> dict[str, Any]:
    """``value`` when it is a table holding only the keys :data:`KEYS` gives ``kind`` (any, without)."""
    if not isinstance(value, dict):
        raise bad(f"{where} must be a table")
    for key in value if kind else ():
        if key not in KEYS[kind]:
            table_name = "a [[tests]] entry" if kind == "tests" else f"[{where}]"
            raise bad(f"unknown key {where}.{key}; {table_name} takes {', '.join(KEYS[kind])}")
    return value


def _number(value: Any, where: str, bad, *, strict: bool = False) -> float:
    """A number (not a bool) >= 0 (> 0 with ``strict``)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and (value > 0 if strict else value >= 0)
    if not ok:
        raise bad(f"{where} must be a number {'>' if strict else '>='} 0, not {value!r}")
    return float(value)


def parse_config(data: dict[str, Any], where: str = "config") -> GradingConfig:
    def bad(msg: str) -> ValueError:
        return ValueError(f"grading config {where}: {msg}")

    merged = with_defaults(data, bad)
    assignment, limits, stage_tables = merged["assignment"], merged["limits"], merged["stages"]
    edition = str(assignment["edition"])
    if edition not in EDITION_CHOICES:
        raise bad(f"assignment.edition must be one of {EDITION_CHOICES}, not {edition!r}")
    listed = assignment.get("stages")
    if listed is not None and (not isinstance(listed, list) or not listed
                               or not all(isinstance(s, str) for s in listed)):
        raise bad("assignment.stages must be a non-empty list of stage names")
    stages = tuple(dict.fromkeys(listed or [*CORE_STAGES, *merged["optional"]]))
    for name in stages:
        if name not in STAGES:
            raise bad(f"unknown stage {name!r} in assignment.stages; stages are {', '.join(STAGES)}")
    points: dict[str, float] = {}
    stage_vis: dict[str, str] = {}
    stage_timeouts: dict[str, float] = {}
    for name in stages:
        table = stage_tables.get(name, {})
        if "points" not in table:
            raise bad(f"stage {name} has no points: add [stages.{name}] points = N")
        points[name] = _number(table["points"], f"stages.{name}.points", bad)
        vis = table.get("visibility", "visible")
        if vis not in VISIBILITIES:
            raise bad(f"stages.{name}.visibility must be one of {VISIBILITIES}")
        stage_vis[name] = vis
        if "timeout" in table:
            stage_timeouts[name] = _number(table["timeout"], f"stages.{name}.timeout", bad, strict=True)
    rules = []
    for i, t in enumerate(merged["tests"]):
        if "match" not in t:
            raise bad(f"tests[{i}] needs a 'match' pattern")
        w = None if t.get("weight") is None else _number(t["weight"], f"tests[{i}].weight", bad)
        vis = t.get("visibility")
        if vis is not None and vis not in VISIBILITIES:
            raise bad(f"tests[{i}].visibility must be one of {VISIBILITIES}")
        rules.append(TestRule(str(t["match"]), w, vis))
    strict = assignment["strict_names"]
    if not isinstance(strict, bool):
        raise bad("assignment.strict_names must be true or false")
    seed = assignment.get("hypothesis_seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise bad(f"assignment.hypothesis_seed must be a whole number, not {seed!r}")
    stage_timeout = _number(limits["stage_timeout"], "limits.stage_timeout", bad, strict=True)
    hidden_as = assignment["hidden_visibility"]
    if hidden_as not in HIDDEN_AS:
        raise bad(f"assignment.hidden_visibility must be one of {HIDDEN_AS}")
    language = assignment.get("language")
    if language is not None and language not in LANGUAGES:
        raise bad(f"assignment.language must be one of {LANGUAGES}, not {language!r}")
    submission_timeout = limits.get("submission_timeout")
    return GradingConfig(
        name=str(assignment["name"]),
        edition=edition,
        stages=stages,
        points=points,
        stage_visibility=stage_vis,
        rules=tuple(rules),
        hypothesis_seed=seed,
        # the outer safety net: by default every stage's budget plus two minutes of start-up
        submission_timeout=sum(stage_timeouts.get(s, stage_timeout) for s in stages) + 120
        if submission_timeout is None else _number(submission_timeout, "limits.submission_timeout", bad, strict=True),
        call_timeout=_number(limits["call_timeout"], "limits.call_timeout", bad, strict=True),
        stage_timeout=stage_timeout,
        stage_timeouts=stage_timeouts,
        memory_mb=int(_number(limits["memory_mb"], "limits.memory_mb", bad, strict=True)),
        max_output_chars=int(_number(limits["max_output_chars"], "limits.max_output_chars", bad, strict=True)),
        hidden_visibility=str(hidden_as),
        language=None if language is None else str(language),
        strict_names=strict,
        raw=data,
    )
