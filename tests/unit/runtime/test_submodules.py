"""Which file's definition is judged when a chapter is split over files (llmspec.runtime.submodules):
the one the other files import, else the one named for the stage, else the first by file name (a
``.py`` before a notebook), said in a note unless the copies are the same code; 2.5's ``tokenizer`` is
taken only where it is tiktoken-like."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from test_split_chapters import _HEAD, V1_CELL, _part

import book_targets as T
from llmspec.runtime.target import load, resolve

_V1 = _part("class SimpleTokenizerV1", "class SimpleTokenizerV2")
_OLD_V1 = _V1.replace("return ids", "return ids[::-1]")  # an old copy that encodes wrongly


def _two_copies(directory: Path, name: str = "SimpleTokenizerV1", entry: str | None = None) -> Path:
    """``tokenizer_v1.py`` (the old copy) and ``tokenizers.py`` (the new) both define ``name``; an
    entry script, when given, imports it from ``entry``."""
    directory.mkdir()
    (directory / "tokenizer_v1.py").write_text(_HEAD + _OLD_V1.replace("SimpleTokenizerV1", name))
    (directory / "tokenizers.py").write_text(_HEAD + _V1.replace("SimpleTokenizerV1", name))
    if entry:
        (directory / "main.py").write_text(f"from {entry} import {name}\n")
    return directory


def _judged(loaded, name: str) -> str:
    return Path(sys.modules[loaded.namespace[name].__module__].__file__).name


@pytest.mark.parametrize("entry, chosen, why", [
    ("tokenizers", "tokenizers.py", "the one your other files import"),
    ("tokenizer_v1", "tokenizer_v1.py", "the one your other files import"),
    (None, "tokenizer_v1.py", "its file is named for the stage")])
def test_of_two_files_defining_a_book_name_the_rule_chooses_and_the_note_says(
        tmp_path: Path, entry: str | None, chosen: str, why: str) -> None:
    """An old and a new copy of a listing in one folder: the one the folder's other files import is
    judged, else the one whose file is named for the stage, and the note names both files."""
    loaded = load(resolve(str(_two_copies(tmp_path / "ch2", entry=entry))))
    try:
        assert _judged(loaded, "SimpleTokenizerV1") == chosen
        assert (f"SimpleTokenizerV1: defined in tokenizer_v1.py and tokenizers.py; judged the one in {chosen} "
                f"({why})") in loaded.notes, loaded.notes
    finally:
        loaded.close()


def test_a_near_name_in_two_files_is_bound_where_the_note_says(tmp_path: Path) -> None:
    """Two files define the near name ``SimpleTokenizer``: the did-you-mean's ``--impl-map`` binds
    the copy the note names, by the same rule (here: the one the entry imports, not the first by
    file name), and with none imported the first by file name, with how to choose another."""
    loaded = load(resolve(str(_two_copies(tmp_path / "ch2", "SimpleTokenizer", entry="tokenizers"))))
    try:
        assert "--impl-map SimpleTokenizerV1=SimpleTokenizer" in loaded.hints["SimpleTokenizerV1"]
        assert "SimpleTokenizer: defined in tokenizer_v1.py and tokenizers.py; judged the one in tokenizers.py " \
               "(the one your other files import)" in loaded.notes, loaded.notes
    finally:
        loaded.close()
    loaded = load(resolve(str(tmp_path / "ch2")), {"SimpleTokenizerV1": "SimpleTokenizer"})
    try:
        assert _judged(loaded, "SimpleTokenizer") == "tokenizers.py"
        tok = loaded.get("SimpleTokenizerV1")({"a": 0, "b": 1})
        assert tok.encode("a b") == [0, 1]  # the new copy's encode
    finally:
        loaded.close()
    (tmp_path / "ch2" / "main.py").unlink()
    loaded = load(resolve(str(tmp_path / "ch2")))
    try:
        assert _judged(loaded, "SimpleTokenizer") == "tokenizer_v1.py"
        assert any(n.startswith("SimpleTokenizer: defined in tokenizer_v1.py and tokenizers.py; judged the one in "
                                "tokenizer_v1.py (the first by file name; to judge another, import it")
                   for n in loaded.notes), loaded.notes
    finally:
        loaded.close()


def test_the_file_named_for_the_stage_wins_over_the_first_by_name(tmp_path: Path) -> None:
    (tmp_path / "ch2").mkdir()
    (tmp_path / "ch2" / "attempt_old.py").write_text(_HEAD + _OLD_V1)
    (tmp_path / "ch2" / "simple_tokenizer_v1.py").write_text(_HEAD + _V1)
    loaded = load(resolve(str(tmp_path / "ch2")))
    try:
        assert _judged(loaded, "SimpleTokenizerV1") == "simple_tokenizer_v1.py", loaded.notes
        assert loaded.get("SimpleTokenizerV1")({"a": 0, "b": 1}).encode("a b") == [0, 1]
    finally:
        loaded.close()


def test_the_module_level_tokenizer_is_taken_only_where_it_is_tiktoken_like(tmp_path: Path) -> None:
    """2.5's ``tokenizer`` is GPT-2's encoding; another file's ``tokenizer = SimpleTokenizerV2(vocab)``
    is not it, though its name is the same (and sorts first here)."""
    folder = tmp_path / "ch02"
    folder.mkdir()
    (folder / "a_words.py").write_text("class Tok:\n    def encode(self, t):\n        return []\n\ntokenizer = Tok()\n")
    (folder / "bpe.py").write_text("import tiktoken\ntokenizer = tiktoken.get_encoding('gpt2')\n")
    loaded = load(resolve(str(folder)))
    try:
        assert loaded.get("tokenizer").n_vocab == 50257
        assert "tokenizer found in bpe.py" in loaded.notes and not any("a_words" in n for n in loaded.notes)
    finally:
        loaded.close()


def test_a_scratch_notebooks_broken_copy_is_not_judged_silently(tmp_path: Path) -> None:
    """A copy of V1 that differs in one name looked up (``str_to_int`` for ``int_to_str``) is another
    definition: a note says which is judged, and a .py file wins over a notebook on a tie."""
    folder = tmp_path / "ch02"
    folder.mkdir()
    (folder / "tokenizers.py").write_text(V1_CELL + "    def decode(self, ids):\n        inv = self.int_to_str\n"
                                          "        return ' '.join(inv[i] for i in ids)\n")
    T.notebook(folder / "scratch.ipynb", [V1_CELL + "    def decode(self, ids):\n        inv = self.str_to_int\n"
                                          "        return ' '.join(inv[i] for i in ids)\n"])
    loaded = load(resolve(str(folder)))
    try:
        assert loaded.get("SimpleTokenizerV1").__module__.endswith(".tokenizers")
        assert any(n.startswith("SimpleTokenizerV1: defined in scratch.ipynb and tokenizers.py; judged the one in "
                                "tokenizers.py") for n in loaded.notes), loaded.notes
    finally:
        loaded.close()
