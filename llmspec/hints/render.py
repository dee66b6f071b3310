"""A hint in words: text for ``llmspec check`` and grading feedback, HTML for ``%llmspec``.

::

    your GPTDatasetV1.__init__ beside Listing 2.5 (2.6):
      my_ch02.py:19   target_chunk = token_ids[i + 2:i + max_length + 2]
      Listing 2.5     target_chunk = token_ids[i + 1: i + max_length + 1]

The HTML shows the same rows (the learner's line on red, the listing's on green) and, folded, the
whole function beside the listing's with the differing lines marked.
"""
from __future__ import annotations

import html
from itertools import groupby
from typing import Any

from llmspec.i18n import _
from llmspec.verdict import pad, section_label, width

MINE, BOOK = "#ffebe9", "#dafbe1"  # GitHub's diff colours: they read as "yours" and "the book's"


def location(d: dict[str, Any]) -> str:
    """``my_ch02.py:19``, ``cell 14, line 3`` (a notebook), ``cell In[14], line 3`` (a kernel)."""
    if d.get("cell"):
        return _("cell {cell}, line {line}").format(cell=d["cell"], line=d["line"])
    return f"{d['file']}:{d['line']}" if d.get("file") else _("line {line}").format(line=d["line"])


def _listing(hint: dict[str, Any]) -> str:
    """``Listing 2.5`` in the learner's language, or the book's inline code of 2.7-2.8."""
    return section_label(hint["listing"]) if hint["listing"] else _("the book's code")


def _rows(hint: dict[str, Any]) -> list[tuple[str, list[tuple[str, str, bool]]]]:
    """Per function: its header line, then ``(label, code, is the learner's)`` rows (the book's rows
    labelled with the listing, or the section for the book's inline code)."""
    listing = _listing(hint)
    label = section_label(hint["listing"]) if hint["listing"] else hint["section"]
    out = []
    for function, diffs in groupby(hint["differences"], key=lambda d: d["function"]):
        head = _("your {function} beside {listing} ({section}):").format(
            function=function or _("top-level code"), listing=listing, section=hint["section"])
        rows = []
        for d in diffs:
            rows.append((location(d), d["yours"] if d["yours"] is not None else _("(missing after this line)"), True))
            rows.append((label, d["listing"] if d["listing"] is not None else _("(not in the book's code)"), False))
        out.append((head, rows))
    return out


def text(hint: dict[str, Any]) -> str:
    """The hint as lines of text (no indentation of its own)."""
    lines = []
    for head, rows in _rows(hint):
        column = max(width(label) for label, _code, _mine in rows)
        lines.append(head)
        lines += [f"  {pad(label, column)}   {code}" for label, code, _mine in rows]
    return "\n".join(lines)


def html_block(hint: dict[str, Any]) -> str:
    """The hint as an HTML fragment (inline styles only, as the verdict table)."""
    e = html.escape
    out = ['<div class="llmspec-hint">']
    for head, rows in _rows(hint):
        out.append(f"<p>{e(head)}</p><table>")
        for label, code, mine in rows:
            out.append(f'<tr><td><code>{e(label)}</code></td>'
                       f'<td><code style="background:{MINE if mine else BOOK}">{e(code)}</code></td></tr>')
        out.append("</table>")
    for side in hint.get("beside", []):
        summary = _("your {function} beside {listing}").format(function=side["function"], listing=_listing(hint))
        first = side["line"]
        mine = "\n".join(_marked(f"{first + i:>4}  {ln}", first + i in side["marked"], MINE)
                         for i, ln in enumerate(side["yours"]))
        book = "\n".join(_marked(ln, i + 1 in side["listing_marked"], BOOK) for i, ln in enumerate(side["listing"]))
        out.append(f"<details><summary>{e(summary)}</summary><table><tr>"
                   f'<td style="vertical-align:top"><pre>{mine}</pre></td>'
                   f'<td style="vertical-align:top"><pre>{book}</pre></td></tr></table></details>')
    out.append("</div>")
    return "".join(out)


def _marked(line: str, marked: bool, colour: str) -> str:
    text = html.escape(line)
    return f'<mark style="background:{colour}">{text}</mark>' if marked else text
