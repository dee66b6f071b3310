"""The order a class is graded in: what will take longest goes first.

No score depends on the order (each submission is graded alone, in a fresh process, on the same
examples); only the class's wall time does.  A submission that waits out a call budget holds no
core while it waits (see :mod:`llmspec.grading.runner`), but the class cannot end before it does:
started last, it adds its budgets to the run; started first, they pass beside the others' work.

So the grader estimates each submission's time and starts the longest first: the time it took the
last time it was graded into the same report directory, and, on a first grading, a call budget for
every loop in its source that cannot end.  The source is *read* for this (parsed with :mod:`ast`),
never run: a hostile file can hide a loop from the estimate, which then costs it only wall time.
"""
from __future__ import annotations

import ast
from pathlib import Path

from llmspec.grading.output import previous_seconds


# Calls that leave a loop for good (an exit is an exit even inside ``while True``).
_EXIT_CALLS = {"exit", "quit", "_exit", "abort"}
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)


def _walk_own(nodes: list[ast.stmt], *, into_loops: bool) -> list[ast.AST]:
    """The nodes of a loop body that run as part of this loop: not those of functions or classes
    defined in it, and (``into_loops=False``) not those of loops nested in it, whose ``break``
    leaves only themselves."""
    def own(node: ast.AST) -> bool:
        return not isinstance(node, _SCOPES) and (into_loops or not isinstance(node, _LOOPS))

    out: list[ast.AST] = []
    stack: list[ast.AST] = [n for n in reversed(nodes) if own(n)]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(child for child in ast.iter_child_nodes(node) if own(child))
    return out


def _leaves(loop: ast.While) -> bool:
    """Whether anything in the loop's own body can end it: break, return, raise, yield (a
    generator's loop ends when its consumer stops), or a call to exit."""
    for node in _walk_own(loop.body, into_loops=False):
        if isinstance(node, (ast.Break, ast.Return, ast.Raise, ast.Yield, ast.YieldFrom, ast.Await)):
            return True
    for node in _walk_own(loop.body, into_loops=True):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            if name in _EXIT_CALLS:
                return True
    return False


def _never_ends(loop: ast.While) -> bool:
    """``while True:`` (any true constant) with no way out, or ``while i < n:`` whose condition has
    no call in it and whose body never mentions one of its names (the accidental infinite loop:
    the counter is never advanced)."""
    if _leaves(loop):
        return False
    test = loop.test
    if isinstance(test, ast.Constant):
        return bool(test.value)
    parts = list(ast.walk(test))
    if any(isinstance(n, (ast.Call, ast.NamedExpr, ast.Await, ast.Yield)) for n in parts):
        return False  # a call may change what the condition reads, or take the time itself
    names = {n.id for n in parts if isinstance(n, ast.Name)}
    if not names:
        return False
    mentioned = {n.id for n in _walk_own(loop.body, into_loops=True) if isinstance(n, ast.Name)}
    return not (names & mentioned) and not loop.orelse


def endless_loops(source: str) -> int:
    """How many ``while`` loops in ``source`` cannot end once entered (0 when it does not parse)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return 0
    return sum(1 for node in ast.walk(tree) if isinstance(node, ast.While) and _never_ends(node))


def estimated_seconds(target: str | None, call_timeout: float) -> float:
    """A first grading's estimate beyond the usual: a call budget per loop that cannot end."""
    from llmspec.errors import TargetError
    from llmspec.runtime.target import resolve, source_texts

    try:
        texts = source_texts(resolve(target)) if target else []
    except TargetError:
        return 0.0
    return call_timeout * sum(endless_loops(text) for text in texts)


def grading_order(out: Path, names: list[str], targets: list[str | None], call_timeout: float) -> list[int]:
    """Indexes of the submissions in the order to grade them, the longest expected first: the time
    each took the last time it was graded into ``out`` (any config); one never graded there counts
    as the median of those that were, plus a call budget for each loop that cannot end in its
    source.  Ties keep the given order."""
    times = [previous_seconds(out, n) for n in names]
    known = sorted(t for t in times if t is not None)
    median = known[(len(known) - 1) // 2] if known else 0.0
    expected = [t if t is not None else median + estimated_seconds(targets[i], call_timeout)
                for i, t in enumerate(times)]
    return sorted(range(len(names)), key=lambda i: -expected[i])
