"""``llmspec record --impl X --out DIR``: write an implementation's observable outputs as JSON.

A maintainer records a release once and later runs ``llmspec diff DIR <new version>`` to see what
changed; the project keeps the reference's own recording in ``fixtures/record/``."""
from __future__ import annotations

import argparse

from llmspec.stages import parse_stages


def add_parser(subparsers: argparse._SubParsersAction, name: str, help_text: str) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(name, help=help_text, description=help_text)
    parser.add_argument("--impl", default="reference",
                        help="target: .py file, package dir, dotted module or .ipynb (default: reference)")
    parser.add_argument("--out", required=True, help="directory to write <stage>.json and meta.json into")
    parser.add_argument("--impl-map", action="append", default=[], metavar="NAME=OTHER",
                        help="accept other names, e.g. create_dataloader_v1=make_loader (repeatable)")
    parser.add_argument("--stages", default=None, help="comma-separated stages (default: all)")
    parser.add_argument("--isolate", action="store_true", help="run the implementation in a worker process")
    parser.set_defaults(func=run)
    return parser


def parse_impl_map(items: list[str]) -> dict[str, str]:
    """``["a=b,c=d"]`` -> ``{"a": "b", "c": "d"}``; ``ValueError`` (exit 2) on a malformed pair."""
    out: dict[str, str] = {}
    for chunk in items:
        for pair in filter(None, (p.strip() for p in chunk.split(","))):
            if "=" not in pair:
                raise ValueError(f"--impl-map expects NAME=OTHER pairs, got {pair!r}")
            k, v = (s.strip() for s in pair.split("=", 1))
            out[k] = v
    return out


def run(args: argparse.Namespace) -> int:
    from llmspec.record import load_side, write

    rec = load_side(args.impl, parse_impl_map(args.impl_map) or None, args.isolate, parse_stages(args.stages))
    paths = write(rec, args.out, args.impl)
    for stage, data in rec.items():
        what = f"not implemented (missing {', '.join(data['missing'])})" if "missing" in data \
            else f"{len(data['cases'])} cases"
        print(f"{stage:13} {what}")
    print(f"wrote {len(paths)} files to {args.out}")
    return 0
