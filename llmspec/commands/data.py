"""``llmspec data {status,path,verify,fetch}``: see and fix where the book's data comes from.

A learner whose data is missing should get one line telling them what to do, and an instructor's CI
should be able to check the data before grading, so every action exits 3 when data is missing or
corrupt (the CLI's data exit code)."""
from __future__ import annotations

import argparse
import sys

from llmspec import data
from llmspec.cli import EXIT_DATA, EXIT_OK
from llmspec.errors import DataError
from llmspec.i18n import _


def add_parser(subparsers: argparse._SubParsersAction, name: str, help_text: str) -> None:
    parser = subparsers.add_parser(name, help=help_text, description=help_text)
    parser.add_argument(
        "action",
        nargs="?",
        default="status",
        choices=("status", "path", "verify", "fetch"),
        help="status: where each file was found and whether its sha256 is right (default); "
        "path: print the verified data directory; verify: also check tiktoken's offline GPT-2 "
        "encoding; fetch: download missing files from their public origins into the user cache",
    )
    parser.add_argument("--dest", default=None, help="fetch: directory to download into (default: user cache)")
    parser.set_defaults(func=run)


def _status() -> int:
    bad = False
    for name in data.EXPECTED:
        st = data.file_status(name)
        bad = bad or not st["ok"]
        if st["path"] is None:
            print(f"{name:20} " + _("MISSING  (looked in: {places})").format(places="; ".join(st["looked"])))
        else:
            verdict = _("ok") if st["ok"] else _("CORRUPT (sha256 mismatch)")
            print(f"{name:20} {verdict:8} {st['where']}: {st['path']}")
    if bad:
        print(data.fix_hint(), file=sys.stderr)
        return EXIT_DATA
    return EXIT_OK


def _verify() -> int:
    files = data.locate()
    cache = data.ensure_tiktoken_cache()
    ids = data.gpt2_encoding().encode("Akwirw ier")
    expected = [33901, 86, 343, 86, 220, 959]  # Exercise 2.1 (fixtures/bpe.json)
    if ids != expected:
        raise DataError(_("tiktoken's gpt2 encoding gives {ids} for 'Akwirw ier', expected {expected}").format(
            ids=ids, expected=expected))
    print(_("ok: {directory} verified; tiktoken cache {cache} works offline").format(
        directory=files.verdict.parent, cache=cache))
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    try:
        if args.action == "status":
            return _status()
        if args.action == "path":
            print(data.locate().verdict.parent)
            return EXIT_OK
        if args.action == "verify":
            return _verify()
        files = data.fetch(args.dest)
        print(_("ok: data in {directory}").format(directory=files.verdict.parent))
        return EXIT_OK
    except DataError as exc:
        print(f"llmspec data: {exc}", file=sys.stderr)
        return EXIT_DATA
