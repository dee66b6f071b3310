"""Names as learners write them: a book name in another letter case and the book repository's
earlier ``create_dataloader`` are accepted with a note (unless names are strict); any other missing
name gets a "did you mean" hint with the exact ``--impl-map``; a call that does not fit shows the
target's signature beside the book's."""
from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest


import book_targets as T  # noqa: E402
from llmspec.runtime.inprocess import InProcessAdapter  # noqa: E402
from llmspec.runtime.names import call_as_the_book, did_you_mean, near_name, uses_tiktoken  # noqa: E402

CASE_TYPOS = (T.MEAP_FILE.replace("class SimpleTokenizerV2", "class SimpletokenizerV2")
              .replace("def create_dataloader_v1", "def create_dataloader_V1"))
EARLY = T.MEAP_FILE.replace("def create_dataloader_v1", "def create_dataloader")
# The book repository's notebooks of late 2023: create_dataloader(txt, batch_size, max_length, stride),
# a DataLoader with its defaults (no shuffle, drop_last or num_workers).
EARLY_NO_SHUFFLE = T._edit(
    EARLY, ("stride=128, shuffle=True, drop_last=True)", "stride=128)"),
    ("batch_size=batch_size,\n        shuffle=shuffle,\n        drop_last=drop_last\n", "batch_size=batch_size\n"))
# The loader written as a static method of the learner's own class (called Runner.create_dataloader_v1).
_LOADER = T.BASE[T.BASE.index("def create_dataloader_v1"):T.BASE.index("class InputEmbeddings")]
IN_A_CLASS = (T.BASE[:T.BASE.index("def create_dataloader_v1")] + "class Runner:\n    @staticmethod\n"
              + textwrap.indent(_LOADER, "    "))
RENAMED = (T.MEAP_FILE.replace("class SimpleTokenizerV1", "class WordTokenizer")
           .replace("batch_size=4, max_length=256,", "batch_size=4, window_size=256,"))


def _fn():
    pass


class Tok:
    def __init__(self, vocab):
        pass

    def encode(self, text):
        return []

    def decode(self, ids):
        return ""


class VocabBuilder:  # one parameter, as the book's tokenizers, but no encode/decode: not a tokenizer
    def __init__(self, words):
        pass


def test_a_case_variant_or_the_early_name_is_near():
    ns = {"SimpletokenizerV2": Tok, "create_dataloader": _fn}
    name, note = near_name("SimpleTokenizerV2", ns)
    assert name == "SimpletokenizerV2" and "differ only in letter case" in note and "--strict-names" in note
    name, note = near_name("create_dataloader_v1", ns)
    assert name == "create_dataloader" and "earlier notebooks" in note
    assert near_name("create_dataloader_v1", {"Create_Dataloader_V1": _fn})[0] == "Create_Dataloader_V1"


def test_no_near_name_when_ambiguous_or_not_code():
    assert near_name("SimpleTokenizerV2", {"simpletokenizerv2": Tok, "SIMPLETOKENIZERV2": Tok}) is None
    assert near_name("SimpleTokenizerV2", {"simpletokenizerv2": 3}) is None
    assert near_name("tokenizer", {"Tokenizer": Tok}) is None  # a module-level object, not a book class


def test_did_you_mean_ranks_by_name_and_signature():
    ns = {"__name__": __name__, "WordTokenizer": Tok, "make_loader": _fn, "Path": Path}
    hint = did_you_mean("SimpleTokenizerV1", ns, taken=set())
    assert "WordTokenizer(vocab)" in hint and "--impl-map SimpleTokenizerV1=WordTokenizer" in hint
    assert "SimpleTokenizerV1(vocab)" in hint
    assert "Path" not in did_you_mean("GPTDatasetV1", ns, taken=set())  # imported: not the learner's
    assert did_you_mean("SimpleTokenizerV1", ns, taken={"WordTokenizer"}) == ""  # already another stage's
    assert did_you_mean("SimpleTokenizerV1", {"__name__": __name__, "SimpleVocabV1": VocabBuilder}, set()) == ""
    class SelfAttention:  # InputEmbeddings' three parameters, nothing of its name
        def __init__(self, d_in, d_out, qkv_bias=False):
            pass

    assert did_you_mean("InputEmbeddings", {"__name__": __name__, "SelfAttention": SelfAttention}, set()) == ""
    half = type("SimpleTokeniserV1", (), {"__init__": Tok.__init__, "encode": Tok.encode, "__module__": __name__})
    assert "SimpleTokeniserV1(vocab)" in did_you_mean("SimpleTokenizerV1", {"__name__": __name__,
                                                                            "SimpleTokeniserV1": half}, set())


def test_an_unexpected_keyword_shows_both_signatures():
    def make_loader(txt, batch_size=4, window_size=256, stride=128):
        return txt

    with pytest.raises(TypeError) as info:
        call_as_the_book("create_dataloader_v1", "make_loader", make_loader, "t", max_length=4)
    text = str(info.value)
    assert "unexpected keyword argument 'max_length'" in text
    assert "yours is make_loader(txt, batch_size=4, window_size=256, stride=128)" in text
    assert "the book's is create_dataloader_v1(txt, batch_size=4, max_length=256" in text

    def inner(txt):
        raise TypeError("from inside")

    with pytest.raises(TypeError, match="^from inside$"):  # not relabelled: the arguments fit
        call_as_the_book("create_dataloader_v1", "inner", inner, "t")


def test_strict_names_refuses_near_names(tmp_path):
    (tmp_path / "t.py").write_text(CASE_TYPOS)
    for strict, found in ((False, "SimpletokenizerV2"), (True, None)):
        adapter = InProcessAdapter.from_target(str(tmp_path / "t.py"), strict_names=strict)
        try:
            desc = adapter.describe()
        finally:
            adapter.close()
        assert desc["names"]["SimpleTokenizerV2"] == found
        assert bool(desc["hints"].get("SimpleTokenizerV2")) == strict


# How learners' code reaches tiktoken (2.5), and code that never does (the bpe stage is then not done).
USES_TIKTOKEN = {
    "import tiktoken\n": True,
    "import tiktoken as tt\n": True,
    "from tiktoken import get_encoding\n": True,
    "def make():\n    import tiktoken\n    return tiktoken.get_encoding('gpt2')\n": True,
    "class Loader:\n    @staticmethod\n    def make():\n        from tiktoken import get_encoding\n"
    "        return get_encoding('gpt2')\n": True,
    "def outer():\n    def inner():\n        import tiktoken\n    return inner\n": True,
    "x = 1\n": False,
    "from importlib.metadata import version\nprint(version('tiktoken'))\n": False,  # the book's versions cell
    "import re\nclass SimpleTokenizerV1:\n    def __init__(self, vocab):\n        self.vocab = vocab\n": False,
}


@pytest.mark.parametrize("source", USES_TIKTOKEN)
def test_uses_tiktoken(source, tmp_path):
    (tmp_path / "t.py").write_text(source)
    adapter = InProcessAdapter.from_target(str(tmp_path / "t.py"))
    try:
        assert uses_tiktoken(adapter.loaded.namespace) is USES_TIKTOKEN[source]
        desc = adapter.describe()
    finally:
        adapter.close()
    assert desc["stages"]["bpe"] == ([] if USES_TIKTOKEN[source] else ["tiktoken"])
    assert ("tiktoken" in desc["hints"]) is not USES_TIKTOKEN[source]


def test_a_package_using_tiktoken_in_one_of_its_modules(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("from .data import make\n")
    (tmp_path / "pkg" / "data.py").write_text("import tiktoken\n\ndef make():\n    return 1\n")
    adapter = InProcessAdapter.from_target(str(tmp_path / "pkg"))
    try:
        assert adapter.describe()["stages"]["bpe"] == []
    finally:
        adapter.close()


def _bpe_missing(target: Path) -> list[str]:
    adapter = InProcessAdapter.from_target(str(target))
    try:
        return adapter.describe()["stages"]["bpe"]
    finally:
        adapter.close()


def test_tiktoken_in_the_source_counts_where_the_namespace_does_not_show_it(tmp_path):
    """What the learner wrote, read from the source: an import under a main guard, in a sibling the
    file imports (by name or relatively), in a split chapter's module, in a notebook cell skipped for
    its ``!pip install``; a sibling the file does not import does not count."""
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "main.py").write_text("x = 1\nif __name__ == '__main__':\n    import tiktoken\n")
    assert _bpe_missing(guard / "main.py") == []
    siblings = tmp_path / "siblings"
    siblings.mkdir()
    (siblings / "helpers.py").write_text("import tiktoken\n\ndef create_dataloader_v1():\n"
                                         "    return tiktoken.get_encoding('gpt2')\n")
    (siblings / "main.py").write_text("from helpers import create_dataloader_v1\n")
    (siblings / "unrelated.py").write_text("x = 1\n")
    assert _bpe_missing(siblings / "main.py") == []
    assert _bpe_missing(siblings / "unrelated.py") == ["tiktoken"]  # helpers.py beside it is not its code
    package = tmp_path / "package"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "data.py").write_text("import tiktoken\n\ndef create_dataloader_v1():\n"
                                     "    return tiktoken.get_encoding('gpt2')\n")
    (package / "main.py").write_text("from .data import create_dataloader_v1\n")
    assert _bpe_missing(package / "main.py") == []
    split = tmp_path / "split"
    split.mkdir()
    (split / "bpe_demo.py").write_text("import tiktoken\nenc = tiktoken.get_encoding('gpt2')\n")
    (split / "tokenizers.py").write_text("class SimpleTokenizerV1:\n    def __init__(self, vocab):\n        pass\n")
    assert _bpe_missing(split) == []
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": source}
             for source in ("!pip install tiktoken\nimport tiktoken", "tokenizer = tiktoken.get_encoding('gpt2')")]
    notebook = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "pip.ipynb").write_text(json.dumps(notebook))
    assert _bpe_missing(tmp_path / "pip.ipynb") == []


def test_an_own_tiktoken_like_tokenizer_is_2_5_done(tmp_path):
    (tmp_path / "t.py").write_text("class T:\n    n_vocab = 3\n    def encode(self, t, **k):\n        return [1]\n"
                                   "    def decode(self, ids):\n        return 'x'\n\ntokenizer = T()\n")
    adapter = InProcessAdapter.from_target(str(tmp_path / "t.py"))
    try:
        assert not uses_tiktoken(adapter.loaded.namespace)
        assert adapter.describe()["stages"]["bpe"] == []
    finally:
        adapter.close()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("names")
    for name, source in (("typos", CASE_TYPOS), ("early", EARLY), ("early_no_shuffle", EARLY_NO_SHUFFLE), ("in_a_class", IN_A_CLASS),
                         ("renamed", RENAMED)):
        (tmp / f"{name}.py").write_text(source)
    stages = ["--stages", "tokenizer_v1,tokenizer_v2,dataloader"]
    return T.run_suites({"typos": [str(tmp / "typos.py"), *stages],
                         "typos_strict_isolated": [str(tmp / "typos.py"), "--strict-names", "--isolate", *stages],
                         "early": [str(tmp / "early.py"), "--stages", "dataloader"],
                         "early_no_shuffle": [str(tmp / "early_no_shuffle.py"), "--stages", "dataloader"],
                         "in_a_class_isolated": [str(tmp / "in_a_class.py"), "--stages", "dataloader", "--isolate"],
                         "in_a_class_strict": [str(tmp / "in_a_class.py"), "--stages", "dataloader",
                                               "--strict-names"],
                         "early_no_shuffle_isolated": [str(tmp / "early_no_shuffle.py"), "--stages",
                                                       "dataloader", "--isolate"],
                         "renamed": [str(tmp / "renamed.py"), *stages]}, tmp)


def test_case_typos_pass_with_a_note(runs):
    code, out, report = runs["typos"]
    assert code == 0, out
    assert "note: SimpletokenizerV2 accepted as the book's SimpleTokenizerV2" in out
    assert "note: create_dataloader_V1 accepted as the book's create_dataloader_v1" in out


def test_the_early_loader_name_passes_with_a_note(runs):
    code, out, report = runs["early"]
    assert code == 0 and "create_dataloader accepted as the book's create_dataloader_v1" in out, out


@pytest.mark.parametrize("job", ["early_no_shuffle", "early_no_shuffle_isolated"])
def test_the_early_loader_without_shuffle_fails_only_the_shuffle_tests(runs, job):
    """Called without the keywords it lacks (judged as DataLoader's defaults), not a TypeError on
    every test: its batches are right, it only never shuffles."""
    code, out, report = runs[job]
    failed = sorted(t["name"].split("[")[0] for t in report["tests"] if t["outcome"] != "passed")
    assert failed == ["test_shuffle_is_a_seeded_permutation", "test_shuffle_order_follows_the_seed"], out
    assert ("create_dataloader has no shuffle parameter, so it cannot shuffle" in out
            and "yours is create_dataloader(txt, batch_size=4, max_length=256, stride=128)" in out)
    assert "unexpected keyword argument" not in out and "inprocess.py" not in out  # no harness frames


def test_the_loader_as_a_static_method_is_accepted_with_a_note(runs):
    code, out, report = runs["in_a_class_isolated"]
    assert code == 0 and report["stages"]["dataloader"]["status"] == "pass", out
    assert "note: Runner.create_dataloader_v1 accepted as the book's create_dataloader_v1" in out
    code, out, report = runs["in_a_class_strict"]
    assert report["stages"]["dataloader"]["status"] == "not_implemented", out


def test_strict_names_gives_not_implemented_with_the_impl_map(runs):
    code, out, report = runs["typos_strict_isolated"]
    assert report["stages"]["tokenizer_v2"]["status"] == "not_implemented", out
    assert "--impl-map SimpleTokenizerV2=SimpletokenizerV2" in out
    assert "--impl-map create_dataloader_v1=create_dataloader_V1" in out


def test_renamed_names_get_a_hint_and_the_signature(runs):
    code, out, report = runs["renamed"]
    assert "did you mean WordTokenizer(vocab) (accept it with --impl-map SimpleTokenizerV1=WordTokenizer)" in out
    assert report["stages"]["dataloader"]["status"] == "fail"
    assert "yours is create_dataloader_v1(txt, batch_size=4, window_size=256" in out


def test_grading_feedback_says_which_name_was_accepted(tmp_path):
    import os
    import subprocess

    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "typos.py").write_text(CASE_TYPOS)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMSPEC_IMPL")}
    for strict in (False, True):
        config = tmp_path / f"c{strict}.toml"
        config.write_text(f'[assignment]\nedition = "meap"\nstrict_names = {str(strict).lower()}\n'
                          'stages = ["tokenizer_v2"]\n[stages.tokenizer_v2]\npoints = 10\n')
        out = tmp_path / f"g{strict}"
        proc = subprocess.run([sys.executable, "-m", "llmspec", "grade", str(subs), "--out", str(out),
                               "--config", str(config)], capture_output=True, text=True, env=env, timeout=600)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        result = json.loads((out / "typos" / "results.json").read_text())
        if strict:
            assert result["score"] == 0
            assert "--impl-map SimpleTokenizerV2=SimpletokenizerV2" in result["tests"][0]["output"]
        else:
            assert result["score"] == 10
            assert "SimpletokenizerV2 accepted as the book's SimpleTokenizerV2" in result["output"]


@pytest.mark.parametrize("first, accepted", [("txt", True), ("self", False), ("cls", False)])
def test_a_loader_indented_into_a_class_is_found_through_the_class(first: str, accepted: bool) -> None:
    """The book's module-level create_dataloader_v1 typed one level too deep, into the dataset class:
    without ``self`` it works called through the class, so it is accepted with a note; a real
    method (first parameter ``self`` or ``cls``) is not the book's function."""
    from llmspec.runtime.names import static_method_name

    namespace: dict = {"__name__": "learner"}
    exec(f"class GPTDatasetV1:\n    def create_dataloader_v1({first}, batch_size=4):\n        return batch_size\n",
         namespace)
    found = static_method_name("create_dataloader_v1", namespace)
    if not accepted:
        assert found is None
        return
    name, fn, note = found
    assert name == "GPTDatasetV1.create_dataloader_v1" and fn("the text") == 4
    assert "indented into your class" in note and "--strict-names" in note


def test_layers_built_inside_a_function_get_a_hint_not_just_missing(tmp_path: Path) -> None:
    """2.7-2.8 written as a function (``def embed(inputs)`` building both layers locally) leaves no
    variables to judge from state: the stage is not implemented, and the hint says why and how to
    fix it (module-level variables, or the class), read from the function's local names."""
    from llmspec.runtime.connect import open_adapter

    (tmp_path / "embed_fn.py").write_text(
        "import torch\n\ndef embed(inputs):\n    token_embedding_layer = torch.nn.Embedding(10, 4)\n"
        "    pos_embedding_layer = torch.nn.Embedding(4, 4)\n"
        "    return token_embedding_layer(inputs) + pos_embedding_layer(torch.arange(inputs.shape[1]))\n")
    impl = open_adapter(str(tmp_path / "embed_fn.py"))
    try:
        described = impl.describe()
    finally:
        impl.close()
    assert described["stages"]["embeddings"] == ["InputEmbeddings"]
    hint = described["hints"]["InputEmbeddings"]
    assert "local variables of embed()" in hint and "top level" in hint


def test_a_split_chapter_gets_the_same_name_rules(tmp_path: Path) -> None:
    """A chapter kept as one file per listing (a ``directory`` target) is held to the same name rules
    as one file: its classes come from its submodules, and still count as the learner's own."""
    from llmspec.runtime.connect import open_adapter

    split = tmp_path / "split"
    split.mkdir()
    (split / "listing_2_6.py").write_text(IN_A_CLASS)
    (split / "listing_2_8.py").write_text(
        "import torch\n\ndef embed(inputs):\n    token_embedding_layer = torch.nn.Embedding(10, 4)\n"
        "    pos_embedding_layer = torch.nn.Embedding(4, 4)\n    return token_embedding_layer(inputs)\n")
    impl = open_adapter(str(split))
    try:
        described = impl.describe()
    finally:
        impl.close()
    assert described["names"]["create_dataloader_v1"] == "Runner.create_dataloader_v1", described["names"]
    assert "local variables of embed()" in described["hints"].get("InputEmbeddings", ""), described["hints"]



def test_a_misspelt_book_keyword_is_named_not_left_to_its_default(tmp_path):
    """``suffle=True`` for ``shuffle``: left out, the loader would shuffle the batches the test asked
    unshuffled, and the failure would read as wrong values."""
    from llmspec.errors import ImplError
    from llmspec.runtime.names import misspelt

    def loader(txt, batch_size=4, suffle=True, drop_last=True, num_workers=0):
        return txt

    assert misspelt(loader, "shuffle", False) == "suffle" and misspelt(loader, "stride", 1) is None
    assert misspelt(lambda txt, batch_size: txt, "shuffle", False) is None  # the early loader: no such parameter

    def own_name(txt, batch_size=4, n_workers=0):  # its default is what the tests ask: it does that
        return txt

    assert misspelt(own_name, "num_workers", 0) is None and misspelt(own_name, "num_workers", 2) == "n_workers"
    src = T.BASE.replace("stride=128, shuffle=True,", "stride=128, suffle=True,", 1).replace(
        "shuffle=shuffle,", "shuffle=suffle,", 1)
    (tmp_path / "suffle.py").write_text(src)
    adapter = InProcessAdapter.from_target(str(tmp_path / "suffle.py"))
    try:
        with pytest.raises(ImplError, match="has no shuffle parameter, and its parameter suffle looks like it misspelt"):
            adapter.dataloader_batches("one two three four five six", 1, 2, 1, False, True)
    finally:
        adapter.close()


def test_an_object_that_raises_when_looked_at_costs_its_hint_not_the_load(tmp_path):
    """Hints read the learner's objects (a layer's shape, a class's methods); one that raises there
    is the learner's own business, and the load goes on without that hint."""
    from llmspec.runtime.target import load
    from llmspec.runtime.resolve import resolve

    (tmp_path / "odd.py").write_text(
        "import torch\nclass Odd(torch.nn.Embedding):\n    @property\n    def num_embeddings(self):\n"
        "        raise RuntimeError('no')\n    @num_embeddings.setter\n    def num_embeddings(self, v):\n"
        "        pass\n\ntoken_embedding_layer = torch.nn.Embedding(5, 2)\npos_layer = Odd(3, 2)\n")
    t = load(resolve(str(tmp_path / "odd.py")))
    try:
        assert "token_embedding_layer" in t.namespace and "pos_embedding_layer" not in t.hints
    finally:
        t.close()
