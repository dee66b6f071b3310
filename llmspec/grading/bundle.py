"""The Gradescope autograder zip: ``setup.sh`` and ``run_autograder`` at the root of the archive
(gradescope/autograder_samples docs/specs.md), plus the grading config, the llmspec source and the
book's data so the run itself needs no network.  Gradescope unpacks it into ``/autograder/source``
and runs ``run_autograder`` per submission (files in ``/autograder/submission``, results to
``/autograder/results/results.json``).
"""
from __future__ import annotations

import io
import re
import shlex
import zipfile
from pathlib import Path

from llmspec.grading.config import default_config_text

SETUP_SH = """#!/usr/bin/env bash
# Runs once when Gradescope builds the autograder image.
set -euo pipefail
apt-get update -qq && apt-get install -y -qq python3 python3-pip python3-venv >/dev/null
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install -q --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
/autograder/venv/bin/pip install -q {install}
# seed tiktoken's offline cache from the bundled BPE files (the grading run needs no network)
LLMSPEC_DATA=/autograder/source/data /autograder/venv/bin/python -c "from llmspec.data import ensure_tiktoken_cache; ensure_tiktoken_cache()"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Runs once per submission; llmspec always writes results.json, whatever the submission does.
export LLMSPEC_DATA=/autograder/source/data
cd /autograder
# a fresh report directory every time: a regrade must never be answered from an earlier run's reports
out=$(mktemp -d /tmp/llmspec-grades.XXXXXX)
/autograder/venv/bin/llmspec grade /autograder/submission --single --jobs 1 \\
    --config /autograder/source/grading.toml \\
    --out "$out" \\
    --gradescope-out /autograder/results/results.json
status=$?
rm -rf "$out"
if [ ! -s /autograder/results/results.json ]; then
  echo '{{"score": 0, "output": "The autograder could not run (llmspec exit code '"$status"'); please tell your instructor.", "tests": []}}' > /autograder/results/results.json
fi
"""

PROJECT_PARTS = ("pyproject.toml", "README.md", "llmspec", "spec_tests", "reference", "fixtures")
DISTRIBUTION = "llmspec-ch02"  # pyproject.toml's name: the package index's "llmspec" is another project


def check_requirement(package: str) -> str:
    """``package`` unless it names the package index's unrelated "llmspec" project (which would
    install an LLM client library and no ``llmspec grade``)."""
    name = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", package)
    if name and re.sub(r"[-_.]+", "-", name.group(1)).lower() == "llmspec" and "/" not in package:
        raise ValueError(f"--package {package}: the package index's 'llmspec' is an unrelated project; this one is "
                         f"'{DISTRIBUTION}' (or give the path or URL of its wheel)")
    return package


def build_bundle(config_text: str | None, data: dict[str, Path], package: str | None = None) -> bytes:
    """The zip's bytes.  ``package`` is a pip requirement for this project (a wheel's path or URL, or
    ``llmspec-ch02==VERSION`` once released); when None the source tree is bundled and installed from
    ``/autograder/source/llmspec-src``; ``data`` maps
    ``the-verdict.txt``, ``gpt2/encoder.json``, ``gpt2/vocab.bpe`` to their files."""
    buf = io.BytesIO()
    root = Path(__file__).resolve().parents[2]  # the source tree, if this runs from a checkout
    if package is None and not ((root / "pyproject.toml").is_file() and (root / "spec_tests").is_dir()):
        raise ValueError("llmspec is not running from a source checkout: pass --package REQUIREMENT")
    install = shlex.quote(check_requirement(package)) if package else "/autograder/source/llmspec-src"
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        _add(zf, "setup.sh", SETUP_SH.format(install=install).encode(), 0o755)
        _add(zf, "run_autograder", RUN_AUTOGRADER.format().encode(), 0o755)
        _add(zf, "grading.toml", (config_text or default_config_text()).encode(), 0o644)
        for rel, src in sorted(data.items()):
            src = Path(src)
            if not src.is_file():
                raise FileNotFoundError(f"book data file missing: {src} (run 'llmspec data')")
            _add(zf, f"data/{rel}", src.read_bytes(), 0o644)
        if package is None:
            for part in PROJECT_PARTS:
                p = root / part
                files = [p] if p.is_file() else sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else []
                for f in files:
                    if "__pycache__" in f.parts or f.suffix == ".pyc":
                        continue
                    _add(zf, "llmspec-src/" + f.relative_to(root).as_posix(), f.read_bytes(), 0o644)
    return buf.getvalue()


def _add(zf: zipfile.ZipFile, name: str, data: bytes, mode: int) -> None:
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))  # fixed: the same zip every time
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)
