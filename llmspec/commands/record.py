"""``llmspec record [TARGET] --out DIR``: write an implementation's observable outputs as JSON.

A maintainer records a release once and later runs ``llmspec diff DIR <new version>`` to see what
changed; the project keeps the reference's own recording in ``fixtures/record/``."""
from __future__ import annotations

import argparse

from llmspec.commands import add_target_argument, add_target_options
from llmspec.stages import parse_stages
from llmspec.runtime.names import parse_impl_map


def add_parser(subparsers: argparse._SubParsersAction, name: str, help_text: str) -> None:
    parser = subparsers.add_parser(name, help=help_text, description=help_text)
    add_target_argument(parser)
    parser.add_argument("--impl", help="the same target, given as an option")
    parser.add_argument("--out", required=True, help="directory to write <stage>.json and meta.json into")
    add_target_options(parser, stages_default="all")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from llmspec.record import load_side, write

    if args.target and args.impl:
        raise ValueError(f"the target given twice ({args.target} and --impl {args.impl}): give it once")
    args.impl = args.target or args.impl or "reference"
    rec = load_side(args.impl, parse_impl_map(args.impl_map) or None, args.isolate, parse_stages(args.stages),
                    args.in_process)
    paths = write(rec, args.out, args.impl)
    for stage, data in rec.items():
        what = f"not implemented (missing {', '.join(data['missing'])})" if "missing" in data \
            else f"{len(data['cases'])} cases" + (" (judged from state: the variables of the book's 2.7-2.8 cells)"
                                                 if data.get("judged") == "state" else "")
        print(f"{stage:13} {what}")
    print(f"wrote {len(paths)} files to {args.out}")
    return 0
