"""The verdict of one check: per-stage results for scripts, a text table for terminals, an HTML
table for Jupyter.  Both renderings come from the report dict the plugin builds (``--llmspec-report``'s
format), so ``llmspec check`` in a terminal and ``%llmspec`` in a notebook say the same thing.
"""
from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from llmspec.i18n import _, language, switched, translated
from llmspec.stages import STAGES

MAX_MESSAGE_LINES = 14  # of a first failure, in the text table (the HTML shows all, folded)


def status_text(row: dict[str, Any]) -> str:
    """A table row's status in the learner's language (``... (judged from state)``: from the
    variables the book's inline cells leave, not a class)."""
    labels = {"pass": _("pass"), "fail": _("fail"), "not_implemented": _("not implemented"),
              "not_selected": _("not selected")}
    text = labels.get(row["status"], row["status"].replace("_", " "))
    if row.get("judged") == "state":
        text += " " + _("(judged from state)")
    return text


def stage_title(stage: str) -> str:
    """The stage's title in the learner's language (the catalogs hold the titles; the book's class
    names stay as they are)."""
    return translated(STAGES[stage].title) if stage in STAGES else stage


def section_label(section: str) -> str:
    """A book reference such as ``2.6, Listing 2.5`` with its words in the learner's language."""
    return re.sub(r"\bListing\b", _("Listing"), re.sub(r"\bbonus\b", _("bonus"), section))


def not_implemented(stage: str, missing: list[str], hints: dict[str, str]) -> str:
    """``<stage>: not implemented (missing X)``, plus a "did you mean" line per name with a hint."""
    lines = [_("{stage}: not implemented (missing {names})").format(stage=stage, names=", ".join(missing))]
    lines += [f"  {name}: {hints[name]}" for name in missing if hints.get(name)]
    return "\n".join(lines)


def missing_lines(table: dict[str, dict[str, Any]]) -> list[str]:
    """One line per stage the target lacks, said once (its tests all fail with this same reason)."""
    out = []
    for name, row in table.items():
        if row["status"] == "not_implemented":
            first, *hints = not_implemented(name, row["missing"], row.get("hints", {})).split("\n")
            out += [_("{reason}; its {total} tests fail without running").format(reason=first, total=row["total"]),
                    *hints]
    return out


def width(text: str) -> int:
    """Columns ``text`` takes in a terminal: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, columns: int, right: bool = False) -> str:
    """``text`` padded to ``columns`` terminal columns (``str.ljust`` counts characters: a Chinese or
    Korean header would push the table out of line)."""
    fill = " " * max(0, columns - width(text))
    return fill + text if right else text + fill


def table_lines(table: dict[str, dict[str, Any]]) -> list[tuple[str, str | None]]:
    """The per-stage table, each line with its terminal colour (``None``, ``"green"``, ``"red"``)."""
    rows = [(f"{name:<14}{row['passed']:>6}/{row['total']:<6}  {status_text(row)}",
             "green" if row["status"] == "pass" else "red")
            for name, row in table.items() if row["status"] != "not_selected"]
    header = f"{pad(_('stage'), 14)}{pad(_('passed/total'), 13, right=True)}  {_('status')}"
    return [(header, None), *rows, *((line, "red") for line in missing_lines(table))]


@dataclass(frozen=True)
class StageResult:
    """One stage of a check: ``status`` is ``pass``, ``fail``, ``not_implemented`` or
    ``not_selected``; ``failures`` are ``{"name", "message"}`` of its failed tests, in order."""

    name: str
    status: str
    passed: int
    total: int
    missing: tuple[str, ...] = ()
    failures: tuple[dict[str, str], ...] = ()
    listing_hint: dict[str, Any] | None = None  # the learner's code beside the book's listing (llmspec.hints)

    @property
    def ok(self) -> bool:
        return self.status == "pass"

    @property
    def first_failure(self) -> dict[str, str] | None:
        return self.failures[0] if self.failures else None


@dataclass
class CheckResult:
    """The verdict of one check: ``result.stages["dataset"].passed``, ``result.ok`` (every selected
    stage passes); ``str(result)`` is the text table, Jupyter shows :meth:`_repr_html_`."""

    report: dict[str, Any]
    lang: str | None = None  # the language the check ran in: the renderings use it too
    stages: dict[str, StageResult] = field(init=False)

    def __post_init__(self) -> None:
        tests = self.report.get("tests", [])
        self.stages = {
            name: StageResult(
                name, row["status"], row["passed"], row["total"], tuple(row.get("missing", [])),
                tuple({"name": t["name"], "message": t["message"]} for t in tests
                      if t["stage"] == name and t["outcome"] == "failed"),
                self.report.get("listing_hints", {}).get(name))
            for name, row in self.report["stages"].items() if row["status"] != "not_selected"
        }

    @property
    def ok(self) -> bool:
        return not self.report.get("error") and bool(self.stages) and all(s.ok for s in self.stages.values())

    def __getitem__(self, stage: str) -> StageResult:
        return self.stages[stage]

    def __str__(self) -> str:
        with switched(self.lang):
            return render_text(self.report)

    __repr__ = __str__  # the REPL and IPython's plain-text display show the table

    def _repr_html_(self) -> str:
        with switched(self.lang):
            return render_html(self.report)


def annotate(report: dict[str, Any], description: dict[str, Any], loaded: Any = None) -> dict[str, Any]:
    """``report`` plus, for each failing stage, the learner's code beside the book's listing
    (``listing_hints``, :mod:`llmspec.hints`), and for each failed test the fixture files its message
    cites (``documents``: for maintainers; the message names them as readers do).  ``loaded`` is the
    in-process target (``None`` when isolated)."""
    failed = [t for t in report.get("tests", []) if t.get("outcome") == "failed"]
    if not failed:  # a passing check pays nothing here
        return report
    from llmspec.documents import cited
    from llmspec.hints import report_hints

    for test in failed:
        documents = cited(test.get("message", ""))
        if documents:
            test["documents"] = documents
    report["listing_hints"] = report_hints(report, description, loaded)
    return report


def render_text(report: dict[str, Any]) -> str:
    """The table plus the first failure of each failing stage (what a learner should fix first)."""
    if report.get("error"):  # nothing was judged: the reason alone, not a table of zeros
        return f"llmspec check: {report['error']}"
    lines = [_("llmspec check: {target} (edition {edition})").format(
        target=report["target"], edition=report["edition"])]
    if report.get("edition_reason"):
        lines.append(f"  {report['edition_reason']}")
    lines += ["  " + _("note: {note}").format(note=note) for note in report.get("notes", [])]
    lines += ["  " + line for line, _colour in table_lines(report["stages"])]
    stages = CheckResult(report).stages
    for name, stage in stages.items():
        if stage.status != "fail":
            continue
        first = stage.first_failure
        if first:
            lines += ["", _("{stage}: first failure ({test})").format(stage=name, test=first["name"])]
            lines += ["  " + ln for ln in first["message"].splitlines()[:MAX_MESSAGE_LINES]]
        if stage.listing_hint:
            from llmspec.hints.render import text

            lines += ["  " + ln for ln in text(stage.listing_hint).splitlines()]
    return "\n".join(lines + ["", _passed(stages)])


_COLOURS = {"pass": "#1a7f37", "fail": "#cf222e", "not_implemented": "#9a6700"}


def render_html(report: dict[str, Any]) -> str:
    """A self-contained HTML table (no scripts, inline styles only: it must render alike in JupyterLab,
    classic Notebook, VS Code and an exported HTML page)."""
    e = html.escape
    head = _("llmspec check: {target} (edition {edition})").format(
        target=report["target"], edition=report["edition"])
    stages = CheckResult(report).stages
    out = [f'<div class="llmspec-verdict" lang="{e(language())}">', f"<p><strong>{e(head)}</strong></p>"]
    if report.get("error"):
        out.append(f'<p style="color:{_COLOURS["fail"]}">{e(report["error"])}</p>')
    if report.get("edition_reason"):
        out.append(f"<p><small>{e(report['edition_reason'])}</small></p>")
    out += [f"<p><small>{e(_('note: {note}').format(note=note))}</small></p>" for note in report.get("notes", [])]
    out.append('<table class="llmspec-stages">')
    out.append(f"<thead><tr><th>{e(_('stage'))}</th><th>{e(_('passed/total'))}</th>"
               f"<th>{e(_('status'))}</th><th>{e(_('first failure'))}</th></tr></thead><tbody>")
    for name, stage in stages.items():
        colour = _COLOURS.get(stage.status, "inherit")
        section = f"{stage_title(name)} ({section_label(STAGES[name].section)})" if name in STAGES else ""
        cells = [f"<td><code>{e(name)}</code><br><small>{e(section)}</small></td>",
                 f"<td>{stage.passed}/{stage.total}</td>",
                 f'<td style="color:{colour}"><strong>{e(status_text(report["stages"][name]))}</strong></td>',
                 f"<td>{_failure_cell(stage)}</td>"]
        out.append(f'<tr data-stage="{e(name)}" data-status="{e(stage.status)}">' + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    out.append(f"<p>{e(_passed(stages))}</p></div>")
    return "\n".join(out)


def _passed(stages: dict[str, StageResult]) -> str:
    passed = [name for name, stage in stages.items() if stage.ok]
    return _("{count} stage(s) pass: {stages}").format(count=len(passed), stages=", ".join(passed) or "-")


def _failure_cell(stage: StageResult) -> str:
    e = html.escape
    if stage.status == "not_implemented":
        return e(_("missing {names}").format(names=", ".join(stage.missing)))
    first = stage.first_failure
    if first is None:
        return ""
    summary = first["message"].splitlines()[0] if first["message"] else first["name"]
    body = [f"<details><summary>{e(summary)}</summary>",
            f"<p><code>{e(first['name'])}</code></p><pre>{e(first['message'])}</pre>"]
    rest = stage.failures[1:]
    if rest:
        body.append(f"<details><summary>{e(_('{count} more failing test(s)').format(count=len(rest)))}"
                    "</summary><ul>" + "".join(f"<li><code>{e(f['name'])}</code></li>" for f in rest)
                    + "</ul></details>")
    body.append("</details>")
    if stage.listing_hint:
        from llmspec.hints.render import html_block

        body.append(html_block(stage.listing_hint))
    return "".join(body)
