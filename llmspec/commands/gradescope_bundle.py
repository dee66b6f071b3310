"""``llmspec gradescope-bundle --out autograder.zip``: write the zip Gradescope's autograder runs
(what it holds: :mod:`llmspec.grading.bundle`).  Exit codes: 0 written, 2 bad usage/config, 3 data missing.
"""
from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub, name: str, help_text: str) -> None:
    p = sub.add_parser(name, help=help_text, description=help_text,
                       epilog="exit codes: 0 written, 2 bad usage/config, 3 book data missing")
    p.add_argument("--out", default="autograder.zip", help="zip to write (default: autograder.zip)")
    p.add_argument("--config", default=None, help="grading TOML to ship (default: the packaged defaults)")
    p.add_argument("--package", default=None, metavar="REQUIREMENT",
                   help="what setup.sh pip-installs for this project: a wheel's URL, or llmspec-ch02==VERSION "
                        "once released (default: bundle this source tree and install it; not 'llmspec', "
                        "an unrelated project on the package index)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from llmspec.data import EXPECTED, locate
    from llmspec.errors import DataError
    from llmspec.grading import atomic
    from llmspec.grading.bundle import build_bundle
    from llmspec.grading.config import load_config

    text = None
    if args.config:
        load_config(args.config)  # validate before shipping it
        text = Path(args.config).read_text("utf-8")
    files = locate()
    data = {name: files.path_of(name) for name in EXPECTED}
    try:
        blob = build_bundle(text, data, args.package)
    except FileNotFoundError as exc:
        raise DataError(str(exc)) from None
    atomic.write_bytes(args.out, blob)
    print(f"wrote {args.out} ({len(blob) // 1024} KB): upload it as the assignment's autograder on Gradescope")
    return 0
