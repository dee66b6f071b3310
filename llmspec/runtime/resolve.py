"""What a target is: a ``.py`` file, a package directory, a dotted module name, a Jupyter notebook or
a chapter split into files; and its code as text, read and never run.

Every way a target cannot be found becomes one :class:`~llmspec.errors.TargetError` whose message is
a single line a learner can act on.
"""
from __future__ import annotations

import ast
import importlib.util
import itertools
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Literal

from llmspec.errors import TargetError
from llmspec.i18n import _

# "directory": a plain directory of several .py files (a chapter split into one file per listing);
# "namespace": a live dict of definitions (a Jupyter kernel's), judged where it is (llmspec.kernel)
Kind = Literal["file", "package", "module", "notebook", "directory", "namespace"]

# Files in a plain directory that are never the entry point.
NOT_ENTRY = re.compile(r"^(test_.*|.*_test\.py|conftest\.py|setup\.py|__main__\.py|\..*)$")
_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
# A notebook line that only IPython understands, opening with its sign: shell (!cmd), line/cell
# magics (%x, %%x), help (?x).
MAGIC_LINE = re.compile(r"^(\s*)(!|%|\?)")
# IPython's help asked at a line's end, as learners type it to read a docstring: tokenizer.encode?,
# 分词器.encode??, vocab[0]?, a search (tiktoken.*enc*?), even x = obj? (IPython shows the help and
# runs none of that line).  Searched in a line's last 200 characters only: over a whole line, such a
# search can cost the square of its length.
_HELP_END = re.compile(r"(?:^|[^\w*\]])(?:[^\W\d]|\*)(?:[\w.*]|\[\d*\])*\?\??$")
# Cell magics whose body is Python that IPython runs once in the notebook's namespace: the cell's code.
PYTHON_CELL_MAGICS = frozenset({"time", "capture"})
# The most source text the trusted side parses of one file (or one notebook's code cells): far more
# than a chapter-2 solution typed by hand, and parsing costs some 300 times the text in memory.
MAX_SOURCE_BYTES = 2_000_000
# Between a notebook's path and a cell's number, where one cell is named: the file name the loader
# compiles a cell under (``ch02.ipynb#cell14``), and a folder's notebook cell in read_sources.
CELL_MARK = "#cell"
# The largest notebook read (its outputs count: a learner's printed tensors or plots), far above a
# chapter-2 notebook with every output kept.
MAX_NOTEBOOK_BYTES = 25 * 2**20
# What ``ast.parse`` raises on text no parser can hold: a syntax error, a null byte, nesting too deep
# (``x[0][0]...`` 100,000 times) or too large.  Submitted text is parsed by the trusted side too.
UNPARSABLE = (SyntaxError, ValueError, RecursionError, MemoryError)
# ``%time STATEMENT`` runs the statement in the notebook's namespace (``%timeit``'s assignments do not stay).
_TIME_LINE = re.compile(r"^(\s*)%time\s+(?=\S)")


@dataclass(frozen=True)
class TargetSpec:
    """Where an implementation is: ``location`` is an absolute path, or the dotted name for modules."""

    kind: Kind
    location: str
    display: str


def resolve(target: str) -> TargetSpec:
    """Decide what kind of target ``target`` names.

    Paths win when the text looks like one (ends in ``.py``/``.ipynb`` or contains a separator);
    a bare dotted name is a module when Python can import it, else that module's file in the cwd
    (``my_ch02`` is ``./my_ch02.py``), otherwise a path relative to the cwd.
    A directory without ``__init__.py`` that holds one candidate entry point (a ``.py`` or ``.ipynb``
    file that is not a test, ``setup.py`` or ``conftest.py``) is that file; one that holds several
    (``.py`` files, notebooks, or both) is a chapter split into files, loaded together (``directory``).
    """
    text = str(target).strip()
    if not text:
        raise TargetError(_("empty target: pass a .py file, a package directory, a module name or a .ipynb"))
    looks_like_path = text.endswith((".py", ".ipynb")) or os.sep in text or "/" in text or text.startswith((".", "~"))
    if not looks_like_path and _DOTTED.match(text):
        if _module_exists(text):
            return TargetSpec("module", text, text)
        in_cwd = Path(*text.split(".")).with_suffix(".py")  # `python -m` finds it there; the console script does not
        if in_cwd.is_file():
            return _resolve_path(in_cwd, text)
        if not Path(text).exists():
            raise TargetError(_("{target}: no such file, directory or importable module").format(target=text))
    return _resolve_path(Path(text).expanduser(), text)


def _module_exists(name: str) -> bool:
    """Whether ``name`` imports as a module.  A folder without ``__init__.py`` in the working
    directory is not one: ``python -m llmspec`` puts that directory on ``sys.path``, which would make
    ``ch02`` (a chapter split into files) an empty "namespace package" instead of the folder meant."""
    try:
        spec = importlib.util.find_spec(name)
        return spec is not None and not (spec.origin is None and Path(*name.split(".")).is_dir())
    except (ImportError, ValueError):
        return False
    except Exception as exc:  # a parent package that fails to import
        raise TargetError(_("{target}: importing its parent package failed: {error}").format(
            target=name, error=one_line(exc))) from None


def _resolve_path(path: Path, display: str) -> TargetSpec:
    if not path.exists():
        raise TargetError(_("{target}: no such file or directory").format(target=display))
    path = path.resolve()
    if path.is_file():
        if path.suffix == ".py":
            return TargetSpec("file", str(path), display)
        if path.suffix == ".ipynb":
            return TargetSpec("notebook", str(path), display)
        raise TargetError(_("{target}: not a .py file or .ipynb notebook").format(target=display))
    if (path / "__init__.py").is_file():
        return TargetSpec("package", str(path), display)
    candidates = sorted(p for p in path.iterdir()
                        if p.is_file() and p.suffix in (".py", ".ipynb") and not NOT_ENTRY.match(p.name))
    if len(candidates) == 1:
        entry = candidates[0]
        kind: Kind = "file" if entry.suffix == ".py" else "notebook"
        return TargetSpec(kind, str(entry), f"{display.rstrip('/')}/{entry.name}")
    if candidates:
        return TargetSpec("directory", str(path), display)
    raise TargetError(_("{target}: a directory without __init__.py that holds no .py file or .ipynb notebook; "
                        "pass the file itself").format(target=display))


def read_sources(spec: TargetSpec, max_bytes: int = MAX_SOURCE_BYTES) -> list[tuple[str, str]]:
    """``[(where, text), ...]``: the code of a target as the learner wrote it, read and never run.

    ``where`` is a notebook code cell's number (counting all cells from 1, as the loader's notes do),
    ``display/x.ipynb#cell3`` for a cell of a folder's notebook (:data:`CELL_MARK`), or a file as the
    learner knows it: ``display``, and ``display/sub/x.py`` for the files of a package or split
    chapter (its own files the loader runs, and the subfolders they import; none for an importable
    module or a live namespace).  At most ``max_bytes`` of text in all (a notebook's
    outputs do not count): parsing costs some 300 times the text.  A file that would pass it, or
    that cannot be read, is left out: the callers look in it for imports, flags and hints, and the
    verdict says what did not load."""
    if spec.kind in ("module", "namespace"):
        return []
    path = Path(spec.location)
    if spec.kind == "notebook":
        return [(str(n), src) for n, src in _code_cells(path, spec.display, max_bytes)]
    folder = spec.kind in ("package", "directory")
    base = spec.display.rstrip("/")
    queue, entered, out = [(spec.display, path)], {path}, []
    if folder:
        queue = [(f"{base}/{f.name}", f) for f in _own_code(path)]
    for shown, file in queue:  # grows while it is read: the subfolders its files import are read too
        try:
            if file.stat().st_size > max_bytes:
                continue
            text = file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        max_bytes -= len(text)
        out.append((shown, text))
        for sub in _imported_folders(path, text) if folder else ():
            if sub not in entered:
                entered.add(sub)
                queue += [(f"{base}/{f.relative_to(path).as_posix()}", f) for f in _own_code(sub)]
    if spec.kind == "directory":  # its notebooks run too: their code cells, each where the learner sees it
        for notebook in own_notebooks(path):
            cells = _code_cells(notebook, notebook.name, max_bytes)
            max_bytes -= sum(len(src) for _n, src in cells)
            out += [(f"{base}/{notebook.name}{CELL_MARK}{n}", src) for n, src in cells]
    return out


def _code_cells(path: Path, display: str, max_bytes: int) -> list[tuple[int, str]]:
    """A notebook's code cells (:func:`read_code_cells`), or none when it cannot be read or its code
    is over ``max_bytes``."""
    try:
        cells = read_code_cells(path, display)
    except (OSError, TargetError):
        return []
    return cells if sum(len(src) for _n, src in cells) <= max_bytes else []


def _own_code(folder: Path) -> list[Path]:
    """The ``.py`` files of a folder that loading it may run: not tests, ``setup.py`` or hidden ones."""
    return [f for f in sorted(folder.glob("*.py")) if not NOT_ENTRY.match(f.name)]


def own_notebooks(folder: Path) -> list[Path]:
    """The notebooks of a folder that loading it runs (not hidden ones; checkpoints are in a subfolder)."""
    return [f for f in sorted(folder.glob("*.ipynb")) if not NOT_ENTRY.match(f.name)]


def _imported_folders(root: Path, text: str) -> Iterator[Path]:
    """The subfolders of ``root`` that ``text`` imports, as Python finds them (``from .parts.data
    import x``, ``import ch02.parts`` in the package ``ch02``, ``from lib.data import y`` in a split
    chapter): a ``.venv``, a ``tests/`` or a checkpoint folder that no code imports is never read."""
    for name in imported_names(text):
        parts = name.lstrip(".").split(".")
        sub = root
        for part in parts[1:] if parts[0] == root.name else parts:
            sub = sub / part
            if not part or part.startswith(".") or not sub.is_dir():
                break
            yield sub


def source_texts(spec: TargetSpec, max_bytes: int = MAX_SOURCE_BYTES) -> list[str]:
    """The texts of :func:`read_sources`, without where each is."""
    return [text for _where, text in read_sources(spec, max_bytes)]


def imported_names(text: str) -> list[str]:
    """What ``text`` imports, read with ``ast`` and never run, wherever the import stands (a function,
    a main guard): ``import a.b`` gives ``a.b``; ``from a import b`` gives ``a`` and ``a.b``, a relative
    one keeps its dots (``.data``, ``.data.f``); ``importlib.import_module("a")`` and
    ``__import__("a")`` give ``a``.  IPython lines (``!pip install``) are read as ``pass``, so the rest
    of their cell counts (:func:`cell_python`); a text that still does not parse gives nothing."""
    try:
        tree = ast.parse(cell_python(text)[0] or "")
    except UNPARSABLE:
        return []
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            names += [base] + [f"{base}.{a.name}" if node.module else base + a.name for a in node.names]
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("import_module", "__import__")):
            names.append(node.args[0].value)
    return names


def cell_python(source: str) -> tuple[str | None, str | None]:
    """``(the Python a notebook cell runs, the first IPython line left out of it)``.

    Why: learners write ``!pip install tiktoken`` in the same cell as the ``import tiktoken`` it is
    for; leaving the whole cell out would make every later use of ``tiktoken`` a NameError and fail
    correct code.  A line only IPython understands becomes ``pass`` at its own indent (line numbers
    and blocks stay as written), and only the line the parser stops at (a ``%`` line inside a string
    or a bracket stays as written); ``%time x = f()`` becomes ``x = f()``.  Nothing is installed or
    run in a shell.  The body of ``%%time`` or ``%%capture`` is Python; a cell magic whose body is
    not (``%%bash``, ``%%writefile``, ``%%timeit``, whose names do not stay) gives ``(None, its
    line)``: the cell does not run.  A cell whose first line is indented loses that indentation, as
    in IPython.  A cell that still does not parse is given back for the loader to report its
    SyntaxError."""
    lines = source.splitlines()
    first = next((line for line in lines if line.strip()), "")
    indent = first[:len(first) - len(first.lstrip())]
    if indent:  # as IPython: the first line's indentation goes from every line that has it
        lines = [line[len(indent):] if line.startswith(indent) else line for line in lines]
        source = "\n".join(lines)
    if not any(map(_ipython_line, lines)):
        return source, None
    for line in (ln.strip() for ln in lines if ln.strip()):  # the cell magics it opens with
        if not line.startswith("%%"):
            break
        if (line[2:].split() or [""])[0] not in PYTHON_CELL_MAGICS:
            return None, line
    left_out = None
    for _attempt in range(min(len(lines), 100)):  # one line a pass, bounded: the grader parses it too
        try:
            ast.parse("\n".join(lines))
            break
        except SyntaxError as exc:
            if len(source) > 50_000:  # a parse a line would cost the square of a large cell: all at once,
                signed = [MAGIC_LINE.match(line) is not None for line in lines]  # a question in a string stays
                return "\n".join(_as_python(ln) if sign else ln for ln, sign in zip(lines, signed)), next(
                    (ln.strip() for ln, sign in zip(lines, signed) if sign and not _TIME_LINE.match(ln)), None)
            number = exc.lineno or 0
            if not 0 < number <= len(lines) or not _ipython_line(lines[number - 1]):
                break
            line = lines[number - 1]
            lines[number - 1] = _as_python(line)
            if not _TIME_LINE.match(line):
                left_out = left_out or line.strip()
        except UNPARSABLE:
            break
    return "\n".join(lines), left_out


def _ipython_line(line: str) -> bool:
    """Whether ``line`` is one only IPython understands (:data:`MAGIC_LINE`, :data:`_HELP_END`)."""
    tail = line.rstrip()[-200:]  # a "?" in a comment is no help (nor is the comment our "pass" makes)
    return MAGIC_LINE.match(line) is not None or (
        tail.endswith("?") and "#" not in line and _HELP_END.search(tail) is not None)


_LEFT_OUT = "pass  # "  # how a line left out of a cell stands in its place


def _as_python(line: str) -> str:
    """An IPython line as the Python it stands for: ``%time x`` is ``x``, anything else ``pass``."""
    if _TIME_LINE.match(line):
        return _TIME_LINE.sub(r"\1", line, count=1)
    if MAGIC_LINE.match(line):
        return MAGIC_LINE.sub(r"\1" + _LEFT_OUT, line, count=1)
    return f"{line[:len(line) - len(line.lstrip())]}{_LEFT_OUT}{line.strip()}" if _ipython_line(line) else line


def left_out(source: str, code: str) -> list[str]:
    """The lines of a cell that :func:`cell_python` left out of ``code``, as written (``%time x = f()``
    runs as ``x = f()``, so it is not among them)."""
    return [line.strip() for line, python in zip(source.splitlines(), code.split("\n"))
            if python.strip() != line.strip() and python.lstrip().startswith(_LEFT_OUT)]


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def read_code_cells(path: Path, display: str) -> list[tuple[int, str]]:
    """``[(cell number counting all cells from 1, source), ...]`` for the code cells of a notebook,
    parsed as plain JSON (nbformat 4, and the ``worksheets`` layout of nbformat 3).  At most
    :data:`MAX_NOTEBOOK_BYTES`: JSON parsing costs some 25 times the file in memory, and the grader
    reads submitted notebooks too."""
    try:
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            raise TargetError(_("{target}: a notebook over {mb} MB; clear its outputs (Edit > Clear Outputs of All "
                                "Cells) and save it").format(target=display, mb=MAX_NOTEBOOK_BYTES // 2**20))
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as exc:  # not UTF-8, not JSON, or nested deeper than a parser holds
        raise TargetError(_("{target}: not a Jupyter notebook (invalid JSON: {error})").format(
            target=display, error=one_line(exc))) from None
    nb = nb if isinstance(nb, dict) else {}
    cells = nb.get("cells")
    if cells is None and isinstance(nb.get("worksheets"), list):
        cells = [c for ws in nb["worksheets"] if isinstance(ws, dict) and isinstance(ws.get("cells"), list)
                 for c in ws["cells"]]
    if not isinstance(cells, list):
        raise TargetError(_("{target}: not a Jupyter notebook (no 'cells' list)").format(target=display))
    out = []
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", cell.get("input", ""))
        if isinstance(source, list):
            source = "".join(str(s) for s in source)
        out.append((number, str(source)))
    return out


_counter = itertools.count(1)


def unique_name(stem: str) -> str:
    safe = re.sub(r"\W", "_", stem) or "target"
    return f"llmspec_target_{next(_counter)}_{safe}"
