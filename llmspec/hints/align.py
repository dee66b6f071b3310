"""A learner's function aligned with the book listing's, statement by statement.

Both bodies, flattened (a compound statement's header, then its body one level deeper), are aligned
on their shape with names blanked (``difflib``), then each aligned pair is compared as code; what is
left comes in *hunks*.  Some differences are none (an extra ``print`` or ``assert``, an attribute
only one side uses, ``x = value; return x``, a single-use temporary written inline).  Code that is
not a version of the listing (vectorised, another structure) gets no pointer: most of the listing's
statements must be found equal, and what differs be a hunk or two.
"""
from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass

from llmspec.hints.compare import Name, Node, Renaming, Scope, canon, differ

MIN_MATCHED = 0.6  # of the listing's statements found equal, for the code to be a version of it
MAX_HUNKS = 2
MAX_DIFFERENCES = 4
_SILENT_CALLS = {"Global:print", "Global:display", "Global:torch.manual_seed", "Global:super"}


@dataclass
class Stmt:
    """A statement (or a compound statement's header) of one side, ``line``-``end`` in its source."""

    tree: Node
    depth: int
    line: int
    end: int
    node: ast.AST
    weight: int = 1  # how many statements of the code it stands for (after merging)

    def key(self) -> str:
        return f"{self.depth}|{self.tree.key()}"

    def absorbing(self, first: Stmt, tree: Node) -> Stmt:
        """This statement with the earlier ``first`` written into it: ``tree``, both their lines."""
        return Stmt(tree, self.depth, first.line, self.end, self.node, first.weight + self.weight)


def statement(node: ast.stmt, scope: Scope, depth: int = 0) -> Stmt:
    return Stmt(canon(node, scope), depth, node.lineno, node.end_lineno or node.lineno, node)


@dataclass
class Difference:
    """One place where the learner's code differs from the listing: ``mine``/``book`` are its
    ``(first line, last line)``, ``None`` on the side that has nothing there (then ``anchor`` is
    the learner's line it would follow)."""

    function: str
    mine: tuple[int, int] | None
    book: tuple[int, int] | None
    anchor: int = 0


def pointed(matched: int, total: int, hunks: list[list[Difference]]) -> bool:
    """Whether code with ``matched`` of the listing's ``total`` statements found equal, and these
    ``hunks`` of differences, is a version of the listing to point at."""
    found = sum(len(hunk) for hunk in hunks)
    return 0 < found <= MAX_DIFFERENCES and len(hunks) <= MAX_HUNKS and matched >= MIN_MATCHED * total > 0


def flatten(body: list[ast.stmt], scope: Scope, depth: int = 0) -> list[Stmt]:
    """The statements of ``body`` in order, compound statements as a header then their bodies."""
    out: list[Stmt] = []
    for i, stmt in enumerate(body):
        if i == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) \
                and isinstance(stmt.value.value, str):
            continue  # a docstring
        parts: list[ast.AST]
        if isinstance(stmt, (ast.For, ast.AsyncFor)):
            parts, blocks = [stmt.target, stmt.iter], [stmt.body, stmt.orelse]
        elif isinstance(stmt, (ast.While, ast.If)):
            parts, blocks = [stmt.test], [stmt.body, stmt.orelse]
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            parts, blocks = list(stmt.items), [stmt.body]
        elif isinstance(stmt, ast.Try):
            parts, blocks = [], [stmt.body, *(h.body for h in stmt.handlers), stmt.orelse, stmt.finalbody]
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            parts, blocks = [], []
        else:
            out.append(statement(stmt, scope, depth))
            continue
        header = Node(type(stmt).__name__ + getattr(stmt, "name", ""), [canon(p, scope) for p in parts],
                      stmt.lineno, max([stmt.lineno] + [getattr(p, "end_lineno", 0) or 0 for p in parts]))
        out.append(Stmt(header, depth, header.line, header.end, stmt))
        for block in blocks:
            if block:
                if block is not blocks[0]:
                    out.append(Stmt(Node("else"), depth, block[0].lineno, block[0].lineno, stmt))
                out += flatten(block, scope, depth + 1)
    return out


def _assigned(stmt: Stmt) -> Name | None:
    """The renamable name a plain ``name = value`` (or ``self.name = value``) statement sets."""
    tree = stmt.tree
    if tree.kind == "Assign" and len(tree.children) == 2 and len(tree.children[0].children) == 1:
        return tree.children[0].children[0].name
    return None


def _silent_call(tree: Node) -> bool:
    """A call made for its output or set-up only (:data:`_SILENT_CALLS`, ``super().__init__()``), or a bare constant."""
    if tree.kind != "Expr" or not tree.children:
        return False
    call = tree.children[0]
    if call.kind != "Call":
        return call.kind.startswith("Const:")
    callee = call.children[0]
    if callee.kind in _SILENT_CALLS:
        return True
    inner = callee.children[0] if callee.kind.startswith("Attr:") and callee.children else None
    return inner is not None and inner.kind == "Call" and inner.children[0].kind == "Global:super"


def silent(stmt: Stmt, attrs_paired: set[str]) -> bool:
    """A statement of the learner's that cannot change what the book's code computes: a print, an
    assert, ``super().__init__()``, a guard that only raises or prints, an attribute the book's code
    has no counterpart of (``attrs_paired`` are the learner's attributes paired with the book's)."""
    node = stmt.node
    if isinstance(node, (ast.Assert, ast.Pass)) or _silent_call(stmt.tree):
        return True
    if isinstance(node, ast.If) and stmt.tree.kind == "If" and not node.orelse:  # a guard
        return all(isinstance(s, (ast.Raise, ast.Assert, ast.Pass)) or
                   (isinstance(s, ast.Expr) and _silent_call(canon(s, Scope()))) for s in node.body)
    return _sets_attribute_outside(stmt, attrs_paired)


def drop_silent(stmts: list[Stmt], attrs_paired: set[str]) -> list[Stmt]:
    """``stmts`` without the silent ones (a silent guard goes with its body)."""
    out, skip_below = [], None
    for stmt in stmts:
        if skip_below is not None and stmt.depth > skip_below:
            continue
        skip_below = None
        if silent(stmt, attrs_paired):
            skip_below = stmt.depth if isinstance(stmt.node, ast.If) else None
            continue
        out.append(stmt)
    return out


def _sets_attribute_outside(stmt: Stmt, attrs: set[str]) -> bool:
    """``self.name = value`` for a ``name`` not in ``attrs``: on the learner's side an attribute the
    book has no counterpart of, on the book's one it never reads (MEAP's ``self.tokenizer``)."""
    name = _assigned(stmt)
    return name is not None and name[0] == "attr" and name[1] not in attrs


def _pairs(mine: list[Stmt], book: list[Stmt]) -> list[tuple[int | None, int | None]]:
    """The hunk's statements paired in order where they look alike (a small dynamic program);
    ``(i, None)`` is an extra statement of the learner's, ``(None, j)`` one missing."""
    n, m = len(mine), len(book)
    sim = [[difflib.SequenceMatcher(None, a.key().split("("), b.key().split("("), autojunk=False).ratio()
            for b in book] for a in mine]
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            paired = sim[i][j] + best[i + 1][j + 1] if sim[i][j] >= 0.5 else 0.0
            best[i][j] = max(best[i + 1][j], best[i][j + 1], paired)
    out: list[tuple[int | None, int | None]] = []
    i = j = 0
    while i < n or j < m:
        if i < n and j < m and sim[i][j] >= 0.5 and best[i][j] == sim[i][j] + best[i + 1][j + 1]:
            out.append((i, j))
            i, j = i + 1, j + 1
        elif i < n and (j == m or best[i][j] == best[i + 1][j]):
            out.append((i, None))
            i += 1
        else:
            out.append((None, j))
            j += 1
    return out


def variants(mine: list[Stmt], book: list[Stmt], temps: tuple[set[str], set[str]]) -> list[tuple[list[Stmt], ...]]:
    """The two sides as written, with ``x = value; return x`` as ``return value``, and with every
    single-use temporary (``temps``) written where it is read as well: the alignments to try."""
    return [(mine, book), (merge_returns(mine), merge_returns(book)),
            (merge_returns(inline(mine, temps[0])), merge_returns(inline(book, temps[1])))]


def merge_returns(stmts: list[Stmt]) -> list[Stmt]:
    """``name = value`` followed by ``return name`` as one ``return value``."""
    out: list[Stmt] = []
    for stmt in stmts:
        prev = out[-1] if out else None
        returned = stmt.tree.children[0] if stmt.tree.kind == "Return" and stmt.tree.children else None
        if prev is not None and returned is not None and returned.name and _assigned(prev) == returned.name \
                and prev.depth == stmt.depth:
            out[-1] = stmt.absorbing(prev, Node("Return", [prev.tree.children[1]], prev.line, stmt.end))
        else:
            out.append(stmt)
    return out


def temporaries(fn: ast.AST) -> set[str]:
    """Local names a function sets once and reads once (``seq_len = x.shape[1]``): writing the
    value where it is read is the same code."""
    stores: dict[str, int] = {}
    loads: dict[str, int] = {}
    for node in ast.walk(fn):
        if isinstance(node, ast.Name):
            into = stores if isinstance(node.ctx, ast.Store) else loads
            into[node.id] = into.get(node.id, 0) + 1
    return {n for n, count in stores.items() if count == 1 and loads.get(n) == 1}


def inline(stmts: list[Stmt], temps: set[str]) -> list[Stmt]:
    """``stmts`` with each single-use temporary written where it is read (same block and depth)."""
    out = list(stmts)
    k = 0
    while k < len(out):
        name = _assigned(out[k])
        user = next((u for u in out[k + 1:] if name and any(n.name == name for n in u.tree.walk())), None)
        if name is None or name[0] != "local" or name[1] not in temps or user is None \
                or user.depth != out[k].depth:
            k += 1
            continue
        out[out.index(user)] = user.absorbing(out[k], _substitute(user.tree, name, out[k].tree.children[1]))
        del out[k]
    return out


def _substitute(tree: Node, name: Name, value: Node) -> Node:
    if tree.name == name:
        return value
    return Node(tree.kind, [_substitute(c, name, value) for c in tree.children], tree.line, tree.end, tree.name)


class FunctionPair:
    """One learner function beside the listing's.  The first pass (the constructor) pairs names
    on the statements that align; :meth:`hunks` then explains what is left, once every name pairing
    of the stage is known (an attribute the learner only sets is silent unless paired)."""

    def __init__(self, label: str, start: int, mine: list[Stmt], book: list[Stmt], names: Renaming,
                 temps: tuple[set[str], set[str]]) -> None:
        self.label, self.temps = label, temps
        self.matched = 0
        # (learner statements, listing statements, the learner line before them, a known difference)
        self.pending: list[tuple[list[Stmt], list[Stmt], int, tuple[Node, Node] | None]] = []
        matcher = difflib.SequenceMatcher(None, [s.key() for s in mine], [s.key() for s in book], autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            before = mine[i1 - 1].end if i1 else start
            if tag != "equal":
                self.pending.append((mine[i1:i2], book[j1:j2], before, None))
                continue
            for a, b in zip(mine[i1:i2], book[j1:j2]):
                found = compare(a, b, names)
                if found is None:
                    self.matched += b.weight
                else:
                    self.pending.append(([a], [b], before, found))
        self.locals = names.snapshot()

    def hunks(self, names: Renaming, book_reads: set[str]) -> list[list[Difference]]:
        attrs = {k: v for k, v in names.fwd.items() if k[0] == "attr"}
        names.restore({**{k: v for k, v in self.locals.items() if k[0] != "attr"}, **attrs})
        paired = {k[1] for k in attrs}
        out = []
        for mine, book, before, found in self.pending:
            if found is not None:
                out.append([difference(self.label, mine[0], book[0], found)])
                continue
            mine = drop_silent(mine, paired)
            book = [s for s in book if not _sets_attribute_outside(s, book_reads)]
            tries = [self._explain(m, b, before, names) for m, b in variants(mine, book, self.temps)]
            hunk, matched = min(tries, key=lambda t: len(t[0]))
            self.matched += matched
            if hunk:
                out.append(hunk)
        return out

    def _explain(self, mine: list[Stmt], book: list[Stmt], before: int,
                 names: Renaming) -> tuple[list[Difference], int]:
        """The hunk's differences and how many of its listing statements are equal after all."""
        saved = names.snapshot()
        out, matched = [], 0
        for i, j in _pairs(mine, book):
            if i is not None and j is not None:
                found = compare(mine[i], book[j], names)
                if found is None:
                    matched += book[j].weight
                else:
                    out.append(difference(self.label, mine[i], book[j], found))
            elif i is not None:
                out.append(Difference(self.label, (mine[i].line, mine[i].end), None))
            else:
                out.append(Difference(self.label, None, (book[j].line, book[j].end), anchor=before))
            before = mine[i].end if i is not None else before
        names.restore(saved)
        return out, matched


def difference(label: str, mine: Stmt, book: Stmt, found: tuple[Node, Node]) -> Difference:
    """Where two compared statements differ: the nodes :func:`compare` found, on their own lines
    (a node with no line of its own, an operator, stands for its whole statement)."""
    a, b = found
    whole = a.line == 0 or a is mine.tree
    return Difference(label, (mine.line, mine.end) if whole else (a.line, a.end),
                      (b.line or book.line, b.end or book.end))


def compare(mine: Stmt, book: Stmt, names: Renaming) -> tuple[Node, Node] | None:
    """Compare two statements; a difference undoes the pairings it made, except the name the
    statement assigns (so the statements after it still line up)."""
    if mine.depth != book.depth:
        return mine.tree, book.tree
    saved = names.snapshot()
    found = differ(mine.tree, book.tree, names)
    if found is not None:
        names.restore(saved)
        a, b = _assigned(mine), _assigned(book)
        if a and b:
            names.bind(a, b)
    return found

