"""The reference implementation reproduces every golden fixture from the real data (issue 2, point 4),
and its edge behaviour (bad arguments, too-long inputs) is a clear error.

Each fixture file gets one small evaluator that turns a case's ``input`` into what the book would
print; the test compares that with ``expected``.  Cases tagged with an edition run against that
edition's reference (``reference`` = print, ``reference.meap`` = MEAP); edition-neutral cases run
against the print reference."""
from __future__ import annotations

import re
from types import ModuleType
from typing import Any

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import reference
import reference.meap
from llmspec import fixtures
from reference import tokenizers as tok

MODULES: dict[str | None, ModuleType] = {None: reference, "print": reference, "meap": reference.meap}


def all_cases(name: str) -> list[Any]:
    return [pytest.param(c, id=c["id"]) for c in fixtures.load(name)["cases"]]


def text_of(inp: dict[str, Any], verdict_text: str) -> str:
    if "text_file" in inp:
        assert inp["text_file"] == "the-verdict.txt"
        return verdict_text
    return inp["text"]


def vocab_of(spec: dict[str, Any], verdict_text: str) -> dict[str, int]:
    text = verdict_text if spec["build_from"] == "the-verdict.txt" else spec["text"]
    return tok.build_vocab(text, spec["edition"], special_tokens=spec["special_tokens"])


def close(actual: torch.Tensor, expected: Any, atol: float) -> None:
    torch.testing.assert_close(actual.detach().float(), torch.tensor(expected, dtype=torch.float32), rtol=0, atol=atol)


# --- fixtures/verdict.json ------------------------------------------------------------------------
@pytest.mark.parametrize("case", all_cases("verdict"))
def test_verdict_counts(case: dict, verdict_text: str, gpt2: Any) -> None:
    exp = case["expected"]
    if "characters" in exp:
        assert len(verdict_text) == exp["characters"]
    if "tokens" in exp:
        assert case["input"]["regex"] == tok.PATTERNS[case["edition"]]
        tokens = tok.split_text(verdict_text, case["edition"])
        assert (len(tokens), len(set(tokens))) == (exp["tokens"], exp["unique"])
        assert len(tok.build_vocab(verdict_text, case["edition"])) == exp["vocab_v2"]
    if "last_items" in exp:
        vocab = tok.build_vocab(verdict_text, case["edition"])
        assert [list(item) for item in list(vocab.items())[-5:]] == exp["last_items"]
    if "gpt2_tokens" in exp:
        assert len(gpt2.encode(verdict_text, allowed_special={"<|endoftext|>"})) == exp["gpt2_tokens"]


# --- fixtures/tokenizer_v1.json, tokenizer_v2.json ------------------------------------------------
@pytest.mark.parametrize("version,case", [
    pytest.param(v, c, id=f"v{v}-{c['id']}")
    for v, name in ((1, "tokenizer_v1"), (2, "tokenizer_v2")) for c in fixtures.load(name)["cases"]
])
def test_simple_tokenizers(version: int, case: Any, verdict_text: str) -> None:
    module = MODULES[case["edition"]]
    cls = module.SimpleTokenizerV1 if version == 1 else module.SimpleTokenizerV2
    tokenizer = cls(vocab_of(case["input"]["vocab"], verdict_text))
    text, exp = case["input"]["text"], case["expected"]
    if exp.get("raises") == "KeyError":
        with pytest.raises(KeyError) as info:
            tokenizer.encode(text)
        assert info.value.args[0] == exp["key"]
        return
    ids = tokenizer.encode(text)
    if "ids" in exp:
        assert ids == exp["ids"]
    if "ids_prefix" in exp:
        assert ids[: len(exp["ids_prefix"])] == exp["ids_prefix"]
    if "decoded" in exp:
        assert tokenizer.decode(ids) == exp["decoded"]


@pytest.mark.parametrize("case", all_cases("blog_cat"))
def test_blog_cat_splits_and_vocab(case: dict) -> None:
    inp, exp = case["input"], case["expected"]
    if "vocab" in exp:
        vocab = tok.build_vocab(inp["text"], inp["edition"], special_tokens=inp["special_tokens"])
        assert vocab == exp["vocab"] and len(vocab) == exp["size"]
        return
    if not inp["strip"]:  # the raw re.split output, before the book's strip/drop step
        assert re.split(inp["regex"], inp["text"]) == exp["split"]
        return
    assert inp["regex"] == tok.PATTERNS["print"]
    tokens = tok.split_text(inp["text"], "print")
    want = exp.get("tokens") or exp["tokens_prefix"]
    assert tokens[: len(want)] == want


def test_editions_differ_only_in_colon_semicolon() -> None:
    """The MEAP regex keeps ':' and ';' glued to words; the print regex splits them off."""
    assert tok.split_text("a: b; c", "print") == ["a", ":", "b", ";", "c"]
    assert tok.split_text("a: b; c", "meap") == ["a:", "b;", "c"]
    assert reference.meap.SimpleTokenizerV1.pattern == tok.PATTERNS["meap"]
    assert reference.SimpleTokenizerV1.pattern == tok.PATTERNS["print"]


# --- fixtures/bpe.json -----------------------------------------------------------------------------
@pytest.mark.parametrize("case", all_cases("bpe"))
def test_bpe(case: dict) -> None:
    enc = reference.tokenizer
    inp, exp = case["input"], case["expected"]
    if "n_vocab" in exp:
        assert enc.n_vocab == exp["n_vocab"]
        assert enc.encode("<|endoftext|>", allowed_special={"<|endoftext|>"}) == [exp["endoftext_id"]]
    elif "texts" in inp:
        assert [enc.encode(t) for t in inp["texts"]] == exp["ids"]
    else:
        ids = enc.encode(inp["text"], allowed_special=set(inp.get("allowed_special", ())))
        assert ids == exp["ids"]
        assert enc.decode(ids) == exp["decoded"]


def test_import_reference_reads_no_data(tmp_path) -> None:
    """``import reference`` must work with no data at all: ``tokenizer`` is created on first use."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "LLMSPEC_DATA": str(tmp_path / "nowhere"), "XDG_CACHE_HOME": str(tmp_path)}
    code = "import sys, reference, reference.meap; print('tiktoken' in sys.modules, 'tokenizer' in vars(reference))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.split() == ["False", "False"]


# --- fixtures/dataset.json -------------------------------------------------------------------------
@pytest.mark.parametrize("case", all_cases("dataset"))
def test_dataset_and_dataloader(case: dict, verdict_text: str, gpt2: Any) -> None:
    inp, exp = case["input"], case["expected"]
    txt = text_of(inp, verdict_text)
    if "len" in exp:
        assert len(reference.GPTDatasetV1(txt, gpt2, inp["max_length"], inp["stride"])) == exp["len"]
        return
    loader = reference.create_dataloader_v1(
        txt, batch_size=inp["batch_size"], max_length=inp["max_length"], stride=inp["stride"],
        shuffle=inp["shuffle"], drop_last=inp["drop_last"],
    )
    assert isinstance(loader, torch.utils.data.DataLoader)
    it = iter(loader)
    if "inputs" in exp:
        assert next(it)[0].tolist() == exp["inputs"]
        return
    for want in exp["batches"]:
        x, y = next(it)
        assert [x.tolist(), y.tolist()] == want


def book_windows(ids: list[int], max_length: int, stride: int) -> list[tuple[list[int], list[int]]]:
    """Listing 2.5's loop, verbatim semantics: the oracle for the sliced implementation."""
    return [(ids[i : i + max_length], ids[i + 1 : i + max_length + 1])
            for i in range(0, len(ids) - max_length, stride)]


class FakeTokenizer:
    def __init__(self, ids: list[int]):
        self.ids, self.calls = ids, []

    def encode(self, text: str, allowed_special: Any = None) -> list[int]:
        self.calls.append(allowed_special)
        return list(self.ids)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(ids=st.lists(st.integers(0, 50256), max_size=40), max_length=st.integers(1, 12), stride=st.integers(1, 12))
def test_dataset_windows_equal_book_listing(ids: list[int], max_length: int, stride: int) -> None:
    fake = FakeTokenizer(ids)
    ds = reference.GPTDatasetV1("ignored", fake, max_length, stride)
    assert fake.calls == [{"<|endoftext|>"}]
    got = [(x.tolist(), y.tolist()) for x, y in (ds[i] for i in range(len(ds)))]
    assert got == book_windows(ids, max_length, stride)
    if len(ds):
        assert ds[-1][0].tolist() == got[-1][0]
    with pytest.raises(IndexError):
        ds[len(ds)]


def test_dataset_items_are_views_of_one_token_tensor() -> None:
    ds = reference.GPTDatasetV1("x", FakeTokenizer(list(range(100))), max_length=8, stride=1)
    x, y = ds[5]
    assert x.dtype == torch.long and x.data_ptr() == ds.token_ids[5:].data_ptr()
    assert y.untyped_storage().data_ptr() == ds.token_ids.untyped_storage().data_ptr()
    assert not any(isinstance(v, list) for v in vars(ds).values())  # no per-window Python lists


@pytest.mark.parametrize("max_length,stride", [(0, 1), (4, 0), (-1, 2), (2, -3)])
def test_dataset_rejects_non_positive_arguments(max_length: int, stride: int) -> None:
    with pytest.raises(ValueError, match="max_length|stride"):
        reference.GPTDatasetV1("some text", FakeTokenizer([1, 2, 3, 4, 5]), max_length, stride)


# --- fixtures/embeddings.json ----------------------------------------------------------------------
@pytest.mark.parametrize("case", all_cases("embeddings"))
def test_embeddings(case: dict, verdict_text: str) -> None:
    inp, exp, atol = case["input"], case["expected"], case.get("atol", 0)
    if "inputs_shape" in exp:
        b = inp["batch"]
        x, _ = next(iter(reference.create_dataloader_v1(
            text_of(b, verdict_text), batch_size=b["batch_size"], max_length=b["max_length"],
            stride=b["stride"], shuffle=b["shuffle"])))
        model = reference.InputEmbeddings(inp["vocab_size"], inp["output_dim"], inp["context_length"])
        assert list(x.shape) == exp["inputs_shape"]
        assert list(model.token_embedding_layer(x).shape) == exp["token_embeddings_shape"]
        assert list(model.pos_embedding_layer(torch.arange(x.shape[1])).shape) == exp["pos_embeddings_shape"]
        assert list(model(x).shape) == exp["input_embeddings_shape"]
        return
    torch.manual_seed(inp["seed"])
    if "sequence" in inp:  # the blog's exact order of RNG draws before the positional layer
        emb = torch.nn.Embedding(inp["vocab_size"], inp["output_dim"])
        torch.nn.Linear(inp["vocab_size"], inp["output_dim"], bias=False)
        pos = torch.nn.Embedding(inp["context_length"], inp["output_dim"])
        ids = torch.tensor(inp["ids"])
        close(pos.weight, exp["pos_weight"], atol)
        close(emb(ids) + pos(torch.arange(len(ids))), exp["input_embeddings"], atol)
        return
    # InputEmbeddings built right after the seed draws its token layer first: the book's matrix.
    model = reference.InputEmbeddings(inp["vocab_size"], inp["output_dim"], context_length=8)
    emb = model.token_embedding_layer
    if "weight" in exp:
        close(emb.weight, exp["weight"], atol)
    if "output" in exp:
        close(emb(torch.tensor(inp["ids"])), exp["output"], atol)
    for key, rows in exp.get("lookups", {}).items():
        close(emb(torch.tensor([int(k) for k in key.split(",")])), rows, atol)
    if "onehot" in exp:
        onehot = torch.nn.functional.one_hot(torch.tensor(inp["ids"]))
        assert onehot.tolist() == exp["onehot"]
        close(onehot.float() @ emb.weight, exp["onehot_matmul"], atol)
        linear = torch.nn.Linear(inp["vocab_size"], inp["output_dim"], bias=False)
        linear.weight = torch.nn.Parameter(emb.weight.T)
        close(linear.weight, exp["linear_weight"], atol)
        close(linear(onehot.float()), exp["linear_output"], atol)


def test_input_embeddings_adds_positions_and_rejects_long_inputs() -> None:
    torch.manual_seed(0)
    model = reference.InputEmbeddings(vocab_size=10, output_dim=3, context_length=4)
    ids = torch.tensor([[1, 2, 3], [3, 2, 1]])
    out = model(ids)
    want = model.token_embedding_layer(ids) + model.pos_embedding_layer.weight[:3]
    torch.testing.assert_close(out, want)
    assert isinstance(model.token_embedding_layer, torch.nn.Embedding)
    assert isinstance(model.pos_embedding_layer, torch.nn.Embedding)
    with pytest.raises(ValueError, match="context_length 4"):
        model(torch.zeros(2, 5, dtype=torch.long))
