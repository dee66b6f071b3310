"""Small targets written the way learners write chapter 2: the book's inline 2.6-2.8 notebook cells
(no class), and the MEAP edition's listings.  Each variant is the book's code with one edit, so a
test names exactly the mistake it plants."""
from __future__ import annotations

import json
from pathlib import Path

from paths import BOOK_STYLE

# The bug zoo's book-style file (Listings 2.3-2.6 and an InputEmbeddings class) is the base: the
# targets here are edits of it, never copies.
BASE = BOOK_STYLE.read_text(encoding="utf-8")
_IMPORTS = "import re\n\nimport tiktoken\nimport torch\nfrom torch.utils.data import DataLoader, Dataset\n"


def _edit(text: str, *replacements: tuple[str, str]) -> str:
    """``text`` with each (old, new) replaced; an old text that is absent is a bug in this module."""
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return text


# Listings 2.5-2.6 as notebook cells, and Listing 2.1's reading of the-verdict.txt.
LOADER = (_IMPORTS + "\n\n" + BASE[BASE.index("class GPTDatasetV1"):BASE.index("class InputEmbeddings")]
          + 'with open("the-verdict.txt", "r", encoding="utf-8") as f:\n    raw_text = f.read()\n')

# The MEAP edition's Listings 2.3-2.6 (002_7f7806e88e8c52a4.txt): the regex without ':' ';', a
# dataset that calls plain tokenizer.encode(txt), a loader without num_workers.
MEAP_FILE = _edit(
    BASE,
    ("""r'([,.:;?_!"()\\']|--|\\s)'""", """r'([,.?_!"()\\']|--|\\s)'"""),
    ('tokenizer.encode(txt, allowed_special={"<|endoftext|>"})', "tokenizer.encode(txt)"),
    ("shuffle=True, drop_last=True,\n                         num_workers=0)", "shuffle=True, drop_last=True)"),
    ("drop_last=drop_last,\n        num_workers=num_workers\n", "drop_last=drop_last\n"),
)

# 2.7 and 2.8 as the book's cells (one string per cell).
BOOK_CELLS = [
    "input_ids = torch.tensor([2, 3, 5, 1])\nvocab_size = 6\noutput_dim = 3\n"
    "torch.manual_seed(123)\nembedding_layer = torch.nn.Embedding(vocab_size, output_dim)\n"
    "print(embedding_layer.weight)",
    "print(embedding_layer(input_ids))",
    "vocab_size = 50257\noutput_dim = 256\n"
    "token_embedding_layer = torch.nn.Embedding(vocab_size, output_dim)",
    "max_length = 4\ndataloader = create_dataloader_v1(\n    raw_text, batch_size=8, max_length=max_length,\n"
    "    stride=max_length, shuffle=False\n)\ndata_iter = iter(dataloader)\ninputs, targets = next(data_iter)",
    "token_embeddings = token_embedding_layer(inputs)\nprint(token_embeddings.shape)",
    "context_length = max_length\npos_embedding_layer = torch.nn.Embedding(context_length, output_dim)",
    "pos_embeddings = pos_embedding_layer(torch.arange(max_length))\nprint(pos_embeddings.shape)",
    "input_embeddings = token_embeddings + pos_embeddings\nprint(input_embeddings.shape)",
]

# The book repository's dataloader notebook: context_length = 1024, the batch is ``x``.
DATALOADER_NOTEBOOK_CELLS = [
    "vocab_size = 50257\noutput_dim = 256\ncontext_length = 1024\n\n"
    "token_embedding_layer = torch.nn.Embedding(vocab_size, output_dim)\n"
    "pos_embedding_layer = torch.nn.Embedding(context_length, output_dim)\n\n"
    "max_length = 4\ndataloader = create_dataloader_v1(raw_text, batch_size=8, max_length=max_length, "
    "stride=max_length)",
    "for batch in dataloader:\n    x, y = batch\n\n    token_embeddings = token_embedding_layer(x)\n"
    "    pos_embeddings = pos_embedding_layer(torch.arange(max_length))\n\n"
    "    input_embeddings = token_embeddings + pos_embeddings\n\n    break",
    "print(input_embeddings.shape)",
]

# One planted mistake each: (old text, new text) replacements applied, in order, to the book cells.
_POS_BY_VOCAB = ("torch.nn.Embedding(context_length, output_dim)", "torch.nn.Embedding(vocab_size, output_dim)")
_SWAP = "@@layer@@"
MISTAKES: dict[str, list[tuple[str, str]]] = {
    "pos_sized_by_vocab": [_POS_BY_VOCAB],
    # runs only with a vocabulary-sized positional layer (the token ids are far above context_length)
    "pos_indexed_by_token_ids": [_POS_BY_VOCAB, ("pos_embedding_layer(torch.arange(max_length))",
                                                 "pos_embedding_layer(inputs)")],
    # the two names exchanged everywhere: the "token" layer has context_length rows
    "layers_swapped": [("token_embedding_layer", _SWAP), ("pos_embedding_layer", "token_embedding_layer"),
                       (_SWAP, "pos_embedding_layer")],
    "positional_part_missing": [("input_embeddings = token_embeddings + pos_embeddings",
                                 "input_embeddings = token_embeddings")],
    "positional_layer_missing": [("pos_embedding_layer = torch.nn.Embedding(context_length, output_dim)", ""),
                                 ("pos_embeddings = pos_embedding_layer(torch.arange(max_length))\n"
                                  "print(pos_embeddings.shape)", ""),
                                 ("token_embeddings + pos_embeddings", "token_embeddings")],
    "unseeded_embedding_layer": [("torch.manual_seed(123)\n", "")],
}


def notebook(path: Path, cells: list[str]) -> Path:
    """Write ``cells`` as a Jupyter notebook (nbformat 4) at ``path``."""
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
          "cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                     "source": src} for src in cells]}
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def book_cells(*replacements: tuple[str, str]) -> list[str]:
    """The book's 2.6-2.8 cells (Listings 2.5-2.6 first), each (old, new) replaced across them."""
    return [LOADER, *_edit("\n#%%\n".join(BOOK_CELLS), *replacements).split("\n#%%\n")]


def book_notebook(path: Path, mistake: str | None = None) -> Path:
    """The book's 2.6-2.8 cells, with the planted ``mistake`` (a key of :data:`MISTAKES`) if any."""
    return notebook(path, book_cells(*MISTAKES.get(mistake or "", [])))


def run_suites(jobs: dict[str, list[str]], cwd: Path) -> dict[str, tuple[int, str, dict | None]]:
    """Run ``python -m llmspec check ARGS --report <name>.json`` for every job, two at a time (the
    machine has 2 cores); ``{name: (exit code, output, report or None)}``."""
    import os
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor

    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMSPEC_IMPL")}

    def one(name: str, args: list[str]) -> tuple[int, str, dict | None]:
        report = cwd / f"{name}.json"
        proc = subprocess.run([sys.executable, "-m", "llmspec", "check", *args, "--report", str(report)],
                              capture_output=True, text=True, env=env, cwd=cwd, timeout=600)
        data = json.loads(report.read_text()) if report.is_file() else None
        return proc.returncode, proc.stdout + proc.stderr, data

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(one, name, args) for name, args in jobs.items()}
        return {name: f.result() for name, f in futures.items()}
