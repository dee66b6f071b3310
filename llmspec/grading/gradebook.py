"""The class gradebook (CSV), built from the submissions' ``results.json`` so a merge of shards needs
nothing else.  Cells that a spreadsheet would run as formulas (``=``, ``+``, ``-``, ``@`` first) are
quoted with a leading apostrophe: submission names and messages are untrusted text.
"""
from __future__ import annotations

import csv
import io

from llmspec.grading.results import graded_tests
from llmspec.grading.scoring import failure_line


def _cell(value: object) -> object:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def row_for(data: dict, stages: list[str]) -> dict:
    meta = data["extra_data"]["llmspec"]
    tests = graded_tests(data)
    max_score = meta["max_score"]
    failed = [t for t in tests if t["status"] != "passed"]
    feedback = meta.get("reason") or ""
    if failed and not feedback:
        stage = failed[0]["tags"][0]
        feedback = f"{stage}: {failure_line(stage, failed[0]['output'])}"
    return {
        "submission": meta["submission"],
        "source": meta.get("source", ""),
        "status": meta["status"],
        "score": data["score"],
        "max_score": max_score,
        "percent": round(100.0 * data["score"] / max_score, 2) if max_score else 0.0,
        **{s: meta["stages"].get(s, {}).get("score", 0.0) for s in stages},
        "tests_passed": len(tests) - len(failed),
        "tests_total": len(tests),
        "execution_time": data.get("execution_time", 0.0),
        "feedback": feedback[:300],
        "flags": " ".join(sorted({str(f.get("kind")) for f in data["extra_data"].get("flags") or []})),
    }


def stages_of(results: list[dict]) -> list[str]:
    """Every stage of the class, in the order the results first name them."""
    return list(dict.fromkeys(s for data in results for s in data["extra_data"]["llmspec"]["stages"]))


def gradebook_csv(results: list[dict]) -> str:
    stages = stages_of(results)
    rows = [row_for(d, stages) for d in sorted(results, key=lambda d: d["extra_data"]["llmspec"]["submission"])]
    fields = ["submission", "source", "status", "score", "max_score", "percent", *stages,
              "tests_passed", "tests_total", "execution_time", "feedback", "flags"]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return buf.getvalue()
