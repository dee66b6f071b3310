"""Attempts to reach what a submission may not see, named so that the instructor sees them.

Why: the kernel already refuses these reads (:mod:`llmspec.sandbox.readrules`), so a submission
that tries earns only what its own code earns.  But an instructor wants to know who tried, and a
student should be told why an import failed rather than guess.  Two witnesses, neither of which
decides access:

* :func:`scan_sources`, on the trusted side: the submission's source read with :mod:`ast` (never
  run) for imports of the grader's packages (the four-import file is caught here even if its code
  later breaks the worker's own witness);
* :class:`Watch`, in the worker: a :func:`sys.addaudithook` hook that sees every ``open``,
  directory listing, glob and import the submission makes, and names the private place it was
  after.  Audit hooks cannot be removed; the worker reports what the hook saw with its answers.

A flag is ``{"kind": ..., "detail": ...}``; :func:`message` says it to the student.
"""
from __future__ import annotations

import ast
import os
import sys
from typing import Any, Iterable

from llmspec.i18n import _
from llmspec.sandbox.readrules import GRADER_MODULES, ReadRules, classify

Flag = dict[str, str]
_PATH_EVENTS = {"open": 0, "os.listdir": 0, "os.scandir": 0, "glob.glob": 0, "glob.glob/2": 0, "os.chdir": 0,
                "shutil.copyfile": 0, "shutil.copytree": 0, "os.walk": 0}


def grader_module(name: str) -> str | None:
    """The grader's package that module ``name`` belongs to (``reference.tokenizers`` -> ``reference``)."""
    for grader in GRADER_MODULES:
        if name == grader or name.startswith(grader + "."):
            return grader
    return None


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
    """Imports of the grader's packages in source ``texts`` (read, never run), except of modules the
    submission itself holds (its own ``reference.py`` is its own)."""
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
            for name in names:
                grader = grader_module(name)
                if grader and name.split(".")[0] not in own_modules:
                    flags = merge(flags, [{"kind": "imports", "detail": grader}])
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
                grader = grader_module(str(args[0]))
                if grader and str(args[0]).split(".")[0] not in self.own_modules:
                    self._note("imports", grader)
            elif event in _PATH_EVENTS and args:
                path = args[0]
                if isinstance(path, int) or path is None:
                    return
                path = os.fsdecode(os.fspath(path))
                kind = classify(os.path.abspath(path), self.rules, self.own)
                if kind is not None:
                    self._note(kind, os.path.abspath(path))
        except Exception:  # noqa: BLE001 - a witness must never change what the submission's code does
            pass

    def take_new(self) -> list[Flag]:
        """The flags not yet reported."""
        new, self._sent = self.flags[self._sent:], len(self.flags)
        return list(new)
