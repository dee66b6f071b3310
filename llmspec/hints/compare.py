"""Two statements compared as code, not as text: the learner's and the book listing's.

A learner who types the book's code may name, format, comment and annotate it their own way; none
of that is a difference, but a name used where the book uses another (``max_length`` as the step
where the book has ``stride``) is.  So a statement becomes a canonical tree (:func:`canon`: imports
spelled out, a few spellings the book does not care about made equal), and local names and
``self`` attributes are matched as a one-to-one renaming built up statement by statement.
:func:`differ` returns the first pair of nodes that differ: the line where the difference is.
"""
from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass, field
from typing import Iterator

from llmspec.hints.sources import member

# CONTRACT.md: "decode may or may not remove the space before : and ;" (quotes unescaped, see canon)
_SAME_STRINGS = {r"""\s+([,.:;?!"()'])""": r"""\s+([,.?!"()'])"""}
_DTYPE_DEFAULT = {"torch.long", "torch.int64"}  # torch.tensor of ints is int64 without saying so
# Book calls whose arguments may be passed by position or by keyword: the parameters, in order.
_PARAMS = {
    "torch.utils.data.DataLoader": ("dataset", "batch_size", "shuffle"),
    "torch.nn.Embedding": ("num_embeddings", "embedding_dim"),
}
_SCOPES = {"ListComp", "SetComp", "DictComp", "GeneratorExp", "Lambda"}
_BUILTINS = frozenset(dir(builtins))
Name = tuple[str, str]  # a renamable name: ("local" | "attr" | "def", the name)


@dataclass
class Node:
    """A canonical node: ``kind`` says what it is (``Call``, ``Const:1``, ``Global:torch.arange``,
    ``kw:shuffle``), ``name`` is set for a renamable name, ``line``/``end`` are its source lines."""

    kind: str
    children: list[Node] = field(default_factory=list)
    line: int = 0
    end: int = 0
    name: Name | None = None

    def key(self) -> str:
        """The node with every renamable name blanked: what statements are aligned by."""
        own = self.kind + (f"<{self.name[0]}>" if self.name else "")
        return own + ("(" + ",".join(c.key() for c in self.children) + ")" if self.children else "")

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class Scope:
    """What a name means inside one function: ``local`` names and the module's own classes and
    functions (``defined``, with their parameters: ``GPTDataset`` may be the learner's
    ``GPTDatasetV1``) are renamable; ``imports`` spell aliases out; ``selves`` name the instance."""

    local: set[str] = field(default_factory=set)
    imports: dict[str, str] = field(default_factory=dict)
    selves: frozenset[str] = frozenset({"self"})
    defined: dict[str, tuple[str, ...]] = field(default_factory=dict)


def parameters(definitions: list[ast.AST]) -> dict[str, tuple[str, ...]]:
    """``{name: parameters}`` of top-level classes (their ``__init__``'s, after ``self``) and functions."""
    out: dict[str, tuple[str, ...]] = {}
    for node in definitions:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            fn = node if isinstance(node, ast.FunctionDef) else member(node, "__init__")
            args = [a.arg for a in (fn.args.posonlyargs + fn.args.args)] if fn else []
            out[node.name] = tuple(args[1:] if isinstance(node, ast.ClassDef) else args)
    return out


def local_scope(fn: ast.FunctionDef, imports: dict[str, str], defined: dict[str, tuple[str, ...]]) -> Scope:
    """The names of one function: every name it binds is local, ``self`` is the first parameter of
    a method, ``defined`` the module's own classes and functions."""
    args = fn.args.args
    selves = frozenset({args[0].arg}) if args and args[0].arg in ("self", "this", "cls") else frozenset()
    nodes = list(ast.walk(fn))
    local = {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del))}
    local |= {n.arg for n in nodes if isinstance(n, ast.arg)}
    local |= {n.name for n in nodes if isinstance(n, ast.ExceptHandler) and n.name}
    local -= selves
    return Scope(local, imports, selves or frozenset({"self"}), {k: v for k, v in defined.items() if k not in local})


def module_scope(trees: list[ast.AST], imports: dict[str, str]) -> Scope:
    """Top-level code (the book's inline cells): every name it binds or reads is the learner's to
    choose, except imports and builtins."""
    names = {n.id for t in trees for n in ast.walk(t) if isinstance(n, ast.Name)}
    return Scope(names - set(imports) - _BUILTINS, imports, frozenset())


def module_imports(trees: list[ast.AST]) -> dict[str, str]:
    """``{alias: dotted name}`` of the imports in ``trees`` (``nn`` -> ``torch.nn``, ``DataLoader``
    -> ``torch.utils.data.DataLoader``); ``torch.utils.data.dataloader.DataLoader`` is the same."""
    out: dict[str, str] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    out[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for a in node.names:
                    out[a.asname or a.name] = f"{node.module}.{a.name}"
    return out


def _dotted(node: ast.AST, scope: Scope) -> str | None:
    """``torch.nn.Embedding`` for an attribute chain rooted at an imported (or unbound global) name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id in scope.local or node.id in scope.selves or node.id in scope.defined:
        return None
    root = scope.imports.get(node.id, node.id)
    dotted = ".".join([root, *reversed(parts)])
    return dotted.replace("torch.utils.data.dataloader.", "torch.utils.data.")


def unquoted(value: str) -> str:
    """A string constant with its escaped quotes unescaped: ``r'(\\'|x)'`` and ``r"('|x)"`` are one regex."""
    return value.replace("\\'", "'").replace('\\"', '"')


def canon(node: ast.AST, scope: Scope) -> Node:
    """The canonical tree of one statement (or expression) under ``scope``."""
    line, end = getattr(node, "lineno", 0), getattr(node, "end_lineno", 0) or getattr(node, "lineno", 0)

    def make(kind: str, children: list[Node] | None = None, name: Name | None = None) -> Node:
        return Node(kind, children or [], line, end, name)

    if isinstance(node, ast.Name):
        if node.id in scope.local:
            return make("Name", name=("local", node.id))
        if node.id in scope.defined:
            return make("Name", name=("def", node.id))
        return make("Global:" + (_dotted(node, scope) or node.id))
    if isinstance(node, ast.Attribute):
        if isinstance(node.value, ast.Name) and node.value.id in scope.selves:
            return make("SelfAttr", name=("attr", node.attr))
        dotted = _dotted(node, scope)
        if dotted is not None and dotted.split(".")[0] not in _BUILTINS:
            return make("Global:" + dotted)
        return make("Attr:" + node.attr, [canon(node.value, scope)])
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, str):
            value = unquoted(value)
            value = _SAME_STRINGS.get(value, value)
        return make(f"Const:{value!r}")
    if isinstance(node, ast.Call):
        return _call(node, scope, make)
    if isinstance(node, ast.AnnAssign):  # ``x: int = 1`` is ``x = 1``; a bare annotation is nothing
        return make("Assign", [make("list", [canon(node.target, scope)]), canon(node.value, scope)]
                    if node.value else [make("Pass")])
    if isinstance(node, ast.arguments):
        return make("arguments")  # signatures are compared by their own rules (align.py)
    if isinstance(node, ast.comprehension):  # the target first: it binds what the element uses
        return make("for", [canon(node.target, scope), canon(node.iter, scope),
                            make("list", [canon(i, scope) for i in node.ifs])])
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
        elements = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        return make(type(node).__name__, [canon(n, scope) for n in [*node.generators, *elements]])
    if isinstance(node, ast.Subscript) and _is_negative_one(node.slice) and getattr(node.value, "attr", "") == "shape":
        return make("Subscript", [canon(node.value, scope), make("Const:1")])  # x.shape[-1] of [B, T]
    children: list[Node] = []
    for name, value in ast.iter_fields(node):
        if name in ("ctx", "type_comment", "annotation", "returns", "type_params", "decorator_list"):
            continue
        if isinstance(value, ast.AST):
            children.append(canon(value, scope))
        elif isinstance(value, list):
            children.append(make("list", [canon(v, scope) for v in value if isinstance(v, ast.AST)]))
        elif value is not None:
            children.append(make(f"{name}={value!r}"))
    return make(type(node).__name__, children)


def _is_negative_one(node: ast.AST) -> bool:
    return (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Constant) and node.operand.value == 1)


def _call(node: ast.Call, scope: Scope, make) -> Node:
    func = node.func
    # ``x.size(1)`` is ``x.shape[1]`` (and ``x.size(-1)`` of a [B, T] batch too)
    if isinstance(func, ast.Attribute) and func.attr == "size" and len(node.args) == 1 and not node.keywords:
        index = make("Const:1") if _is_negative_one(node.args[0]) else canon(node.args[0], scope)
        shape = make("Attr:shape", [canon(func.value, scope)])
        return make("Subscript", [shape, index])
    if isinstance(func, ast.Name) and func.id == "super":  # super(Class, self) is super()
        return make("Call", [make("Global:super"), make("list"), make("list")])
    callee = canon(func, scope)
    args = list(node.args)
    keywords = {k.arg: k for k in node.keywords if k.arg is not None}
    params = scope.defined.get(callee.name[1], ()) if callee.name and callee.name[0] == "def" \
        else _PARAMS.get(callee.kind.removeprefix("Global:"), ())
    for i, param in enumerate(params):  # a book parameter passed by keyword, in the book's place
        if i == len(args) and param in keywords:
            args.append(keywords.pop(param).value)
    if callee.kind == "Global:torch.tensor" and "dtype" in keywords \
            and _dotted(keywords["dtype"].value, scope) in _DTYPE_DEFAULT:
        del keywords["dtype"]
    kws = [Node("kw:" + name, [canon(k.value, scope)], k.lineno, k.end_lineno or k.lineno)
           for name, k in sorted(keywords.items())]
    for kw in kws:  # GPT-2 has one special token: allowed_special="all" is {"<|endoftext|>"}
        if kw.kind == "kw:allowed_special" and kw.children[0].kind == "Const:'all'":
            kw.children = [Node("Set", [Node("list", [Node("Const:'<|endoftext|>'")])], kw.line, kw.end)]
    starred = [make("**", [canon(k.value, scope)]) for k in node.keywords if k.arg is None]
    return make("Call", [callee, make("list", [canon(a, scope) for a in args]), make("keywords", kws + starred)])


class Renaming:
    """A one-to-one map ``fwd`` from the learner's names to the listing's (``bwd`` is its inverse),
    per kind; ``extra_keywords`` are keyword arguments the learner may pass where the listing does
    not (``device=``; under the MEAP edition also the print edition's ``allowed_special=``, ``num_workers=``)."""

    def __init__(self, extra_keywords: frozenset[str] = frozenset({"device"})) -> None:
        self.restore({})
        self.extra_keywords = extra_keywords

    def bind(self, mine: Name, book: Name) -> bool:
        """Pair two names; ``False`` when either is already paired with another."""
        if mine[0] != book[0]:
            return False
        if mine in self.fwd or book in self.bwd:
            return self.fwd.get(mine) == book
        self.fwd[mine], self.bwd[book] = book, mine
        return True

    def snapshot(self) -> dict[Name, Name]:
        return dict(self.fwd)

    def restore(self, fwd: dict[Name, Name]) -> None:
        self.fwd, self.bwd = dict(fwd), {v: k for k, v in fwd.items()}

    def enter(self, mine: set[Name], book: set[Name]) -> tuple:
        """Into a comprehension: its variables shadow any outer pairing of the same names."""
        saved = (self.snapshot(), mine, book)
        self.restore({k: v for k, v in self.fwd.items() if k not in mine and v not in book})
        return saved

    def leave(self, saved: tuple) -> None:
        """Out of a comprehension: the outer pairings come back, and those made inside of other names."""
        outer, mine, book = saved
        fwd = dict(outer)
        for k, v in self.fwd.items():
            if k not in mine and v not in book and k not in fwd and v not in fwd.values():
                fwd[k] = v
        self.restore(fwd)

    def forget_locals(self) -> None:
        """A new function: its local names start unpaired (attributes stay paired)."""
        self.restore({k: v for k, v in self.fwd.items() if k[0] != "local"})


def differ(mine: Node, book: Node, names: Renaming) -> tuple[Node, Node] | None:
    """The first pair of nodes where ``mine`` and ``book`` differ, pairing names on the way
    (``None``: the same code)."""
    if mine.name or book.name:
        if mine.name and book.name and names.bind(mine.name, book.name):
            return None
        return mine, book
    if mine.kind != book.kind:
        return mine, book
    if mine.kind == "keywords":
        return _keywords(mine, book, names)
    if len(mine.children) != len(book.children):
        return mine, book
    saved = names.enter(_targets(mine), _targets(book)) if mine.kind in _SCOPES else None
    found = next(filter(None, (differ(a, b, names) for a, b in zip(mine.children, book.children))), None)
    if saved is not None:
        names.leave(saved)
    return found


def _targets(node: Node) -> set[Name]:
    """The names a comprehension's ``for`` clauses bind (its own, shadowing any outer ones)."""
    return {n.name for g in node.children if g.kind == "for" for n in g.children[0].walk() if n.name}


def _keywords(mine: Node, book: Node, names: Renaming) -> tuple[Node, Node] | None:
    """Keyword arguments by name: a missing one is reported at the call, an extra one where it is."""
    theirs = {k.kind: k for k in book.children}
    ours = {k.kind: k for k in mine.children}
    for kind, node in ours.items():
        if kind in theirs:
            found = differ(node, theirs[kind], names)
            if found:
                return found
        elif kind.removeprefix("kw:") not in names.extra_keywords:
            return node, book
    return (mine, book) if theirs.keys() - ours.keys() else None
