"""Find and load the implementation under test: a ``.py`` file, a package directory, a dotted module
name or a Jupyter notebook.

Loading follows what learners' code expects from running the book top to bottom: the working
directory holds ``the-verdict.txt`` (Listing 2.1 opens it by its bare name at import time),
``tiktoken.get_encoding("gpt2")`` works offline, the target's own directory is importable (sibling
helper modules), and the network fails fast instead of hanging.  Every way a target can fail to load
becomes one :class:`~llmspec.errors.TargetError` whose message is a single line a learner can act on.

Files and notebooks load under a unique module name, and sibling modules they import are dropped from
``sys.modules`` afterwards, so two submissions loaded by one process never see each other's code.
"""
from __future__ import annotations

import atexit
import contextlib
import functools
import importlib
import importlib.util
import inspect
import io
import itertools
import json
import os
import re
import shutil
import sys
import tempfile
import traceback
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from llmspec.sandbox import netblock
from llmspec.errors import TargetError
from llmspec.runtime.names import did_you_mean, local_state_hint, near_name, static_method_name
from llmspec.stages import CONTRACT_NAMES, STAGES
from llmspec.i18n import _

# "directory": a plain directory of several .py files (a chapter split into one file per listing);
# "namespace": a live dict of definitions (a Jupyter kernel's), judged where it is (llmspec.kernel)
Kind = Literal["file", "package", "module", "notebook", "directory", "namespace"]

# Files in a plain directory that are never the entry point.
_NOT_ENTRY = re.compile(r"^(test_.*|.*_test\.py|conftest\.py|setup\.py|__main__\.py|\..*)$")
# A notebook line that only IPython understands: shell (!cmd), line/cell magics (%x, %%x), help (?x).
_MAGIC_LINE = re.compile(r"^\s*(!|%|\?)")
_RELATIVE_IMPORT = re.compile(r"^\s*from\s+\.", re.MULTILINE)
_IDENT = re.compile(r"^[A-Za-z_]\w*$")
_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_OUTPUT_KEEP = 20_000  # characters of captured output kept for `llmspec check -v`
# Where a learner's code reads the book's files, relative to the directory it runs from: a path literal
# ("data/the-verdict.txt", "../01_main-chapter-code/the-verdict.txt") or two literals joined
# (os.path.join("data", "the-verdict.txt"), Path("data") / "the-verdict.txt"), and a folder of the book
# repository named alone, as the bonus notebooks search for their files ("../01_main-chapter-code/",
# "../02_bonus_bytepair-encoder/gpt2_model/").  Only plain relative paths; a URL or an absolute path
# never matches.
_BOOK_FILES = {"the-verdict.txt": "the-verdict.txt", "encoder.json": "gpt2/encoder.json",
               "vocab.bpe": "gpt2/vocab.bpe"}  # file name -> llmspec.data name
_BOOK_FOLDERS = {"01_main-chapter-code": ("the-verdict.txt",), "gpt2_model": ("encoder.json", "vocab.bpe")}
_NAME = r"(the-verdict\.txt|encoder\.json|vocab\.bpe)"
_FILE_PATHS = (re.compile(r"""["']((?:\.\./)*(?:[\w-][\w.-]*/)*)""" + _NAME + """["']"""),
               re.compile(r"""["']((?:\.\./)*[\w-][\w.-]*)["']\s*\)?\s*[,/]\s*["']""" + _NAME + """["']"""))
_FOLDER_PATHS = re.compile(  # a whole argument or list item, not a piece of a URL split over literals
    r"""["']((?:\.\./)*(?:[\w-][\w.-]*/)*(01_main-chapter-code|gpt2_model))/?["'](?=\s*[,)\]])""")

_counter = itertools.count(1)


@dataclass(frozen=True)
class TargetSpec:
    """Where an implementation is: ``location`` is an absolute path, or the dotted name for modules."""

    kind: Kind
    location: str
    display: str


@dataclass
class LoadedTarget:
    """A loaded implementation.  ``names`` maps each contract name to the attribute found in
    ``namespace`` (``None`` when missing); ``notes`` are lines for the learner (skipped cells, ...)."""

    spec: TargetSpec
    namespace: dict[str, object]
    names: dict[str, str | None]
    notes: list[str] = field(default_factory=list)
    scratch: Path | None = None  # working directory for loading and every call
    output: str = ""  # what loading printed (captured, truncated)
    lazy: dict[str, object] = field(default_factory=dict)  # names a module ``__getattr__`` supplied
    owns_scratch: bool = True  # False when the caller (the worker) provided the directory
    hints: dict[str, str] = field(default_factory=dict)  # missing contract name -> "did you mean ..."
    root: Path | None = None  # the directory made for the target, when ``scratch`` is a folder inside it

    resident: bool = False  # set by settle(): this process runs this target and no other

    def running(self) -> contextlib.AbstractContextManager[None]:
        """Conditions for a call into the target: those of :func:`running_in`, plus the target's
        directory on ``sys.path`` (a function may import a sibling module lazily).  After
        :meth:`settle` the conditions are already in force, and each call only sets again what an
        earlier call may have changed (:class:`_Renewal`)."""
        if self.resident:
            return _Renewal(self.scratch, self.home)
        return self._entered()

    @contextlib.contextmanager
    def _entered(self) -> Iterator[None]:
        with running_in(self.scratch):
            if self.home is None:
                yield
            else:
                with _on_sys_path(self.home):
                    yield

    @functools.cached_property
    def home(self) -> Path | None:
        """The target's own directory (its sibling modules), ``None`` for a module or a namespace."""
        if self.spec.kind in ("module", "namespace"):
            return None
        location = Path(self.spec.location)
        return location if self.spec.kind == "directory" else location.parent

    def settle(self) -> None:
        """Put :func:`running_in`'s conditions in force for the rest of this process, for a worker:
        it runs this one target and exits, so entering and leaving them around each of its calls
        (hundreds per submission) buys nothing.  Several targets sharing a process (``llmspec
        check``, a kernel) keep :meth:`running`'s per-call conditions."""
        _impose(self.scratch)
        self.resident = True

    def get(self, contract: str) -> object | None:
        """The target's object for a contract name, or ``None``."""
        name = self.names.get(contract)
        if name is None:
            return None
        return self.namespace[name] if name in self.namespace else self.lazy.get(name)

    def close(self) -> None:
        """Remove the scratch directory if we made it (loaded module objects stay alive while
        referenced)."""
        if self.scratch is not None and self.owns_scratch:
            shutil.rmtree(self.root or self.scratch, ignore_errors=True)
        self.scratch = None


# --- resolve -------------------------------------------------------------------------------------


def resolve(target: str) -> TargetSpec:
    """Decide what kind of target ``target`` names.

    Paths win when the text looks like one (ends in ``.py``/``.ipynb`` or contains a separator);
    a bare dotted name is a module when Python can import it, otherwise a path relative to the cwd.
    A directory without ``__init__.py`` that holds one candidate entry point (a ``.py`` or ``.ipynb``
    file that is not a test, ``setup.py`` or ``conftest.py``) is that file; one that holds several
    ``.py`` files (and no notebook) is a chapter split into files, loaded together (``directory``).
    """
    text = str(target).strip()
    if not text:
        raise TargetError(_("empty target: pass a .py file, a package directory, a module name or a .ipynb"))
    looks_like_path = (
        text.endswith((".py", ".ipynb"))
        or os.sep in text
        or "/" in text
        or text.startswith((".", "~"))
    )
    if not looks_like_path and _DOTTED.match(text):
        if _module_exists(text):
            return TargetSpec("module", text, text)
        if not Path(text).exists():
            raise TargetError(_("{target}: no such file, directory or importable module").format(target=text))
    return _resolve_path(Path(text).expanduser(), text)


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False
    except Exception as exc:  # a parent package that fails to import
        raise TargetError(_("{target}: importing its parent package failed: {error}").format(
            target=name, error=_one_line(exc))) from None


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
    candidates = sorted(
        p for p in path.iterdir()
        if p.is_file() and p.suffix in (".py", ".ipynb") and not _NOT_ENTRY.match(p.name)
    )
    if len(candidates) == 1:
        entry = candidates[0]
        kind: Kind = "file" if entry.suffix == ".py" else "notebook"
        return TargetSpec(kind, str(entry), f"{display.rstrip('/')}/{entry.name}")
    if candidates and all(p.suffix == ".py" for p in candidates):
        return TargetSpec("directory", str(path), display)
    listed = ", ".join(p.name for p in candidates) or "none"
    raise TargetError(_(
        "{target}: a directory without __init__.py must hold .py files only, or exactly one .py or "
        ".ipynb entry point (found {listed}); pass the file itself").format(target=display, listed=listed))


# --- load ----------------------------------------------------------------------------------------


def parse_impl_map(items: list[str] | str | dict | None) -> dict[str, str]:
    """``["a=b,c=d", "e=f"]`` (or a pyproject table) -> ``{"a": "b", "c": "d", "e": "f"}``;
    ``ValueError`` on a malformed pair (validation of the names is :func:`check_impl_map`'s)."""
    if not items:
        return {}
    if isinstance(items, dict):
        return {str(k): str(v) for k, v in items.items()}
    out: dict[str, str] = {}
    for chunk in [items] if isinstance(items, str) else items:
        for pair in filter(None, (p.strip() for p in str(chunk).split(","))):
            if "=" not in pair:
                raise ValueError(f"--impl-map expects NAME=OTHER pairs, got {pair!r}")
            key, value = (s.strip() for s in pair.split("=", 1))
            out[key] = value
    return out


def check_impl_map(impl_map: dict[str, str] | None) -> dict[str, str]:
    """Validate ``--impl-map`` (contract name -> the target's name); unknown names are an error."""
    impl_map = dict(impl_map or {})
    unknown = sorted(k for k in impl_map if k not in CONTRACT_NAMES)
    if unknown:
        raise TargetError(
            f"--impl-map: unknown contract name(s) {', '.join(unknown)}; valid: {', '.join(CONTRACT_NAMES)}"
        )
    bad = sorted(f"{k}={v}" for k, v in impl_map.items() if not _IDENT.match(str(v)))
    if bad:
        raise TargetError(_("--impl-map: not a Python identifier: {names}").format(names=", ".join(bad)))
    return impl_map


def load(
    spec: TargetSpec, impl_map: dict[str, str] | None = None, scratch: Path | None = None,
    strict_names: bool = False,
) -> LoadedTarget:
    """Load ``spec`` and look up the contract names (after ``impl_map``) in its namespace.

    ``scratch``: the working directory to use (the worker passes one it made private); by default a
    fresh temporary directory that :meth:`LoadedTarget.close` removes.  Unless ``strict_names``, a
    book name in another letter case (or an earlier name of the book's, see
    :data:`~llmspec.stages.BOOK_ALIASES`) is accepted with a note."""
    impl_map = check_impl_map(impl_map)
    owns_scratch = scratch is None
    root = make_scratch(scratch)
    scratch = _place_book_files(spec, root)
    lazy: dict[str, object] = {}
    try:
        with running_in(scratch), _captured() as out:
            if spec.kind == "module":
                namespace, notes = _load_module(spec)
            elif spec.kind == "notebook":
                namespace, notes = _load_notebook(spec)
            else:
                namespace, notes = _load_path(spec)
            names, hints = _find_names(spec, namespace, impl_map, notes, lazy, strict_names)
    except BaseException:
        if owns_scratch:
            shutil.rmtree(root, ignore_errors=True)
        raise
    text = out.getvalue()
    if len(text) > _OUTPUT_KEEP:
        text = text[:_OUTPUT_KEEP] + f"\n... ({len(text) - _OUTPUT_KEEP} more characters)"
    return LoadedTarget(spec, namespace, names, notes, scratch, text, lazy, owns_scratch, hints, root=root)


def from_namespace(namespace: dict[str, object], display: str, impl_map: dict[str, str] | None = None,
                   strict_names: bool = False) -> LoadedTarget:
    """A target that *is* a live namespace (the definitions a Jupyter kernel holds now), judged in
    place: nothing is executed, the names are looked up as :func:`load` looks them up.

    ``namespace`` is copied (a shallow snapshot), so what the harness binds never reaches the
    learner's namespace, and the objects are the learner's own.  The working directory for calls is
    a fresh scratch directory holding ``the-verdict.txt``, removed by :meth:`LoadedTarget.close`."""
    impl_map = check_impl_map(impl_map)
    spec = TargetSpec("namespace", os.getcwd(), display)
    snapshot = dict(namespace)
    notes: list[str] = []
    lazy: dict[str, object] = {}
    names, hints = _find_names(spec, snapshot, impl_map, notes, lazy, strict_names)
    made = Path(tempfile.mkdtemp(prefix="llmspec-kernel-"))
    try:
        scratch = make_scratch(made)
    except BaseException:  # the data missing or corrupt: nothing is left behind in /tmp
        shutil.rmtree(made, ignore_errors=True)
        raise
    return LoadedTarget(spec, snapshot, names, notes, scratch, "", lazy, owns_scratch=True, hints=hints)


def _find_names(spec: TargetSpec, namespace: dict[str, object], impl_map: dict[str, str],
                notes: list[str], lazy: dict[str, object],
                strict_names: bool) -> tuple[dict[str, str | None], dict[str, str]]:
    """Each contract name (after ``impl_map``) -> the name found in ``namespace`` (or a near name,
    with a note), or ``None``; and a did-you-mean hint for each name still missing."""
    names: dict[str, str | None] = {}
    for contract in CONTRACT_NAMES:
        wanted = impl_map.get(contract, contract)
        found = wanted in namespace or _module_getattr(namespace, wanted, lazy)
        near = None if found or strict_names or contract in impl_map else near_name(contract, namespace)
        nested = None if found or near or strict_names or contract in impl_map else \
            static_method_name(contract, namespace)
        if nested is not None:  # reached through its class: kept beside the namespace
            lazy[nested[0]] = nested[1]
            near = nested[0], nested[2]
        if near is not None:
            (wanted, note), found = near, True
            notes.append(note)
        names[contract] = wanted if found else None
        if contract in impl_map and not found:
            notes.append(_("--impl-map {contract}={name}: {target} defines no '{name}'").format(
                contract=contract, name=wanted, target=spec.display))
    taken = {n for n in names.values() if n is not None}
    hints = {c: h for c in CONTRACT_NAMES if names[c] is None
             for h in [did_you_mean(c, namespace, taken) or _local_state_hint(c, namespace)] if h}
    return names, hints


def _local_state_hint(contract: str, namespace: dict[str, object]) -> str:
    stage = next((st for st in STAGES.values() if contract in st.names), None)
    return local_state_hint(contract, stage.state_names, namespace) if stage is not None else ""


def _module_getattr(namespace: dict[str, object], name: str, lazy: dict[str, object]) -> bool:
    """PEP 562: a module may supply names lazily (the reference creates ``tokenizer`` on first
    access).  Ask its ``__getattr__``; a name it cannot supply is simply missing."""
    hook = namespace.get("__getattr__")
    if not callable(hook):
        return False
    try:
        lazy[name] = hook(name)
    except Exception:
        return False
    return True


def make_scratch(scratch: Path | None = None) -> Path:
    """A working directory (``scratch``, or a fresh temporary one) holding a copy of
    ``the-verdict.txt``; also seeds tiktoken's cache.

    A copy (not a link) so code that writes to or deletes the file cannot touch the shared data."""
    from llmspec import data

    data.ensure_tiktoken_cache()
    if scratch is None:
        scratch = Path(tempfile.mkdtemp(prefix="llmspec-run-"))
        atexit.register(shutil.rmtree, scratch, True)
    else:
        scratch = Path(scratch).resolve()
        scratch.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(data.locate().verdict, scratch / "the-verdict.txt")
    return scratch


def source_texts(spec: TargetSpec, max_bytes: int = 2_000_000) -> list[str]:
    """The code of a target as text, read and never run: a file, a notebook's code cells, or the
    ``.py`` files of a package or split chapter (none for an importable module).  Files larger than
    ``max_bytes`` or unreadable are left out: the callers only look for hints in the text."""
    if spec.kind in ("module", "namespace"):
        return []
    path = Path(spec.location)
    files = sorted(path.glob("*.py")) if spec.kind in ("package", "directory") else [path]
    texts: list[str] = []
    for file in files:
        try:
            if file.stat().st_size > max_bytes:
                continue
            if spec.kind == "notebook":
                texts.extend(source for _number, source in read_code_cells(file, spec.display))
            else:
                texts.append(file.read_text(encoding="utf-8", errors="replace"))
        except (OSError, TargetError):
            continue
    return texts


def _place_book_files(spec: TargetSpec, scratch: Path) -> Path:
    """Copy the book's files to every relative path the target's source reads them from, inside the
    scratch directory only, and return the directory to run in: ``scratch``, or a folder inside it
    deep enough that paths leaving the working directory land in ``scratch`` too (a bonus notebook
    run in the book repository reads ``../01_main-chapter-code/the-verdict.txt``; the folder takes
    the names of the target's own folders).  The source is read as text, never run."""
    from llmspec import data

    source = "\n".join(source_texts(spec))
    wanted = {(m.group(1).rstrip("/"), m.group(2)) for pattern in _FILE_PATHS for m in pattern.finditer(source)}
    wanted |= {(m.group(1), name) for m in _FOLDER_PATHS.finditer(source) for name in _BOOK_FOLDERS[m.group(2)]}
    # a bare name: the cwd has the text; ("the-verdict.txt", "encoder.json") is a list of names, not a path
    wanted = {(folder, name) for folder, name in wanted if folder and Path(folder).name not in _BOOK_FILES}
    depth = max((Path(folder).parts.count("..") for folder, _name in wanted), default=0)
    home = Path(spec.location) if spec.kind in ("package", "directory") else Path(spec.location).parent
    workdir = scratch.joinpath(*(["work"] * depth + list(home.parts[1:]))[-depth:]) if depth else scratch
    for folder, name in sorted(wanted):
        copy = Path(os.path.normpath(workdir / folder / name))
        if copy.is_relative_to(scratch) and not copy.exists():
            with contextlib.suppress(OSError):  # a folder name that is a file already: nothing to place
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(data.locate().path_of(_BOOK_FILES[name]), copy)
    if workdir != scratch:  # Listing 2.1 reads the text by its bare name
        workdir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data.locate().verdict, workdir / "the-verdict.txt")
    return workdir


@contextlib.contextmanager
def running_in(scratch: Path | None) -> Iterator[None]:
    """The conditions implementation code runs under: cwd = scratch, network blocked, empty stdin
    (``input()`` raises EOFError instead of waiting), a non-interactive matplotlib backend."""
    old_cwd = os.getcwd()
    old_stdin = sys.stdin
    old_backend = os.environ.get("MPLBACKEND")
    _set_conditions(scratch)
    try:
        with netblock.blocked():
            yield
    finally:
        os.chdir(old_cwd)
        sys.stdin = old_stdin
        if old_backend is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = old_backend


def _set_conditions(scratch: Path | None) -> None:
    """cwd = scratch, an empty stdin, the non-interactive matplotlib backend."""
    if scratch is not None:
        os.chdir(scratch)
    sys.stdin = io.StringIO("")
    if os.environ.get("MPLBACKEND") != "Agg":
        os.environ["MPLBACKEND"] = "Agg"


def _impose(scratch: Path | None) -> None:
    """:func:`running_in`'s conditions, set for good (a settled worker's; undone by nothing)."""
    _set_conditions(scratch)
    netblock.hold()


class _Renewal:
    """One call's conditions in a process :meth:`LoadedTarget.settle` settled: what the previous
    call may have changed is set again (cwd = scratch, an empty stdin, the backend, the network
    block), and the target's directory is first on ``sys.path`` during the call only, with the
    modules imported from it dropped afterwards, as :func:`_on_sys_path` does."""

    __slots__ = ("scratch", "home", "marks")

    def __init__(self, scratch: Path | None, home: Path | None):
        self.scratch, self.home = scratch, home
        self.marks: Marks = (0, ())

    def __enter__(self) -> None:
        _impose(self.scratch)
        if self.home is not None:
            self.marks = _module_marks()
            sys.path.insert(0, str(self.home))

    def __exit__(self, *exc_info: object) -> None:
        if self.home is not None:
            _leave_sys_path(self.home, self.marks)


@contextlib.contextmanager
def _captured() -> Iterator[io.StringIO]:
    """Capture what loading prints (notebooks print a lot); kept on the LoadedTarget, not shown."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        yield buf


def _unique_name(stem: str) -> str:
    safe = re.sub(r"\W", "_", stem) or "target"
    return f"llmspec_target_{next(_counter)}_{safe}"


# How many of the newest ``sys.modules`` names mark where a call's imports begin (see _imported_since).
_MARKS = 4
Marks = tuple[int, tuple[str, ...]]


def _module_marks() -> Marks:
    """How many modules there are now, and the newest names: a dict keeps insertion order, so every
    module imported after this point comes after them (a full snapshot of 2000+ names with torch
    loaded costs 10 us, more than a short call into the target)."""
    return len(sys.modules), tuple(itertools.islice(reversed(sys.modules), _MARKS))


def _imported_since(marks: Marks) -> list[str]:
    """The names put into ``sys.modules`` after :func:`_module_marks` returned ``marks``.

    Exact unless code deleted modules imported before the marks (or a mark itself, found again
    out of place): then every name is returned, and the caller's test of where each module lives
    decides alone."""
    count, newest = marks
    names = []
    for name in reversed(sys.modules):
        if name in newest:
            if len(sys.modules) - len(names) == count - newest.index(name):
                return names
            break
        names.append(name)
    return list(sys.modules)


@contextlib.contextmanager
def _on_sys_path(directory: Path) -> Iterator[None]:
    """Put ``directory`` first on ``sys.path``, then drop the modules imported from it (never
    llmspec's own) so another submission's ``helpers.py`` is not mistaken for this one's."""
    marks = _module_marks()
    sys.path.insert(0, str(directory))
    try:
        yield
    finally:
        _leave_sys_path(directory, marks)


def _leave_sys_path(directory: Path, marks: Marks) -> None:
    """Undo :func:`_on_sys_path`: ``directory`` off ``sys.path``, the modules imported from it since
    ``marks`` out of ``sys.modules``."""
    with contextlib.suppress(ValueError):
        sys.path.remove(str(directory))
    _drop_modules_from(directory, _imported_since(marks))


def _drop_modules_from(directory: Path, names: list[str]) -> None:
    """Remove from ``sys.modules`` those of ``names`` whose file lies in ``directory`` (not llmspec's)."""
    for name in names:
        if name.startswith("llmspec") or name not in sys.modules:
            continue
        file = getattr(sys.modules[name], "__file__", None) or ""
        if file and Path(file).resolve().is_relative_to(directory):
            del sys.modules[name]


def _load_path(spec: TargetSpec) -> tuple[dict[str, object], list[str]]:
    if spec.kind == "directory":
        return _load_directory(spec)
    path = Path(spec.location)
    is_package = spec.kind == "package"
    name = _unique_name(path.name if is_package else path.stem)
    if not is_package and _uses_relative_imports(path):
        # ``from .dataset import GPTDatasetV1``: run as ``python -m pkg.file`` would, inside its package
        name = _load_parent_package(spec, path) + "." + re.sub(r"\W", "_", path.stem)
    # a package's siblings live next to the package directory (absolute `import pkg.sub` works)
    module = _exec_file(spec, name, path / "__init__.py" if is_package else path,
                        package_dir=path if is_package else None, import_from=path.parent)
    namespace = vars(module)
    notes: list[str] = []
    if is_package:
        if not any(c in namespace for c in CONTRACT_NAMES) and not any(
                n.startswith(name + ".") for n in sys.modules):
            # an empty __init__.py: the chapter lives in files nothing imported yet
            with _on_sys_path(path.parent), _on_sys_path(path):
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


def _load_parent_package(spec: TargetSpec, path: Path) -> str:
    """Import the package that holds ``path`` under a unique name; that name."""
    name = _unique_name(path.parent.name)
    _exec_file(spec, name, path.parent / "__init__.py", package_dir=path.parent, import_from=path.parent.parent)
    return name


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
    with _on_sys_path(import_from) if import_from else contextlib.nullcontext():
        try:
            module_spec.loader.exec_module(module)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            sys.modules.pop(name, None)
            raise _load_error(spec, exc) from None
    return module


def _load_directory(spec: TargetSpec) -> tuple[dict[str, object], list[str]]:
    """A chapter split into files (``simple_tokenizer_v1.py``, ``gpt_dataset_v1.py``, ...), loaded
    as a package with no ``__init__.py``: each file runs as its own module, as ``python FILE`` from
    that directory would (siblings import each other by bare name), and the namespace gathers what
    they define."""
    path = Path(spec.location)
    name = _unique_name(path.name)
    package = types.ModuleType(name)
    package.__path__ = [str(path)]
    package.__file__ = None
    sys.modules[name] = package
    with _on_sys_path(path):
        notes = _load_submodules(name, path)
    notes += _adopt_submodule_names(name, vars(package))
    return vars(package), notes


def _load_submodules(package: str, directory: Path) -> list[str]:
    """Run every ``.py`` file of ``directory`` (not tests, not ``__init__``) as a submodule of
    ``package``; a file that fails is skipped with a note, as a failing notebook cell is."""
    notes = []
    for file in sorted(directory.glob("*.py")):
        if file.name == "__init__.py" or _NOT_ENTRY.match(file.name):
            continue
        modname = package + "." + re.sub(r"\W", "_", file.stem)
        if modname in sys.modules:
            continue  # the package's __init__ imported it already
        try:
            _exec_file(TargetSpec("file", str(file), file.name), modname, file)
        except TargetError as error:
            notes.append(_("{cell} skipped: {error}").format(cell=file.name, error=str(error).removeprefix(file.name + ": ")))
    return notes


def _adopt_submodule_names(package: str, namespace: dict[str, object]) -> list[str]:
    """A package that defines a contract name in a submodule it imported but did not re-export
    still counts: learners split chapters into files.  Say where each name came from.

    The file that defines a name wins over one that imports it; the classes and functions the
    submodules define are adopted too (a near name or a "did you mean" hint may be among them), and
    so are the variables of the first file that builds 2.7-2.8 inline (judged from state)."""
    notes = []
    prefix = package + "."
    submodules = sorted((n, vars(m)) for n, m in list(sys.modules.items()) if n.startswith(prefix))
    for contract in CONTRACT_NAMES:
        if contract in namespace:
            continue
        found = [(n, ns) for n, ns in submodules if contract in ns]
        own = [(n, ns) for n, ns in found if getattr(ns[contract], "__module__", None) == n]
        for modname, ns in (own or found)[:1]:
            namespace[contract] = ns[contract]
            notes.append(_("{contract} found in submodule {module}").format(contract=contract,
                                                                             module=modname[len(prefix):]))
    for modname, ns in submodules:
        for key, obj in ns.items():
            if (not key.startswith("_") and key not in namespace
                    and (inspect.isclass(obj) or inspect.isfunction(obj))
                    and getattr(obj, "__module__", None) == modname):
                namespace[key] = obj
    state_names = {n for stage in STAGES.values() for n in stage.state_names}
    for modname, ns in submodules:
        if state_names & set(ns):
            namespace.update({k: v for k, v in ns.items() if not k.startswith("_") and k not in namespace
                              and not isinstance(v, types.ModuleType)})
            break
    return notes


def _load_module(spec: TargetSpec) -> tuple[dict[str, object], list[str]]:
    try:
        module = importlib.import_module(spec.location)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        raise _load_error(spec, exc) from None
    namespace = vars(module)
    notes: list[str] = []
    if hasattr(module, "__path__"):
        notes += _adopt_submodule_names(spec.location, namespace)
    return namespace, notes


def _load_error(spec: TargetSpec, exc: BaseException) -> TargetError:
    """One line: ``file:line: SyntaxError: msg`` or ``target: importing failed at file:line: T: msg``."""
    if isinstance(exc, SyntaxError):
        where = f"{exc.filename}:{exc.lineno}" if exc.filename else spec.display
        return TargetError(f"{where}: {type(exc).__name__}: {exc.msg}")
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if "importlib" not in f.filename and "llmspec" not in Path(f.filename).parts]
    where = _(" at {file}:{line}").format(file=own[-1].filename, line=own[-1].lineno) if own else ""
    return TargetError(_("{target}: importing failed{where}: {error}").format(
        target=spec.display, where=where, error=_one_line(exc)))


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --- notebooks -----------------------------------------------------------------------------------


def read_code_cells(path: Path, display: str) -> list[tuple[int, str]]:
    """``[(cell number counting all cells from 1, source), ...]`` for the code cells of a notebook,
    parsed as plain JSON (nbformat 4, and the ``worksheets`` layout of nbformat 3)."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TargetError(_("{target}: not a Jupyter notebook (invalid JSON: {error})").format(
            target=display, error=_one_line(exc))) from None
    if not isinstance(nb, dict):
        raise TargetError(_("{target}: not a Jupyter notebook (no 'cells' list)").format(target=display))
    cells = nb.get("cells")
    if cells is None and isinstance(nb.get("worksheets"), list):
        cells = [c for ws in nb["worksheets"] if isinstance(ws, dict) for c in ws.get("cells", [])]
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


def _display(*objects: Any, **_: Any) -> None:
    """IPython's ``display`` as plain print, so notebooks that show a DataFrame or tensor still run."""
    for obj in objects:
        print(repr(obj))


def _load_notebook(spec: TargetSpec) -> tuple[dict[str, object], list[str]]:
    path = Path(spec.location)
    cells = read_code_cells(path, spec.display)
    name = _unique_name(path.stem)
    module = types.ModuleType(name)
    module.__file__ = str(path)
    module.__dict__["display"] = _display
    sys.modules[name] = module  # classes defined in cells get a real __module__ (pickling, dataclasses)
    namespace = vars(module)
    notes: list[str] = []
    with _on_sys_path(path.parent):
        for number, source in cells:
            if not source.strip():
                continue
            first = next((ln.strip() for ln in source.splitlines() if ln.strip()), "")
            label = _("cell {number} ({first})").format(number=number, first=_short(first))
            magic = next((ln.strip() for ln in source.splitlines() if _MAGIC_LINE.match(ln)), None)
            if magic is not None:
                notes.append(_("{cell} skipped: IPython shell/magic syntax `{line}`").format(cell=label, line=_short(magic)))
                continue
            try:
                code = compile(source, f"{path}#cell{number}", "exec")
                exec(code, namespace)
            except KeyboardInterrupt:
                raise
            except SyntaxError as exc:
                notes.append(_("{cell} skipped: SyntaxError: {error} (line {line} of the cell)").format(
                    cell=label, error=exc.msg, line=exc.lineno))
            except BaseException as exc:  # SystemExit from a cell is a failed cell, too
                notes.append(_("{cell} skipped: {error}").format(cell=label, error=_one_line(exc)))
    return namespace, notes


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
