"""Grading configuration: points per stage and per test, visibility, per-submission limits.

Read from TOML with :mod:`tomllib` (stdlib; ``tomli`` on Python 3.10).  Points live per *stage* (the instructor thinks in book
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

from llmspec import _toml as tomllib
from llmspec.editions import EDITION_CHOICES
from llmspec.i18n import LANGUAGES
from llmspec.stages import CORE_STAGES, STAGES

VISIBILITIES: tuple[str, ...] = ("visible", "hidden", "after_due_date", "after_published")
# What a test written as ``hidden`` becomes in Gradescope's results.json.  Gradescope hides the
# student's *total score* while any test with points is ``hidden``; ``after_due_date`` keeps the
# total visible and still hides the test's details until the due date, which is what an instructor
# writing "hidden" almost always means.  ``[assignment] hidden_visibility = "hidden"`` restores the
# strict form.
HIDDEN_AS: tuple[str, ...] = ("after_due_date", "after_published", "hidden")
DEFAULT_HIDDEN_AS = "after_due_date"


@dataclass(frozen=True)
class TestRule:
    """A per-test override; ``match`` is an fnmatch pattern on the test id."""

    match: str
    weight: float | None = None
    visibility: str | None = None


@dataclass(frozen=True)
class GradingConfig:
    name: str
    edition: str
    stages: tuple[str, ...]
    points: dict[str, float]
    stage_visibility: dict[str, str]
    rules: tuple[TestRule, ...]
    hypothesis_seed: int | None = None
    submission_timeout: float = 480.0
    call_timeout: float = 10.0  # why 10: default_points.toml
    stage_timeout: float = 60.0
    stage_timeouts: dict[str, float] = field(default_factory=dict)
    memory_mb: int = 2048
    max_output_chars: int = 2000
    hidden_visibility: str = DEFAULT_HIDDEN_AS
    language: str | None = None  # the class language of the feedback (en, zh, ko); None: the grader's
    strict_names: bool = False  # accept only the book's exact names (no letter-case variants)
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def weight(self, test_id: str) -> float:
        """The last matching rule wins (like a .gitignore), so specific rules go last."""
        w = 1.0
        for rule in self.rules:
            if rule.weight is not None and fnmatch.fnmatchcase(test_id, rule.match):
                w = rule.weight
        return w

    def visibility(self, test_id: str, stage: str) -> str:
        vis = self.stage_visibility.get(stage, "visible")
        for rule in self.rules:
            if rule.visibility is not None and fnmatch.fnmatchcase(test_id, rule.match):
                vis = rule.visibility
        return self.hidden_visibility if vis == "hidden" else vis

    def stage_budget(self, stage: str) -> float:
        """Wall-clock seconds the submission's code may run during ``stage`` (its own budget)."""
        return self.stage_timeouts.get(stage, self.stage_timeout)

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


def load_config(path: str | Path | None = None) -> GradingConfig:
    """Load ``path`` (or the packaged defaults); a bad file raises ``ValueError`` with one clear line."""
    text = default_config_text() if path is None else Path(path).read_text("utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"grading config {path}: {exc}") from None
    return parse_config(data, where=str(path or "default_points.toml"))


def parse_config(data: dict[str, Any], where: str = "config") -> GradingConfig:
    def bad(msg: str) -> ValueError:
        return ValueError(f"grading config {where}: {msg}")

    unknown = set(data) - {"assignment", "limits", "stages", "tests"}
    if unknown:
        raise bad(f"unknown table(s) {sorted(unknown)}")
    assignment = data.get("assignment", {})
    limits = data.get("limits", {})
    stage_tables = data.get("stages", {})
    edition = str(assignment.get("edition", "print"))
    if edition not in EDITION_CHOICES:
        raise bad(f"edition must be one of {EDITION_CHOICES}, not {edition!r}")
    for name in stage_tables:
        if name not in STAGES:
            raise bad(f"unknown stage {name!r}; stages are {', '.join(STAGES)}")
    stages = tuple(assignment.get("stages") or [s for s in CORE_STAGES if s in stage_tables] or CORE_STAGES)
    for name in stages:
        if name not in STAGES:
            raise bad(f"unknown stage {name!r} in assignment.stages")
    points: dict[str, float] = {}
    stage_vis: dict[str, str] = {}
    stage_timeouts: dict[str, float] = {}
    for name in stages:
        table = stage_tables.get(name, {})
        pts = table.get("points", 0)
        if not isinstance(pts, (int, float)) or pts < 0:
            raise bad(f"stages.{name}.points must be a number >= 0")
        points[name] = float(pts)
        vis = table.get("visibility", "visible")
        if vis not in VISIBILITIES:
            raise bad(f"stages.{name}.visibility must be one of {VISIBILITIES}")
        stage_vis[name] = vis
        if "timeout" in table:
            if not isinstance(table["timeout"], (int, float)) or table["timeout"] <= 0:
                raise bad(f"stages.{name}.timeout must be a number of seconds > 0")
            stage_timeouts[name] = float(table["timeout"])
    rules = []
    for i, t in enumerate(data.get("tests", [])):
        if "match" not in t:
            raise bad(f"tests[{i}] needs a 'match' pattern")
        w = t.get("weight")
        if w is not None and (not isinstance(w, (int, float)) or w < 0):
            raise bad(f"tests[{i}].weight must be a number >= 0")
        vis = t.get("visibility")
        if vis is not None and vis not in VISIBILITIES:
            raise bad(f"tests[{i}].visibility must be one of {VISIBILITIES}")
        rules.append(TestRule(str(t["match"]), None if w is None else float(w), vis))
    strict = assignment.get("strict_names", False)
    if not isinstance(strict, bool):
        raise bad("assignment.strict_names must be true or false")
    seed = assignment.get("hypothesis_seed")
    stage_timeout = limits.get("stage_timeout", 60)
    if not isinstance(stage_timeout, (int, float)) or stage_timeout <= 0:
        raise bad("limits.stage_timeout must be a number of seconds > 0")
    stage_timeout = float(stage_timeout)
    hidden_as = assignment.get("hidden_visibility", DEFAULT_HIDDEN_AS)
    if hidden_as not in HIDDEN_AS:
        raise bad(f"assignment.hidden_visibility must be one of {HIDDEN_AS}")
    language = assignment.get("language")
    if language is not None and language not in LANGUAGES:
        raise bad(f"assignment.language must be one of {LANGUAGES}, not {language!r}")
    return GradingConfig(
        name=str(assignment.get("name", "llmspec")),
        edition=edition,
        stages=stages,
        points=points,
        stage_visibility=stage_vis,
        rules=tuple(rules),
        hypothesis_seed=None if seed is None else int(seed),
        # the outer safety net: by default every stage's budget plus two minutes of start-up
        submission_timeout=float(limits.get("submission_timeout", sum(
            stage_timeouts.get(s, stage_timeout) for s in stages) + 120)),
        call_timeout=float(limits.get("call_timeout", 10)),
        stage_timeout=stage_timeout,
        stage_timeouts=stage_timeouts,
        memory_mb=int(limits.get("memory_mb", 2048)),
        max_output_chars=int(limits.get("max_output_chars", 2000)),
        hidden_visibility=str(hidden_as),
        language=None if language is None else str(language),
        strict_names=strict,
        raw=data,
    )
