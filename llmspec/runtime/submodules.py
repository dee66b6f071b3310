"""A chapter split over files: which file's definition each book name is judged by.

Learners split chapter 2 into modules (``tokenizers.py``, ``dataset.py``), into packages whose
``__init__.py`` re-exports nothing, or keep an old copy of a class beside a new one.  The loaders run
the files (:mod:`llmspec.runtime.loaders`); this module reads what they left in ``sys.modules`` and the
files' text, and decides, by one rule said in a note, which definition stands for each name.
"""
from __future__ import annotations

import contextlib
import difflib
import inspect
import re
import sys
import types
from pathlib import Path

from llmspec.i18n import _
from llmspec.runtime.resolve import NOT_ENTRY
from llmspec.stages import CONTRACT_NAMES, STAGES

# How deep below a package a file defining a missing name is looked for (mypkg/tokenizers/simple.py is
# one folder down), and how much is read on the way: a package is a learner's chapter, not a venv.
SUBPACKAGE_DEPTH = 2
MAX_FILES_READ = 200
MAX_FILE_CHARS = 1_000_000


def unfound(package: str, namespace: dict[str, object]) -> list[str]:
    """The contract names neither the package nor any submodule it imported holds."""
    loaded = [vars(m) for n, m in list(sys.modules.items()) if n.startswith(package + ".")]
    return [c for c in CONTRACT_NAMES if c not in namespace and not any(c in ns for ns in loaded)]


def defining_files(directory: Path, wanted: list[str]) -> list[tuple[str, Path]]:
    """``(name, file)``: for each name of ``wanted``, the first file (in sorted order, shallowest
    first) that defines it; bounded in depth, files and bytes read (it reads whatever the learner left
    in the package)."""
    if not wanted:
        return []
    defines = re.compile(r"^(?:class|def)\s+(" + "|".join(map(re.escape, wanted)) + r")\b", re.MULTILINE)
    found: dict[str, Path] = {}
    level, read = [directory], 0
    for _depth in range(SUBPACKAGE_DEPTH + 1):
        below: list[Path] = []
        for folder in level:
            try:
                entries = sorted(folder.iterdir())
            except OSError:
                continue
            for entry in entries:
                if entry.is_dir() and not entry.is_symlink() and entry.name.isidentifier() \
                        and not entry.name.startswith("_"):
                    below.append(entry)
                elif entry.suffix == ".py" and entry.is_file() and not NOT_ENTRY.match(entry.name) \
                        and read < MAX_FILES_READ and (folder != directory or entry.name != "__init__.py"):
                    read += 1
                    try:
                        text = entry.read_text(encoding="utf-8", errors="replace")[:MAX_FILE_CHARS]
                    except OSError:
                        continue
                    for match in defines.finditer(text):
                        found.setdefault(match.group(1), entry)
        level = below
    return sorted(found.items(), key=lambda nf: (len(nf[1].parts), nf[1], nf[0]))


def adopt_submodule_names(package: str, namespace: dict[str, object]) -> list[str]:
    """A package that defines a contract name in a submodule it imported but did not re-export
    still counts: learners split chapters into files.  Say where each name came from.

    The file that defines a name wins over one that imports it, and of several files defining it
    (an old copy beside a new one) the one :func:`_choose` picks, said in a note; the classes and
    functions the submodules define are adopted too, by the same rule (a near name or a "did you
    mean" hint may be among them, and its ``--impl-map`` binds the one the note names), and so are
    the variables of the first file that builds 2.7-2.8 inline (judged from state)."""
    notes = []
    prefix = package + "."
    submodules = sorted((n, vars(m)) for n, m in list(sys.modules.items()) if n.startswith(prefix))
    for contract in CONTRACT_NAMES:
        if contract in namespace:
            continue
        found = [(n, ns) for n, ns in submodules if contract in ns and _fits(contract, ns[contract])]
        own = [(n, ns) for n, ns in found if getattr(ns[contract], "__module__", None) == n]
        if len(own) > 1:
            modname, note = _choose(contract, own, submodules, package)
            namespace[contract] = dict(own)[modname][contract]
            notes += [note] if not _same_code([ns[contract] for _n, ns in own]) else []
            continue
        for modname, ns in (own or found)[:1]:
            namespace[contract] = ns[contract]
            notes.append(_("{contract} found in {file}").format(contract=contract, file=_where(modname, ns, package)))
    defined: dict[str, list[tuple[str, dict[str, object]]]] = {}
    for modname, ns in submodules:
        for key, obj in ns.items():
            if (not key.startswith("_") and key not in namespace
                    and (inspect.isclass(obj) or inspect.isfunction(obj))
                    and getattr(obj, "__module__", None) == modname):
                defined.setdefault(key, []).append((modname, ns))
    for key, own in defined.items():
        modname, note = _choose(key, own, submodules, package) if len(own) > 1 else (own[0][0], "")
        namespace[key] = dict(own)[modname][key]
        if note and not _same_code([ns[key] for _n, ns in own]) and (
                inspect.isclass(namespace[key])
                or difflib.get_close_matches(key.lower(), [c.lower() for c in CONTRACT_NAMES], cutoff=0.6)):
            # not every file's main()
            notes.append(note)
    state_names = {n for stage in STAGES.values() for n in stage.state_names}
    for modname, ns in submodules:
        if state_names & set(ns):
            namespace.update({k: v for k, v in ns.items() if not k.startswith("_") and k not in namespace
                              and not isinstance(v, types.ModuleType)})
            break
    return notes


Defining = list[tuple[str, dict[str, object]]]  # (submodule name, its namespace), each defining one name


def _same_code(objects: list[object]) -> bool:
    """Whether several definitions of one name are the same code (a section's notebook repeating the
    earlier sections' cells, as learners keep them): then which one is judged makes no difference,
    and no note is needed.  Compared by all that defines them (:func:`_fingerprint`): a copy that
    differs in a name looked up, a default or a class attribute is another definition."""
    first = _fingerprint(objects[0])
    return all(_fingerprint(o) == first for o in objects[1:])


def _fingerprint(obj: object, depth: int = 0) -> object:
    """What defines a class or function, as plain values: the bytecode, names and constants of each
    function (nested code too), its defaults and closure, its decorators' wrapped function; a class's
    bases and every attribute.  Anything else by its ``repr``."""
    if depth > 4:
        return type(obj).__name__
    if isinstance(obj, (staticmethod, classmethod)):
        return type(obj).__name__, _fingerprint(obj.__func__, depth + 1)
    if isinstance(obj, property):
        return "property", *(_fingerprint(f, depth + 1) for f in (obj.fget, obj.fset, obj.fdel))
    if inspect.isfunction(obj):
        cells = []
        for cell in obj.__closure__ or ():
            try:
                cells.append(_fingerprint(cell.cell_contents, depth + 1))
            except ValueError:  # an empty cell
                cells.append(None)
        return ("function", _code(obj.__code__), repr(obj.__defaults__), repr(obj.__kwdefaults__), cells,
                _fingerprint(getattr(obj, "__wrapped__", None), depth + 1))
    if inspect.isclass(obj):
        skip = {"__module__", "__dict__", "__weakref__", "__qualname__"}
        return ("class", [b.__qualname__ for b in obj.__bases__],
                sorted(((k, _fingerprint(v, depth + 1)) for k, v in vars(obj).items() if k not in skip), key=repr))
    return repr(obj)


def _code(code: types.CodeType) -> tuple[object, ...]:
    return (code.co_code, code.co_names, code.co_varnames, code.co_freevars,
            tuple(_code(c) if isinstance(c, types.CodeType) else repr(c) for c in code.co_consts))


def _fits(contract: str, value: object) -> bool:
    """Whether a submodule's ``value`` can stand for ``contract``: the module-level ``tokenizer`` of
    2.5 is tiktoken-like (a file's ``tokenizer = SimpleTokenizerV2(vocab)`` is another idea)."""
    return contract != "tokenizer" or all(hasattr(value, a) for a in ("encode", "decode", "n_vocab"))


def _choose(name: str, own: Defining, submodules: Defining, package: str) -> tuple[str, str]:
    """Which of several files defining ``name`` is judged, and the note saying so.  The rule, in
    order, so the choice never depends on the order files are listed in: the one the folder's other
    files import (what the learner's own code uses); else the one whose file is named for the
    book's stage of ``name`` (``tokenizer_v1.py``, ``simple_tokenizer_v1.py`` for
    SimpleTokenizerV1); else the first by file name, ``.py`` files before notebooks, with how to
    choose another."""
    stems = {modname: modname.rpartition(".")[2] for modname, _ns in own}
    used = [m for m in stems if any(
        other != m and name in ns and str(getattr(ns[name], "__module__", "")).rpartition(".")[2] == stems[m]
        for other, ns in submodules)]
    stage_words = {_plain(w) for st in STAGES.values() if name in st.names for w in (st.name, name)}
    named = [m for m in stems if any(w in _plain(stems[m]) for w in stage_words)]
    if len(used) == 1:
        chosen, why = used[0], _("the one your other files import")
    elif len(named) == 1:
        chosen, why = named[0], _("its file is named for the stage")
    else:
        # a .py file before a notebook (a scratch notebook beside the files never wins silently)
        chosen = min(stems, key=lambda m: (_where(m, dict(own)[m], package).endswith(".ipynb"),
                                           _where(m, dict(own)[m], package)))
        why = _("the first by file name; to judge another, import it in your other files, or rename the "
                "{name} you do not want judged").format(name=name)
    files = [_where(m, dict(own)[m], package) for m in sorted(stems, key=lambda m: _where(m, dict(own)[m], package))]
    return chosen, _("{name}: defined in {files}; judged the one in {file} ({why})").format(
        name=name, files=_("{some} and {last}").format(some=", ".join(files[:-1]), last=files[-1]),
        file=_where(chosen, dict(own)[chosen], package), why=why)


def _plain(word: str) -> str:
    return re.sub(r"[^a-z0-9]", "", word.lower())


def _where(modname: str, ns: dict[str, object], package: str) -> str:
    """The file a submodule was loaded from, as the learner names it: relative to the package's
    folder (``tokenizers/simple.py``, ``simple-tokenizer-v1.py``), not by its import name."""
    file, roots = ns.get("__file__"), getattr(sys.modules.get(package), "__path__", None) or []
    if isinstance(file, str) and roots:
        with contextlib.suppress(ValueError):
            return Path(file).relative_to(roots[0]).as_posix()
    return modname[len(package) + 1:].replace(".", "/") + ".py"
