"""Point at the learner's line: their code beside the book's listing, the line that differs marked.

Most chapter-2 code is the book's listing typed by hand, and most of its bugs are one changed line.
For each *failing* stage the learner's code is read with ``ast`` (never run: the grader does this
too), aligned with the listing of their edition (:mod:`.stage`, :mod:`.align`, :mod:`.compare`), and
the statements that differ are reported where they are (``my_ch02.py:19``, ``cell In[14], line 3``).

A hint is a plain dict (it travels in the ``--report`` JSON): ``stage``, ``edition``, ``listing``
(``"Listing 2.5"``, or ``""`` for the book's inline 2.7-2.8 code), ``section``, ``differences``
(``function``, ``file``, ``cell``, ``line``, ``end_line``, ``yours``, ``listing``: ``None`` on the
side that has nothing there) and ``beside`` (per function: both sources and the marked lines).
"""
from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path
from typing import Any

from llmspec.hints import listings
from llmspec.hints.sources import Unit, kernel_cell, read_namespace, read_target, resolve

MAX_TEXT = 160  # characters of one statement shown


def report_hints(report: dict[str, Any], description: dict[str, Any], loaded: Any) -> dict[str, dict[str, Any]]:
    """``{stage: hint}`` for the failing stages of a check's report that have one.

    ``description`` is the adapter's (the learner's names for the book's, which stages are judged
    from state); ``loaded`` the in-process target (``None`` when isolated: then the target named in
    the report is read from disk)."""
    failing = [s for s, row in report.get("stages", {}).items()
               if row.get("status") == "fail" and s in listings.LISTINGS]
    if not failing:
        return {}
    try:
        units, namespace = _units(loaded, report.get("target"))
        state = {stage for stage, how in (description.get("judged") or {}).items() if how == "state"}
        return _hints(failing, report.get("edition") or "print", units, dict(description.get("names") or {}),
                      state, namespace)
    except Exception:  # noqa: BLE001 - a hint is a courtesy: never let it cost the verdict
        return {}


def target_hints(target: str, edition: str, stages: list[str], state: set[str],
                 strict: bool) -> dict[str, dict[str, Any]]:
    """``{stage: hint}`` for a submission the grader judged (read from disk, names found in the code
    as the loader finds them), for the ``stages`` that failed."""
    try:
        spec = _on_disk(target)
        units = read_target(spec.kind, spec.location, Path(spec.location).name)
        names = {listings.LISTINGS[s].contract: resolve(units, listings.LISTINGS[s].contract, strict)
                 for s in stages if s in listings.LISTINGS}
        return _hints(stages, edition, units, names, state)
    except Exception:  # noqa: BLE001 - as above: feedback without a hint rather than no feedback
        return {}


def _hints(stages: list[str], edition: str, units: list[Unit], names: dict[str, Any], state: set[str],
           namespace: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    return {stage: hint for stage in stages if stage in listings.LISTINGS
            for hint in [stage_hint(stage, edition, units, names, stage in state, namespace)] if hint}


def _units(loaded: Any, target: str | None) -> tuple[list[Unit], dict[str, Any] | None]:
    """The learner's code units, and the live namespace when the target is one (a kernel's)."""
    spec = getattr(loaded, "spec", None)
    if spec is not None and spec.kind in ("namespace", "module"):  # the files its objects come from
        objects = [o for o in (loaded.get(c) for c in loaded.names) if o is not None]
        return read_namespace(loaded.namespace, objects), loaded.namespace if spec.kind == "namespace" else None
    if spec is None:
        if not target or not Path(target).exists():
            return [], None  # a dotted module name: finding its file could import its parents
        spec = _on_disk(target)
    return read_target(spec.kind, spec.location, spec.display), None


def _on_disk(target: str) -> Any:
    """The target spec of a path (a directory named like a module is a package here, not an import)."""
    from llmspec.runtime.target import TargetSpec, resolve as resolve_target

    if "/" in target or target.endswith((".py", ".ipynb")):
        return resolve_target(target)
    spec = resolve_target(f"./{target}")
    return TargetSpec(spec.kind, spec.location, spec.display.removeprefix("./"))


def stage_hint(stage: str, edition: str, units: list[Unit], names: dict[str, Any], state: bool,
               namespace: dict[str, Any] | None) -> dict[str, Any] | None:
    """The hint of one failing stage, or ``None``."""
    from llmspec.hints.stage import compare_stage

    listing = listings.LISTINGS[stage]
    learner_name = names.get(listing.contract)
    live = namespace.get(learner_name.split(".")[0]) if namespace is not None and learner_name else None
    compared = compare_stage(listing, edition, units, learner_name, state, kernel_cell(live))
    if compared is None:
        return None
    book_lines = listings.source(edition).splitlines()
    differences = []
    for d, unit in compared.differences:
        mine_line, mine_end = d.mine or (d.anchor, _gap_end(unit, d.anchor))
        differences.append({
            "function": d.function or None, **unit.where(mine_line), "end_line": mine_end,
            "yours": statement_text(unit.lines, *d.mine) if d.mine else None,
            "listing": statement_text(book_lines, *d.book) if d.book else None,
        })
    return {"stage": stage, "edition": edition, "listing": listing.label, "section": listing.section,
            "differences": differences, "beside": _beside(compared, book_lines)}


def _beside(compared: Any, book_lines: list[str]) -> list[dict[str, Any]]:
    """Per function that differs: the learner's code and the listing's, with the lines to mark."""
    out = []
    for label, (unit, mine, book) in compared.functions.items():
        here = [d for d, _unit in compared.differences if d.function == label]
        if not here:
            continue
        first, b_first = _first_line(mine), _first_line(book)
        out.append({
            "function": label, **unit.where(first),
            "yours": _dedent(unit.lines[first - 1:mine.end_lineno]),
            "listing": _dedent(book_lines[b_first - 1:book.end_lineno]),
            "marked": sorted({n for d in here if d.mine for n in range(d.mine[0], d.mine[1] + 1)}),
            "listing_marked": sorted({d.book[0] - b_first + 1 for d in here if d.book}),
        })
    return out


def _dedent(lines: list[str]) -> list[str]:
    """``lines`` without the indentation they all share (a method's, in its class)."""
    indent = min((len(ln) - len(ln.lstrip()) for ln in lines if ln.strip()), default=0)
    return [ln[indent:] for ln in lines]


def _gap_end(unit: Unit, anchor: int) -> int:
    """The last line before the learner's next statement after ``anchor``: a statement missing
    there belongs somewhere in ``anchor``..this line."""
    after = [n.lineno for n in ast.walk(unit.tree) if isinstance(n, ast.stmt) and n.lineno > anchor]
    return min(after) - 1 if after else anchor


def _first_line(fn: ast.FunctionDef) -> int:
    return min([fn.lineno] + [d.lineno for d in fn.decorator_list])


def statement_text(lines: list[str], first: int, last: int) -> str:
    """Lines ``first``-``last`` as one line of code: stripped, joined, comments of a multi-line
    statement left out, cut to :data:`MAX_TEXT` characters."""
    chunk = lines[first - 1:last]
    if len(chunk) <= 1:
        text = chunk[0].strip() if chunk else ""
    else:
        try:
            tokens = [t for t in tokenize.generate_tokens(io.StringIO("\n".join(chunk) + "\n").readline)
                      if t.type != tokenize.COMMENT]
            pieces = [ln.strip() for ln in tokenize.untokenize(tokens).splitlines() if ln.strip()]
        except (tokenize.TokenError, IndentationError, SyntaxError):
            pieces = [ln.strip() for ln in chunk if ln.strip()]
        text = ""
        for piece in pieces:
            glue = "" if not text or text.endswith(("(", "[", "{")) or piece.startswith((")", "]", "}")) else " "
            text += glue + piece
        text = re.sub(r",(?=[)\]}])", "", text)  # the trailing comma of a call written one argument a line
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 4] + " ..."
