"""A Jupyter notebook as a target: its code cells run in order in one namespace, as "Run All" would.

A cell that only IPython understands (``!pip install``, ``%matplotlib``) is skipped with a note, and
so is a cell that raises: the later cells still run, and the stages they define are still judged.
"""
from __future__ import annotations

import re
import sys
import types
from pathlib import Path
from typing import Any

from llmspec.i18n import _
from llmspec.runtime.conditions import on_sys_path
from llmspec.runtime.resolve import TargetSpec, one_line, read_code_cells, unique_name

# A notebook line that only IPython understands: shell (!cmd), line/cell magics (%x, %%x), help (?x).
_MAGIC_LINE = re.compile(r"^\s*(!|%|\?)")


def _display(*objects: Any, **_: Any) -> None:
    """IPython's ``display`` as plain print, so notebooks that show a DataFrame or tensor still run."""
    for obj in objects:
        print(repr(obj))


def load_notebook(spec: TargetSpec) -> tuple[dict[str, object], list[str]]:
    path = Path(spec.location)
    cells = read_code_cells(path, spec.display)
    name = unique_name(path.stem)
    module = types.ModuleType(name)
    module.__file__ = str(path)
    module.__dict__["display"] = _display
    sys.modules[name] = module  # classes defined in cells get a real __module__ (pickling, dataclasses)
    namespace = vars(module)
    notes: list[str] = []
    with on_sys_path(path.parent):
        for number, source in cells:
            if not source.strip():
                continue
            first = next((ln.strip() for ln in source.splitlines() if ln.strip()), "")
            label = _("cell {number} ({first})").format(number=number, first=_short(first))
            magic = next((ln.strip() for ln in source.splitlines() if _MAGIC_LINE.match(ln)), None)
            if magic is not None:
                notes.append(_("{cell} skipped: IPython shell/magic syntax `{line}`").format(cell=label, line=_short(magic)))
                continue
            try:
                code = compile(source, f"{path}#cell{number}", "exec")
                exec(code, namespace)
            except KeyboardInterrupt:
                raise
            except SyntaxError as exc:
                notes.append(_("{cell} skipped: SyntaxError: {error} (line {line} of the cell)").format(
                    cell=label, error=exc.msg, line=exc.lineno))
            except BaseException as exc:  # SystemExit from a cell is a failed cell, too
                notes.append(_("{cell} skipped: {error}").format(cell=label, error=one_line(exc)))
    return namespace, notes


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
