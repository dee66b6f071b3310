"""Project-wide pytest setup for llmspec's own tests (the spec suite's options live in the plugin,
``llmspec.plugin``, so they work from any directory once llmspec is installed).

A developer checkout sits next to ``../shared/data``; when ``LLMSPEC_DATA`` is unset we point it
there, so ``pytest`` works with no extra step.  Anywhere else, set ``LLMSPEC_DATA`` or run
``llmspec data fetch``.
"""
from __future__ import annotations

import os
from pathlib import Path

_SHARED_DATA = Path(__file__).resolve().parent.parent / "shared" / "data"
if "LLMSPEC_DATA" not in os.environ and _SHARED_DATA.is_dir():
    os.environ["LLMSPEC_DATA"] = str(_SHARED_DATA)
