"""``llmspec``: the command line.  Each command lives in its own module under ``llmspec.commands``
that defines ``add_parser(subparsers, name, help_text)`` (which sets ``func``) and is listed in
``COMMANDS``.  The exit codes (``EXIT_*``, documented in the README) are the same for every command.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from llmspec.errors import DataError, HarnessError

# module name under llmspec.commands -> one line of help (the module imports lazily: fast --help)
COMMANDS: dict[str, str] = {
    "check": "run the spec suite against an implementation and explain the first failure per stage",
    "data": "locate, verify or fetch the book's data (the-verdict.txt, GPT-2 BPE files)",
    "grade": "grade submissions in isolated workers and write Gradescope/JUnit/CSV/HTML reports",
    "merge": "merge the outputs of sharded 'llmspec grade' runs into one gradebook and report",
    "gradescope-bundle": "write the autograder zip (setup.sh, run_autograder) that Gradescope runs",
    "record": "record an implementation's observable outputs on the suite's fixed inputs as JSON",
    "diff": "compare two implementations (or one and a recording) stage by stage",
}

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_DATA, EXIT_INTERNAL = 0, 1, 2, 3, 4


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llmspec",
        description="Specification suite for chapter 2 of 'Build a Large Language Model (From Scratch)'.",
        epilog="exit codes: 0 ok, 1 tests failed, 2 bad usage/input, 3 data missing or corrupt, 4 internal error",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        importlib.import_module("llmspec.commands." + name.replace("-", "_")).add_parser(sub, name, help_text)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args) or 0)
    except DataError as exc:
        print(f"llmspec: {exc}", file=sys.stderr)
        return EXIT_DATA
    except (HarnessError, ValueError, FileNotFoundError) as exc:
        print(f"llmspec: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("llmspec: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
