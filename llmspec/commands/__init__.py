"""The ``llmspec`` subcommands, one module each (see :data:`llmspec.cli.COMMANDS`)."""
from __future__ import annotations

import argparse

from llmspec.stages import STAGES


def add_target_options(
    parser: argparse.ArgumentParser,
    stages_default: str = "the six chapter stages, plus bpe_scratch when the target defines it",
) -> None:
    """``--impl-map``, ``--stages`` and ``--isolate``: how every command that runs an implementation
    names it, narrows it and isolates it (one definition, so the commands cannot drift apart)."""
    parser.add_argument("--impl-map", action="append", default=[], metavar="NAME=OTHER",
                        help="accept other names, e.g. create_dataloader_v1=make_loader (repeatable)")
    parser.add_argument("--stages", default=None,
                        help=f"comma-separated stages ({', '.join(STAGES)}) or 'all' (default: {stages_default})")
    parser.add_argument("--isolate", action="store_true", help="run the implementation in a worker process")
