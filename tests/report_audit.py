"""Read one submission's score back from every report format llmspec writes (tests and benchmarks).

Why: a student's total is seen in several tools (Gradescope adds the tests' ``score`` values, GitHub
Classroom's reporter adds its runners' test scores, CI dashboards read JUnit, instructors the CSV and
the HTML page).  A correct submission must show full marks in every one of them, so the tests and the
grading benchmark check the written files, not the in-memory numbers.  Values are added as decimals
(the way a spreadsheet shows them), so 2.14 + 2.14 + ... is compared exactly.

The Classroom part computes what autograding-grading-reporter v1 (``dist/main.js``) prints, as it
computes it: see :mod:`llmspec.grading.classroom` for the formulas.
"""
from __future__ import annotations

import base64
import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from html import escape
from pathlib import Path

from llmspec.grading.classroom import RUNNERS_VAR, env_name
from llmspec.grading.scoring import half_up_cents


def read_env(text: str) -> dict[str, dict]:
    """The runner results of a ``classroom.env``, in the order the reporter reads them."""
    values = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    runners = [r for r in values.get(RUNNERS_VAR, "").split(",") if r]
    return {r: json.loads(base64.b64decode(values[env_name(r)])) for r in runners}


def notice(results: dict[str, dict]) -> tuple[float, float]:
    """``(totalPoints, maxPoints)`` of the notice ``Points ${totalPoints}/${maxPoints}``."""
    total = maximum = 0.0
    for payload in results.values():
        if not payload.get("max_score"):
            continue
        maximum += payload["max_score"]
        for t in payload["tests"]:
            total += t["score"]
    return total, maximum


def runner_points(payload: dict) -> float:
    """A runner's points on its console line and in the table: passed / tests x max_score."""
    passed = sum(t["status"] == "pass" for t in payload["tests"])
    return passed / len(payload["tests"]) * (payload.get("max_score") or 0)


def js_number(x: float) -> str:
    """How JavaScript prints a double in a template string (shortest round trip; 100, not 100.0)."""
    return str(int(x)) if x == int(x) and abs(x) < 1e21 else repr(x)


def to_fixed2(x: float) -> str:
    """JavaScript's ``x.toFixed(2)`` for x >= 0: the double's exact value rounded half up."""
    c = half_up_cents(x)
    return f"{c // 100}.{c % 100:02d}"


def _dec(x: object) -> Decimal:
    return Decimal(str(x))


def shown_scores(out: Path, name: str) -> dict[str, tuple[Decimal, Decimal]]:
    """``{where: (score, max_score)}`` for submission ``name`` in the report tree ``out``."""
    out = Path(out)
    d = out / name
    found: dict[str, tuple[Decimal, Decimal]] = {}
    data = json.loads((d / "results.json").read_text("utf-8"))
    meta = data["extra_data"]["llmspec"]
    found["results.json score"] = (_dec(data["score"]), _dec(meta["max_score"]))
    found["results.json tests"] = (sum((_dec(t["score"]) for t in data["tests"]), Decimal(0)),
                                   sum((_dec(t["max_score"]) for t in data["tests"]), Decimal(0)))
    found["results.json stages"] = (sum((_dec(s["score"]) for s in meta["stages"].values()), Decimal(0)),
                                    sum((_dec(s["max_score"]) for s in meta["stages"].values()), Decimal(0)))
    props = {p.get("name"): p.get("value") for p in ET.parse(d / "junit.xml").iter("property")}
    found["junit.xml"] = (_dec(props["score"]), _dec(props["max_score"]))
    # the notice Classroom records, added in doubles as its reporter adds them, and its console lines
    runners = read_env((d / "classroom.env").read_text("utf-8"))
    total, maximum = notice(runners)
    found["classroom notice"] = (_dec(js_number(total)), _dec(js_number(maximum)))
    found["classroom console"] = (sum((_dec(to_fixed2(runner_points(r))) for r in runners.values()), Decimal(0)),
                                  sum((_dec(js_number(r["max_score"])) for r in runners.values()), Decimal(0)))
    csv_path = out / "gradebook.csv"
    if csv_path.exists():
        for row in csv.DictReader(io.StringIO(csv_path.read_text("utf-8"))):
            if row["submission"].lstrip("'") == name:
                found["gradebook.csv"] = (_dec(row["score"]), _dec(row["max_score"]))
                found["gradebook.csv percent"] = (_dec(row["percent"]), Decimal(100))
    html_path = out / "report.html"
    if html_path.exists():
        m = re.search(r"<tr><td>" + re.escape(escape(name)) + r'</td><td class="[a-z]*">([0-9.]+)/([0-9.]+)</td>',
                      html_path.read_text("utf-8"))
        if m:
            found["report.html"] = (_dec(m.group(1)), _dec(m.group(2)))
    return found


def short_of_full_marks(out: Path, name: str, full: float) -> list[str]:
    """Where submission ``name`` shows less than ``full`` points out of ``full`` (empty: nowhere)."""
    found = shown_scores(out, name)
    bad = [f"{where}: row missing" for where, file in (("gradebook.csv", "gradebook.csv"),
                                                        ("report.html", "report.html"))
           if (Path(out) / file).exists() and where not in found]
    for where, (got, of) in found.items():
        expected = Decimal(100) if where.endswith("percent") else _dec(full)
        if got != expected or of != expected:
            bad.append(f"{where}: {got}/{of}")
    return bad


def student_view(results: dict, *, due_date_passed: bool = False, published: bool = False) -> dict:
    """The fields of a Gradescope ``results.json`` a student sees, from Gradescope's autograder
    specification ("Controlling Test Case Visibility"; tests/unit/grading/test_gradescope_view.py
    says the rules)."""
    released = {"visible": True, "after_due_date": due_date_passed or published, "after_published": published,
                "hidden": False}
    default = results.get("visibility", "visible")
    tests = results.get("tests", [])
    view = {"output": results.get("output", ""),
            "tests": [t for t in tests if released[t.get("visibility", default)]]}
    if results.get("stdout_visibility", "hidden") == "visible":
        view["stdout"] = "(stdout)"
    concealed = [t for t in tests if t.get("visibility", default) != "hidden" and not released[t.get("visibility", default)]]
    if not concealed:
        view["score"] = results["score"]
    return view
