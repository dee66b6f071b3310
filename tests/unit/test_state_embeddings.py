"""Judging embeddings from state: the book builds 2.7-2.8 inline (no ``InputEmbeddings`` class), so
the suite reads the variables the target's code left (``token_embedding_layer``,
``pos_embedding_layer``, ``input_embeddings``, ...) and judges them; the same state crosses the wire
unchanged, so ``--isolate`` (the grading mode) gives the same verdict."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch


import book_targets as T  # noqa: E402
from llmspec.grading.scoring import Outcome, _judged_kind  # noqa: E402
from llmspec.runtime.inprocess import InProcessAdapter  # noqa: E402

# mistake -> the variable its first failure must name
NAMED = {
    "pos_sized_by_vocab": "pos_embedding_layer.weight has shape [50257, 256]",
    "pos_indexed_by_token_ids": "pos_embedding_layer.weight has shape [50257, 256]",
    "layers_swapped": "token_embedding_layer.weight has shape [4, 256]",
    "positional_part_missing": "input_embeddings equals token_embeddings",
    "positional_layer_missing": "pos_embedding_layer is not defined",
    "unseeded_embedding_layer": "embedding_layer.weight after torch.manual_seed(123)",
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("state")
    jobs = {"book": [str(T.book_notebook(tmp / "book.ipynb"))],
            "book_isolated": [str(tmp / "book.ipynb"), "--isolate", "--stages", "embeddings"],
            "dataloader_notebook": [str(T.notebook(tmp / "dl.ipynb", [T.LOADER, *T.DATALOADER_NOTEBOOK_CELLS])),
                                    "--stages", "embeddings"]}
    for mistake in NAMED:
        jobs[mistake] = [str(T.book_notebook(tmp / f"{mistake}.ipynb", mistake)), "--stages", "embeddings"]
    jobs["swapped_isolated"] = [str(tmp / "layers_swapped.ipynb"), "--isolate", "--stages", "embeddings"]
    seeded = "manual_seed(123)\nembedding_layer = torch.nn.Embedding("
    swapped = (seeded + "vocab_size, output_dim)", seeded + "output_dim, vocab_size)")
    for name, edit in (("own_small_example", ("vocab_size = 6\n", "vocab_size = 5\n")),
                       ("seeded_arguments_swapped", swapped)):
        jobs[name] = [str(T.notebook(tmp / f"{name}.ipynb", T.book_cells(edit))), "--stages", "embeddings"]
    for name, renames in RENAMED.items():
        path = str(T.notebook(tmp / f"{name}.ipynb", T.book_cells(*renames)))
        jobs[name] = [path, "--stages", "embeddings"]
        jobs[f"{name}_mapped_isolated"] = [path, "--stages", "embeddings", "--isolate", "--impl-map",
                                           ",".join(f"{book}={own}" for book, own in renames)]
    return T.run_suites(jobs, tmp)


# The 2.8 layers under names of the learner's own: one renamed (judged from state, that one missing),
# both renamed (none of the book's variables: the stage reads as not implemented).
RENAMED = {"pos_renamed": [("pos_embedding_layer", "positional_embedding_layer")],
           "both_renamed": [("pos_embedding_layer", "pos_emb"), ("token_embedding_layer", "tok_emb")]}


def test_a_layer_of_the_learners_own_name_gets_the_impl_map_that_accepts_it(runs):
    code, out, report = runs["pos_renamed"]
    assert code == 1 and _emb(runs["pos_renamed"])["judged"] == "state", out
    first = next(t for t in report["tests"] if t["outcome"] == "failed")
    assert ("pos_embedding_layer is not defined" in first["message"]
            and "did you mean positional_embedding_layer, a torch.nn.Embedding(4, 256)? (accept it with "
                "--impl-map pos_embedding_layer=positional_embedding_layer)" in first["message"]), first["message"]
    code, out, report = runs["both_renamed"]
    assert _emb(runs["both_renamed"])["status"] == "not_implemented", out
    assert ("your code leaves tok_emb = torch.nn.Embedding(50257, 256), pos_emb = torch.nn.Embedding(4, 256)"
            in out and "--impl-map token_embedding_layer=tok_emb,pos_embedding_layer=pos_emb" in out), out


@pytest.mark.parametrize("name", sorted(RENAMED))
def test_the_suggested_impl_map_judges_the_layers_from_state(runs, name):
    """Through the worker (``--isolate``): the renaming is resolved on the implementation's side."""
    row = _emb(runs[f"{name}_mapped_isolated"])
    assert row["status"] == "pass" and row["judged"] == "state" and row["total"] == 3, \
        runs[f"{name}_mapped_isolated"][1]


def _emb(run):
    code, out, report = run
    assert report is not None, out
    return report["stages"]["embeddings"]


@pytest.mark.parametrize("name", ["book", "book_isolated", "dataloader_notebook", "own_small_example"])
def test_the_books_inline_cells_pass_judged_from_state(runs, name):
    row = _emb(runs[name])
    assert row["status"] == "pass" and row["judged"] == "state", runs[name][1]
    assert row["total"] == 3
    assert "pass (judged from state)" in runs[name][1]


@pytest.mark.parametrize("mistake", sorted(NAMED))
def test_a_planted_mistake_fails_naming_the_variable(runs, mistake):
    code, out, report = runs[mistake]
    row = _emb(runs[mistake])
    assert code == 1 and row["status"] == "fail" and row["judged"] == "state", out
    first = next(t for t in report["tests"] if t["outcome"] == "failed")
    assert NAMED[mistake] in first["message"], first["message"]


def test_isolated_gives_the_same_verdict(runs):
    inproc = {t["name"]: t["outcome"] for t in runs["layers_swapped"][2]["tests"]}
    isolated = {t["name"]: t["outcome"] for t in runs["swapped_isolated"][2]["tests"]}
    assert inproc == isolated and "failed" in inproc.values()


def test_a_class_and_the_reference_are_judged_through_the_class(runs):
    """The book's notebook defines no InputEmbeddings: state mode.  The reference defines it: class
    mode, where the state tests do not run."""
    adapter = InProcessAdapter.from_target("reference")
    try:
        desc = adapter.describe()
    finally:
        adapter.close()
    assert desc["judged"] == {} and desc["stages"]["embeddings"] == []


def test_state_read_describes_values_without_calling_them(tmp_path):
    target = tmp_path / "inline.py"
    target.write_text("import torch\ntorch.manual_seed(1)\nvocab_size = 10\n"
                      "token_embedding_layer = torch.nn.Embedding(vocab_size, 3)\n"
                      "inputs = torch.tensor([[1, 2], [3, 4]])\nname = 'x'\nclass Odd:\n    pass\nodd = Odd()\n")
    adapter = InProcessAdapter.from_target(str(target))
    try:
        desc = adapter.describe()
        state = adapter.state_read(["vocab_size", "token_embedding_layer", "inputs", "odd", "absent"],
                                   {"token_embedding_layer": [4, 1, 99]})
        weight = adapter.loaded.namespace["token_embedding_layer"].weight.detach()
    finally:
        adapter.close()
    assert desc["judged"] == {"embeddings": "state"} and desc["stages"]["embeddings"] == []
    assert state["vocab_size"] == {"type": "int", "value": 10}
    layer = state["token_embedding_layer"]
    assert layer["shape"] == [10, 3] and layer["is_embedding"] and layer["trainable"]
    assert torch.equal(layer["weight"], weight) and torch.equal(layer["rows"], weight[[4, 1]])
    assert torch.equal(state["inputs"]["tensor"], torch.tensor([[1, 2], [3, 4]]))
    assert state["odd"]["type"].endswith("Odd") and "absent" not in state


def test_grading_scores_the_kind_that_ran():
    ids = ["e.py::test_golden_shapes", "e.py::test_state_layers", "e.py::test_state_forward"]
    assert _judged_kind(ids, {}) == ids[:1]
    ran = {ids[1]: Outcome(ids[1], "embeddings", True)}
    assert _judged_kind(ids, ran) == ids[1:]
    assert _judged_kind(ids[:1], {}) == ids[:1]


def test_2_7s_layer_with_its_arguments_swapped_is_still_the_books_and_fails(runs):
    """``Embedding(output_dim, vocab_size)``: 3x6 is the book's 6x3 example typed the wrong way round,
    not an example of the learner's own, so the seed-123 golden judges it."""
    code, out, report = runs["seeded_arguments_swapped"]
    failed = [t for t in report["tests"] if t["outcome"] == "failed"]
    assert [t["name"] for t in failed] == ["test_state_seeded_embedding_layer"], out
    assert "embedding_layer.weight after torch.manual_seed(123)" in failed[0]["message"]
