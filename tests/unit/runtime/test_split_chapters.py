"""A chapter split into files, as many learners keep it: one file per listing in a plain directory
(``simple_tokenizer_v1.py``, ``gpt_dataset_v1.py``, a script that imports them by bare name), or a
package whose ``__init__.py`` is empty.  Every file runs as it would with ``python FILE`` from that
directory; the namespace gathers what they define, the defining file wins over one that imports,
a file that fails is skipped with a note, and every stage the files implement gets its verdict,
in process and isolated."""
from __future__ import annotations

from pathlib import Path

import pytest


import book_targets as T  # noqa: E402
from llmspec.runtime.target import load, resolve  # noqa: E402

_HEAD = T.BASE[: T.BASE.index("class SimpleTokenizerV1")]


def _part(start: str, end: str) -> str:
    return T.BASE[T.BASE.index(start):T.BASE.index(end)]


def split_chapter(directory: Path, *, package: bool = False) -> Path:
    """Listings 2.3, 2.5 and 2.6 in their own files; the loader's file imports the dataset by bare
    name (as ``python`` run in that directory resolves it); a script that cannot run; 2.7-2.8 inline."""
    directory.mkdir()
    (directory / "simple_tokenizer_v1.py").write_text(_HEAD + _part("class SimpleTokenizerV1", "class SimpleTokenizerV2"))
    (directory / "gpt_dataset_v1.py").write_text(_HEAD + _part("class GPTDatasetV1", "def create_dataloader_v1"))
    (directory / "loader.py").write_text(
        _HEAD + "from gpt_dataset_v1 import GPTDatasetV1\n\n\n"
        + _part("def create_dataloader_v1", "class InputEmbeddings")
        + 'with open("the-verdict.txt", "r", encoding="utf-8") as f:\n    raw_text = f.read()\n')
    (directory / "broken_try.py").write_text("import torch\nlayer = torch.nn.Embeddings(6, 3)\n")
    (directory / "embeddings_28.py").write_text(
        "import torch\nfrom loader import create_dataloader_v1, raw_text\n\n" + "\n".join(T.BOOK_CELLS) + "\n")
    if package:
        (directory / "__init__.py").write_text("")
    return directory


def test_a_plain_directory_of_py_files_is_one_chapter(tmp_path: Path) -> None:
    spec = resolve(str(split_chapter(tmp_path / "ch02")))
    assert spec.kind == "directory"
    loaded = load(spec)
    try:
        names = {c: n for c, n in loaded.names.items() if n}
        assert set(names) >= {"SimpleTokenizerV1", "GPTDatasetV1", "create_dataloader_v1"}, loaded.notes
        # the file that defines GPTDatasetV1 wins over loader.py, which imports it under its bare name
        assert loaded.get("GPTDatasetV1").__module__.endswith(".gpt_dataset_v1")
        assert any(n.startswith("broken_try.py skipped: importing failed at ") and "Embeddings" in n
                   for n in loaded.notes), loaded.notes
        assert "token_embedding_layer" in loaded.namespace and "input_embeddings" in loaded.namespace
    finally:
        loaded.close()


def test_a_directory_mixing_files_and_notebooks_is_one_chapter(tmp_path: Path) -> None:
    """A scratch notebook beside the files, or one notebook per section: every file and notebook of
    the folder runs, each notebook's cells in order, and the chapter's names are taken from all of
    them; the same code repeated in each section's notebook needs no note."""
    from llmspec.errors import TargetError

    folder = split_chapter(tmp_path / "ch02")
    T.notebook(folder / "Untitled.ipynb", ["x = 1", "raise ValueError('scratch')"])
    loaded = load(resolve(str(folder)))
    try:
        assert loaded.spec.kind == "directory" and loaded.names["GPTDatasetV1"], loaded.notes
        assert "Untitled.ipynb cell 2 (raise ValueError('scratch')) skipped: ValueError: scratch" in loaded.notes
    finally:
        loaded.close()
    sections = tmp_path / "sections"
    sections.mkdir()
    for n in (1, 2):  # each section's notebook repeats the tokenizer, as learners keep them
        T.notebook(sections / f"ch02_{n}.ipynb", [V1_CELL, f"section = {n}"])
    loaded = load(resolve(str(sections)))
    try:
        assert loaded.names["SimpleTokenizerV1"] and not any("defined in" in n for n in loaded.notes), loaded.notes
    finally:
        loaded.close()
    (tmp_path / "empty").mkdir()
    with pytest.raises(TargetError, match="holds no .py file or .ipynb notebook; pass the file itself"):
        resolve(str(tmp_path / "empty"))


V1_CELL = ("class SimpleTokenizerV1:\n    def __init__(self, vocab):\n        self.str_to_int = vocab\n"
           "    def encode(self, text):\n        return [self.str_to_int[s] for s in text.split()]\n")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("split")
    plain, package = split_chapter(tmp / "plain"), split_chapter(tmp / "pkg02", package=True)
    stages = ["--stages", "tokenizer_v1,tokenizer_v2,dataset,dataloader,embeddings"]
    return T.run_suites({"plain": [str(plain), *stages], "plain_isolated": [str(plain), "--isolate", *stages],
                         "package": [str(package), *stages]}, tmp)


@pytest.mark.parametrize("job", ["plain", "plain_isolated", "package"])
def test_every_stage_the_files_implement_gets_its_verdict(runs, job: str) -> None:
    code, out, report = runs[job]
    status = {s: v["status"] for s, v in report["stages"].items() if v["status"] != "not_selected"}
    assert status == {"tokenizer_v1": "pass", "tokenizer_v2": "not_implemented", "dataset": "pass",
                      "dataloader": "pass", "embeddings": "pass"}, out
    assert "GPTDatasetV1 found in gpt_dataset_v1.py" in out


def test_a_file_with_relative_imports_runs_inside_its_package(tmp_path: Path) -> None:
    """``from .gpt_dataset_v1 import GPTDatasetV1`` in a file of a package (run as ``python -m
    pkg.file``): the file is loaded as a submodule of its package, not refused at import."""
    pkg = split_chapter(tmp_path / "pkg02", package=True)
    (pkg / "runner.py").write_text(_HEAD + "from .gpt_dataset_v1 import GPTDatasetV1\n\n\n"
                                   + _part("def create_dataloader_v1", "class InputEmbeddings"))
    loaded = load(resolve(str(pkg / "runner.py")))
    try:
        assert loaded.names["GPTDatasetV1"] == "GPTDatasetV1" and loaded.names["create_dataloader_v1"]
        assert loaded.names["SimpleTokenizerV1"] is None  # only what the file itself holds
    finally:
        loaded.close()


def test_grading_points_at_the_whole_split_chapter(tmp_path: Path) -> None:
    """A class directory whose submission is a split chapter is graded as ``check`` judges it (every
    file together), not on the one file that defines the most book names."""
    from llmspec.grading.submissions import discover

    (tmp_path / "class").mkdir()
    split_chapter(tmp_path / "class" / "alice")
    (tmp_path / "class" / "bob").mkdir()
    (tmp_path / "class" / "bob" / "solution.py").write_text(T.BASE)
    (tmp_path / "class" / "bob" / "helpers.py").write_text("X = 1\n")
    subs = {s.name: s for s in discover([str(tmp_path / "class")], tmp_path / "work")}
    # each is graded from a copy of its own files (llmspec.grading.submissions), shown by its own names
    alice, bob = subs["alice"], subs["bob"]
    assert alice.shown(alice.target) == "alice", alice
    assert sorted(p.name for p in Path(alice.target).iterdir()) == sorted(
        p.name for p in (tmp_path / "class" / "alice").iterdir())
    assert bob.shown(bob.target) == "bob/solution.py"  # named entry wins




def test_the_hints_read_a_folder_notebooks_cells_as_cells(tmp_path: Path) -> None:
    from llmspec.hints.sources import read_target

    folder = tmp_path / "ch02"
    folder.mkdir()
    (folder / "a.py").write_text("x = 1\n")
    T.notebook(folder / "n.ipynb", ["!pip install tiktoken\nimport tiktoken", V1_CELL])
    units = read_target("directory", str(folder), "ch02")
    assert [(u.file, u.cell) for u in units] == [("ch02/a.py", ""), ("", "1 (n.ipynb)"), ("", "2 (n.ipynb)")]
