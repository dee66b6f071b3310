"""Cells of the corpus's two bonus notebooks: ``ch02/05_bpe-from-scratch`` of the book repository, as
learners type it (the tokenizer classes come from ``tests/suite/bpe_variants/notebook_style.py`` and
``notebook_simple_style.py``, written in our words and proven there against the stage).

What these entries stand for: a notebook run in the book repository's own folder, so it reads the
story from ``../01_main-chapter-code/`` and looks for GPT-2's files in
``../02_bonus_bytepair-encoder/gpt2_model/`` (both notebooks' layout), downloading what is missing;
training at the size the book repository's tests.py uses (1000); demo cells that print.  The
styles were studied in the book repository's bonus notebooks; no code is copied from them.
"""
from __future__ import annotations

import ast
from pathlib import Path

from corpus_parts import BOOK_URL, fill

BPE_VARIANTS = Path(__file__).resolve().parent.parent / "bpe_variants"
GPT2_URL = "https://openaipublic.blob.core.windows.net/gpt-2/models/124M/"


def tokenizer_cell(variant: str) -> str:
    """The code of ``tests/suite/bpe_variants/<variant>.py`` without its module docstring: the class cell."""
    source = (BPE_VARIANTS / f"{variant}.py").read_text(encoding="utf-8")
    first = ast.parse(source).body[1]  # the statement after the docstring
    return "\n".join(source.splitlines()[first.lineno - 1:])


BYTES_DEMO = fill("""
    text = "This is some text"
    byte_ary = bytearray(text, "utf-8")
    ids = list(byte_ary)
    print(ids)
    print("Number of characters:", len(text), "- number of token IDs:", len(ids))
    """)

# Both notebooks show what GPT-2's own tokenizer makes of the same text with tiktoken, early on
TIKTOKEN_COMPARISON = fill("""
    import tiktoken

    gpt2_tokenizer = tiktoken.get_encoding("gpt2")
    for token_id in gpt2_tokenizer.encode(text):
        print(token_id, "->", gpt2_tokenizer.decode([token_id]))
    """)

# bpe-from-scratch.ipynb's way: look in the book repository's folders first, fetch into the first
FETCH_HELPER = fill("""
    import os
    import requests


    def fetch_if_missing(url, filename, search_dirs):
        for folder in search_dirs:
            path = os.path.join(folder, filename)
            if os.path.exists(path):
                print(f"{filename} found in {path}")
                return path
        path = os.path.join(search_dirs[0], filename)
        try:
            response = requests.get(url, timeout=60)
            response.raise_for_status()
            with open(path, "wb") as f:
                f.write(response.content)
        except Exception as exc:
            print(f"could not fetch {filename}: {exc}")
        return path


    verdict_path = fetch_if_missing(
        "@URL@",
        "the-verdict.txt",
        search_dirs=["ch02/01_main-chapter-code/", "../01_main-chapter-code/", "."],
    )
    with open(verdict_path, "r", encoding="utf-8") as f:
        text = f.read()
    """, url=BOOK_URL)

TRAIN = fill("""
    tokenizer = BPETokenizerSimple()
    tokenizer.train(text, vocab_size=1000, allowed_special={"<|endoftext|>"})
    print(len(tokenizer.vocab), len(tokenizer.bpe_merges))
    """)

TRAINED_DEMO = fill("""
    input_text = "Jack embraced beauty through art and life."
    token_ids = tokenizer.encode(input_text)
    print(token_ids)
    for token_id in token_ids:
        print(f"{token_id} -> {tokenizer.decode([token_id])}")
    print(tokenizer.decode(token_ids))
    """)

GPT2_DEMO = fill("""
    gpt2_dirs = ["ch02/02_bonus_bytepair-encoder/gpt2_model/", "../02_bonus_bytepair-encoder/gpt2_model/", "."]
    paths = {name: fetch_if_missing("@GPT2@" + name, name, gpt2_dirs) for name in ("vocab.bpe", "encoder.json")}

    tokenizer_gpt2 = BPETokenizerSimple()
    tokenizer_gpt2.load_vocab_and_merges_from_openai(
        vocab_path=paths["encoder.json"], bpe_merges_path=paths["vocab.bpe"]
    )
    print(len(tokenizer_gpt2.vocab))
    token_ids = tokenizer_gpt2.encode("This is some text")
    print(token_ids, tokenizer_gpt2.decode(token_ids))
    """, gpt2=GPT2_URL)

# bpe-from-scratch-simple.ipynb's way: the story read from the chapter's folder, fetched if missing
READ_FROM_CHAPTER_FOLDER = fill("""
    import os
    import urllib.request

    file_path = "../01_main-chapter-code/the-verdict.txt"
    if not os.path.exists(file_path):
        urllib.request.urlretrieve("@URL@", file_path)

    with open(file_path, "r", encoding="utf-8") as f:
        text = f.read()
    """, url=BOOK_URL)

EDGE_CASES = fill("""
    tok = BPETokenizerSimple()
    tok.train("", vocab_size=270)
    tok.train("H", vocab_size=270)
    tok.train("He", vocab_size=270)
    print("edge cases pass")
    """)

NOTEBOOK = (BYTES_DEMO, TIKTOKEN_COMPARISON, tokenizer_cell("notebook_style"), FETCH_HELPER, TRAIN, TRAINED_DEMO,
            GPT2_DEMO)
SIMPLE_NOTEBOOK = (BYTES_DEMO, TIKTOKEN_COMPARISON, tokenizer_cell("notebook_simple_style"), EDGE_CASES,
                   READ_FROM_CHAPTER_FOLDER, TRAIN, TRAINED_DEMO)
