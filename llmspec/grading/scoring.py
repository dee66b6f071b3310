"""From test outcomes to points: the one place a grade is computed.

Every submission is scored against the same *canonical* list of tests (collected once per run), so a
submission that crashed, timed out or could not be loaded gets every missing test as a failed test
with the reason, never a dropped one; the maximum score is the same for the whole class.
"""
from __future__ import annotations

import re

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from llmspec.grading.config import GradingConfig
from llmspec.i18n import _
from llmspec.sandbox import readrules
from llmspec.stages import STAGES, judged_from_state
from llmspec.verdict import stage_title


@dataclass
class Outcome:
    """What the trusted pytest process observed for one test."""

    test_id: str
    stage: str
    passed: bool
    message: str = ""
    duration: float = 0.0


@dataclass
class GradedTest:
    test_id: str
    stage: str
    number: str
    score: float
    max_score: float
    passed: bool
    visibility: str
    message: str
    duration: float
    error: bool = False  # not judged (could not load, did not run): JUnit's <error>, Classroom's "error"

    @property
    def shown(self) -> bool:
        return self.visibility == "visible"


@dataclass
class Graded:
    name: str
    source: str
    status: str  # graded | problem | timeout | crashed
    tests: list[GradedTest]
    execution_time: float
    reason: str = ""  # one line for problem/timeout/crashed
    notes: list[str] = field(default_factory=list)
    # attempts on what a submission may not see (llmspec.sandbox.readrules): blocked by the kernel,
    # shown to the student and in every class report
    flags: list[dict[str, str]] = field(default_factory=list)

    @property
    def score(self) -> float:
        """Exactly the sum of the tests' scores (added in cents, so no float drift)."""
        return add_points(t.score for t in self.tests)

    @property
    def max_score(self) -> float:
        return add_points(t.max_score for t in self.tests)

    def stage_totals(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for stage in dict.fromkeys(t.stage for t in self.tests):
            tests = [t for t in self.tests if t.stage == stage]
            out[stage] = {"score": add_points(t.score for t in tests),
                          "max_score": add_points(t.max_score for t in tests),
                          "passed": sum(t.passed for t in tests), "total": len(tests)}
        return out


def cents(points: float) -> int:
    """Points as a whole number of hundredths (every score we write has two decimals at most)."""
    return round(points * 100)


def add_points(values) -> float:
    """The sum of point values, computed in cents so that 2.14 + ... adds up to exactly 15.0."""
    return sum(cents(v) for v in values) / 100


def split_cents(whole: int, weights: list[float]) -> list[int]:
    """Split ``whole`` cents over ``weights`` by the largest-remainder method: each share is rounded
    down to the cent, and the cents left over go to the largest remainders (ties: the earlier test),
    so the shares sum to exactly ``whole``; a zero weight gets zero."""
    weight_sum = sum(weights)
    if weight_sum <= 0:  # also: no weights
        return [0] * len(weights)
    exact = [whole * w / weight_sum for w in weights]
    floors = [int(x) for x in exact]
    left = whole - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return floors


def earned_cents(points: float, weights: list[float], passed: list[bool]) -> int:
    """What a stage earns, in cents: ``points`` x the passed share of its tests' weight, rounded half
    up from the double ``passed / total * points``.

    Why this double: GitHub Classroom's reporter prints each runner's (here: each stage's) points as
    ``(passed / tests.length * max_score).toFixed(2)`` (autograding-grading-reporter v1,
    ConsoleResults), and toFixed rounds the double's exact value half up.  Computed the same way,
    the stage's score and the line a student reads there agree to the cent (when every weight is 1,
    as the reporter assumes)."""
    total = sum(weights)
    if total <= 0:
        return 0
    return half_up_cents(sum(w for w, ok in zip(weights, passed) if ok) / total * points)


def half_up_cents(x: float) -> int:
    """``x`` in cents, rounded half up from the double's exact value (JavaScript's ``toFixed(2)``)."""
    return int(Decimal(x).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) * 100)


def stage_shares(points: float, weights: list[float], passed: list[bool]) -> list[float]:
    """Each test's points in a stage: the cents it earned (:func:`earned_cents`) split over its
    passed tests, the rest over the others (:func:`split_cents`), so both sums are exact."""
    won = split_cents(earned_cents(points, weights, passed), [w for w, ok in zip(weights, passed) if ok])
    lost = split_cents(cents(points) - sum(won), [w for w, ok in zip(weights, passed) if not ok])
    won_it, lost_it = iter(won), iter(lost)
    return [(next(won_it) if ok else next(lost_it)) / 100 for ok in passed]


def one_reason(got: list[Outcome | None]) -> bool:
    """Whether these tests (two or more) all failed with one and the same message: how the plugin
    fails the tests of a target that did not load, or of a stage whose names are missing, before
    they call anything.  Such tests are errors (JUnit's ``<error>``, Classroom's "error"), not
    failures; a wrong answer is a failure."""
    return len(got) > 1 and all(o is not None and not o.passed for o in got) and len({o.message for o in got}) == 1


def score(
    name: str,
    source: str,
    canonical: list[tuple[str, str]],
    outcomes: dict[str, Outcome],
    config: GradingConfig,
    *,
    missing_reason: str,
    status: str = "graded",
    reason: str = "",
    execution_time: float = 0.0,
    notes: list[str] | None = None,
    flags: list[dict[str, str]] | None = None,
) -> Graded:
    """Score ``outcomes`` against ``canonical`` ``[(test_id, stage)]``; absent tests fail with
    ``missing_reason``.  A stage with no canonical test gets one placeholder test so its points stay
    in the maximum; each test's points are its :func:`stage_shares`."""
    by_stage = {s: _judged_kind([t for t, stage in canonical if stage == s], outcomes) for s in config.stages}
    # the target did not load: every test of every stage failed with that one reason
    not_loaded = one_reason([outcomes.get(t) for ids in by_stage.values() for t in ids])
    tests: list[GradedTest] = []
    notes = list(notes or [])
    for s_index, stage in enumerate(config.stages, start=1):
        if any(judged_from_state(t) for t in by_stage[stage]):
            notes.append(_("{stage}: judged from state (the variables your code left, as in the book's "
                           "inline cells of {section}), not through {names}").format(
                               stage=stage, section=STAGES[stage].section, names=", ".join(STAGES[stage].names)))
        ids = by_stage[stage] or [f"{stage}::(no tests collected)"]
        got = [outcomes.get(t) for t in ids]
        passed = [bool(o and o.passed) for o in got]
        shares = stage_shares(config.points[stage], [config.weight(t) for t in ids], passed)
        stopped = not_loaded or one_reason(got)
        for t_index, (test_id, o, ok, share) in enumerate(zip(ids, got, passed, shares), start=1):
            message = o.message if o else (
                missing_reason if by_stage[stage] else _("no test of this stage was collected by the suite"))
            tests.append(GradedTest(
                test_id=test_id, stage=stage, number=f"{s_index}.{t_index}",
                score=share if ok else 0.0, max_score=share, passed=ok,
                visibility=config.visibility(test_id, stage), message=message or "",
                duration=round(o.duration, 4) if o else 0.0, error=not ok and (o is None or stopped),
            ))
    return Graded(name, source, status, tests, round(execution_time, 3), reason, notes, list(flags or []))


def _judged_kind(ids: list[str], outcomes: dict[str, Outcome]) -> list[str]:
    """A stage the suite judges either through the book's class or from the state the target's
    code left (``test_state_*``) is scored over the tests of the kind that ran (the class tests
    when none ran), so both kinds share the stage's points the same way."""
    from_state = any(judged_from_state(t) for t in ids if t in outcomes)
    return [t for t in ids if judged_from_state(t) == from_state]


def fmt_points(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def failure_line(stage: str, message: str) -> str:
    """The first line of a failure, without its stage's name in front: a "not implemented" message
    begins with it, and every report that quotes the line names the stage itself, once."""
    line = first_line(message)
    named = re.match(rf"{re.escape(stage)}\s*[:：]\s*", line)  # "bpe: ..."; in Chinese "bpe:..."
    return line[named.end():] if named else line


def student_message(t: GradedTest) -> str:
    """What a student may see for one test: hidden ones say only that they failed."""
    if not t.shown:
        return _("hidden test failed") if not t.passed else ""
    return "" if t.passed else t.message


def with_listing_hints(g: Graded, target: str | None, edition: str, strict_names: bool) -> Graded:
    """``g`` with the book's listing beside the student's code (:mod:`llmspec.hints`) in the feedback
    of the first failing *visible* test of each failing stage.  A stage whose failures are all hidden
    gets none: the listing's text would tell what a hidden test checks.  The submission is read with
    ast in this trusted process, never run."""
    failing: dict[str, GradedTest] = {}
    for t in g.tests:
        if not t.passed and t.shown and t.stage not in failing:
            failing[t.stage] = t
    if g.status != "graded" or not target or not failing:
        return g
    from llmspec.hints import target_hints
    from llmspec.hints.render import text

    state = {t.stage for t in g.tests if judged_from_state(t.test_id)}
    for stage, hint in target_hints(target, edition, list(failing), state, strict_names).items():
        failing[stage].message = f"{failing[stage].message}\n{text(hint)}"
    return g


def release_of(concealed: list[GradedTest]) -> str:
    """When a student may see what these concealed tests hide (the total, their stages' points):
    after the due date when all of them are shown then, else once the grades are published (a
    ``hidden`` test is never shown: its points wait for the publication)."""
    return "after_due_date" if all(t.visibility == "after_due_date" for t in concealed) else "after_published"


def summary(g: Graded, student: bool = False) -> str:
    """The submission-level feedback: the actionable line first, then one line per stage.

    ``student``: what a student may read while hidden tests are concealed (Gradescope's top-level
    ``output`` is always shown): no total, and no line for a stage that holds a hidden test, whose
    points would tell what the hidden tests earned."""
    concealed = {t.stage for t in g.tests if not t.shown} if student else set()
    lines = [] if concealed else [_("Score: {score}/{max_score}").format(
        score=fmt_points(g.score), max_score=fmt_points(g.max_score))]
    lines += readrules.flag_lines(g.flags)
    visible = [t for t in g.tests if t.shown]
    hidden = [t for t in g.tests if not t.shown]
    failed_visible = [t for t in visible if not t.passed]
    if g.status != "graded":
        lines.insert(0, g.reason)
    elif failed_visible:
        lines.append(_("First failure ({stage}): {message}").format(
            stage=failed_visible[0].stage, message=failure_line(failed_visible[0].stage, failed_visible[0].message)))
    elif hidden:
        lines.append(_("All visible tests passed ({count} hidden tests are graded too).").format(count=len(hidden)))
    else:
        lines.append(_("All tests passed."))
    for stage, tot in g.stage_totals().items():
        if stage in concealed:
            continue
        vis = [t for t in visible if t.stage == stage]
        title = stage_title(stage)
        lines.append(f"  {stage:<13} {fmt_points(tot['score']):>6}/{fmt_points(tot['max_score']):<4} " + _(
            "pts  {passed}/{total} visible tests passed  ({title})").format(
            passed=sum(t.passed for t in vis), total=len(vis), title=title))
    if concealed:
        stages = ", ".join(s for s in g.stage_totals() if s in concealed)
        lines.append(_("Your total and the points of {stages} are shown after the due date.").format(stages=stages)
                     if release_of(hidden) == "after_due_date" else
                     _("Your total and the points of {stages} are shown when the grades are published.").format(
                         stages=stages))
    lines.extend(g.notes)
    return "\n".join(lines)
