"""Attempts to reach what a submission may not see, named so that the instructor sees them.

Why: the kernel already refuses these reads (:mod:`llmspec.sandbox.readrules`), so a submission
that tries earns only what its own code earns; but an instructor wants to know who tried, and a
student should be told why an import failed rather than guess.  Two witnesses, neither of which
decides access: :func:`scan_sources` reads the source with :mod:`ast` on the trusted side (so the
flag stands even if the code later breaks the worker's witness), and :class:`Watch` is an audit hook
in the worker (it cannot be removed), reported with the worker's answers.  A flag is
``{"kind": ..., "detail": ...}``; :func:`message` says it to the student.
"""
from __future__ import annotations

import ast
import os
import sys
from typing import Any, Iterable

from llmspec.i18n import _
from llmspec.sandbox.readrules import GRADER_MODULES, ReadRules, classify

Flag = dict[str, str]
_PATH_EVENTS = frozenset({"open", "os.listdir", "os.scandir", "glob.glob", "glob.glob/2", "os.chdir",
                          "shutil.copyfile", "shutil.copytree", "os.walk"})


def grader_module(name: str, own_modules: set[str]) -> str | None:
    """The grader's package that module ``name`` belongs to (``reference.tokenizers`` -> ``reference``),
    unless the submission itself holds it (its own ``reference.py`` is its own)."""
    if name.split(".")[0] in own_modules:
        return None
    return next((g for g in GRADER_MODULES if name == g or name.startswith(g + ".")), None)


def message(flag: Flag) -> str:
    """The line a student (and the instructor) reads for ``flag``."""
    kind, detail = flag.get("kind"), flag.get("detail", "")
    if kind == "imports":
        what = {"reference": _("the grader's own implementation"), "spec_tests": _("the grader's own tests"),
                "llmspec._fixtures": _("the grader's expected values")}.get(detail, _("the grader's own code"))
        return _("your code imports `{module}`, {what}: not allowed").format(module=detail, what=what)
    if kind == "links":
        return _("your submission holds a link ({link}): links are not followed, only your own files are "
                 "graded").format(link=detail)
    texts = {
        "grader": _("your code reads {path}, the grader's own files: not allowed"),
        "submissions": _("your code reads another submission ({path}): not allowed"),
        "reports": _("your code reads the grader's reports ({path}): not allowed"),
        "config": _("your code reads the grading configuration ({path}): not allowed"),
        "processes": _("your code reads the grader's processes ({path}): not allowed"),
    }
    return texts.get(kind or "", _("your code reads {path}: not allowed")).format(path=detail)


def lines(flags: list[Flag]) -> list[str]:
    """One line per kind of attempt, for the student and the instructor (the first place named)."""
    out, seen = [], set()
    for flag in flags:
        key = flag.get("kind"), flag.get("detail") if flag.get("kind") == "imports" else None
        if key not in seen:
            seen.add(key)
            out.append(message(flag))
    return out


def merge(*groups: Iterable[Flag]) -> list[Flag]:
    """The flags of all ``groups``, each once, in the order first seen."""
    out: list[Flag] = []
    for group in groups:
        for flag in group:
            if isinstance(flag, dict) and flag not in out:
                out.append({"kind": str(flag.get("kind")), "detail": str(flag.get("detail", ""))})
    return out


def scan_sources(texts: Iterable[str], own_modules: set[str] = frozenset()) -> list[Flag]:
    """Imports of the grader's packages in source ``texts`` (read, never run)."""
    flags: list[Flag] = []
    for text in texts:
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
                  and isinstance(node.args[0].value, str)
                  and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("import_module", "__import__")):
                names = [node.args[0].value]
            graders = (grader_module(name, own_modules) for name in names)
            flags = merge(flags, [{"kind": "imports", "detail": g} for g in graders if g])
    return flags


class Watch:
    """The worker's witness: an audit hook naming attempts on private places (see :func:`classify`)."""

    def __init__(self, rules: ReadRules, own: list[str], own_modules: set[str]):
        self.rules, self.own, self.own_modules = rules, own, own_modules
        self.flags: list[Flag] = []
        self._sent = 0

    def install(self) -> None:
        sys.addaudithook(self._hook)

    def _note(self, kind: str, detail: str) -> None:
        flag = {"kind": kind, "detail": detail}
        if flag not in self.flags and len(self.flags) < 50:
            self.flags.append(flag)

    def _hook(self, event: str, args: tuple[Any, ...]) -> None:
        try:
            if event == "import":
                grader = grader_module(str(args[0]), self.own_modules)
                if grader:
                    self._note("imports", grader)
            elif event in _PATH_EVENTS and args:
                path = os.path.abspath(os.fsdecode(os.fspath(args[0])))  # a descriptor or None: TypeError
                kind = classify(path, self.rules, self.own)
                if kind is not None:
                    self._note(kind, path)
        except Exception:  # noqa: BLE001 - a witness must never change what the submission's code does
            pass

    def take_new(self) -> list[Flag]:
        """The flags not yet reported."""
        new, self._sent = self.flags[self._sent:], len(self.flags)
        return new
