"""``llmspec merge DIR... --out OUT``: combine the outputs of sharded ``llmspec grade`` runs.

Reads every complete ``DIR/<submission>/results.json``, copies the submission directories into OUT
and rebuilds ``OUT/gradebook.csv`` and ``OUT/report.html`` from them, so N shards graded on N machines
give the same class report as one run.  Exit codes: 0 merged, 2 bad usage (no results found, or one
submission with different results in two shards).
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path


def add_parser(sub, name: str, help_text: str) -> None:
    p = sub.add_parser(name, help=help_text, description=help_text,
                       epilog="exit codes: 0 merged, 2 bad usage (no results, conflicting shards)")
    p.add_argument("dirs", nargs="+", metavar="DIR", help="output directories of 'llmspec grade --shard'")
    p.add_argument("--out", required=True, help="directory for the merged gradebook and report")
    p.add_argument("--title", default=None, help="report title (default: the name in the results)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from llmspec.grading import atomic, output

    dirs = [Path(d) for d in args.dirs]
    for d in dirs:
        if not d.is_dir():
            print(f"llmspec merge: {d}: not a directory", file=sys.stderr)
            return 2
    results = output.collect_results(dirs)
    if not results:
        print("llmspec merge: no complete results.json found under " + ", ".join(map(str, dirs)), file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for d in dirs:
        if d.resolve() == out.resolve():
            continue
        for f in sorted(d.glob("*/results.json")):
            stage = atomic.staging_dir(out, f.parent.name)
            shutil.copytree(f.parent, stage, dirs_exist_ok=True)
            atomic.replace_dir(stage, out / f.parent.name)
    title = args.title or results[0]["extra_data"]["llmspec"].get("assignment") or "llmspec class report"
    output.write_class(out, results, title)
    print(f"merged {len(results)} submission(s) from {len(dirs)} director(ies) into {out}")
    return 0
