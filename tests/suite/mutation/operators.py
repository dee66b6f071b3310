"""Mutation operators aimed at the bugs chapter 2 really has, beside mutate.py's classic ones.

**Regular expressions**: drop one alternative, or one item of a character class, from a string
the reference uses as a regular expression.

Which strings are regular expressions is traced, not guessed from their look (``"<|endoftext|>"``
has bars too): a string reaching the pattern argument of a ``re`` function (``re.compile``,
``re.split``, ...) directly or through names and attributes assigned anywhere in the module, dict
literals, the arguments a function's calls pass to its pattern parameter, and the ``{fields}`` of
an f-string pattern.  A field that sits inside ``[...]`` makes its string a class body ("class":
``"\\t\\n..."`` spelled into ``[{S}]``), whose items are dropped one at a time; a pattern ("pattern")
loses one alternative of any group (``'(?:[sdmt]|ll|ve|re)`` -> ``'(?:[sdmt]|ve|re)``) or one class
item (``[^{S}{L}{N}]`` -> ``[^{S}{L}]``).  A class of one item or a group of one alternative gives
no mutant (dropping it changes what the pattern means wholesale, not one case).

**Call sites**: ``range()`` start/stop/step and slice bounds moved by one (an int literal bound is
left to mutate.py's ``const``, which already moves it), two adjacent positional arguments swapped.
"""
from __future__ import annotations

import ast
import re
from collections.abc import Iterator

RE_FUNCTIONS = frozenset({"compile", "split", "findall", "finditer", "sub", "subn", "match", "fullmatch", "search"})
FIELD = 0xF0000  # an f-string's k-th field is chr(FIELD + k) in its template (one class item each)
_ESCAPE = re.compile(r"\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|N\{[^}]*\}|[0-7]{1,3}|.)", re.S)
_GROUP_HEAD = re.compile(r"\?(?:[:=!>|]|<[=!]|P<\w+>|[aiLmsux-]+:)")


def regex_strings(tree: ast.AST) -> dict[int, str]:
    """``{id(node): "pattern" | "class"}`` for every ``str`` constant and f-string of ``tree`` used as
    a regular expression (see the module docstring)."""
    assigned: dict[str, list[ast.expr]] = {}
    params: dict[str, list[tuple[str, int, bool]]] = {}  # parameter -> (function, position, is a method)
    calls: dict[str, list[ast.Call]] = {}
    sinks: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                name = target.id if isinstance(target, ast.Name) else getattr(target, "attr", None)
                if name:
                    assigned.setdefault(name, []).append(node.value)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args.posonlyargs + node.args.args
            method = bool(args) and args[0].arg in ("self", "cls")
            for i, a in enumerate(args):
                params.setdefault(a.arg, []).append((node.name, i, method))
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name:
                calls.setdefault(name, []).append(node)
            if (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "re"
                    and func.attr in RE_FUNCTIONS and node.args):
                sinks.append(node.args[0])
    out: dict[int, str] = {}
    seen: set[tuple[int, str]] = set()

    def reach(expr: ast.AST, kind: str) -> None:
        if (id(expr), kind) in seen:
            return
        seen.add((id(expr), kind))
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str) or isinstance(expr, ast.JoinedStr):
            out[id(expr)] = "pattern" if out.get(id(expr), kind) != kind else kind
        if isinstance(expr, ast.JoinedStr):
            template, fields = _template(expr)
            inside = _in_classes(template)
            for k, field in enumerate(fields):
                reach(field.value, "class" if template.index(chr(FIELD + k)) in inside else "pattern")
        elif isinstance(expr, (ast.Name, ast.Attribute)):
            name = expr.id if isinstance(expr, ast.Name) else expr.attr
            for value in assigned.get(name, ()):
                reach(value, kind)
            for function, i, method in params.get(name, ()) if isinstance(expr, ast.Name) else ():
                for call in calls.get(function, ()):
                    at = i - (method and isinstance(call.func, ast.Attribute))
                    passed = [k.value for k in call.keywords if k.arg == name]
                    for value in passed + ([call.args[at]] if 0 <= at < len(call.args) else []):
                        reach(value, kind)
        elif isinstance(expr, ast.Subscript):
            reach(expr.value, kind)
        elif isinstance(expr, ast.Dict):
            for value in expr.values:
                reach(value, kind)
        elif isinstance(expr, ast.BinOp):
            reach(expr.left, kind)
            reach(expr.right, kind)

    for sink in sinks:
        reach(sink, "pattern")
    return out


def variants(node: ast.AST, kind: str) -> list[tuple[str, ast.AST]]:
    """``[(detail, replacement node)]``: every first-order variant of one regular expression."""
    if isinstance(node, ast.JoinedStr):
        template, fields = _template(node)
    elif isinstance(node, ast.Constant) and isinstance(node.value, str):
        template, fields = node.value, []
    else:
        return []
    spans = [(s, e, "class item", s, e) for s, e in _items(template)] if kind == "class" else _pattern_spans(template)
    out = []
    for start, end, what, lo, hi in spans:
        shown = _shown(template[lo:hi], fields)
        new = template[:start] + template[end:]
        out.append((f"drop {what} {shown}", _rebuild(new, fields) if fields else ast.Constant(new)))
    return out


def _template(node: ast.JoinedStr) -> tuple[str, list[ast.FormattedValue]]:
    fields = [v for v in node.values if isinstance(v, ast.FormattedValue)]
    parts, k = [], 0
    for v in node.values:
        if isinstance(v, ast.FormattedValue):
            parts.append(chr(FIELD + k))
            k += 1
        else:
            parts.append(v.value)
    return "".join(parts), fields


def _rebuild(template: str, fields: list[ast.FormattedValue]) -> ast.JoinedStr:
    values: list[ast.expr] = []
    for piece in re.split(f"([{chr(FIELD)}-{chr(FIELD + max(len(fields) - 1, 0))}])", template):
        if len(piece) == 1 and ord(piece) >= FIELD:
            values.append(fields[ord(piece) - FIELD])
        elif piece:
            values.append(ast.Constant(piece))
    return ast.JoinedStr(values)


def _shown(text: str, fields: list[ast.FormattedValue]) -> str:
    """A dropped piece for the mutant's id: fields as ``{name}``, the rest as ``ascii`` (stable, printable)."""
    pieces = re.split(f"([{chr(FIELD)}-{chr(FIELD + 255)}])", text)
    return "".join("{" + ast.unparse(fields[ord(p) - FIELD].value) + "}" if len(p) == 1 and ord(p) >= FIELD
                   else ascii(p)[1:-1] for p in pieces if p)


def _class_end(p: str, i: int) -> int:
    """The index after the ``]`` closing the class that opens at ``p[i] == "["``."""
    j = i + 1 + (p[i + 1:i + 2] == "^")
    j += p[j:j + 1] == "]"
    while j < len(p) and p[j] != "]":
        j += 2 if p[j] == "\\" else 1
    return j + 1


def _items(body: str, offset: int = 0) -> list[tuple[int, int]]:
    """Spans of a class body's items (a character, an escape, a range ``a-b``); none for one item."""
    spans, j = [], 0
    while j < len(body):
        start = j
        j = _item_end(body, j)
        if body[j:j + 1] == "-" and j + 1 < len(body):
            j = _item_end(body, j + 1)
        spans.append((offset + start, offset + j))
    return spans if len(spans) > 1 else []


def _item_end(body: str, j: int) -> int:
    m = _ESCAPE.match(body, j) if body[j] == "\\" else None
    return m.end() if m else j + 1


def _in_classes(p: str) -> set[int]:
    """Positions of ``p`` that lie inside a character class."""
    inside, i = set(), 0
    while i < len(p):
        if p[i] == "\\":
            i += 2
        elif p[i] == "[":
            end = _class_end(p, i)
            inside.update(range(i, end))
            i = end
        else:
            i += 1
    return inside


def _pattern_spans(p: str) -> list[tuple[int, int, str, int, int]]:
    """``(cut from, cut to, what, shown from, shown to)``: each alternative of every group with two or
    more (cut with one of its bars), and each item of every class of two or more items."""
    spans: list[tuple[int, int, str, int, int]] = []
    stack: list[tuple[int, list[int]]] = [(0, [])]  # per open group: where its content starts, its bars
    groups: list[tuple[int, int, list[int]]] = []
    i = 0
    while i < len(p):
        c = p[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            end = _class_end(p, i)
            head = i + 1 + (p[i + 1:i + 2] == "^")
            spans += [(s, e, "class item", s, e) for s, e in _items(p[head:end - 1], head)]
            i = end
            continue
        if c == "(":
            m = _GROUP_HEAD.match(p, i + 1)
            i = m.end() if m else i + 1
            stack.append((i, []))
            continue
        if c == ")" and len(stack) > 1:
            start, bars = stack.pop()
            groups.append((start, i, bars))
        elif c == "|":
            stack[-1][1].append(i)
        i += 1
    start, bars = stack.pop()
    groups.append((start, len(p), bars))
    for start, end, bars in groups:
        if not bars:
            continue
        edges = [start - 1, *bars, end]  # the alternative k lies between edges[k] and edges[k + 1]
        for k in range(len(edges) - 1):
            lo, hi = edges[k] + 1, edges[k + 1]
            spans.append((lo, hi + 1, "alternative", lo, hi) if k == 0 else (lo - 1, hi, "alternative", lo, hi))
    return spans


# --- call sites ---------------------------------------------------------------------------------------
def _int_const(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int


def call_edits(node: ast.AST) -> Iterator[tuple[str, str]]:
    """``(operator, detail)`` for the call-site variants of one node (see the module docstring)."""
    if isinstance(node, ast.Call) and not any(isinstance(a, ast.Starred) for a in node.args):
        args = node.args
        if isinstance(node.func, ast.Name) and node.func.id == "range" and 1 <= len(args) <= 3:
            if len(args) == 1:
                yield "range", "start 1"
            names = ("start", "stop", "step") if len(args) > 1 else ("stop",)
            for name, arg in zip(names, args):
                if not _int_const(arg):
                    yield "range", f"{name}+1"
                    yield "range", f"{name}-1"
            if len(args) == 2:
                yield "range", "step 2"
        for i in range(len(args) - 1):
            yield "swap", f"args {i},{i + 1}"
    elif isinstance(node, ast.Slice):
        for name in ("lower", "upper"):
            bound = getattr(node, name)
            if bound is not None and not _int_const(bound):
                yield "slice", f"{name}+1"
                yield "slice", f"{name}-1"


def apply_call_edit(node: ast.AST, op: str, detail: str) -> None:
    """Make the change ``(op, detail)`` of :func:`call_edits` to ``node``, in place."""
    if op == "swap":
        i = int(detail.split()[1].split(",")[0])
        node.args[i], node.args[i + 1] = node.args[i + 1], node.args[i]
    elif op == "slice":
        setattr(node, detail[:-2], _plus(getattr(node, detail[:-2]), detail[-2]))
    elif detail == "start 1":
        node.args.insert(0, ast.Constant(1))
    elif detail == "step 2":
        node.args.append(ast.Constant(2))
    else:
        i = (("start", "stop", "step") if len(node.args) > 1 else ("stop",)).index(detail[:-2])
        node.args[i] = _plus(node.args[i], detail[-2])


def _plus(expr: ast.expr, sign: str) -> ast.expr:
    return ast.BinOp(expr, ast.Add() if sign == "+" else ast.Sub(), ast.Constant(1))
