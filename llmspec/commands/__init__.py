"""The ``llmspec`` subcommands, one module each (see :data:`llmspec.cli.COMMANDS`)."""
from __future__ import annotations

import argparse

from llmspec.stages import STAGES


def add_target_argument(parser: argparse.ArgumentParser) -> None:
    """The optional positional ``target`` of ``check`` and ``record`` (the reference when left out)."""
    parser.add_argument("target", nargs="?", help=".py file, package dir, dotted module or .ipynb "
                        "(default: the reference implementation)")


def add_target_options(
    parser: argparse.ArgumentParser,
    stages_default: str = "the six chapter stages, plus bpe_scratch when the target defines it",
) -> None:
    """``--impl-map``, ``--stages``, ``--isolate`` and ``--in-process``: how every command that runs an implementation
    names it, narrows it and isolates it (one definition, so the commands cannot drift apart)."""
    parser.add_argument("--impl-map", action="append", default=[], metavar="NAME=OTHER",
                        help="accept other names, e.g. create_dataloader_v1=make_loader (repeatable)")
    parser.add_argument("--stages", default=None,
                        help=f"comma-separated stages ({', '.join(STAGES)}) or 'all' (default: {stages_default})")
    parser.add_argument("--isolate", action="store_true",
                        help="run the implementation in the graders' sandbox (a worker process without your "
                        "permissions)")
    parser.add_argument("--in-process", action="store_true",
                        help="run the implementation in this process, for debugging with a debugger (breakpoint()); "
                        "a hang, a crash or os._exit in it then stops the command itself (default: a worker "
                        "process with your own permissions, which reports them)")


def add_language_option(parser: argparse.ArgumentParser) -> None:
    """``--lang en|zh|ko``: the language of everything the learner reads (default: ``LLMSPEC_LANG``,
    else the locale, else English)."""
    from llmspec.i18n import LANGUAGES

    parser.add_argument("--lang", choices=LANGUAGES, default=None,
                        help="language of the explanations (default: $LLMSPEC_LANG, else the locale)")
