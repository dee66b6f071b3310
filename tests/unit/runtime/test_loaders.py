"""The loaders' notes: every IPython line a cell left out is named, a class in a subpackage nothing
imports is found, and a refused write says the code runs confined (only when it does)."""
from __future__ import annotations

from pathlib import Path

import pytest
from test_target import V1, loaded, write_notebook

from llmspec.sandbox import denied


def test_every_ipython_line_of_a_cell_is_named_up_to_three(tmp_path: Path) -> None:
    nb = write_notebook(tmp_path / "ch02.ipynb", [
        "!pip install tiktoken\nimport tiktoken\n%matplotlib inline\nenc = tiktoken.get_encoding('gpt2')",
        "!pip install torch\n%load_ext autoreload\nenc.encode?\n%time n = len(enc.encode('Hello'))\n"
        "!ls\nwords = n * 2\n%autoreload 2",
        "!nvidia-smi\nready = True",
    ])
    t = loaded(nb)
    assert t.notes == [
        "cell 2 (!pip install tiktoken): 2 lines not run (IPython shell/magic syntax): `!pip install tiktoken`, "
        "`%matplotlib inline`; the rest of the cell ran",
        # %time's statement runs: it is not among the lines left out
        "cell 3 (!pip install torch): 5 lines not run (IPython shell/magic syntax): `!pip install torch`, "
        "`%load_ext autoreload`, `enc.encode?` and 2 more; the rest of the cell ran",
        "cell 4 (!nvidia-smi): `!nvidia-smi` not run (IPython shell/magic syntax); the rest of the cell ran",
    ]
    assert t.namespace["words"] == 2 and t.namespace["ready"] is True
    t.close()


def package(tmp_path: Path, init: str = "") -> Path:
    pkg = tmp_path / "mypkg"
    (pkg / "tokenizers").mkdir(parents=True)
    (pkg / "__init__.py").write_text(init)
    (pkg / "dataset.py").write_text("class GPTDatasetV1:\n    pass\n")
    (pkg / "tokenizers" / "__init__.py").write_text("")
    (pkg / "tokenizers" / "simple.py").write_text("from ..dataset import GPTDatasetV1 as _D\n" + V1)
    return pkg


@pytest.mark.parametrize("init", ["", "from .dataset import GPTDatasetV1\n"])
def test_a_class_in_a_subpackage_nothing_imports_is_found(tmp_path: Path, init: str) -> None:
    pkg = package(tmp_path, init)
    (pkg / "train.py").write_text("raise SystemExit('a script of the package: not run for a name it lacks')\n")
    t = loaded(pkg)
    assert t.names["SimpleTokenizerV1"] == "SimpleTokenizerV1"
    assert t.namespace["SimpleTokenizerV1"]({"a": 0}).encode("a") == [0]
    assert "SimpleTokenizerV1 found in tokenizers/simple.py" in t.notes
    t.close()


def test_a_subpackage_whose_path_is_no_module_name_is_named(tmp_path: Path) -> None:
    pkg = package(tmp_path)
    (pkg / "tokenizers").rename(pkg / "my_tokenizers")
    (pkg / "my_tokenizers" / "simple.py").rename(pkg / "my_tokenizers" / "simple-v1.py")
    t = loaded(pkg)
    assert t.names["SimpleTokenizerV1"] is None
    assert "SimpleTokenizerV1 is defined in my_tokenizers/simple-v1.py, which the package never imports" in t.notes
    t.close()


def test_the_search_below_a_package_is_bounded_in_depth(tmp_path: Path) -> None:
    pkg = package(tmp_path)
    deep = pkg / "a" / "b" / "c"
    deep.mkdir(parents=True)
    (deep / "emb.py").write_text("class InputEmbeddings:\n    pass\n")
    t = loaded(pkg)
    assert t.names["InputEmbeddings"] is None and t.names["SimpleTokenizerV1"] == "SimpleTokenizerV1"
    t.close()


def writing_notebook(tmp_path: Path) -> Path:
    (tmp_path / "nb").mkdir(exist_ok=True)
    return write_notebook(tmp_path / "nb" / "ch02.ipynb", [
        "raise PermissionError(13, 'Permission denied', '../data/tokens.txt')", "ready = True"])


def test_a_refused_cell_says_the_code_runs_confined_only_when_it_does(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(denied, "_CONFINED", {})
    t = loaded(writing_notebook(tmp_path))
    assert t.notes[0].startswith("cell 2 (raise PermissionError(13, 'Permission...) skipped: PermissionError")
    assert "confined" not in t.notes[0]  # plain `llmspec check`: a refusal of the learner's own system
    t.close()
    denied.confined(shared_memory=True)  # as the worker does under --isolate and grade
    t = loaded(writing_notebook(tmp_path))
    assert "it may write only in its scratch folder" in t.notes[0] and t.namespace["ready"] is True
    t.close()


def test_the_book_text_at_an_absolute_path_says_to_open_it_by_a_relative_one(tmp_path: Path) -> None:
    """Colab's /content/the-verdict.txt: not on this machine, while the scratch folder has the text."""
    nb = write_notebook(tmp_path / "colab.ipynb", ["raw_text = open('/content/the-verdict.txt').read()", "x = 1"])
    t = loaded(nb)
    try:
        (note,) = t.notes
        assert "FileNotFoundError" in note and "open it by a relative path" in note and "/content/" in note
    finally:
        t.close()


def test_notes_of_code_that_did_not_run_are_counted_apart(tmp_path: Path) -> None:
    """``describe()["skipped"]`` counts the notes saying some code did not run (a failed cell), not
    the others (a name found in a file, an IPython line left out), so a message can say a failed
    cell is why a variable is missing only where one failed."""
    from llmspec.runtime.inprocess import InProcessAdapter

    nb = write_notebook(tmp_path / "ch02.ipynb", ["!pip install tiktoken\nx = 1", "raise ValueError('demo')", "y = 2"])
    a = InProcessAdapter.from_target(str(nb))
    try:
        described = a.describe()
    finally:
        a.close()
    assert len(described["notes"]) == 2 and described["skipped"] == 1, described["notes"]
