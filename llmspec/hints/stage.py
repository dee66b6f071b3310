"""One failing stage's code beside its listing, compared function by function (or, for the
embeddings judged from state, the book's inline 2.7-2.8 statements beside the learner's top-level ones)."""
from __future__ import annotations

import ast
from dataclasses import dataclass, field

from llmspec.hints import listings
from llmspec.hints.align import (Difference, FunctionPair, Stmt, compare, difference, flatten, pointed, statement,
                                 temporaries, variants)
from llmspec.hints.compare import (Renaming, Scope, canon, differ, local_scope, module_imports, module_scope,
                                   parameters, unquoted)
from llmspec.hints.sources import Definition, Unit, definitions, find, member

REQUIRED_INLINE = ("token_embedding_layer", "pos_embedding_layer", "input_embeddings")  # CONTRACT.md
# A function this long (or this large: one statement can hold a list of thousands) is no version of
# a listing of a dozen statements, and aligning it costs the square of its size, in the process
# that grades the whole class: no pointer for it.
MOST_STATEMENTS, MOST_NODES = 300, 20_000


@dataclass
class Compared:
    """What :func:`compare_stage` found: the differences (each with the learner's ``Unit``), and per
    compared function the two definitions (for showing them side by side)."""

    differences: list[tuple[Difference, Unit]]
    functions: dict[str, tuple[Unit, Definition, Definition]] = field(default_factory=dict)


def _splits_as_printed(cls: ast.AST) -> bool:
    """Whether the learner's V1 splits with the print book's Listing 2.3 regex, which is the MEAP's:
    without ':' and ';' (its vocabulary and Listing 2.4 split them off; the book repository's V1 too).
    Either is the book's V1 (:func:`llmspec.editions.accepts`)."""
    from reference.tokenizers import PATTERNS

    printed = unquoted(PATTERNS["meap"])
    return any(isinstance(n, ast.Constant) and isinstance(n.value, str) and unquoted(n.value) == printed
               for n in ast.walk(cls))


def compare_stage(listing: listings.Listing, edition: str, units: list[Unit], learner_name: str | None,
                  state: bool, prefer: str | None) -> Compared | None:
    """The differences of the stage's code from the book's, or ``None`` when there is nothing to
    point at (no such code, no difference, or code that is not a version of the listing)."""
    if state:
        return _compare_inline(edition, units)
    found = find(units, learner_name, prefer) if learner_name else None
    if found is None:
        return None
    unit, mine = found
    book = listings.definition(edition, listing.contract)
    if (edition, listing.contract) == ("print", "SimpleTokenizerV1") and _splits_as_printed(mine):
        book = listings.definition("meap", listing.contract)  # the print book's own Listing 2.3
    imports = module_imports([u.tree for u in units])
    book_imports = module_imports([listings.module(edition)])
    defined = parameters([node for _unit, node in definitions(units).values()])
    book_defined = parameters(listings.module(edition).body)
    extra = {"device"} | ({"allowed_special", "num_workers"} if edition == "meap" else set())
    names, done, total = Renaming(frozenset(extra)), Compared([]), 0
    pairs: list[tuple[FunctionPair, Unit, list[Difference]]] = []
    for method in listing.methods or (None,):
        m_unit, m_fn = (_method(units, unit, mine, method) or (unit, None)) if method else found
        if not isinstance(m_fn, ast.FunctionDef):
            continue
        b_fn = member(book, method) if method else book
        label = f"{mine.name}.{method}" if method else learner_name
        names.forget_locals()
        m_scope = local_scope(m_fn, imports, defined)
        b_scope = local_scope(b_fn, book_imports, book_defined)
        sig, dropped = signature(label, m_fn, b_fn, names, method=method is not None,
                                 by_keyword=listing.by_keyword, optional=listing.optional)
        book_stmts = [_without(s, dropped) for s in flatten(b_fn.body, b_scope)]
        mine_stmts = flatten(m_fn.body, m_scope)
        if len(mine_stmts) > MOST_STATEMENTS or sum(1 for _node in ast.walk(m_fn)) > MOST_NODES:
            return None
        pair = _best_pair(label, m_fn, mine_stmts, b_fn, book_stmts, names)
        total += len(book_stmts)
        pairs.append((pair, m_unit, sig))
        done.functions[label] = (m_unit, m_fn, b_fn)
    reads = listings.attributes_read(book) if isinstance(book, ast.ClassDef) else set()
    hunks: list[list[Difference]] = []
    for pair, m_unit, sig in pairs:
        explained = ([sig] if sig else []) + pair.hunks(names, reads)
        hunks += explained
        done.differences += [(d, m_unit) for hunk in explained for d in hunk]
    return done if pointed(sum(pair.matched for pair, _u, _s in pairs), total, hunks) else None


def _best_pair(label: str, m_fn: ast.FunctionDef, mine: list[Stmt], b_fn: ast.FunctionDef, book: list[Stmt],
               names: Renaming) -> FunctionPair:
    """The function pair under the alignment (of :func:`variants`) that leaves the least unexplained."""
    temps = (temporaries(m_fn), temporaries(b_fn))
    saved = names.snapshot()
    tries = []
    for m, b in variants(mine, book, temps):
        names.restore(saved)
        tries.append(FunctionPair(label, _header_end(m_fn), m, b, names, temps))
    pair = min(tries, key=lambda t: (len(t.pending), -t.matched))
    names.restore(pair.locals)  # the pairings it made
    return pair


def _method(units: list[Unit], unit: Unit, cls: Definition, name: str,
            seen: frozenset[str] = frozenset()) -> tuple[Unit, Definition] | None:
    """``cls``'s method ``name``, or the one it inherits from a class of the learner's."""
    if not isinstance(cls, ast.ClassDef) or cls.name in seen:
        return None
    own = member(cls, name)
    if own is not None:
        return unit, own
    defined = definitions(units)
    for base in cls.bases:
        if isinstance(base, ast.Name) and base.id in defined:
            found = _method(units, *defined[base.id], name, seen | {cls.name})
            if found:
                return found
    return None


def _header_end(fn: ast.FunctionDef) -> int:
    """The last line of a ``def`` header (the line a statement missing at the top would follow)."""
    first = fn.body[0]
    docstring = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
    return (first.end_lineno or first.lineno) if docstring else max(fn.lineno, first.lineno - 1)


def _without(stmt: Stmt, dropped: set[str]) -> Stmt:
    """A listing statement without the keyword arguments of parameters the learner left out where
    CONTRACT.md allows it (``drop_last=drop_last`` when the loader has no ``drop_last``)."""
    for node in stmt.tree.walk():
        if node.kind == "keywords":
            node.children = [k for k in node.children if k.kind.removeprefix("kw:") not in dropped]
    return stmt


def _params(fn: ast.FunctionDef, method: bool) -> list[tuple[ast.arg, ast.expr | None]]:
    positional = fn.args.posonlyargs + fn.args.args
    defaults = [None] * (len(positional) - len(fn.args.defaults)) + list(fn.args.defaults)
    out = list(zip(positional, defaults))[1 if method else 0:]
    return out + list(zip(fn.args.kwonlyargs, fn.args.kw_defaults))


def signature(label: str, mine: ast.FunctionDef, book: ast.FunctionDef, names: Renaming, *, method: bool,
              by_keyword: bool, optional: tuple[str, ...]) -> tuple[list[Difference], set[str]]:
    """The ``def`` lines compared (pairing the parameters as names), and the optional parameters the
    learner left out.  Parameters are paired by name when the learner kept the book's names (or the
    suite calls the function by keyword), else by position; a learner's extra parameter needs a
    default; a default, where both give one, must be the book's."""
    ours, theirs = _params(mine, method), _params(book, method)
    our_names = [a.arg for a, _d in ours]
    by_name = by_keyword or {a.arg for a, _d in theirs} <= set(our_names)
    out: list[Difference] = []
    dropped: set[str] = set()
    paired: list[tuple[int, int]] = []

    def differs(a: ast.AST, b: ast.AST) -> None:  # each a parameter, or the ``def`` line itself
        a_end, b_end = (n.lineno if isinstance(n, ast.FunctionDef) else n.end_lineno for n in (a, b))
        out.append(Difference(label, (a.lineno, a_end), (b.lineno, b_end)))

    for j, (b_arg, _d) in enumerate(theirs):
        if by_name:
            i = our_names.index(b_arg.arg) if b_arg.arg in our_names else None
        else:
            i = j if j < len(ours) else None
        if i is not None:
            paired.append((i, j))
            names.bind(("local", ours[i][0].arg), ("local", b_arg.arg))
        elif by_keyword and b_arg.arg in optional:
            dropped.add(b_arg.arg)
        else:
            differs(mine, b_arg)
    order = [i for i, _j in paired]
    if not by_keyword and order != sorted(order):
        i, j = next(p for p, k in zip(paired, sorted(order)) if p[0] != k)
        differs(ours[i][0], theirs[j][0])
    for i, (arg, default) in enumerate(ours):
        if i not in order and default is None and not (by_keyword and arg.arg in optional):
            differs(arg, book)
    for i, j in paired:
        mine_default, book_default = ours[i][1], theirs[j][1]
        if mine_default is not None and book_default is not None \
                and differ(canon(mine_default, Scope()), canon(book_default, Scope()), names):
            differs(mine_default, book_default)
    return out[:1], dropped


def _compare_inline(edition: str, units: list[Unit]) -> Compared | None:
    """The learner's top-level code of 2.7-2.8 beside the book's inline statements, paired by the
    variable each sets (the last assignment wins, as in the state the stage reads)."""
    book_stmts = listings.inline(edition)
    imports = module_imports([u.tree for u in units])
    mine_scope = module_scope([u.tree for u in units], imports)
    book_scope = module_scope(book_stmts, module_imports([listings.module(edition)]))
    mine: dict[str, tuple[Unit, ast.stmt]] = {}
    for unit in units:
        _collect(unit, unit.tree.body, mine)
    names, done = Renaming(), Compared([])
    matched = total = 0
    before: tuple[Unit, int] | None = None
    for stmt in book_stmts:
        key = _inline_key(stmt)
        found = mine.get(key) if key else None
        b = statement(stmt, book_scope)
        if found is None:
            unseeded = key == "seed" and "embedding_layer" in mine  # 2.7's layer
            if unseeded:
                before = (mine["embedding_layer"][0], mine["embedding_layer"][1].lineno - 1)
            if (key in REQUIRED_INLINE or unseeded) and before is not None:
                total += 1
                done.differences.append((Difference("", None, (b.line, b.end), anchor=before[1]), before[0]))
            continue
        unit, node = found
        m = statement(node, mine_scope)
        total += 1
        diff = compare(m, b, names)
        if diff is None:
            matched += 1
        else:
            done.differences.append((difference("", m, b, diff), unit))
        before = (unit, m.end)
    return done if total >= 3 and pointed(matched, total, [[d for d, _u in done.differences]]) else None


def _inline_key(stmt: ast.stmt) -> str | None:
    """The variable a top-level statement of 2.7-2.8 sets (``seed`` for ``torch.manual_seed``)."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        return stmt.targets[0].id if stmt.targets[0].id in listings.INLINE else None
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Attribute) \
            and stmt.value.func.attr == "manual_seed":
        return "seed"
    return None


def _collect(unit: Unit, body: list[ast.stmt], out: dict[str, tuple[Unit, ast.stmt]]) -> None:
    """The learner's top-level 2.7-2.8 statements (inside loops and ``if`` blocks too, not inside
    functions); ``seed`` is kept only right before the ``embedding_layer`` it seeds."""
    for i, stmt in enumerate(body):
        key = _inline_key(stmt)
        if key == "embedding_layer":
            out.pop("seed", None)
            if i and _inline_key(body[i - 1]) == "seed":
                out["seed"] = (unit, body[i - 1])
        if key and key != "seed":
            out[key] = (unit, stmt)
        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for block in ("body", "orelse", "finalbody"):
                _collect(unit, getattr(stmt, block, None) or [], out)
