"""The class report: one self-contained HTML file (inline CSS and SVG, no script, no external asset)
so an instructor sees at a glance which concepts of chapter 2 the class misses.  Built from the
``results.json`` files only (so ``llmspec merge`` can rebuild it); every piece of text from a
submission (names, messages) is HTML-escaped: it is untrusted.
"""
from __future__ import annotations

import statistics
from html import escape

from llmspec.grading.gradebook import row_for, stages_of
from llmspec.grading.results import graded_tests
from llmspec.grading.scoring import add_points, fmt_points
from llmspec.i18n import _, language
from llmspec.stages import STAGES
from llmspec.verdict import stage_title

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd}
.kpi{display:inline-block;margin:8px 24px 8px 0}.kpi b{display:block;font-size:22px}
table{border-collapse:collapse;font-size:13px;width:100%}td,th{border-bottom:1px solid #eee;padding:3px 6px;text-align:left}
th{background:#f6f6f6}.fail{color:#b00020}.ok{color:#0a7a2f}svg text{font-size:11px;fill:#333}
.small{color:#666;font-size:12px}
"""


def _bar_color(rate: float) -> str:
    return "#c62828" if rate < 0.5 else "#f9a825" if rate < 0.8 else "#2e7d32"


def histogram_svg(percents: list[float], bins: int = 10) -> str:
    counts = [0] * bins
    for p in percents:
        counts[min(bins - 1, int(p // (100 / bins)))] += 1
    w, h, pad = 640, 220, 30
    bw = (w - 2 * pad) / bins
    top = max(counts) or 1
    parts = [f'<svg id="histogram" role="img" aria-label="{escape(_("score histogram"))}" width="{w}" height="{h}" '
             f'viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg">']
    for i, c in enumerate(counts):
        bh = (h - 2 * pad) * c / top
        x, y = pad + i * bw, h - pad - bh
        parts.append(f'<rect class="bar" x="{x + 2:.1f}" y="{y:.1f}" width="{bw - 4:.1f}" height="{bh:.1f}" '
                     f'fill="#1565c0"><title>{i * 10}-{(i + 1) * 10}%: {c}</title></rect>')
        parts.append(f'<text x="{x + bw / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle">{c or ""}</text>')
        parts.append(f'<text x="{x + bw / 2:.1f}" y="{h - pad + 14}" text-anchor="middle">{i * 100 // bins}%</text>')
    parts.append(f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="#999"/></svg>')
    return "".join(parts)


def rate_bars_svg(rows: list[tuple[str, float, str]], svg_id: str) -> str:
    """Horizontal bars: (label, rate 0..1, tooltip)."""
    label_w, bar_w, row_h = 430, 380, 18
    h = row_h * len(rows) + 10
    parts = [f'<svg id="{svg_id}" width="{label_w + bar_w + 60}" height="{h}" '
             f'xmlns="http://www.w3.org/2000/svg">']
    for i, (label, rate, tip) in enumerate(rows):
        y = 5 + i * row_h
        short = label if len(label) <= 70 else label[:67] + "..."
        parts.append(f'<text x="{label_w - 6}" y="{y + 12}" text-anchor="end">{escape(short)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 2}" width="{bar_w}" height="{row_h - 5}" fill="#eee"/>')
        parts.append(f'<rect class="bar" x="{label_w}" y="{y + 2}" width="{bar_w * rate:.1f}" height="{row_h - 5}" '
                     f'fill="{_bar_color(rate)}"><title>{escape(tip)}</title></rect>')
        parts.append(f'<text x="{label_w + bar_w + 6}" y="{y + 12}">{rate * 100:.0f}%</text>')
    parts.append("</svg>")
    return "".join(parts)


def report_html(results: list[dict], title: str | None = None) -> str:
    title = title or _("llmspec class report")
    results = sorted(results, key=lambda d: d["extra_data"]["llmspec"]["submission"])
    stages = stages_of(results)
    rows = [row_for(d, stages) for d in results]
    percents = [r["percent"] for r in rows]
    # per-test pass rates, in the suite's order (number)
    tests: dict[str, dict] = {}
    for d in results:
        for t in graded_tests(d):
            e = tests.setdefault(t["name"], {"number": t.get("number", ""), "passed": 0, "n": 0})
            e["passed"] += t["status"] == "passed"
            e["n"] += 1
    order = sorted(tests.items(), key=lambda kv: [int(x) if x.isdigit() else 0 for x in str(kv[1]["number"]).split(".")])
    stage_rows = []
    for s in stages:
        got = add_points(r[s] for r in rows)
        mx = add_points(d["extra_data"]["llmspec"]["stages"].get(s, {}).get("max_score", 0.0) for d in results)
        label = f"{s} - {stage_title(s)}" if s in STAGES else s
        rate = got / mx if mx else 0.0
        stage_rows.append((label, rate, _("{stage}: class earned {percent}% of the points").format(
            stage=label, percent=f"{rate * 100:.1f}")))
    test_rows = [(name, e["passed"] / e["n"] if e["n"] else 0.0,
                  _("{test}: {passed}/{total} passed").format(test=name, passed=e["passed"], total=e["n"]))
                 for name, e in order]
    hardest = sorted(test_rows, key=lambda r: r[1])[:5]
    kpis = [(_("submissions"), str(len(rows))),
            (_("mean"), f"{statistics.mean(percents):.1f}%" if percents else "-"),
            (_("median"), f"{statistics.median(percents):.1f}%" if percents else "-"),
            (_("full marks"), str(sum(p >= 99.995 for p in percents))),
            (_("not graded normally"), str(sum(r["status"] != "graded" for r in rows))),
            (_("flagged"), str(sum(bool(r["flags"]) for r in rows)))]
    body = [f"<h1>{escape(title)}</h1>",
            '<p class="small">' + escape(_("Generated by llmspec grade; each test's pass rate shows which "
                                           "concepts of chapter 2 the class misses.")) + "</p>",
            "".join(f'<div class="kpi"><b>{escape(v)}</b>{escape(k)}</div>' for k, v in kpis),
            f"<h2>{escape(_('Score distribution'))}</h2>", histogram_svg(percents),
            f"<h2>{escape(_('Points earned per stage'))}</h2>", rate_bars_svg(stage_rows, "stage-rates"),
            f"<h2>{escape(_('Hardest tests'))}</h2><ol>" + "".join(
                "<li>" + escape(_("{test}: {percent}% passed").format(test=name, percent=f"{rate * 100:.0f}"))
                + "</li>" for name, rate, _tip in hardest) + "</ol>",
            f"<h2>{escape(_('Pass rate of every test'))}</h2>", rate_bars_svg(test_rows, "test-rates"),
            f"<h2>{escape(_('Submissions'))}</h2><table><tr><th>{escape(_('submission'))}</th>"
            f"<th>{escape(_('score'))}</th><th>{escape(_('status'))}</th>"
            + "".join(f"<th>{escape(s)}</th>" for s in stages) + f"<th>{escape(_('feedback'))}</th>"
            f"<th>{escape(_('flags'))}</th></tr>"]
    for r in rows:
        cls = "ok" if r["percent"] >= 99.995 else "fail" if r["status"] != "graded" else ""
        body.append(
            f'<tr><td>{escape(r["submission"])}</td><td class="{cls}">{fmt_points(r["score"])}/'
            f'{fmt_points(r["max_score"])}</td><td>{escape(r["status"])}</td>'
            + "".join(f"<td>{fmt_points(r[s])}</td>" for s in stages)
            + f'<td>{escape(r["feedback"])}</td><td class="{"fail" if r["flags"] else ""}">{escape(r["flags"])}</td></tr>')
    body.append("</table>")
    return (f'<!DOCTYPE html>\n<html lang="{language()}"><head><meta charset="utf-8">'
            f"<title>{escape(title)}</title><style>{CSS}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")
