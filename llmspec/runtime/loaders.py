"""How each kind of target is loaded: one loader per kind (:data:`LOADERS`), each returning the
target's namespace and notes for the learner (a skipped cell, a name found in a submodule).

Files, packages and split chapters load under a unique module name, so two submissions loaded by
one process never see each other's code; a file that imports its siblings relatively runs inside
its package, as ``python -m pkg.file`` would.  A notebook's code cells run in order in one
namespace, as "Run All" would: a cell that only IPython understands, or that raises, is skipped
with a note and the later cells still run.
"""
from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import traceback
import types
from pathlib import Path
from typing import Any, Callable

from llmspec.errors import TargetError
from llmspec.i18n import _
from llmspec.runtime.conditions import OWN_FILE_BYTES, OWN_FILES, on_sys_path
from llmspec.runtime.normalise import is_learners, to_impl_error
from llmspec.runtime.resolve import (CELL_MARK, NOT_ENTRY, Kind, TargetSpec, cell_python, left_out, one_line,
                                     own_notebooks, read_code_cells, unique_name)
from llmspec.runtime.statements import run_rest
from llmspec.runtime.submodules import adopt_submodule_names, defining_files, unfound
from llmspec.sandbox import denied
from llmspec.stages import CONTRACT_NAMES, STAGES

Loaded = tuple[dict[str, object], list[str]]  # the namespace, notes for the learner


class Skipped(str):
    """A note saying some of the learner's code did not run (a cell, a file, a statement that
    raised): a variable it would have set is missing for that reason (``describe()["skipped"]``)."""


def _skipped(file: str, error: BaseException) -> Skipped:
    """The note for a file of a folder that could not run: its name once, then why."""
    return Skipped(_("{cell} skipped: {error}").format(cell=file, error=str(error).removeprefix(file + ": ")))


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
    module, notes = _exec_file(spec, name, path / "__init__.py" if is_package else path,
                               package_dir=path if is_package else None, import_from=path.parent)
    namespace = vars(module)
    if is_package:
        if not any(c in namespace for c in CONTRACT_NAMES) and not any(
                n.startswith(name + ".") for n in sys.modules):
            # an empty __init__.py: the chapter lives in files nothing imported yet
            with on_sys_path(path.parent), on_sys_path(path):
                notes += _load_submodules(name, path)
        with on_sys_path(path.parent), on_sys_path(path):
            notes += _load_defining(name, path, unfound(name, namespace))
        notes += adopt_submodule_names(name, namespace)
    return namespace, notes


def _uses_relative_imports(path: Path) -> bool:
    if not (path.parent / "__init__.py").is_file():
        return False
    try:
        return _RELATIVE_IMPORT.search(path.read_text(encoding="utf-8", errors="replace")) is not None
    except OSError:
        return False


def _exec_file(spec: TargetSpec, name: str, file: Path, package_dir: Path | None = None,
               import_from: Path | None = None) -> tuple[types.ModuleType, list[str]]:
    """Run ``file`` as module ``name`` (a package's ``__init__`` when ``package_dir``), with
    ``import_from`` first on ``sys.path``; the module and notes for the learner.  A top-level statement
    that raises is skipped and the rest runs (:mod:`llmspec.runtime.statements`) when the file then
    defines something of the chapter; otherwise the failure is :func:`_load_error`'s one line for ``spec``."""
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
            notes = None if isinstance(exc, SyntaxError) else run_rest(module, file, exc, _failed)
            if notes is None or not _defines_the_chapter(vars(module)):
                sys.modules.pop(name, None)
                raise _load_error(spec, exc) from None
            return module, [Skipped(note) for note in notes]
    return module, []


def _defines_the_chapter(namespace: dict[str, object]) -> bool:
    """Whether a namespace holds a name the stages ask for (a class, a function, a variable of 2.8)."""
    return any(n in namespace for n in CONTRACT_NAMES) or any(n in namespace for s in STAGES.values()
                                                              for n in s.state_names)


def _load_directory(spec: TargetSpec) -> Loaded:
    """A chapter split into files (``simple_tokenizer_v1.py``, ``gpt_dataset_v1.py``, ...), loaded
    as a package with no ``__init__.py``: each file runs as its own module, as ``python FILE`` from
    that directory would (siblings import each other by bare name), and each notebook as one more
    (a notebook per section, as learners keep them), its cells in order."""
    path = Path(spec.location)
    name = unique_name(path.name)
    package = types.ModuleType(name)
    package.__path__ = [str(path)]
    package.__file__ = None
    sys.modules[name] = package
    with on_sys_path(path):
        notes = _load_submodules(name, path)
        for notebook in own_notebooks(path):  # one notebook per section, or a scratch one beside
            modname = name + "." + re.sub(r"\W", "_", notebook.stem)
            modname += "_ipynb" if modname in sys.modules else ""  # ch02.py and ch02.ipynb side by side
            try:
                notes += _run_notebook(notebook, read_code_cells(notebook, notebook.name), modname,
                                       f"{notebook.name} ")[1]
            except (TargetError, OSError) as error:  # not a notebook after all (invalid JSON, unreadable): its note
                notes.append(_skipped(notebook.name, error))
    notes += adopt_submodule_names(name, vars(package))
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
            notes += _exec_file(TargetSpec("file", str(file), file.name), modname, file)[1]
        except TargetError as error:
            notes.append(_skipped(file.name, error))
    return notes


def _load_defining(package: str, directory: Path, wanted: list[str]) -> list[str]:
    """Import the files of the package that define a name of ``wanted`` (``class`` or ``def`` at
    the top of the file, read without running), up to :data:`~llmspec.runtime.submodules.SUBPACKAGE_DEPTH` folders down.

    Why: learners put ``SimpleTokenizerV1`` in ``tokenizers/simple.py`` and forget the import in an
    ``__init__.py``; Python would never run that file, and the stage would say "not implemented" with
    no pointer.  Only a file that defines a missing name runs (not every script of the package),
    as its subpackage's submodule, so its relative imports work; one whose path is no module name
    is named instead."""
    notes: list[str] = []
    tried: set[Path] = set()
    for name, file in defining_files(directory, wanted):
        if file in tried:
            continue
        tried.add(file)
        rel = file.relative_to(directory)
        parts = [*rel.parent.parts] + ([] if file.name == "__init__.py" else [file.stem])
        if not all(part.isidentifier() for part in parts):
            notes.append(_("{name} is defined in {file}, which the package never imports").format(
                name=name, file=rel.as_posix()))
            continue
        modname = ".".join([package, *parts])
        if modname in sys.modules:
            continue
        try:
            importlib.import_module(modname)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            sys.modules.pop(modname, None)
            notes.append(_skipped(rel.as_posix(), _load_error(TargetSpec("file", str(file), rel.as_posix()), exc)))
    return notes


def _load_module(spec: TargetSpec) -> Loaded:
    """An importable module or package, by its dotted name."""
    try:
        module = importlib.import_module(spec.location)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        raise _load_error(spec, exc) from None
    namespace = vars(module)
    return namespace, (adopt_submodule_names(spec.location, namespace) if hasattr(module, "__path__") else [])


def _load_error(spec: TargetSpec, exc: BaseException) -> TargetError:
    """One line: ``file:line: SyntaxError: msg`` or ``target: importing failed at file:line: T: msg``."""
    if isinstance(exc, SyntaxError):
        where = f"{exc.filename}:{exc.lineno}" if exc.filename else spec.display
        return TargetError(f"{where}: {type(exc).__name__}: {exc.msg}")
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if is_learners(f.filename)]
    where = _(" at {file}:{line}").format(file=own[-1].filename, line=own[-1].lineno) if own else ""
    return TargetError(_("{target}: importing failed{where}: {error}").format(
        target=spec.display, where=where, error=_failed(exc)))


def _failed(exc: BaseException) -> str:
    """The exception in one line; for a file the code did not find, where the code runs and why; for
    one the sandbox refused, that it runs confined (:func:`llmspec.sandbox.denied.hint`)."""
    if isinstance(exc, FileNotFoundError) and exc.filename and not Path(str(exc.filename)).is_absolute():
        return one_line(exc) + _(" (your code runs in a scratch folder that holds the book's the-verdict.txt, also at "
                                 "each relative path your code reads it from, and copies of the files in your code's "
                                 "folder that it names by a relative path, at most {count} files of up to {mb} MB "
                                 "each; other files are not copied there)").format(
                                     count=OWN_FILES, mb=OWN_FILE_BYTES // 2**20)
    if isinstance(exc, FileNotFoundError) and Path(str(exc.filename)).name == "the-verdict.txt":
        return one_line(exc) + _(" (the scratch folder your code runs in holds the-verdict.txt: open it by a relative "
                                 "path, as the book does (open(\"the-verdict.txt\")); an absolute path such as "
                                 "Colab's /content/... exists only on the machine that ran it)")
    return one_line(exc) + (denied.hint(to_impl_error(exc)) if denied.is_confined() else "")


def _display(*objects: Any, **_kwargs: Any) -> None:
    """IPython's ``display`` as plain print, so notebooks that show a DataFrame or tensor still run."""
    for obj in objects:
        print(repr(obj))


def _load_notebook(spec: TargetSpec) -> Loaded:
    """A Jupyter notebook's code cells, run in order in one module namespace."""
    path = Path(spec.location)
    return _run_notebook(path, read_code_cells(path, spec.display), unique_name(path.stem))


def _run_notebook(path: Path, cells: list[tuple[int, str]], name: str, where: str = "") -> Loaded:
    """Run ``cells`` in order as module ``name``; ``where`` opens each note (a notebook of a folder
    names its file: ``ch02_3.ipynb cell 4 (...)``)."""
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
            label = where + _("cell {number} ({first})").format(number=number, first=_short(first))
            code, magic = cell_python(source)
            if code is None:
                notes.append(_("{cell} skipped: IPython shell/magic syntax `{line}`").format(
                    cell=label, line=_short(magic or "")))
                continue
            try:
                exec(compile(code, f"{path}{CELL_MARK}{number}", "exec"), namespace)
                if magic is not None:  # said once the rest has run: a failing cell has its own note
                    notes.append(_not_run(label, left_out(source, code) or [magic]))
            except KeyboardInterrupt:
                raise
            except SyntaxError as exc:
                notes.append(Skipped(_("{cell} skipped: SyntaxError: {error} (line {line} of the cell)").format(
                    cell=label, error=exc.msg, line=exc.lineno)))
            except BaseException as exc:  # SystemExit from a cell is a failed cell, too
                notes.append(Skipped(_("{cell} skipped: {error}").format(cell=label, error=_failed(exc))))
    return namespace, notes


def _not_run(label: str, lines: list[str], named: int = 3) -> str:
    """The note for a cell that ran without its IPython lines: every one named, up to ``named``."""
    if len(lines) == 1:
        return _("{cell}: `{line}` not run (IPython shell/magic syntax); the rest of the cell ran").format(
            cell=label, line=_short(lines[0]))
    shown = ", ".join(f"`{_short(line)}`" for line in lines[:named])
    if len(lines) > named:
        shown = _("{lines} and {count} more").format(lines=shown, count=len(lines) - named)
    return _("{cell}: {count} lines not run (IPython shell/magic syntax): {lines}; the rest of the cell ran").format(
        cell=label, count=len(lines), lines=shown)


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


LOADERS: dict[Kind, Callable[[TargetSpec], Loaded]] = {
    "file": _load_path,
    "package": _load_path,
    "directory": _load_directory,
    "module": _load_module,
    "notebook": _load_notebook,
}
