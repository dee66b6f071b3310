"""The distribution ships what the commands need, and the CLI lists every command.

The CLI tolerates a missing command module (so one broken command never hides the others), so a
command left out of the wheel would vanish silently: these tests make that loud.
"""
from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from llmspec.cli import COMMANDS, build_parser

from paths import ROOT


def test_every_python_package_is_in_the_distribution() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    listed = set(config["packages"])
    mapped = {pkg: Path(d) for pkg, d in config["package-dir"].items()}
    found = set()
    for top in ("llmspec", "reference", "spec_tests"):
        for init in (ROOT / top).rglob("__init__.py"):
            found.add(".".join(init.parent.relative_to(ROOT).parts))
    found |= set(mapped)
    assert found == listed, f"pyproject packages differ from the source tree: {sorted(found ^ listed)}"


def test_cli_lists_every_command() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) == set(COMMANDS)


def test_llmspec_help_and_import_reference() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "llmspec", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for name in COMMANDS:
        assert name in out
    # ``import reference`` reads no data and needs no network
    subprocess.run([sys.executable, "-c", "import reference"], check=True, env={"PATH": "/usr/bin"})
