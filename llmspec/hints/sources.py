"""The learner's code as text and syntax trees, read and never run, with where each line is.

A target is a file, a package or directory of files, a notebook (cells numbered as the loader's
notes number them), or a live namespace (a Jupyter kernel's cells are IPython's input history,
``In[14]`` as IPython's tracebacks say).  The trusted grader reads submissions here: nothing runs.
"""
from __future__ import annotations

import ast
import linecache
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmspec.runtime.resolve import CELL_MARK, UNPARSABLE, TargetSpec, cell_python, read_sources
from llmspec.stages import BOOK_ALIASES

Definition = ast.ClassDef | ast.FunctionDef


@dataclass
class Unit:
    """One piece of the learner's code: a file (``file`` is its path as the learner knows it) or a
    notebook cell (``cell`` is ``"14"`` or ``"In[14]"``)."""

    lines: list[str]
    tree: ast.Module
    file: str = ""
    cell: str = ""

    def where(self, line: int) -> dict[str, Any]:
        """The report's location of ``line``: ``{"file", "cell", "line"}``."""
        return {"file": self.file or None, "cell": self.cell or None, "line": line}


def _parse(text: str, written: str | None = None, **where: str) -> Unit | None:
    """``text`` parsed, its lines quoted as ``written`` (a notebook cell as the learner wrote it,
    where ``text`` is what ran of it: the same lines, IPython ones as ``pass``)."""
    try:
        return Unit((text if written is None else written).splitlines(), ast.parse(text), **where)
    except UNPARSABLE:  # a cell that does not parse did not run either
        return None


def read_target(kind: str, location: str, display: str) -> list[Unit]:
    """The units of a target on disk (``kind`` as :class:`llmspec.runtime.resolve.TargetSpec` says),
    read by :func:`~llmspec.runtime.resolve.read_sources`; a notebook cell as the loader runs it
    (IPython lines as ``pass``, line numbers kept), its lines quoted as written."""
    units = []
    for where, text in read_sources(TargetSpec(kind, location, display)):  # type: ignore[arg-type]
        notebook, _sign, number = where.rpartition(CELL_MARK)  # a cell of a folder's notebook
        if kind != "notebook" and not notebook:
            unit = _parse(text, file=where)
        else:  # a cell that does not run (``%%bash``) or holds nothing is no unit
            code = cell_python(text)[0]
            cell = f"{number} ({Path(notebook).name})" if notebook else where
            unit = _parse(code, text, cell=cell) if code and code.strip() else None
        if unit:
            units.append(unit)
    return units


def read_namespace(namespace: dict[str, Any], objects: list[Any]) -> list[Unit]:
    """The units behind a live namespace: the files that define ``objects`` (a script's globals, a
    module the notebook imported), then IPython's input history when there is one (each entry
    labelled ``In[n]``: a cell's definitions are not in any file)."""
    out: list[Unit] = []
    for name in dict.fromkeys(filename for obj in objects for filename in [_filename(obj)] if filename):
        text = "".join(linecache.getlines(name)) if Path(name).is_file() else ""
        unit = _parse(text, file=_shown(Path(name))) if text else None
        if unit:
            out.append(unit)
    history = namespace.get("In")
    if isinstance(history, list) and all(isinstance(s, str) for s in history):
        out += [u for n, src in enumerate(history) if src.strip() for u in [_parse(src, cell=f"In[{n}]")] if u]
    return out


def _shown(path: Path) -> str:
    """A file as the learner finds it: relative to the working directory when it is below it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.name


def kernel_cell(obj: Any) -> str | None:
    """``In[n]`` for an object a Jupyter cell defined (from IPython's map of cell file names to
    execution counts), ``None`` outside IPython."""
    from llmspec.kernel import ipython_shell

    number = getattr(getattr(ipython_shell(), "compile", None), "_filename_map", {}).get(_filename(obj))
    return f"In[{number}]" if isinstance(number, int) else None


def _filename(obj: Any) -> str | None:
    """The file (or IPython cell name) a function or class was compiled from."""
    candidates = [obj] if callable(obj) and hasattr(obj, "__code__") else list(vars(obj).values()) \
        if isinstance(obj, type) else []
    for candidate in candidates:
        fn = getattr(candidate, "__func__", candidate)
        code = getattr(fn, "__code__", None)
        if code is not None:
            return code.co_filename
    return None


def definitions(units: list[Unit]) -> dict[str, tuple[Unit, Definition]]:
    """Every top-level class and function, by name; a later definition wins (a notebook cell run
    later, a file later in the package), as it would when the code runs."""
    out: dict[str, tuple[Unit, Definition]] = {}
    for unit in units:
        for node in unit.tree.body:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
                out[node.name] = (unit, node)
    return out


def find(units: list[Unit], name: str, prefer: str | None = None) -> tuple[Unit, Definition] | None:
    """The definition of ``name`` (``Class.method`` for one nested in a class); ``prefer`` is the
    cell label the live object came from, when known."""
    outer, _, inner = name.partition(".")
    pool = [u for u in units if u.cell == prefer] or units if prefer else units
    found = definitions(pool).get(outer) or definitions(units).get(outer)
    if found is None or not inner:
        return found
    unit, cls = found
    method = member(cls, inner)
    return (unit, method) if method is not None else None


def member(cls: ast.AST, name: str) -> ast.FunctionDef | None:
    """The method ``name`` defined in the body of ``cls``."""
    return next((n for n in getattr(cls, "body", []) if isinstance(n, ast.FunctionDef) and n.name == name), None)


def resolve(units: list[Unit], contract: str, strict: bool) -> str | None:
    """The learner's name for a book name, read from the code as the loader finds it in the
    namespace (:mod:`llmspec.runtime.names`): the exact name; unless ``strict``, the one name in
    another letter case or an earlier book name; else a class's static (or mis-indented) method."""
    defined = definitions(units)
    if contract in defined:
        return contract
    if strict:
        return None
    wanted = {contract.lower(), *(a.lower() for a in BOOK_ALIASES.get(contract, ()))}
    near = [n for n in defined if n.lower() in wanted]
    if len(near) == 1:
        return near[0]
    if contract[0].isupper():
        return None
    nested = [f"{name}.{contract}" for name, (_unit, node) in defined.items() if isinstance(node, ast.ClassDef)
              for fn in node.body if isinstance(fn, ast.FunctionDef) and fn.name == contract and _not_a_method(fn)]
    return nested[0] if len(nested) == 1 else None


def _not_a_method(fn: ast.FunctionDef) -> bool:
    static = any(isinstance(d, ast.Name) and d.id in ("staticmethod", "classmethod") for d in fn.decorator_list)
    first = fn.args.args[0].arg if fn.args.args else None
    return static or first not in ("self", "cls")
