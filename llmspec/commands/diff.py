"""``llmspec diff A B``: compare two implementations, or one and a recording, stage by stage.

Each of A and B is a recording directory (written by ``llmspec record``) or a target
(``reference``, a file, package, module or notebook).  Prints per stage "no difference" or the first
differing input with both outputs (ids also as text).  Exit 0: no difference; 1: differences;
2: bad input (unreadable recording, target that does not load)."""
from __future__ import annotations

import argparse

from llmspec.commands import add_target_options
from llmspec.stages import parse_stages
from llmspec.runtime.names import parse_impl_map


def add_parser(subparsers: argparse._SubParsersAction, name: str, help_text: str) -> None:
    parser = subparsers.add_parser(name, help=help_text, description=help_text)
    parser.add_argument("a", help="recording directory or target (e.g. reference, fixtures/record)")
    parser.add_argument("b", help="recording directory or target")
    add_target_options(parser, stages_default="all recorded")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from llmspec.record import diff, load_side

    impl_map, stages = parse_impl_map(args.impl_map) or None, parse_stages(args.stages)
    a = load_side(args.a, impl_map, args.isolate, stages, args.in_process)
    b = load_side(args.b, impl_map, args.isolate, stages, args.in_process)
    same, lines = diff(a, b, ("A", "B"), asked=stages or ())
    print(f"A = {args.a}\nB = {args.b}")
    print("\n".join(lines))
    print("no difference" if same else "differences found")
    return 0 if same else 1
