"""Resolving and loading targets (``llmspec.runtime.target``): every kind loads, every failure is one clear
line, notebooks skip what they cannot run and say so, and the network fails fast."""
from __future__ import annotations

import io
import json
import os
import socket
import sys
import time
from pathlib import Path

import pytest

from llmspec.sandbox import netblock
from llmspec.errors import TargetError
from llmspec.stages import CONTRACT_NAMES
from llmspec.runtime.resolve import TargetSpec
from llmspec.runtime.target import LoadedTarget, load, resolve

V1 = '''
class SimpleTokenizerV1:
    def __init__(self, vocab):
        self.vocab = vocab
    def encode(self, text):
        return [self.vocab[w] for w in text.split()]
    def decode(self, ids):
        inv = {i: w for w, i in self.vocab.items()}
        return " ".join(inv[i] for i in ids)
'''


def write_notebook(path: Path, sources: list[str]) -> Path:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# chapter 2"]}]
    cells += [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": src.splitlines(keepends=True)}
        for src in sources
    ]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def loaded(target: str | Path, impl_map: dict[str, str] | None = None) -> LoadedTarget:
    return load(resolve(str(target)), impl_map)


# --- resolve -------------------------------------------------------------------------------------


def test_resolve_kinds(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(V1)
    write_notebook(tmp_path / "b.ipynb", ["x = 1"])
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(V1)
    assert resolve(str(tmp_path / "a.py")).kind == "file"
    assert resolve(str(tmp_path / "b.ipynb")).kind == "notebook"
    assert resolve(str(pkg)).kind == "package"
    spec = resolve("reference")
    assert (spec.kind, spec.location) == ("module", "reference")


def test_a_module_name_in_the_cwd_is_its_file(tmp_path: Path, monkeypatch) -> None:
    """``llmspec check my_ch02`` from the folder holding my_ch02.py: the console script does not put
    the cwd on ``sys.path`` as ``python -m`` does, so the name is looked for there as a file."""
    (tmp_path / "my_ch02.py").write_text(V1)
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "ch02.py").write_text(V1)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.path", [p for p in sys.path if p not in ("", str(tmp_path))])
    for name, file in (("my_ch02", tmp_path / "my_ch02.py"), ("lib.ch02", tmp_path / "lib" / "ch02.py")):
        spec = resolve(name)
        assert (spec.kind, spec.location) == ("file", str(file))
    with pytest.raises(TargetError, match="no such file, directory or importable module"):
        resolve("my_ch03")


def test_directory_with_one_entry_point_uses_it(tmp_path: Path) -> None:
    (tmp_path / "ch02.py").write_text(V1)
    (tmp_path / "test_ch02.py").write_text("")
    (tmp_path / "conftest.py").write_text("")
    spec = resolve(str(tmp_path))
    assert (spec.kind, Path(spec.location).name) == ("file", "ch02.py")
    assert spec.display.endswith("/ch02.py")


def test_directory_with_several_entry_points_is_a_chapter_split_into_them(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("")
    write_notebook(tmp_path / "b.ipynb", [])
    assert resolve(str(tmp_path)).kind == "directory"  # loaded together: tests/unit/runtime/test_split_chapters.py


@pytest.mark.parametrize("target", ["missing.py", "missing_dir/", "no_such_module_xyz", "x.ipynb"])
def test_missing_target_is_one_line(target: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TargetError) as info:
        resolve(target)
    assert target.rstrip("/") in str(info.value) and "\n" not in str(info.value)


def test_a_folder_named_without_a_slash_is_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``python -m llmspec check ch2`` puts the working directory on ``sys.path``, where a folder
    without ``__init__.py`` imports as an empty namespace package: it is the learner's folder."""
    chapter = tmp_path / "ch2"
    chapter.mkdir()
    (chapter / "bpe.py").write_text("import tiktoken\n")
    (chapter / "other.py").write_text("x = 1\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend("")
    assert resolve("ch2") == TargetSpec("directory", str(chapter.resolve()), "ch2")


def test_a_file_of_its_own_not_found_says_where_the_code_runs(tmp_path: Path) -> None:
    """Code runs in a scratch folder: a relative file of the learner's that is not there is named,
    with where the code runs; the book's story is found at the path the code reads it from."""
    (tmp_path / "ch02.py").write_text('NOTES = open("notes.txt").read()\n')
    with pytest.raises(TargetError, match=r"No such file or directory: 'notes.txt' \(your code runs in a scratch "):
        loaded(tmp_path / "ch02.py")
    nb = write_notebook(tmp_path / "ch02.ipynb", ['story = open("data/the-verdict.txt").read()', 'open("notes.txt")'])
    t = loaded(nb)
    assert len(t.namespace["story"]) == 20479 and "scratch folder" in t.notes[0] and "cell 3" in t.notes[0]
    t.close()


def test_the_learners_own_small_files_beside_the_code_are_copied(tmp_path: Path) -> None:
    """A file of the learner's own that the code names by a relative path, in the code's folder, is
    copied into the scratch folder at the same path (a bare name, a folder path, joined literals);
    the book's text is never replaced by the learner's file of the same name."""
    (tmp_path / "data").mkdir()
    (tmp_path / "notes.txt").write_text("my notes\n")
    (tmp_path / "data" / "my_text.txt").write_text("my text\n")
    (tmp_path / "the-verdict.txt").write_text("not the book's\n")
    (tmp_path / "ch02.py").write_text(
        "import os\nfrom pathlib import Path\n"
        "NOTES = open('notes.txt').read()\n"
        "MINE = open('data/my_text.txt').read()\n"
        "AGAIN = (Path('data') / 'my_text.txt').read_text() + open(os.path.join('.', 'notes.txt')).read()\n"
        "STORY = open('the-verdict.txt').read()\n")
    t = loaded(tmp_path / "ch02.py")
    try:
        assert (t.namespace["NOTES"], t.namespace["MINE"]) == ("my notes\n", "my text\n")
        assert t.namespace["AGAIN"] == "my text\nmy notes\n"
        assert t.namespace["STORY"].startswith("I HAD always thought Jack Gisburn")
    finally:
        t.close()


def test_only_small_regular_files_inside_the_codes_folder_are_copied(tmp_path: Path) -> None:
    """Never a path that climbs out of the code's folder, never a link (of the file or of a folder on
    the way), never a file larger than the bound, never more files than the bound."""
    from llmspec.runtime.conditions import OWN_FILE_BYTES, OWN_FILES, place_own_files

    home, outside, work = tmp_path / "home", tmp_path / "outside", tmp_path / "work"
    for d in (home / "sub", outside, work):
        d.mkdir(parents=True)
    (outside / "secret.txt").write_text("secret")
    (home / "ok.txt").write_text("ok")
    (home / "sub" / "ok.txt").write_text("ok too")
    (home / "big.txt").write_bytes(b"x" * (OWN_FILE_BYTES + 1))
    (home / "link.txt").symlink_to(outside / "secret.txt")
    (home / "linked").symlink_to(outside)
    (home / "fifo").mkdir()
    os.mkfifo(home / "fifo" / "pipe")
    asked = ["ok.txt", "sub/ok.txt", "./sub/ok.txt", "../outside/secret.txt", "sub/../../outside/secret.txt",
             "big.txt", "link.txt", "linked/secret.txt", "fifo/pipe", "missing.txt", str(outside / "secret.txt")]
    assert place_own_files(home, work, asked) == ["ok.txt", "sub/ok.txt"]
    assert sorted(p.relative_to(work).as_posix() for p in work.rglob("*") if p.is_file()) == ["ok.txt", "sub/ok.txt"]
    assert place_own_files(home, work, ["ok.txt"]) == []  # a file already there is never replaced
    many = [f"f{i:02}.txt" for i in range(OWN_FILES + 5)]
    for name in many:
        (home / name).write_text(name)
    assert place_own_files(home, tmp_path / "work2", many) == many[:OWN_FILES]


def test_unsupported_file_type(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(TargetError, match="not a .py file or .ipynb"):
        resolve(str(tmp_path / "notes.txt"))


# --- load: files, packages, modules --------------------------------------------------------------


def test_file_loads_in_scratch_dir_with_verdict(tmp_path: Path, data_dir: Path, capsys) -> None:
    (tmp_path / "sub.py").write_text(
        V1 + "raw_text = open('the-verdict.txt', encoding='utf-8').read()\nprint('loaded', len(raw_text))\n"
    )
    t = loaded(tmp_path / "sub.py")
    try:
        expected = (data_dir / "the-verdict.txt").read_text(encoding="utf-8")
        assert t.namespace["raw_text"] == expected
        assert t.names["SimpleTokenizerV1"] == "SimpleTokenizerV1"
        assert t.names["SimpleTokenizerV2"] is None
        assert f"loaded {len(expected)}" not in capsys.readouterr().out  # it ran (raw_text), unseen
        assert t.scratch is not None and (t.scratch / "the-verdict.txt").is_file()
    finally:
        t.close()
    assert t.scratch is None


def test_two_files_with_same_sibling_never_clash(tmp_path: Path) -> None:
    for n in ("one", "two"):
        d = tmp_path / n
        d.mkdir()
        (d / "helpers.py").write_text(f"WHO = {n!r}\n")
        (d / "main.py").write_text("from helpers import WHO\n")
    first, second = loaded(tmp_path / "one" / "main.py"), loaded(tmp_path / "two" / "main.py")
    assert (first.namespace["WHO"], second.namespace["WHO"]) == ("one", "two")
    assert first.namespace["__name__"] != second.namespace["__name__"]
    assert "helpers" not in sys.modules
    first.close()
    second.close()


def test_package_relative_imports_and_submodule_names(tmp_path: Path) -> None:
    pkg = tmp_path / "mysub"
    pkg.mkdir()
    (pkg / "tok.py").write_text(V1)
    (pkg / "emb.py").write_text("class InputEmbeddings:\n    pass\n")
    (pkg / "__init__.py").write_text("from .tok import SimpleTokenizerV1\nfrom . import emb\n")
    t = loaded(pkg)
    assert t.spec.kind == "package"
    assert t.names["SimpleTokenizerV1"] == "SimpleTokenizerV1"
    assert t.names["InputEmbeddings"] == "InputEmbeddings"  # defined in a submodule, not re-exported
    assert any("InputEmbeddings found in emb.py" in n for n in t.notes)
    t.close()


def test_dotted_module_reference_loads_with_lazy_tokenizer() -> None:
    t = loaded("reference")
    assert all(t.names[c] == c for c in CONTRACT_NAMES), t.names
    tok = t.get("tokenizer")
    assert tok is not None and tok.decode(tok.encode("Hello world")) == "Hello world"
    t.close()


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("x = 1\n\ndef f(:\n    pass\n")
    with pytest.raises(TargetError) as info:
        loaded(tmp_path / "broken.py")
    msg = str(info.value)
    assert f"{tmp_path / 'broken.py'}:3: SyntaxError" in msg and "\n" not in msg


def test_import_error_names_the_failing_line(tmp_path: Path) -> None:
    (tmp_path / "needs.py").write_text("import os\nimport not_a_real_module_zz\n")
    with pytest.raises(TargetError) as info:
        loaded(tmp_path / "needs.py")
    msg = str(info.value)
    assert "needs.py:2" in msg and "ModuleNotFoundError" in msg and "not_a_real_module_zz" in msg
    assert "\n" not in msg


def test_system_exit_at_import_is_a_target_error(tmp_path: Path) -> None:
    (tmp_path / "quits.py").write_text("import sys\nsys.exit(2)\n")
    with pytest.raises(TargetError, match="SystemExit"):
        loaded(tmp_path / "quits.py")


# --- impl_map ------------------------------------------------------------------------------------


def test_impl_map_renames_and_reports_missing(tmp_path: Path) -> None:
    (tmp_path / "sub.py").write_text(V1 + "def make_loader(txt, **kw):\n    return []\n")
    t = loaded(tmp_path / "sub.py", {"create_dataloader_v1": "make_loader", "InputEmbeddings": "Emb"})
    assert t.names["create_dataloader_v1"] == "make_loader"
    assert t.get("create_dataloader_v1") is t.namespace["make_loader"]
    assert t.names["InputEmbeddings"] is None
    assert any("InputEmbeddings=Emb" in n and "no 'Emb'" in n for n in t.notes)
    t.close()


def test_impl_map_unknown_contract_name_lists_valid_ones(tmp_path: Path) -> None:
    (tmp_path / "sub.py").write_text(V1)
    with pytest.raises(TargetError) as info:
        loaded(tmp_path / "sub.py", {"make_loader": "create_dataloader_v1"})
    assert "make_loader" in str(info.value)
    assert all(c in str(info.value) for c in CONTRACT_NAMES)


# --- notebooks -----------------------------------------------------------------------------------


def test_notebook_skips_failing_magic_and_network_cells(tmp_path: Path, capsys) -> None:
    nb = write_notebook(tmp_path / "ch02.ipynb", [
        "!pip install tiktoken",
        "%matplotlib inline\nimport torch\nimport tiktoken\ntokenizer = tiktoken.get_encoding('gpt2')",
        "raw_text = open('the-verdict.txt', encoding='utf-8').read()\nprint(raw_text)",
        "import urllib.request\nurllib.request.urlretrieve('https://example.com/the-verdict.txt', 'v.txt')",
        "undefined_name + 1",
        V1,
        "def broken(:\n    pass",
        "tok = SimpleTokenizerV1({'a': 0})\ndisplay(tok.encode('a'))",
    ])
    start = time.monotonic()
    t = loaded(nb)
    assert time.monotonic() - start < 20  # the network cell failed at once instead of hanging
    notes = "\n".join(t.notes)
    assert "cell 2 (!pip install tiktoken): `!pip install tiktoken` not run (IPython" in notes
    assert "cell 3 (%matplotlib inline): `%matplotlib inline` not run" in notes
    assert "cell 5 (import urllib.request) skipped" in notes and "network access is blocked" in notes
    assert "cell 6 (undefined_name + 1) skipped: NameError" in notes
    assert "cell 8 (def broken(:) skipped: SyntaxError" in notes
    assert len(t.notes) == 5
    # the rest of the cell with the magic ran: the learner's imports and tokenizer are there
    assert t.namespace["torch"].__name__ == "torch"
    assert t.namespace["tokenizer"].encode("Hello, world") == [15496, 11, 995]
    assert t.names["SimpleTokenizerV1"] == "SimpleTokenizerV1"
    assert t.namespace["tok"].encode("a") == [0]
    assert "I HAD always thought" not in capsys.readouterr().out  # prints are not shown
    cls = t.namespace["SimpleTokenizerV1"]
    assert sys.modules[cls.__module__].__dict__ is t.namespace
    t.close()


def test_notebook_that_is_not_json(tmp_path: Path) -> None:
    (tmp_path / "bad.ipynb").write_text("{ not json")
    with pytest.raises(TargetError, match="bad.ipynb: not a Jupyter notebook"):
        loaded(tmp_path / "bad.ipynb")
    (tmp_path / "list.ipynb").write_text("[1, 2]")
    with pytest.raises(TargetError, match="no 'cells' list"):
        loaded(tmp_path / "list.ipynb")


def test_input_does_not_wait(tmp_path: Path) -> None:
    nb = write_notebook(tmp_path / "asks.ipynb", ["name = input('your name? ')", "x = 1"])
    t = loaded(nb)
    assert any("EOFError" in n for n in t.notes) and t.namespace["x"] == 1
    t.close()


# --- network block -------------------------------------------------------------------------------


def test_netblock_is_scoped_and_fast() -> None:
    with netblock.blocked():
        assert netblock.is_blocked()
        start = time.monotonic()
        with pytest.raises(OSError, match="network access is blocked"):
            socket.create_connection(("192.0.2.1", 80), timeout=30)
        with pytest.raises(netblock.NetworkBlocked):
            socket.getaddrinfo("example.com", 443)
        assert time.monotonic() - start < 1
        a, b = socket.socketpair(socket.AF_UNIX)  # local IPC (DataLoader workers) stays allowed
        a.sendall(b"ok")
        assert b.recv(2) == b"ok"
        a.close()
        b.close()
    assert not netblock.is_blocked()
    assert socket.getaddrinfo("127.0.0.1", 80)  # numeric lookups work again once unblocked


def test_caller_provided_scratch_is_used_and_kept(tmp_path: Path) -> None:
    (tmp_path / "sub.py").write_text("import os\nHERE = os.getcwd()\n")
    scratch = tmp_path / "work"
    t = load(resolve(str(tmp_path / "sub.py")), None, scratch)
    assert Path(t.namespace["HERE"]) == scratch.resolve()
    assert (scratch / "the-verdict.txt").is_file()
    t.close()
    assert scratch.is_dir() and t.scratch is None


def test_sibling_imported_lazily_at_call_time(tmp_path: Path) -> None:
    (tmp_path / "helpers.py").write_text("WHO = 'helper'\n")
    (tmp_path / "main.py").write_text("def who():\n    from helpers import WHO\n    return WHO\n")
    t = loaded(tmp_path / "main.py")
    with t.running():
        assert t.namespace["who"]() == "helper"
    assert "helpers" not in sys.modules and str(tmp_path) not in sys.path
    t.close()


def test_the_books_text_is_where_the_source_reads_it(tmp_path: Path) -> None:
    """Learners run from a folder that keeps the story in ``data/``: the scratch directory holds it
    there too, for a path literal and for joined literals; a URL creates nothing; a ``..`` path (the
    book repository's layout seen from a bonus folder) runs the code one folder deeper, named as
    the target's own, so the copy is still inside the scratch directory."""
    src = tmp_path / "ch02.py"
    src.write_text(
        "import os\n"
        "with open('data/the-verdict.txt', encoding='utf-8') as f:\n    raw_text = f.read()\n"
        "with open(os.path.join('texts', 'the-verdict.txt'), encoding='utf-8') as f:\n    again = f.read()\n"
        "url = 'https://raw.githubusercontent.com/rasbt/LLMs-from-scratch/main/ch02/01_main-chapter-code/the-verdict.txt'\n"
        "with open('../up/the-verdict.txt', encoding='utf-8') as f:\n    elsewhere = f.read()\n")
    loaded = load(resolve(str(src)))
    try:
        assert loaded.namespace["raw_text"] == loaded.namespace["again"] == loaded.namespace["elsewhere"]
        assert loaded.namespace["raw_text"].startswith("I HAD always thought Jack Gisburn")
        assert loaded.root is not None and loaded.scratch == loaded.root / tmp_path.name
        made = sorted(p.relative_to(loaded.root).as_posix() for p in loaded.root.rglob("the-verdict.txt"))
        assert made == [f"{tmp_path.name}/{p}" for p in ("data/the-verdict.txt", "texts/the-verdict.txt",
                                                          "the-verdict.txt")] + ["the-verdict.txt", "up/the-verdict.txt"]
    finally:
        loaded.close()
    assert not loaded.root.exists()


def test_the_bonus_notebooks_find_the_books_files_as_in_the_book_repository(tmp_path: Path) -> None:
    """The bonus notebooks search ``../01_main-chapter-code/`` and
    ``../02_bonus_bytepair-encoder/gpt2_model/`` for the book's text and GPT-2's files; the folders
    named alone (not the same names inside a URL split over literals) hold the verified copies."""
    src = tmp_path / "bpe.py"
    src.write_text(
        "import os\n"
        "url = ('https://raw.githubusercontent.com/rasbt/'\n"
        "       'LLMs-from-scratch/main/ch02/01_main-chapter-code/'\n"
        "       'the-verdict.txt')\n"
        "dirs = ['ch02/01_main-chapter-code/', '../01_main-chapter-code/', '.']\n"
        "models = ['../02_bonus_bytepair-encoder/gpt2_model/']\n"
        "found = sorted(os.path.join(d, n) for d in dirs + models for n in ('the-verdict.txt', 'encoder.json',\n"
        "               'vocab.bpe') if os.path.exists(os.path.join(d, n)))\n")
    loaded = load(resolve(str(src)))
    try:
        assert loaded.namespace["found"] == [
            "../01_main-chapter-code/the-verdict.txt", "../02_bonus_bytepair-encoder/gpt2_model/encoder.json",
            "../02_bonus_bytepair-encoder/gpt2_model/vocab.bpe", "./the-verdict.txt",
            "ch02/01_main-chapter-code/the-verdict.txt"]
        assert not (loaded.scratch / "LLMs-from-scratch").exists()
    finally:
        loaded.close()


def test_the_books_text_is_where_a_notebook_reads_it(tmp_path: Path) -> None:
    """The same for a notebook, whose JSON escapes the quotes of every literal: its code cells are
    read, and ``Path("folder") / "the-verdict.txt"`` counts as joined literals."""
    nb = tmp_path / "ch02.ipynb"
    nb.write_text(json.dumps({"nbformat": 4, "cells": [{"cell_type": "code", "source": [
        "from pathlib import Path\n",
        "raw_text = open(\"data/the-verdict.txt\", encoding=\"utf-8\").read()\n",
        "again = (Path(\"texts\") / \"the-verdict.txt\").read_text(encoding=\"utf-8\")\n"]}]}))
    loaded = load(resolve(str(nb)))
    try:
        assert not loaded.notes, loaded.notes  # no cell skipped for a missing file
        assert loaded.namespace["raw_text"] == loaded.namespace["again"]
        assert loaded.namespace["raw_text"].startswith("I HAD always thought Jack Gisburn")
    finally:
        loaded.close()


def test_each_call_gets_its_conditions_and_what_it_changed_is_undone(tmp_path: Path, monkeypatch) -> None:
    """``running()`` sets a call's conditions (scratch cwd, empty stdin, the Agg backend, the network
    blocked, the target's directory first on sys.path) whatever the call before it changed, and
    afterwards puts back what was there, dropping the sibling modules the call imported."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdin", sys.stdin)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setenv("MPLBACKEND", "before")
    (tmp_path / "helpers.py").write_text("WHO = 'helper'\n")
    (tmp_path / "main.py").write_text("def who():\n    from helpers import WHO\n    return WHO\n")
    t = loaded(tmp_path / "main.py")
    stdin = sys.stdin
    try:
        for _ in range(2):
            with t.running():
                assert Path.cwd() == t.scratch and sys.stdin.read() == "" and sys.path[0] == str(tmp_path)
                assert netblock.is_blocked() and os.environ["MPLBACKEND"] == "Agg"
                assert t.namespace["who"]() == "helper"
                os.chdir("/")
                sys.stdin = io.StringIO("typed ahead")
                os.environ["MPLBACKEND"] = "TkAgg"
                netblock._depth = 0
            assert "helpers" not in sys.modules and str(tmp_path) not in sys.path
            assert Path.cwd() == tmp_path and sys.stdin is stdin and os.environ["MPLBACKEND"] == "before"
            assert not netblock.is_blocked()
    finally:
        t.close()


def test_the_modules_a_call_imported_are_found_from_the_newest_names(tmp_path: Path, monkeypatch) -> None:
    """Modules imported after the marks are the newest in ``sys.modules``; once code deleted a
    module imported before them (or a mark), every name is a candidate."""
    from llmspec.runtime import conditions

    monkeypatch.syspath_prepend(str(tmp_path))
    names = [f"llmspec_test_marks_{i}_{id(tmp_path)}" for i in range(conditions._MARKS + 3)]
    for name in names:
        (tmp_path / f"{name}.py").write_text("X = 1\n")
    try:
        for name in names[:conditions._MARKS]:
            __import__(name)
        marks = conditions._module_marks()
        assert conditions._imported_since(marks) == []
        __import__(names[-3])
        __import__(names[-2])
        assert conditions._imported_since(marks) == [names[-2], names[-3]]
        del sys.modules[names[-2]]  # imported and deleted by the call: nothing to drop
        assert conditions._imported_since(marks) == [names[-3]]
        sys.modules[names[1]] = sys.modules.pop(names[1])  # a mark deleted and imported again
        assert conditions._imported_since(marks) == list(sys.modules)
        marks = conditions._module_marks()
        sys.modules[names[0]] = sys.modules.pop(names[0])  # older than the marks
        assert conditions._imported_since(marks) == list(sys.modules)
        marks = conditions._module_marks()
        for name in marks[1]:
            del sys.modules[name]
        __import__(names[-1])
        assert conditions._imported_since(marks) == list(sys.modules)
    finally:
        for name in names:
            sys.modules.pop(name, None)


@pytest.mark.parametrize("text, names", [
    ("import torch, tiktoken as tk\n", ["torch", "tiktoken"]),
    ("from tiktoken import get_encoding\n", ["tiktoken", "tiktoken.get_encoding"]),
    ("from .data import f\nfrom . import helpers\n", [".data", ".data.f", ".", ".helpers"]),
    ("def make():\n    import tiktoken\n", ["tiktoken"]),
    ("if __name__ == '__main__':\n    import importlib\n    importlib.import_module('tiktoken')\n",
     ["importlib", "tiktoken"]),
    ("!pip install tiktoken\n%matplotlib inline\nimport tiktoken\n", ["tiktoken"]),  # a notebook cell
    ("print(version('tiktoken'))\n# import tiktoken\n", []),
    ("import tiktoken\ndef (broken:\n", []),  # does not parse: nothing
])
def test_imported_names_are_read_from_the_source(text, names):
    from llmspec.runtime.resolve import imported_names

    assert imported_names(text) == names


def test_the_graders_packages_imported_in_a_notebook_cell_with_shell_lines_are_flagged():
    from llmspec.sandbox.readrules import scan_sources

    flags = scan_sources(["!pip install torch\nimport reference.dataset\n", "from .reference import x\n"])
    assert [f["kind"] for f in flags] == ["imports"] and "reference" in flags[0]["detail"]


@pytest.mark.parametrize("cell, runs, left_out", [
    ("x = 1", "x = 1", None),
    ("!pip install tiktoken\nimport tiktoken", "pass  # pip install tiktoken\nimport tiktoken", "!pip install tiktoken"),
    ("for f in files:\n    !wc -l {f}\nn = 2", "for f in files:\n    pass  # wc -l {f}\nn = 2", "!wc -l {f}"),
    ("%%time\nids = encode(text)", "pass  # %time\nids = encode(text)", "%%time"),
    ("%%capture out\n%pip install torch\nimport torch", "pass  # %capture out\npass  # pip install torch\nimport torch",
     "%%capture out"),
    ("%time ids = encode(text)\n%timeit encode(text)", "ids = encode(text)\npass  # timeit encode(text)",
     "%timeit encode(text)"),
    ("%time ids = encode(text)", "ids = encode(text)", None),
    ("%%bash\npip install tiktoken", None, "%%bash"),
    ("%%timeit\nids = encode(text)", None, "%%timeit"),  # IPython keeps none of its names: not run
    ("%%capture\n%%writefile a.py\nimport os", None, "%%writefile a.py"),  # the file's text, not Python
    ("%%\nx = 1", None, "%%"),
    # only the line the parser stops at: a string's or a bracket's own `!`/`%` lines stay as written
    ('!pip install tiktoken\ns = """tea?\n%d percent\n!important\n"""',
     'pass  # pip install tiktoken\ns = """tea?\n%d percent\n!important\n"""', "!pip install tiktoken"),
    ("%matplotlib inline\ntotal = (100\n         % 7)", "pass  # matplotlib inline\ntotal = (100\n         % 7)",
     "%matplotlib inline"),
    ("!echo hi\ndef f(:\n    pass", "pass  # echo hi\ndef f(:\n    pass", "!echo hi"),  # its SyntaxError: the loader's
    ("%%writefile tok.py\nimport re", None, "%%writefile tok.py"),
    ('doc = """\n% of the tokens\n"""', 'doc = """\n% of the tokens\n"""', None),  # parses: text stays
    # IPython's help, typed after the code it is about: the docstring is shown, nothing runs
    ("tokenizer.encode?\nids = tokenizer.encode(text)", "pass  # tokenizer.encode?\nids = tokenizer.encode(text)",
     "tokenizer.encode?"),
    ("import tiktoken\ntiktoken.get_encoding??", "import tiktoken\npass  # tiktoken.get_encoding??",
     "tiktoken.get_encoding??"),
    ("?GPTDatasetV1\nimport torch", "pass  # GPTDatasetV1\nimport torch", "?GPTDatasetV1"),
    ('q = """\nWhy?\n"""', 'q = """\nWhy?\n"""', None),  # a question in a string parses: it stays
    ("分词器 = 1\n分词器.encode?", "分词器 = 1\npass  # 分词器.encode?", "分词器.encode?"),  # any name Python takes
    ("import tiktoken\ntiktoken.*enc*?", "import tiktoken\npass  # tiktoken.*enc*?", "tiktoken.*enc*?"),  # a search
    # a cell pasted with its indentation runs in IPython, which takes the first line's off every line
    ("  x = 1\n  if x:\n      y = 2", "x = 1\nif x:\n    y = 2", None),
    ("\n\tx = 1\n\t!ls", "\nx = 1\npass  # ls", "!ls"),
    # as IPython 8 reads them: help on what ends the line, and none of that line runs
    ("x = obj?\nn = 1", "pass  # x = obj?\nn = 1", "x = obj?"),
    ("for t in ts:\n    ids = f(); tok.decode?\nn = 1", "for t in ts:\n    pass  # ids = f(); tok.decode?\nn = 1",
     "ids = f(); tok.decode?"),
    ("vocab[0]?\nn = 1", "pass  # vocab[0]?\nn = 1", "vocab[0]?"),
    ("f(x).y?\nn = 1", "pass  # f(x).y?\nn = 1", "f(x).y?"),
    ("a.b[0].c??\nn = 1", "pass  # a.b[0].c??\nn = 1", "a.b[0].c??"),
])
def test_cell_python_leaves_out_only_ipython_lines(cell: str, runs: str | None, left_out: str | None) -> None:
    """A notebook cell's Python, as the loader runs it and the hints and import readers read it."""
    from llmspec.runtime.resolve import cell_python, imported_names

    assert cell_python(cell) == (runs, left_out)
    assert cell_python(cell.replace("\n", "\r\n")) == (runs, left_out)  # a notebook saved on Windows
    if runs is not None and "\nimport " in runs:
        assert imported_names(cell) == [runs.rsplit("import ", 1)[1]]


@pytest.mark.parametrize("cell", ["ids = encode(text)?\nn = 1", "vocab['the']?\nn = 1", "vocab[i]?\nn = 1",
                                  "a = b ?\nn = 1", "tokenizer.encode?  # the docs\nn = 1", "x = 1.5?\nn = 1"])
def test_what_ipython_does_not_read_as_help_stays_a_syntax_error(cell: str) -> None:
    """As IPython 8 reads them: a call's result, a string index, a "?" after a space or before a
    comment are no help; the cell stays as written and the loader reports its SyntaxError."""
    from llmspec.runtime.resolve import cell_python

    assert cell_python(cell) == (cell, None)


def test_notebook_cell_magic_with_shell_body_is_not_run(tmp_path: Path) -> None:
    nb = write_notebook(tmp_path / "ch02.ipynb", [
        "%%bash\necho hi > made_by_bash.txt", "%%time\nanswer = 6 * 7", "%%writefile tok.py\nx = 1",
        "%%time\ndef broken(:\n    pass"])
    t = loaded(nb)
    assert t.notes == [
        "cell 2 (%%bash) skipped: IPython shell/magic syntax `%%bash`",
        "cell 3 (%%time): `%%time` not run (IPython shell/magic syntax); the rest of the cell ran",
        "cell 4 (%%writefile tok.py) skipped: IPython shell/magic syntax `%%writefile tok.py`",
        "cell 5 (%%time) skipped: SyntaxError: invalid syntax (line 2 of the cell)",  # one note: the cell's error
    ]
    assert t.namespace["answer"] == 42 and "x" not in t.namespace
    assert t.scratch is not None and not any(t.scratch.rglob("made_by_bash.txt"))
    assert not any(t.scratch.rglob("tok.py"))
    t.close()


def test_a_large_cell_has_its_ipython_lines_left_out_at_once() -> None:
    """A parse a line would cost the square of a large cell, in the grader too: past 50,000
    characters every IPython line is left out in one pass."""
    from llmspec.runtime.resolve import cell_python

    code, left_out = cell_python("x = 1\n" * 10_000 + "".join(f"%magic{n}\n" for n in range(100)))
    assert left_out == "%magic0" and code is not None and code.count("pass  # magic") == 100


def test_a_large_cell_keeps_its_strings_prose() -> None:
    """Past 50,000 characters only the lines that open with ``!``, ``%`` or ``?`` are left out: a
    question on a line of its own in a string is the story's text, not IPython's help."""
    from llmspec.runtime.resolve import cell_python

    cell = "!pip install tiktoken\nraw_text = '''\nWhy?\n'''\n" + "x = 1\n" * 10_000
    code, left_out = cell_python(cell)
    namespace: dict = {}
    exec(code, namespace)
    assert left_out == "!pip install tiktoken" and namespace["raw_text"] == "\nWhy?\n"


def test_text_no_parser_holds_is_unparsable_not_a_crash() -> None:
    """The grader reads submitted text too: nesting too deep for the parser is "does not parse"."""
    from llmspec.runtime.resolve import cell_python, imported_names

    deep = "!pip install x\ny = x" + "[0]" * 100_000
    assert imported_names(deep) == [] and cell_python(deep)[1] == "!pip install x"



def test_the_source_read_for_hints_is_bounded_by_its_code(tmp_path: Path) -> None:
    """What the trusted side parses of a target is at most MAX_SOURCE_BYTES of code in all: a split
    chapter's third large file is left out; a notebook's outputs (a plot can be megabytes) do not count."""
    from llmspec.runtime.resolve import MAX_SOURCE_BYTES, source_texts

    chapter = tmp_path / "chapter"
    chapter.mkdir()
    for name in ("a.py", "b.py", "c.py"):
        (chapter / name).write_text(f"# {name}\n" + "x = 1\n" * (MAX_SOURCE_BYTES // 15))
    texts = source_texts(resolve(str(chapter)))
    assert [t.splitlines()[0] for t in texts] == ["# a.py", "# b.py"]
    nb = write_notebook(tmp_path / "plots.ipynb", ["import tiktoken"])
    data = json.loads(nb.read_text())
    data["cells"][-1]["outputs"] = [{"output_type": "display_data", "data": {"image/png": "A" * 3 * MAX_SOURCE_BYTES}}]
    nb.write_text(json.dumps(data))
    assert source_texts(resolve(str(nb))) == ["import tiktoken"]


def test_the_sources_say_where_each_text_is(tmp_path: Path) -> None:
    """One reader of a target's code for the import checks, the flags and the hints: the files its
    loading may run, as the learner knows them (its own, then the subfolders they import, with an
    ``__init__.py`` or not; never a test, a hidden folder or a folder no code imports); a notebook's
    code cells by their number among all cells."""
    from llmspec.runtime.resolve import TargetSpec, read_sources

    pkg = tmp_path / "ch02"
    for folder in ("data", "parts", "__pycache__", "tests", "notes", ".ipynb_checkpoints", ".venv/lib"):
        (pkg / folder).mkdir(parents=True)
    for name, text in (("__init__.py", "from .data.loader import x\nfrom ch02.parts import y\n"),
                       ("data/__init__.py", ""), ("data/loader.py", "x = 1\n"), ("parts/y.py", "y = 2\n"),
                       ("__pycache__/stale.py", "y = 2\n"), ("tests/__init__.py", ""),
                       ("tests/helpers.py", "from spec_tests import strategies\n"),
                       ("test_bpe.py", "import tiktoken\n"), ("notes/scratch.py", "import tiktoken\n"),
                       (".ipynb_checkpoints/__init__.py", ""), (".ipynb_checkpoints/old-checkpoint.py", "import reference\n"),
                       (".venv/lib/site.py", "z = 3\n"), ("setup.py", "import setuptools\n")):
        (pkg / name).write_text(text)
    assert read_sources(TargetSpec("package", str(pkg), "ch02/")) == [
        ("ch02/__init__.py", "from .data.loader import x\nfrom ch02.parts import y\n"), ("ch02/data/__init__.py", ""),
        ("ch02/data/loader.py", "x = 1\n"), ("ch02/parts/y.py", "y = 2\n")]
    (pkg / "__init__.py").unlink()  # a chapter split into files: only the files the loader runs
    assert read_sources(TargetSpec("directory", str(pkg), "ch02")) == []
    (pkg / "tok_v1.py").write_text("from data.loader import x\n")
    assert read_sources(TargetSpec("directory", str(pkg), "ch02")) == [
        ("ch02/tok_v1.py", "from data.loader import x\n"), ("ch02/data/__init__.py", ""), ("ch02/data/loader.py", "x = 1\n")]
    nb = write_notebook(tmp_path / "ch02.ipynb", ["import tiktoken", "%%bash\nls"])
    assert read_sources(resolve(str(nb))) == [("2", "import tiktoken"), ("3", "%%bash\nls")]
    assert read_sources(resolve(str(write_notebook(tmp_path / "big.ipynb", ["x = 1"]))), max_bytes=4) == []


def test_a_notebook_of_nbformat_3_is_read_by_the_loader_and_the_grader(tmp_path: Path) -> None:
    """The ``worksheets`` layout of nbformat 3 (cells' code under ``input``): checked and graded alike."""
    from llmspec.grading.submissions import discover

    nb = tmp_path / "old.ipynb"
    nb.write_text(json.dumps({"nbformat": 3, "worksheets": [{"cells": [
        {"cell_type": "markdown", "source": "# 2.2"}, {"cell_type": "code", "input": ["answer = 6 *", " 7\n"]}]}]}))
    assert loaded(nb).namespace["answer"] == 42
    (sub,) = discover([str(nb)], tmp_path / "work")
    assert sub.problem is None and sub.target is not None
    nb.write_text(json.dumps({"nbformat": 3, "worksheets": [{"cells": None}, 5]}))  # no cells: nothing runs
    assert "answer" not in loaded(nb).namespace and discover([str(nb)], tmp_path / "work2")[0].problem is None


def test_the_siblings_read_as_source_share_the_bound(tmp_path: Path) -> None:
    """The siblings a file imports are read as text too, within the same MAX_SOURCE_BYTES in all."""
    from llmspec.runtime.resolve import MAX_SOURCE_BYTES

    (tmp_path / "small.py").write_text("import tiktoken\n")
    (tmp_path / "huge.py").write_text("import tiktoken\n" + "x = 1\n" * (MAX_SOURCE_BYTES // 6))
    (tmp_path / "ch02.py").write_text("import small\nimport huge\n")
    t = loaded(tmp_path / "ch02.py")
    assert t.sources() == ["import small\nimport huge\n", "import tiktoken\n"]
    t.close()


def test_a_notebook_too_large_to_parse_is_one_line(tmp_path: Path, monkeypatch) -> None:
    from llmspec.runtime import resolve as resolve_module

    nb = write_notebook(tmp_path / "big.ipynb", ["x = 1"])
    monkeypatch.setattr(resolve_module, "MAX_NOTEBOOK_BYTES", nb.stat().st_size - 1)
    with pytest.raises(TargetError, match="a notebook over 0 MB; clear its outputs"):
        resolve_module.read_code_cells(nb, "big.ipynb")
