"""``llmspec check [TARGET]``: the learner's front door.

Runs the very same spec suite (``pytest spec_tests``) quietly, then prints the per-stage table and,
for each failing stage, its first failure explained.  The learner's code runs in a worker process
with their own permissions, so a hang, a crash or ``os._exit`` in it is reported with its line
instead of ending or stalling the check.  Exit code 0 only when every selected stage passes; 1 when
some test failed; 2 for bad input (missing path, a target that cannot load, unknown stage); 3 when
the book's data is missing or corrupt.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from llmspec.cli import EXIT_FAILED, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE
from llmspec.commands import add_language_option, add_target_argument, add_target_options
from llmspec.editions import AUTO, EDITION_CHOICES
from llmspec.i18n import _, set_language
from llmspec.stages import parse_stages
from llmspec.verdict import CheckResult, render_text as render


def add_parser(subparsers: Any, name: str, help_text: str) -> None:
    p = subparsers.add_parser(name, help=help_text, description=help_text)
    add_target_argument(p)
    add_target_options(p)
    p.add_argument("--edition", choices=EDITION_CHOICES, default=AUTO,
                   help="book edition (default: auto: probed from your SimpleTokenizerV1/V2, else from how your "
                   "GPTDatasetV1 calls tokenizer.encode; print when neither tells)")
    p.add_argument("--strict-names", action="store_true",
                   help="accept only the book's exact names (default: a name differing only in letter case, "
                   "or the book repository's earlier create_dataloader, is accepted with a note)")
    p.add_argument("--report", metavar="PATH", help="also keep the JSON report at PATH")
    p.add_argument("-v", "--verbose", action="store_true", help="show pytest's own output too")
    add_language_option(p)
    p.set_defaults(func=run)


def pytest_args(args: argparse.Namespace, report: Path | None = None) -> list[str]:
    out = ["--edition", args.edition] + (["--llmspec-report", str(report)] if report else [])
    out += [] if args.verbose else ["-p", "no:terminal"]
    out += (["--impl", args.target] if args.target else []) + (["--stages", args.stages] if args.stages else [])
    out += [arg for m in args.impl_map for arg in ("--impl-map", m)]
    out += ["--isolate"] if args.isolate else [] if args.in_process else ["--worker"]
    return out + (["--strict-names"] if args.strict_names else [])


def run(args: argparse.Namespace) -> int:
    from llmspec.data import locate
    from llmspec.suite import run_suite

    if args.lang:  # the worker of --isolate writes its messages (wire errors) in the same language
        os.environ["LLMSPEC_LANG"] = set_language(args.lang)
    else:
        set_language(None)
    parse_stages(args.stages)  # ValueError -> exit 2 (cli)
    if not args.target:  # a green table for a forgotten file name must not read as the learner's
        print(_("No file given: this checks llmspec's own reference implementation. To check yours: "
                "llmspec check my_ch02.py"))
    if args.target and ("/" in args.target or args.target.endswith((".py", ".ipynb"))) \
            and not Path(args.target).exists():
        print(_("llmspec check: no such file or directory: {path}").format(path=args.target))
        return EXIT_USAGE
    locate()  # DataError -> exit 3 (cli), before any test runs
    code, report = run_suite(pytest_args(args, Path(args.report) if args.report else None))
    if report is None:
        print(_("llmspec check: the suite did not run (pytest exit code {code})").format(code=code))
        return EXIT_USAGE if code == 4 else EXIT_INTERNAL
    print(render(report))
    if report.get("error"):
        return EXIT_USAGE
    return EXIT_OK if CheckResult(report).ok else EXIT_FAILED
