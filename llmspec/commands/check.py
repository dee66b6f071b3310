"""``llmspec check [TARGET]``: the learner's front door.

Runs the very same spec suite (``pytest spec_tests``) in this process, quietly, then prints the
per-stage table and, for each failing stage, its first failure explained.  Exit code 0 only when
every selected stage passes; 1 when some test failed; 2 for bad input (missing path, a target that
cannot load, unknown stage); 3 when the book's data is missing or corrupt.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from llmspec.commands import add_target_options
from llmspec.plugin import missing_lines, status_text
from llmspec.editions import AUTO, EDITION_CHOICES
from llmspec.stages import parse_stages

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_parser(subparsers: Any, name: str, help_text: str) -> None:
    p = subparsers.add_parser(name, help=help_text, description=__doc__.split("\n\n")[0])
    p.add_argument("target", nargs="?", help=".py file, package dir, dotted module or .ipynb "
                   "(default: the reference implementation)")
    add_target_options(p)
    p.add_argument("--edition", choices=EDITION_CHOICES, default=AUTO,
                   help="book edition (default: auto: probed from your SimpleTokenizerV1/V2; print when "
                   "there is none)")
    p.add_argument("--strict-names", action="store_true",
                   help="accept only the book's exact names (default: a name differing only in letter case, "
                   "or the book repository's earlier create_dataloader, is accepted with a note)")
    p.add_argument("--report", metavar="PATH", help="also keep the JSON report at PATH")
    p.add_argument("-v", "--verbose", action="store_true", help="show pytest's own output too")
    p.set_defaults(func=run)


def spec_dir() -> Path:
    """The installed ``spec_tests`` package directory (the suite runs from wherever llmspec is)."""
    import spec_tests

    return Path(list(spec_tests.__path__)[0]).resolve()


def pytest_args(args: argparse.Namespace, report: Path) -> list[str]:
    out = [str(spec_dir()), "-p", "no:cacheprovider", "--llmspec-report", str(report),
           "--edition", args.edition]
    out += [] if args.verbose else ["-p", "no:terminal"]
    if args.target:
        out += ["--impl", args.target]
    if args.stages:
        out += ["--stages", args.stages]
    for m in args.impl_map:
        out += ["--impl-map", m]
    if args.isolate:
        out.append("--isolate")
    if getattr(args, "strict_names", False):
        out.append("--strict-names")
    return out


def run(args: argparse.Namespace) -> int:
    import pytest

    from llmspec.data import locate

    parse_stages(args.stages)  # ValueError -> exit 2 (cli)
    if args.target and ("/" in args.target or args.target.endswith((".py", ".ipynb"))) \
            and not Path(args.target).exists():
        print(f"llmspec check: no such file or directory: {args.target}")
        return EXIT_USAGE
    locate()  # DataError -> exit 3 (cli), before any test runs
    with tempfile.TemporaryDirectory(prefix="llmspec-check-") as tmp:
        report_path = Path(args.report) if args.report else Path(tmp) / "report.json"
        code = pytest.main(pytest_args(args, report_path))
        if not report_path.is_file():
            print(f"llmspec check: the suite did not run (pytest exit code {int(code)})")
            return EXIT_USAGE if int(code) == 4 else 4
        report = json.loads(report_path.read_text(encoding="utf-8"))
    print(render(report))
    if report.get("error"):
        return EXIT_USAGE
    chosen = [r for r in report["stages"].values() if r["status"] != "not_selected"]
    return EXIT_OK if chosen and all(r["status"] == "pass" for r in chosen) else EXIT_FAILED


def render(report: dict[str, Any]) -> str:
    """The table plus the first failure of each failing stage (what a learner should fix first); for a
    target that cannot load, only its one-line reason."""
    if report.get("error"):  # nothing was judged: the reason alone, not a table of zeros
        return f"llmspec check: {report['error']}"
    lines = [f"llmspec check: {report['target']} (edition {report['edition']})"]
    if report.get("edition_reason"):
        lines.append(f"  {report['edition_reason']}")
    for note in report.get("notes", []):
        lines.append(f"  note: {note}")
    lines.append(f"  {'stage':<14}{'passed/total':>13}  status")
    for name, row in report["stages"].items():
        if row["status"] != "not_selected":
            lines.append(f"  {name:<14}{row['passed']:>6}/{row['total']:<6}  {status_text(row)}")
    lines += ["  " + line for line in missing_lines(report["stages"])]
    for name, row in report["stages"].items():
        if row["status"] != "fail":
            continue
        first = next((t for t in report["tests"] if t["stage"] == name and t["outcome"] == "failed"), None)
        if first:
            lines += ["", f"{name}: first failure ({first['name']})"]
            lines += ["  " + ln for ln in first["message"].splitlines()[:14]]
    passed = [n for n, r in report["stages"].items() if r["status"] == "pass"]
    lines += ["", f"{len(passed)} stage(s) pass: {', '.join(passed) or '-'}"]
    return "\n".join(lines)
