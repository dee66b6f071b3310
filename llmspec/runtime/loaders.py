"""How each kind of target is loaded: one loader per kind (:data:`LOADERS`), each returning the
target's namespace and notes for the learner (a skipped cell, a name found in a submodule).

Files, packages and split chapters load under a unique module name, so two submissions loaded by
one process never see each other's code; a file that imports its siblings relatively runs inside
its package, as ``python -m pkg.file`` would.  A notebook's code cells run in order in one
namespace, as "Run All" would: a cell that only IPython understands, or that raises, is skipped
with a note and the later cells still run.
"""
from __future__ import annotations

import difflib
import importlib
import importlib.util
import inspect
import re
import sys
import traceback
import types
from pathlib import Path
from typing import Any, Callable

from llmspec.errors import TargetError
from llmspec.i18n import _
from llmspec.runtime.conditions import OWN_FILE_BYTES, OWN_FILES, on_sys_path
from llmspec.runtime.resolve import NOT_ENTRY, Kind, TargetSpec, cell_python, one_line, read_code_cells, unique_name
from llmspec.stages import CONTRACT_NAMES, STAGES

Loaded = tuple[dict[str, object], list[str]]  # the namespace, notes for the learner

_RELATIVE_IMPORT = re.compile(r"^\s*from\s+\.", re.MULTILINE)


def _load_path(spec: TargetSpec) -> Loaded:
    """A ``.py`` file or a package directory."""
    path = Path(spec.location)
    is_package = spec.kind == "package"
    name = unique_name(path.name if is_package else path.stem)
    if not is_package and _uses_relative_imports(path):
        # ``from .dataset import GPTDatasetV1``: run as ``python -m pkg.file`` would, inside its package
        parent = unique_name(path.parent.name)
        _exec_file(spec, parent, path.parent / "__init__.py", package_dir=path.parent, import_from=path.parent.parent)
        name = parent + "." + re.sub(r"\W", "_", path.stem)
    # a package's siblings live next to the package directory (absolute `import pkg.sub` works)
    module = _exec_file(spec, name, path / "__init__.py" if is_package else path,
                        package_dir=path if is_package else None, import_from=path.parent)
    namespace = vars(module)
    notes: list[str] = []
    if is_package:
        if not any(c in namespace for c in CONTRACT_NAMES) and not any(
                n.startswith(name + ".") for n in sys.modules):
            # an empty __init__.py: the chapter lives in files nothing imported yet
            with on_sys_path(path.parent), on_sys_path(path):
                notes += _load_submodules(name, path)
        notes += _adopt_submodule_names(name, namespace)
    return namespace, notes


def _uses_relative_imports(path: Path) -> bool:
    if not (path.parent / "__init__.py").is_file():
        return False
    try:
        return _RELATIVE_IMPORT.search(path.read_text(encoding="utf-8", errors="replace")) is not None
    except OSError:
        return False


def _exec_file(spec: TargetSpec, name: str, file: Path, package_dir: Path | None = None,
               import_from: Path | None = None) -> types.ModuleType:
    """Run ``file`` as module ``name`` (a package's ``__init__`` when ``package_dir``), with
    ``import_from`` first on ``sys.path``; a failure is :func:`_load_error`'s one line for ``spec``."""
    module_spec = importlib.util.spec_from_file_location(
        name, file, submodule_search_locations=[str(package_dir)] if package_dir else None)
    if module_spec is None or module_spec.loader is None:
        raise TargetError(_("{target}: cannot be imported").format(target=spec.display))
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    with on_sys_path(import_from):
        try:
            module_spec.loader.exec_module(module)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            sys.modules.pop(name, None)
            raise _load_error(spec, exc) from None
    return module


def _load_directory(spec: TargetSpec) -> Loaded:
    """A chapter split into files (``simple_tokenizer_v1.py``, ``gpt_dataset_v1.py``, ...), loaded
    as a package with no ``__init__.py``: each file runs as its own module, as ``python FILE`` from
    that directory would (siblings import each other by bare name)."""
    path = Path(spec.location)
    name = unique_name(path.name)
    package = types.ModuleType(name)
    package.__path__ = [str(path)]
    package.__file__ = None
    sys.modules[name] = package
    with on_sys_path(path):
        notes = _load_submodules(name, path)
    notes += _adopt_submodule_names(name, vars(package))
    return vars(package), notes


def _load_submodules(package: str, directory: Path) -> list[str]:
    """Run every ``.py`` file of ``directory`` (not tests, not ``__init__``) as a submodule of
    ``package``; a file that fails is skipped with a note, as a failing notebook cell is."""
    notes = []
    for file in sorted(directory.glob("*.py")):
        if file.name == "__init__.py" or NOT_ENTRY.match(file.name):
            continue
        modname = package + "." + re.sub(r"\W", "_", file.stem)
        if modname in sys.modules:
            continue  # the package's __init__ imported it already
        try:
            _exec_file(TargetSpec("file", str(file), file.name), modname, file)
        except TargetError as error:
            notes.append(_("{cell} skipped: {error}").format(
                cell=file.name, error=str(error).removeprefix(file.name + ": ")))
    return notes


def _adopt_submodule_names(package: str, namespace: dict[str, object]) -> list[str]:
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
        found = [(n, ns) for n, ns in submodules if contract in ns]
        own = [(n, ns) for n, ns in found if getattr(ns[contract], "__module__", None) == n]
        if len(own) > 1:
            modname, note = _choose(contract, own, submodules)
            namespace[contract] = dict(own)[modname][contract]
            notes.append(note)
            continue
        for modname, ns in (own or found)[:1]:
            namespace[contract] = ns[contract]
            notes.append(_("{contract} found in submodule {module}").format(contract=contract,
                                                                             module=modname[len(prefix):]))
    defined: dict[str, list[tuple[str, dict[str, object]]]] = {}
    for modname, ns in submodules:
        for key, obj in ns.items():
            if (not key.startswith("_") and key not in namespace
                    and (inspect.isclass(obj) or inspect.isfunction(obj))
                    and getattr(obj, "__module__", None) == modname):
                defined.setdefault(key, []).append((modname, ns))
    for key, own in defined.items():
        modname, note = _choose(key, own, submodules) if len(own) > 1 else (own[0][0], "")
        namespace[key] = dict(own)[modname][key]
        if note and (inspect.isclass(namespace[key]) or difflib.get_close_matches(
                key.lower(), [c.lower() for c in CONTRACT_NAMES], cutoff=0.6)):  # not every file's main()
            notes.append(note)
    state_names = {n for stage in STAGES.values() for n in stage.state_names}
    for modname, ns in submodules:
        if state_names & set(ns):
            namespace.update({k: v for k, v in ns.items() if not k.startswith("_") and k not in namespace
                              and not isinstance(v, types.ModuleType)})
            break
    return notes


Defining = list[tuple[str, dict[str, object]]]  # (submodule name, its namespace), each defining one name


def _choose(name: str, own: Defining, submodules: Defining) -> tuple[str, str]:
    """Which of several files defining ``name`` is judged, and the note saying so.  The rule, in
    order, so the choice never depends on the order files are listed in: the one the folder's other
    files import (what the learner's own code uses); else the one whose file is named for the
    book's stage of ``name`` (``tokenizer_v1.py``, ``simple_tokenizer_v1.py`` for
    SimpleTokenizerV1); else the first by file name, with how to choose another."""
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
        chosen = min(stems, key=lambda m: _file_of(m, own))
        why = _("the first by file name; to judge another, import it in your other files, or rename the "
                "{name} you do not want judged").format(name=name)
    files = [_file_of(m, own) for m in sorted(stems, key=lambda m: _file_of(m, own))]
    return chosen, _("{name}: defined in {files}; judged the one in {file} ({why})").format(
        name=name, files=_("{some} and {last}").format(some=", ".join(files[:-1]), last=files[-1]),
        file=_file_of(chosen, own), why=why)


def _plain(word: str) -> str:
    return re.sub(r"[^a-z0-9]", "", word.lower())


def _file_of(modname: str, own: Defining) -> str:
    """The file a submodule was loaded from, by its name (``tokenizers.py``)."""
    file = dict(own)[modname].get("__file__")
    return Path(file).name if isinstance(file, str) else modname.rpartition(".")[2] + ".py"


def _load_module(spec: TargetSpec) -> Loaded:
    """An importable module or package, by its dotted name."""
    try:
        module = importlib.import_module(spec.location)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        raise _load_error(spec, exc) from None
    namespace = vars(module)
    return namespace, (_adopt_submodule_names(spec.location, namespace) if hasattr(module, "__path__") else [])


def _load_error(spec: TargetSpec, exc: BaseException) -> TargetError:
    """One line: ``file:line: SyntaxError: msg`` or ``target: importing failed at file:line: T: msg``."""
    if isinstance(exc, SyntaxError):
        where = f"{exc.filename}:{exc.lineno}" if exc.filename else spec.display
        return TargetError(f"{where}: {type(exc).__name__}: {exc.msg}")
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if "importlib" not in f.filename and "llmspec" not in Path(f.filename).parts]
    where = _(" at {file}:{line}").format(file=own[-1].filename, line=own[-1].lineno) if own else ""
    return TargetError(_("{target}: importing failed{where}: {error}").format(
        target=spec.display, where=where, error=_failed(exc)))


def _failed(exc: BaseException) -> str:
    """The exception in one line; for a file the code did not find, where the code runs and why."""
    if isinstance(exc, FileNotFoundError) and exc.filename and not Path(str(exc.filename)).is_absolute():
        return one_line(exc) + _(" (your code runs in a scratch folder that holds the book's the-verdict.txt, also at "
                                 "each relative path your code reads it from, and copies of the files in your code's "
                                 "folder that it names by a relative path, at most {count} files of up to {mb} MB "
                                 "each; other files are not copied there)").format(
                                     count=OWN_FILES, mb=OWN_FILE_BYTES // 2**20)
    return one_line(exc)


def _display(*objects: Any, **_kwargs: Any) -> None:
    """IPython's ``display`` as plain print, so notebooks that show a DataFrame or tensor still run."""
    for obj in objects:
        print(repr(obj))


def _load_notebook(spec: TargetSpec) -> Loaded:
    """A Jupyter notebook's code cells, run in order in one module namespace."""
    path = Path(spec.location)
    cells = read_code_cells(path, spec.display)
    name = unique_name(path.stem)
    module = types.ModuleType(name)
    module.__file__ = str(path)
    module.__dict__["display"] = _display
    sys.modules[name] = module  # classes defined in cells get a real __module__ (pickling, dataclasses)
    namespace = vars(module)
    notes: list[str] = []
    with on_sys_path(path.parent):
        for number, source in cells:
            if not source.strip():
                continue
            first = next((ln.strip() for ln in source.splitlines() if ln.strip()), "")
            label = _("cell {number} ({first})").format(number=number, first=_short(first))
            code, magic = cell_python(source)
            if code is None:
                notes.append(_("{cell} skipped: IPython shell/magic syntax `{line}`").format(
                    cell=label, line=_short(magic or "")))
                continue
            try:
                exec(compile(code, f"{path}#cell{number}", "exec"), namespace)
                if magic is not None:  # said once the rest has run: a failing cell has its own note
                    notes.append(_("{cell}: `{line}` not run (IPython shell/magic syntax); the rest of the cell "
                                   "ran").format(cell=label, line=_short(magic)))
            except KeyboardInterrupt:
                raise
            except SyntaxError as exc:
                notes.append(_("{cell} skipped: SyntaxError: {error} (line {line} of the cell)").format(
                    cell=label, error=exc.msg, line=exc.lineno))
            except BaseException as exc:  # SystemExit from a cell is a failed cell, too
                notes.append(_("{cell} skipped: {error}").format(cell=label, error=_failed(exc)))
    return namespace, notes


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


LOADERS: dict[Kind, Callable[[TargetSpec], Loaded]] = {
    "file": _load_path,
    "package": _load_path,
    "directory": _load_directory,
    "module": _load_module,
    "notebook": _load_notebook,
}
