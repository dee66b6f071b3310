"""Write the corpus (``corpus_manifest.py``) into ``generated/``: ``.py`` files, notebooks, package directories.

The files are not committed: they are composed from :mod:`corpus_parts`, and committing them would put
the same listings into the tree two dozen times.  :func:`ensure_built` rewrites whatever is missing
or stale; ``python tests/suite/corpus/corpus_build.py`` does it by hand (e.g. to open an entry in Jupyter or hand
it to ``llmspec check``)."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from corpus_manifest import Entry, Markdown, entries  # noqa: E402

OUT = HERE / "generated"


def as_script(cells: tuple[str | Markdown, ...]) -> str:
    """The cells as one module; markdown becomes comments, as in a script exported from a notebook."""
    chunks = []
    for cell in cells:
        if isinstance(cell, Markdown):
            chunks.append("\n".join("# " + line if line else "#" for line in cell.text.splitlines()))
        else:
            chunks.append(cell.strip("\n"))
    return "\n\n\n".join(chunks) + "\n"


def as_notebook(cells: tuple[str | Markdown, ...]) -> str:
    """An nbformat-4 notebook, one cell each, never executed (no outputs)."""
    out = []
    for cell in cells:
        text = cell.text if isinstance(cell, Markdown) else cell.strip("\n")
        lines = text.splitlines(keepends=True)
        if isinstance(cell, Markdown):
            out.append({"cell_type": "markdown", "metadata": {}, "source": lines})
        else:
            out.append({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                        "source": lines})
    nb = {"cells": out, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                                    "name": "python3"},
                                     "language_info": {"name": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def contents(entry: Entry) -> dict[str, str]:
    """Relative path -> text of every file the entry consists of."""
    if entry.fmt == "package":  # a folder: its .py files as scripts, its notebooks as notebooks
        return {f"{entry.name}/{name}": (as_notebook if name.endswith(".ipynb") else as_script)(tuple(cells))
                for name, cells in entry.files.items()}
    render = as_notebook if entry.fmt == "ipynb" else as_script
    return {entry.filename: render(entry.cells)}


def ensure_built(selected: list[Entry] | None = None, out: Path = OUT) -> dict[str, Path]:
    """Write each entry under ``out`` unless it is already there with the same text; name -> path."""
    paths = {}
    for entry in selected or entries():
        for rel, text in contents(entry).items():
            path = out / rel
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
        paths[entry.name] = out / entry.filename
    return paths


if __name__ == "__main__":
    if OUT.exists():
        shutil.rmtree(OUT)
    for name, path in ensure_built().items():
        print(f"{name:28} {path}")
