"""The implementation under test, loaded: its namespace and where each of the book's names is in it.

:func:`load` runs a resolved target (:mod:`llmspec.runtime.resolve`) with the loader of its kind
(:mod:`llmspec.runtime.loaders`) under the conditions learners' code expects
(:mod:`llmspec.runtime.conditions`), and looks up the contract's names (:mod:`llmspec.runtime.names`);
:func:`from_namespace` judges a live namespace (a Jupyter kernel's) where it is.
"""
from __future__ import annotations

import contextlib
import functools
import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from llmspec.i18n import _
from llmspec.runtime.conditions import make_scratch, on_sys_path, place_book_files, running_in
from llmspec.runtime.loaders import LOADERS
from llmspec.runtime.names import check_impl_map, did_you_mean, near_name, static_method_name
from llmspec.runtime.resolve import MAX_SOURCE_BYTES, TargetSpec, imported_names, source_texts
from llmspec.runtime.resolve import resolve  # noqa: F401 - imported from here too
from llmspec.runtime.statenames import local_state_hint, state_aliases, state_hints
from llmspec.stages import CONTRACT_NAMES


@dataclass
class LoadedTarget:
    """A loaded implementation.  ``names`` maps each contract name to the attribute found in
    ``namespace`` (``None`` when missing); ``notes`` are lines for the learner (skipped cells, ...)."""

    spec: TargetSpec
    namespace: dict[str, object]
    names: dict[str, str | None]
    notes: list[str] = field(default_factory=list)
    scratch: Path | None = None  # working directory for loading and every call
    lazy: dict[str, object] = field(default_factory=dict)  # names a module ``__getattr__`` supplied
    hints: dict[str, str] = field(default_factory=dict)  # missing contract name -> "did you mean ..."
    root: Path | None = None  # the directory made for the target (``scratch`` is in it); None: the caller's
    state_alias: dict[str, str] = field(default_factory=dict)  # a variable of the book's 2.7-2.8 -> the target's

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """Conditions for a call into the target: those of :func:`running_in`, plus the target's
        directory on ``sys.path`` (a function may import a sibling module lazily)."""
        with running_in(self.scratch), on_sys_path(self.home):
            yield

    @functools.cached_property
    def home(self) -> Path | None:
        """The target's own directory (its sibling modules), ``None`` for a module or a namespace."""
        if self.spec.kind in ("module", "namespace"):
            return None
        location = Path(self.spec.location)
        return location if self.spec.kind == "directory" else location.parent

    def sources(self, most: int = 200) -> list[str]:
        """The target's code as text, read and never run (:func:`~llmspec.runtime.resolve.source_texts`:
        its file, its notebook's code cells, skipped ones too, its package's modules), and the modules
        of its folder that these import by name (``from helpers import ...``, ``from .data import ...``),
        at most ``most`` of them and :data:`~llmspec.runtime.resolve.MAX_SOURCE_BYTES` of text in all,
        as :func:`~llmspec.runtime.resolve.source_texts` bounds its own.  ``[]`` for a live namespace."""
        texts = source_texts(self.spec)
        if self.home is None:
            return texts
        seen, budget = {Path(self.spec.location)}, MAX_SOURCE_BYTES - sum(len(t) for t in texts)
        for text in texts:  # grows while it is read: a sibling's own siblings count too
            for name in imported_names(text):
                path = self.home / f"{name.lstrip('.').partition('.')[0]}.py"
                if path not in seen and len(seen) <= most and path.is_file():
                    seen.add(path)
                    found = source_texts(TargetSpec("file", str(path), path.name), budget)
                    texts += found
                    budget -= sum(len(t) for t in found)
        return texts

    def get(self, contract: str) -> object | None:
        """The target's object for a contract name, or ``None``."""
        name = self.names.get(contract)
        if name is None:
            return None
        return self.namespace[name] if name in self.namespace else self.lazy.get(name)

    def state_name(self, name: str) -> str | None:
        """The target's name for a variable of the book's inline cells (renamed with ``--impl-map``),
        ``None`` when its namespace has none."""
        own = self.state_alias.get(name, name)
        return own if own in self.namespace else None

    def close(self) -> None:
        """Remove the directory made for the target (loaded module objects stay alive while referenced)."""
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
        self.scratch = None


def load(spec: TargetSpec, impl_map: dict[str, str] | None = None, scratch: Path | None = None,
         strict_names: bool = False) -> LoadedTarget:
    """Load ``spec`` and look up the contract names (after ``impl_map``; near names with a note unless
    ``strict_names``) in its namespace.  ``scratch``: the working directory to use (the worker passes
    one it made private); by default a fresh temporary one that :meth:`LoadedTarget.close` removes."""
    impl_map = check_impl_map(impl_map)
    root = make_scratch(scratch)
    workdir = place_book_files(spec, root)
    lazy: dict[str, object] = {}
    out = io.StringIO()  # notebooks print a lot: not shown (the learner sees the verdict)
    try:
        with running_in(workdir), contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            namespace, notes = LOADERS[spec.kind](spec)
            names, hints = find_names(spec, namespace, impl_map, notes, lazy, strict_names)
    except BaseException:
        if scratch is None:
            shutil.rmtree(root, ignore_errors=True)
        raise
    return LoadedTarget(spec, namespace, names, notes, workdir, lazy, hints,
                        root=root if scratch is None else None, state_alias=state_aliases(impl_map))


def from_namespace(namespace: dict[str, object], display: str, impl_map: dict[str, str] | None = None,
                   strict_names: bool = False) -> LoadedTarget:
    """A live namespace (the definitions a Jupyter kernel holds now) judged in place: nothing is
    executed.  A shallow copy, so what the harness binds never reaches the learner's namespace; calls
    run in a fresh scratch directory that :meth:`LoadedTarget.close` removes."""
    impl_map = check_impl_map(impl_map)
    spec = TargetSpec("namespace", os.getcwd(), display)
    snapshot = dict(namespace)
    notes: list[str] = []
    lazy: dict[str, object] = {}
    names, hints = find_names(spec, snapshot, impl_map, notes, lazy, strict_names)
    # made here, not by make_scratch's own mkdtemp: that one is removed only at exit, and a kernel lives
    # for many checks (close() removes this one after each)
    scratch = Path(tempfile.mkdtemp(prefix="llmspec-kernel-"))
    try:
        make_scratch(scratch)
    except BaseException:  # the data missing or corrupt: nothing is left behind in /tmp
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return LoadedTarget(spec, snapshot, names, notes, scratch, lazy, hints, root=scratch,
                        state_alias=state_aliases(impl_map))


def find_names(spec: TargetSpec, namespace: dict[str, object], impl_map: dict[str, str],
                notes: list[str], lazy: dict[str, object],
                strict_names: bool) -> tuple[dict[str, str | None], dict[str, str]]:
    """Each contract name (after ``impl_map``) -> the name found in ``namespace`` (or a near name,
    with a note), or ``None``; and a did-you-mean hint for each name still missing."""
    names: dict[str, str | None] = {}
    for contract in CONTRACT_NAMES:
        wanted = impl_map.get(contract, contract)
        found = wanted in namespace or _module_getattr(namespace, wanted, lazy)
        if not (found or strict_names or contract in impl_map):
            near = near_name(contract, namespace)
            nested = None if near else static_method_name(contract, namespace)
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
    alias = state_aliases(impl_map)
    for book, own in alias.items():
        if own not in namespace:
            notes.append(_("--impl-map {contract}={name}: {target} defines no '{name}'").format(
                contract=book, name=own, target=spec.display))
    taken = {n for n in names.values() if n is not None}
    try:  # hints only: an object of the target that raises when looked at costs its hint, not the load
        hints = {c: h for c in CONTRACT_NAMES if names[c] is None
                 for h in [did_you_mean(c, namespace, taken) or local_state_hint(c, namespace)] if h}
        if names["InputEmbeddings"] is None:
            hints.update(state_hints(namespace, alias, hints.get("InputEmbeddings")))
    except Exception:
        hints = {}
    return names, hints



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
