"""Failure messages that teach: where in the book, what was expected, what came back, where it differs.

    dataset[3] input (2.6, Listing 2.5): first difference at position 2: expected 464, got 1464
      expected ids [40, 367, 464, ...]  -> 'I HAD the'
      actual ids   [40, 367, 1464, ...] -> 'I HAD always'

Every spec test reports through these helpers; they raise ``pytest.fail(..., pytrace=False)``, so the
message comes first, not under a traceback of harness code.
"""
from __future__ import annotations

import re
from typing import Any, Callable, NoReturn, Sequence

import pytest

from llmspec.documents import described
from llmspec.i18n import _, translated
from llmspec.stages import STAGES
from llmspec.verdict import section_label

MAX_SHOWN = 12  # ids shown either side of a difference
MAX_TEXT = 160  # characters of decoded text / repr shown


def book(stage: str, source: dict[str, Any] | None = None) -> str:
    """``"2.6, Listing 2.5"`` for a stage, plus the document a golden value comes from."""
    section = STAGES[stage].section if stage in STAGES else stage
    where = section_label(section)
    doc, sec = (source or {}).get("document"), (source or {}).get("section")
    cited = translated(sec) if sec and sec != section else ""
    if doc:  # as a reader knows it; its file name is in the report's "documents"
        document = _("{document}, {section}").format(document=described(doc), section=cited) if cited \
            else described(doc)
        return _("{where}; {document}").format(where=where, document=document)
    return f"{where}; {cited}" if cited else where


def short(value: Any, limit: int = MAX_TEXT) -> str:
    """``repr`` cut to ``limit`` characters (a failing 5000-token list must not flood the output)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 5] + " ...]"


def first_difference(expected: Sequence[Any], actual: Sequence[Any]) -> int | None:
    """Index of the first position where the sequences differ (``len`` of the shorter when one is a
    prefix of the other), ``None`` when equal."""
    if expected == actual:  # the passing case, without a Python loop over thousands of ids
        return None
    at = next((i for i, (e, a) in enumerate(zip(expected, actual)) if e != a), min(len(expected), len(actual)))
    return None if at == len(expected) == len(actual) else at


def _window(ids: Sequence[int], at: int) -> str:
    lo = max(0, at - MAX_SHOWN // 2)
    hi = min(len(ids), lo + MAX_SHOWN)
    body = ", ".join(str(int(i)) for i in ids[lo:hi])
    return ("[..., " if lo else "[") + body + (", ...]" if hi < len(ids) else "]")


def _safe_decode(decode: Callable[[list[int]], str] | None, ids: Sequence[int]) -> str:
    if decode is None:
        return ""
    try:
        return " -> " + short(decode(list(ids)))
    except Exception as exc:  # the ids may hold values the trusted decoder does not know
        return " -> " + _("(cannot decode: {error})").format(error=type(exc).__name__)


def gpt2_pieces(ids: list[int], at: int = 0, width: int = 6) -> str:
    """``'Hello' | ',' | ' w' | b'\\xf0\\x9f'``: the ids around ``at`` as their GPT-2 bytes (text when
    valid UTF-8), decoded by the trusted tiktoken table - a wrong split is visible at a glance."""
    from llmspec.data import gpt2_encoding

    enc = gpt2_encoding()
    lo, hi = max(0, at - width), min(len(ids), at + width)
    out = ["..."] if lo else []
    for i in ids[lo:hi]:
        try:
            raw = enc.decode_single_token_bytes(i)
        except (KeyError, ValueError, OverflowError, TypeError):
            out.append(f"<id {i}?>")
            continue
        try:
            out.append(repr(raw.decode("utf-8")))
        except UnicodeDecodeError:
            out.append(repr(raw))
    return " | ".join(out + (["..."] if hi < len(ids) else []))


def ids_message(what: str, expected: Sequence[int], actual: Sequence[int], *, stage: str,
                decode: Callable[[list[int]], str] | None = None,
                source: dict[str, Any] | None = None, given: Any = None,
                hint: str | Callable[[], str] = "") -> str | None:
    """The message for two id lists that differ, or ``None`` when they are equal.  ``decode`` is a
    *trusted* decoder, so the learner sees which word went wrong, not only which number; ``hint``
    (text, or a function giving it) says what probably caused the difference."""
    expected, actual = list(expected), list(actual)
    at = first_difference(expected, actual)
    if at is None:
        return None
    end = _("<end>")
    length = _("length {actual}, expected {expected}; ").format(actual=len(actual), expected=len(expected))
    lines = [_("{what} ({where}): {length}first difference at position {at}: expected {expected}, got {actual}")
             .format(what=what, where=book(stage, source), at=at,
                     length=length if len(actual) != len(expected) else "",
                     expected=str(expected[at]) if at < len(expected) else end,
                     actual=str(actual[at]) if at < len(actual) else end)]
    if given is not None:
        lines.append(_("  input        {value}").format(value=short(given)))
    lines.append(_("  expected ids {ids}").format(ids=_window(expected, at)) + _safe_decode(decode, expected))
    lines.append(_("  actual ids   {ids}").format(ids=_window(actual, at)) + _safe_decode(decode, actual))
    hint = hint() if callable(hint) else hint  # asked only when the ids differ (it may cost a call)
    if hint:
        lines.append(_("  hint: {hint}").format(hint=hint))
    return "\n".join(lines)


def check_ids(what: str, expected: Sequence[int], actual: Any, **kw: Any) -> None:
    """Fail with :func:`ids_message` unless ``actual`` is the list ``expected``."""
    __tracebackhide__ = True
    if not isinstance(actual, list) or not all(isinstance(i, int) for i in actual):
        fail(_("{what} ({where}): expected a list of int ids, got {actual}").format(
            what=what, where=book(kw["stage"], kw.get("source")), actual=short(actual)))
    msg = ids_message(what, list(expected), actual, **kw)
    if msg:
        fail(msg)


def check_text(what: str, expected: str, actual: Any, *, stage: str,
               source: dict[str, Any] | None = None, given: Any = None) -> None:
    """Fail unless two strings are equal, pointing at the first differing character."""
    __tracebackhide__ = True
    if actual == expected:
        return
    where = book(stage, source)
    if not isinstance(actual, str):
        fail(_("{what} ({where}): expected a str, got {type} {actual}").format(
            what=what, where=where, type=type(actual).__name__, actual=short(actual)))
    at = first_difference(expected, actual) or 0
    lo = max(0, at - 30)
    lines = [_("{what} ({where}): first difference at character {at}").format(what=what, where=where, at=at)]
    if given is not None:
        lines.append(_("  input    {value}").format(value=short(given)))
    lines.append(_("  expected {value}").format(value=short(expected[lo:lo + 90])))
    lines.append(_("  actual   {value}").format(value=short(actual[lo:lo + 90])))
    fail("\n".join(lines))


def tensor_message(what: str, expected: Any, actual: Any, *, stage: str, atol: float | None = None,
                   source: dict[str, Any] | None = None, dtype: Any = None) -> str | None:
    """Shape, dtype, then the first differing row/column (``None`` when they match).  ``atol``: an
    absolute tolerance (the book prints golden matrices to 4 decimals); without it, exact."""
    import torch

    where = f"{what} ({book(stage, source)})"
    if not isinstance(actual, torch.Tensor):
        return _("{where}: expected a torch.Tensor, got {type} {actual}").format(
            where=where, type=type(actual).__name__, actual=short(actual))
    exp = expected if isinstance(expected, torch.Tensor) else torch.tensor(expected, dtype=actual.dtype
                                                                           if atol is None else torch.float32)
    if dtype is not None and actual.dtype != dtype:
        return _("{where}: dtype {actual}, expected {expected}").format(where=where, actual=actual.dtype,
                                                                        expected=dtype)
    if tuple(actual.shape) != tuple(exp.shape):
        return _("{where}: shape {actual}, expected {expected}").format(
            where=where, actual=list(actual.shape), expected=list(exp.shape))
    diff = actual != exp.to(actual.dtype) if atol is None else (actual.double() - exp.double()).abs() > atol
    if not bool(diff.any()):
        return None
    index = tuple(int(i) for i in diff.nonzero()[0].tolist())
    lines = [_("{where}: {count} of {total} values differ; first at index {index}: expected {expected}, "
               "got {actual}").format(where=where, count=int(diff.sum()), total=diff.numel(),
                                      index=list(index), expected=_item(exp, index),
                                      actual=_item(actual, index))
             + (f" (atol {atol})" if atol is not None else "")]
    if actual.dim() >= 1 and index:
        row = index[:-1]
        lines.append(_("  expected row {row}: {values}").format(row=list(row), values=short(_row(exp, row))))
        lines.append(_("  actual row   {row}: {values}").format(row=list(row), values=short(_row(actual, row))))
    return "\n".join(lines)


def _item(t: Any, index: tuple[int, ...]) -> str:
    value = t[index].item() if index else t.item()
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _row(t: Any, row: tuple[int, ...]) -> list[Any]:
    values = t[row].tolist() if row else t.tolist()
    return [round(v, 4) if isinstance(v, float) else v for v in values]


def check_tensor(what: str, expected: Any, actual: Any, **kw: Any) -> None:
    """Fail with :func:`tensor_message` unless the tensors agree."""
    __tracebackhide__ = True
    msg = tensor_message(what, expected, actual, **kw)
    if msg:
        fail(msg)


def impl_raised(what: str, err: BaseException, *, stage: str, given: Any = None,
                source: dict[str, Any] | None = None, hint: str = "") -> NoReturn:
    """Fail because the implementation raised where the book's code does not."""
    __tracebackhide__ = True
    lines = [_("{what} ({where}) raised {error}").format(what=what, where=book(stage, source), error=err)]
    if given is not None:
        lines.append(_("  input {value}").format(value=short(given)))
    if hint:
        lines.append(_("  hint: {hint}").format(hint=hint))
    tb = getattr(err, "tb", "")
    if tb:
        lines.append(_("  implementation traceback (last lines):"))
        lines.extend("    " + ln for ln in tb.strip().splitlines()[-6:])
    fail("\n".join(lines))


def expect(condition: bool, message: str, *, stage: str, source: dict[str, Any] | None = None) -> None:
    """A plain check with a teaching message: ``expect(len(ds) == 3, "len(dataset) is 5, ...")``."""
    __tracebackhide__ = True
    if not condition:
        fail(f"{message} ({book(stage, source)})")


def fail(message: str) -> NoReturn:
    """``pytest.fail`` without a traceback: the message is the whole story."""
    __tracebackhide__ = True
    pytest.fail(message, pytrace=False)


def hypothesis_example(notes: Sequence[str] | None, hide: set[str] | frozenset[str] = frozenset(),
                       width: int = 200) -> str:
    """Hypothesis' "Falsifying example" (and "Draw n" notes of ``st.data()``), cut to the drawn
    arguments: the note lists *every* argument, fixtures included (the whole of the-verdict.txt...).
    The lines of the fixtures ``hide`` names go; any other line is cut to ``width`` characters."""
    def cut(text: str) -> str:
        return text if len(text) <= width else text[: width - 5] + " ..."

    out: list[str] = []
    for note in notes or ():
        if note.startswith("Draw "):  # st.data() draws: "Draw 1 (words): [...]"
            out.append(cut(note))
            continue
        if not note.startswith("Falsifying"):
            continue
        skip_indent: int | None = None
        for line in note.splitlines():
            indent = len(line) - len(line.lstrip())
            if skip_indent is not None and indent > skip_indent:  # a hidden fixture's continuation
                continue
            skip_indent = None
            name = line.strip().split("=", 1)[0]
            if "=" in line and name.isidentifier() and name in hide and indent > 0:
                skip_indent = indent
                continue
            out.append(cut(line))
    return _translate_example_heads("\n".join(out))


def _translate_example_heads(text: str) -> str:
    """Hypothesis' English heads of an example in the learner's language (the example is Python)."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        match = re.match(r"Falsifying (explicit )?example:|Draw (\d+)( \(.*?\))?:", line)
        if match is None:
            continue
        if match.group(2):
            head = _("Draw {number}{label}:").format(number=match.group(2), label=match.group(3) or "")
        else:
            head = _("Falsifying explicit example:") if match.group(1) else _("Falsifying example:")
        lines[i] = head + line[match.end():]
    return "\n".join(lines)
