"""Replay, for every submission, the examples Hypothesis generated for a property on the reference.

Why: in a grading run the Hypothesis engine itself (drawing, tracking, seeding every example) costs
about a tenth of each submission's time, and it generates the same examples for every submission
that passes.  The suite is derandomized and keeps no database, and a property whose arguments all
come from its ``@given`` strategies (no ``st.data()`` draws, no ``assume``) is handed a sequence of
examples that depends only on whether each earlier example passed.  So the examples Hypothesis ran
on the trusted reference (recorded once, in the warm parent: :class:`Recorder`) are exactly the
examples it would run on any submission that passes them all.

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

# test id (``test_x.py::test_y[params]``) -> the keyword arguments of each example, in Hypothesis's order
RECORDED: dict[str, list[dict[str, Any]]] = {}


def _test_id(item: pytest.Item) -> str:
    from llmspec.grading.runner import test_id

    return test_id(item.nodeid)


def _fixtures(item: pytest.Function) -> dict[str, Any]:
    """The fixture arguments pytest passes the test (as its own ``pytest_pyfunc_call`` does)."""
    return {name: item.funcargs[name] for name in item._fixtureinfo.argnames}


def replay(inner: Any, fixtures: dict[str, Any], examples: list[dict[str, Any]]) -> BaseException | None:
    """Run ``inner`` on each example (a fresh copy: a body may change its input) as Hypothesis runs
    one: under its deterministic PRNG.  Returns the first failure, or ``None``."""
    from hypothesis.internal.entropy import deterministic_PRNG

    for example in examples:
        try:
            with deterministic_PRNG():
                inner(**fixtures, **copy.deepcopy(example))
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - pytest's Failed is a BaseException
            return exc
    return None


class Recorder:
    """A pytest plugin for the warm parent's run on the reference: keeps the examples of every
    property that qualifies (see the module docstring), after checking that replaying them on the
    reference passes."""

    @pytest.hookimpl(hookwrapper=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function):
        hyp = getattr(pyfuncitem.obj, "hypothesis", None)
        if hyp is None:
            yield
            return
        inner, fixtures = hyp.inner_test, set(pyfuncitem._fixtureinfo.argnames)
        examples: list[dict[str, Any]] = []
        usable = True

        def recording(*args: Any, **kwargs: Any) -> Any:
            nonlocal usable
            given = {k: v for k, v in kwargs.items() if k not in fixtures}
            if args or not _plain(given):
                usable = False
            else:
                examples.append(copy.deepcopy(given))
            try:
                return inner(*args, **kwargs)
            except BaseException:
                usable = False
                raise

        hyp.inner_test = recording  # Hypothesis looks the body up here on every call
        try:
            outcome = yield
        finally:
            hyp.inner_test = inner
        if outcome.excinfo is None and usable and examples \
                and replay(inner, _fixtures(pyfuncitem), examples) is None:
            RECORDED[_test_id(pyfuncitem)] = examples


class Replayer:
    """A pytest plugin for a trusted child: a recorded property runs on its recorded examples."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function) -> bool | None:
        examples = RECORDED.get(_test_id(pyfuncitem))
        hyp = getattr(pyfuncitem.obj, "hypothesis", None)
        if not examples or hyp is None:
            return None  # pytest calls the test as usual
        fixtures = _fixtures(pyfuncitem)
        failure = replay(hyp.inner_test, fixtures, examples)
        if failure is None:
            return True
        pyfuncitem.obj(**fixtures)  # Hypothesis for real: its failure, shrunk, is the report
        raise failure


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
