"""What a grading worker may read, and how its attempts on the rest are named.

Why an allow-list: the grader's implementation, tests and golden values, the other submissions, the
reports and the grading config share the machine with the worker, often beside the packages a
submission may import.  Allowing only the Python installation, the system's libraries, the book's
data, the run directory and the submission's own copy keeps an editable checkout and a wheel install
equally closed.  The kernel enforces it (:mod:`llmspec.sandbox.landlock`, and as root a mount namespace).

An instructor still wants to know who tried, and a student why an import failed.  Two witnesses,
neither of which decides access: :func:`scan_sources` reads the source on the trusted side (the flag
stands even if the code breaks the worker's witness), and :class:`Watch`, an audit hook in the worker.
"""
from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from llmspec.i18n import _
from llmspec.runtime.resolve import imported_names

# The system's own libraries, and of its configuration what a Python program reads (the dynamic
# linker's cache, time zone, certificates, users and hosts by name); not /etc as a whole (shadow).
SYSTEM_DIRS = ("/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/dev",
               "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/timezone",
               "/etc/ssl", "/etc/ca-certificates", "/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/hosts",
               "/etc/host.conf", "/etc/resolv.conf", "/etc/gai.conf", "/etc/mime.types", "/etc/os-release",
               "/etc/locale.alias")
# The grader's packages: importable by the grader, never by a submission.
GRADER_MODULES = ("reference", "spec_tests", "llmspec._fixtures")
# Harmless facts about the machine that libraries read from /proc (not flagged when denied).
BENIGN_PROC = ("/proc/cpuinfo", "/proc/meminfo", "/proc/self/status", "/proc/self/stat", "/proc/self/maps",
               "/proc/self/cgroup", "/proc/self/mountinfo", "/proc/stat", "/proc/sys/")
# The directory holding the llmspec package: a source checkout (pyproject.toml beside it) or site-packages.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Set by ``llmspec grade`` in the trusted processes: the class's private places, as JSON
# ``{"submissions": [...], "reports": [...], "config": [...]}`` (read by the proxy, never by a worker).
PRIVATE_ENV = "LLMSPEC_GRADING_PRIVATE"


def module_dir(name: str) -> Path | None:
    """Where package ``name`` lives, found without importing (or running) it."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations))).resolve()
    return Path(spec.origin).resolve().parent if spec.origin else None


def grader_dirs() -> list[Path]:
    """The grader's own directories: its packages, and in a source checkout everything beside
    the llmspec package (tests with correct solutions, fixtures, benchmarks)."""
    from llmspec.fixtures import REPO_FIXTURES

    found = [d for d in map(module_dir, GRADER_MODULES) if d is not None]
    found += [REPO_FIXTURES] if REPO_FIXTURES.is_dir() else []
    found.append(PROJECT_ROOT / "llmspec" / "hints")  # the book's listings, as text
    if (PROJECT_ROOT / "pyproject.toml").is_file():  # a checkout: not its venv, if one lives inside
        environment = [Path(p).resolve() for p in python_roots() if p and Path(p).resolve() != PROJECT_ROOT]
        found += [c for c in PROJECT_ROOT.iterdir()
                  if c.name != "llmspec" and not any(e == c or c in e.parents for e in environment)]
    return sorted(set(found))


def within(path: str, root: str) -> bool:
    """``path`` is ``root`` or lies beneath it."""
    return path == root or path.startswith(root.rstrip("/") + "/")


@dataclass
class ReadRules:
    """``files``: readable with everything beneath; ``listable``: their names may be listed only
    (a directory holding both allowed and forbidden entries, such as site-packages beside
    ``reference``); ``private``: kind -> paths, what an attempt is named by."""

    files: list[str] = field(default_factory=list)
    listable: list[str] = field(default_factory=list)
    private: dict[str, list[str]] = field(default_factory=dict)


def _expand(root: str, forbidden: list[str], files: list[str], listable: list[str]) -> None:
    """Allow ``root`` but nothing of ``forbidden`` beneath it: where a forbidden path lies inside,
    allow the entries of ``root`` one by one (recursing into the one that holds it)."""
    inside = [f for f in forbidden if within(f, root)]
    if not inside:
        files.append(root)
        return
    if root in inside or not os.path.isdir(root):
        return
    listable.append(root)
    try:
        names = sorted(os.listdir(root))
    except OSError:
        return
    for name in names:
        _expand(os.path.join(root, name), inside, files, listable)


def python_roots() -> list[str]:
    """The Python installation this worker runs: prefixes, every import path, and llmspec itself."""
    roots = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, os.path.dirname(sys.executable),
             str(PROJECT_ROOT / "llmspec"), *sys.path]
    return [r for r in roots if r and os.path.abspath(r) != "/"]


def for_worker(own: list[str], private: dict[str, list[str]] | None = None) -> ReadRules:
    """The read rules of a grading worker whose own places (run directory, submission copy, the
    book's data) are ``own``; ``private`` adds the class's private places (see :data:`PRIVATE_ENV`)."""
    private = {k: [str(Path(p).resolve()) for p in v] for k, v in (private or {}).items()}
    private["grader"] = [str(d) for d in grader_dirs()]
    forbidden = sorted({p for paths in private.values() for p in paths})
    rules = ReadRules(private=private)
    for root in dict.fromkeys(str(Path(raw).resolve()) for raw in [*SYSTEM_DIRS, *python_roots(), *own] if raw):
        if os.path.exists(root):
            _expand(root, forbidden, rules.files, rules.listable)
    # what the submission owns is readable even inside a private place (its own copy in the class)
    rules.files += [str(Path(o).resolve()) for o in own if os.path.exists(o)]
    rules.files = sorted(set(rules.files))
    return rules


def classify(path: str, rules: ReadRules, own: list[str]) -> str | None:
    """Which private place ``path`` (absolute) belongs to: ``grader``, ``submissions``, ``reports``,
    ``config`` or ``processes``; None for anything else (a submission's own files, the
    environment, a path that simply does not exist)."""
    if any(within(path, o) for o in own):
        return None
    if path.startswith("/proc/") and not path.startswith(BENIGN_PROC):
        return "processes"
    for kind in ("config", "reports", "submissions", "grader"):
        if any(within(path, p) for p in rules.private.get(kind, ())):
            return kind
    return None


# --- attempts on private places ------------------------------------------------------------

Flag = dict[str, str]  # {"kind": ..., "detail": ...}, said to the student by flag_message
_PATH_EVENTS = frozenset({"open", "os.listdir", "os.scandir", "glob.glob", "glob.glob/2", "os.chdir",
                          "shutil.copyfile", "shutil.copytree", "os.walk"})


def grader_module(name: str, own_modules: set[str]) -> str | None:
    """The grader's package that module ``name`` belongs to (``reference.tokenizers`` -> ``reference``),
    unless the submission itself holds it (its own ``reference.py`` is its own)."""
    if name.split(".")[0] in own_modules:
        return None
    return next((g for g in GRADER_MODULES if name == g or name.startswith(g + ".")), None)


def flag_message(flag: Flag) -> str:
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


def flag_lines(flags: list[Flag]) -> list[str]:
    """One line per kind of attempt, for the student and the instructor (the first place named)."""
    out, seen = [], set()
    for flag in flags:
        key = flag.get("kind"), flag.get("detail") if flag.get("kind") == "imports" else None
        if key not in seen:
            seen.add(key)
            out.append(flag_message(flag))
    return out


def merge_flags(*groups: Iterable[Flag]) -> list[Flag]:
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
        graders = (grader_module(name, own_modules) for name in imported_names(text) if not name.startswith("."))
        flags = merge_flags(flags, [{"kind": "imports", "detail": g} for g in graders if g])
    return flags


class Watch:
    """The worker's witness: an audit hook naming attempts on private places (see :func:`classify`)."""

    def __init__(self, rules: ReadRules, own: list[str], own_modules: set[str]):
        """Install the hook (for good: an audit hook cannot be removed)."""
        self.rules, self.own, self.own_modules = rules, own, own_modules
        self.flags: list[Flag] = []
        self._sent = 0
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
