"""Replay, for every submission, the examples Hypothesis generated for a property on the reference.

Why: in a grading run the Hypothesis engine itself (drawing, tracking, seeding every example) costs
about a fifth of each submission's time, and it generates the same examples for every submission
that passes.  The suite is derandomized and keeps no database, and a property whose arguments all
come from its ``@given`` strategies (no ``st.data()`` draws, no ``assume``) is handed a sequence of
examples that depends only on whether each earlier example passed.  A property that draws inside
its body (``data.draw``) is handed the same draws too, as long as its strategies are built from the
trusted fixtures alone (the reference's vocabularies, the edition) and not from what the submission
returned; the suite's properties all draw first and call the implementation after, and the draws
are recorded per edition.  So the examples Hypothesis ran on the trusted reference (recorded once,
in the warm parent: :class:`Recorder`) are exactly the examples it would run on any submission
that passes them all.

Each trusted child (:class:`Replayer`) therefore calls the property's body on the recorded examples,
in order, under the same deterministic PRNG.  All pass: the property passes, as Hypothesis would
have concluded.  One fails: Hypothesis runs the property for real, so the report (the shrunk
smallest failing input) is exactly Hypothesis's own; and should that run pass (an implementation
whose state the replay changed), the replay's failure stands, since Hypothesis, starting fresh,
would have met the same failing example first.  Only the warm grader records; ``llmspec check``
and a single-submission grade run Hypothesis as usual.
"""
from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis.errors import StopTest

from llmspec.errors import LeaveTest

# (edition or "*", test id ``test_x.py::test_y[params]``) -> the keyword arguments of each example, in
# Hypothesis's order; a ``data`` argument is recorded as its draws, ``[(label, value), ...]``
RECORDED: dict[tuple[str, str], list[dict[str, Any]]] = {}
ANY_EDITION = "*"


class Draws(list):
    """An ``st.data()`` argument, recorded as ``[(label, value), ...]``."""


class _Mismatch(BaseException):
    """The body asked for other draws than recorded: the replay cannot tell; Hypothesis decides.
    (A BaseException: a test body's ``except Exception`` must not swallow it.)"""


class _RecordingData:
    """Stands in for Hypothesis's ``data`` object while recording: draws through it, keeps them."""

    def __init__(self, data: Any, draws: Draws) -> None:
        self._data, self._draws = data, draws

    def draw(self, strategy: Any, label: Any = None) -> Any:
        value = self._data.draw(strategy, label=label)
        self._draws.append((label, copy.deepcopy(value) if _plain(value) else _Unplain))
        return value


class _Unplain:
    """Marks a drawn value that cannot be recorded (the property is then not replayed)."""


class _ReplayData:
    """Hands out the recorded draws in order, each only for the label it was drawn under."""

    def __init__(self, draws: Draws) -> None:
        self._draws, self._next = draws, 0

    def draw(self, strategy: Any, label: Any = None) -> Any:
        if self._next >= len(self._draws) or self._draws[self._next][0] != label:
            raise _Mismatch
        self._next += 1
        return copy.deepcopy(self._draws[self._next - 1][1])

    def done(self) -> bool:
        return self._next == len(self._draws)


def _test_id(item: pytest.Item) -> str:
    from llmspec.grading.runner import test_id

    return test_id(item.nodeid)


def _fixtures(item: pytest.Function) -> dict[str, Any]:
    """The fixture arguments pytest passes the test (as its own ``pytest_pyfunc_call`` does)."""
    return {name: item.funcargs[name] for name in item._fixtureinfo.argnames}


def replay(inner: Any, fixtures: dict[str, Any], examples: list[dict[str, Any]]) -> BaseException | None:
    """Run ``inner`` on each example (a fresh copy: a body may change its input) as Hypothesis runs
    one: under its deterministic PRNG.  Returns the first failure, or ``None``; raises
    :class:`_Mismatch` when the body's draws are not the recorded ones."""
    from hypothesis.internal.entropy import deterministic_PRNG

    for example in examples:
        given = {k: _ReplayData(v) if isinstance(v, Draws) else copy.deepcopy(v) for k, v in example.items()}
        try:
            with deterministic_PRNG():
                inner(**fixtures, **given)
        except (KeyboardInterrupt, SystemExit, _Mismatch, LeaveTest):
            raise
        except BaseException as exc:  # noqa: BLE001 - pytest's Failed is a BaseException
            return exc
        if not all(v.done() for v in given.values() if isinstance(v, _ReplayData)):
            raise _Mismatch
    return None


def _key(item: pytest.Function, examples: list[dict[str, Any]]) -> tuple[str, str]:
    """Draws depend on the edition (its vocabulary); plain arguments do not."""
    draws = any(isinstance(v, Draws) for e in examples for v in e.values())
    return (_edition(item) if draws else ANY_EDITION), _test_id(item)


def _edition(item: pytest.Item) -> str:
    from llmspec.plugin import get_run

    run = get_run(item.config)
    return str(run.edition) if run is not None else "?"


class Recorder:
    """A pytest plugin for the warm parent's run on the reference: keeps the examples of every
    property that qualifies (see the module docstring), after checking that replaying them on the
    reference passes."""

    @pytest.hookimpl(hookwrapper=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function):
        hyp = getattr(pyfuncitem.obj, "hypothesis", None)
        if hyp is None or not _seed_pinned(pyfuncitem.obj):
            yield
            return
        inner, fixtures = hyp.inner_test, set(pyfuncitem._fixtureinfo.argnames)
        examples: list[dict[str, Any]] = []
        usable = True

        def recording(*args: Any, **kwargs: Any) -> Any:
            nonlocal usable
            given = {k: v for k, v in kwargs.items() if k not in fixtures}
            example: dict[str, Any] = {}
            for name, value in given.items():
                if type(value).__name__ == "DataObject":  # st.data(): record what is drawn from it
                    example[name] = Draws()
                    kwargs[name] = _RecordingData(value, example[name])
                elif _plain(value):
                    example[name] = copy.deepcopy(value)
                else:
                    usable = False
            if args:
                usable = False
            examples.append(example)
            try:
                return inner(*args, **kwargs)
            except StopTest:  # Hypothesis abandoned the example inside a draw: it never counted
                examples.remove(example)
                raise
            except BaseException:
                usable = False
                raise

        hyp.inner_test = recording  # Hypothesis looks the body up here on every call
        try:
            outcome = yield
        finally:
            hyp.inner_test = inner
        usable = usable and not any(v is _Unplain for e in examples for d in e.values() if isinstance(d, Draws)
                                    for _label, v in d)
        if outcome.excinfo is None and usable and examples:
            try:
                if replay(inner, _fixtures(pyfuncitem), examples) is None:
                    RECORDED[_key(pyfuncitem, examples)] = examples
            except _Mismatch:
                pass


class Replayer:
    """A pytest plugin for a trusted child: a recorded property runs on its recorded examples."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function) -> bool | None:
        hyp = getattr(pyfuncitem.obj, "hypothesis", None)
        if hyp is None or not RECORDED:
            return None  # pytest calls the test as usual
        tid = _test_id(pyfuncitem)
        examples = RECORDED.get((ANY_EDITION, tid)) or RECORDED.get((_edition(pyfuncitem), tid))
        if not examples:
            return None
        fixtures = _fixtures(pyfuncitem)
        try:
            failure = replay(hyp.inner_test, fixtures, examples)
        except _Mismatch:
            return None  # other draws than recorded: Hypothesis decides, as without a replay
        if failure is None:
            return True
        pyfuncitem.obj(**fixtures)  # Hypothesis for real: its failure, shrunk, is the report
        raise failure


def _seed_pinned(test: Any) -> bool:
    """Whether Hypothesis's random source for this run is fixed apart from the body it calls: the
    suite's plugin hands a derandomized property the seed Hypothesis derives from the body's source
    (:func:`llmspec.plugin.known_seed`, outermost), or ``--hypothesis-seed`` fixes it.  Otherwise
    the recorder's stand-in body would seed the run from its own source, and the recorded examples
    would not be the ones a real run draws: nothing is recorded then."""
    if getattr(test, "_hypothesis_internal_use_seed", None) is not None:
        return True
    try:
        from hypothesis import core
    except ImportError:
        return False
    return getattr(core, "global_force_seed", None) is not None


def _plain(value: Any) -> bool:
    """Only plain data is recorded (str, numbers, lists, tuples, dicts of them): an ``st.data()``
    object or anything stateful would not replay as it was drawn."""
    if value is None or isinstance(value, (str, bytes, bool, int, float)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False
