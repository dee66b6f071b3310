"""The in-process adapter (``llmspec.runtime.inprocess``): every operation reaches the implementation the
way the book calls it, every result is a plain wire value, and every failure of the implementation
becomes an ImplError (or StageMissing) that carries names and text only."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from llmspec.runtime.adapter import OPS, Adapter, each_result
from llmspec.runtime.connect import open_adapter
from llmspec.errors import HarnessError, ImplError, StageMissing
from llmspec.runtime.inprocess import InProcessAdapter

# A small, book-shaped submission with knobs the tests turn by appending code.
SUBMISSION = '''
import re
import torch
from torch.utils.data import DataLoader, Dataset


class SimpleTokenizerV1:
    def __init__(self, vocab):
        self.str_to_int = vocab
        self.int_to_str = {i: s for s, i in vocab.items()}

    def encode(self, text):
        return [self.str_to_int[s] for s in text.split()]

    def decode(self, ids):
        return " ".join(self.int_to_str[i] for i in ids)


class GPTDatasetV1(Dataset):
    def __init__(self, txt, tokenizer, max_length, stride):
        ids = tokenizer.encode(txt, allowed_special={"<|endoftext|>"})
        self.input_ids, self.target_ids = [], []
        for i in range(0, len(ids) - max_length, stride):
            self.input_ids.append(torch.tensor(ids[i:i + max_length]))
            self.target_ids.append(torch.tensor(ids[i + 1:i + max_length + 1]))

    def __len__(self):
        return len(self.input_ids)

    def __getitem__(self, idx):
        return self.input_ids[idx], self.target_ids[idx]


class InputEmbeddings(torch.nn.Module):
    def __init__(self, vocab_size, output_dim, context_length):
        super().__init__()
        self.token_embedding_layer = torch.nn.Embedding(vocab_size, output_dim)
        self.pos_embedding_layer = torch.nn.Embedding(context_length, output_dim)

    def forward(self, ids):
        return self.token_embedding_layer(ids) + self.pos_embedding_layer(torch.arange(ids.shape[-1]))
'''


def adapter_for(tmp_path: Path, extra: str = "", impl_map: dict[str, str] | None = None) -> InProcessAdapter:
    path = tmp_path / "submission.py"
    path.write_text(SUBMISSION + extra)
    adapter = open_adapter(str(path), impl_map)
    assert isinstance(adapter, InProcessAdapter)
    return adapter


def v2_encode_returning(expression: str) -> str:
    """Submission code whose ``SimpleTokenizerV2.encode`` returns ``expression``."""
    return (
        "import sys\nimport numpy as np\n"
        "class SimpleTokenizerV2(SimpleTokenizerV1):\n"
        f"    def encode(self, text):\n        return {expression}\n"
    )


def assert_plain(t: object) -> torch.Tensor:
    assert type(t) is torch.Tensor
    assert isinstance(t, torch.Tensor) and not t.requires_grad and t.is_contiguous()
    return t


def test_every_op_is_implemented() -> None:
    assert not InProcessAdapter.__abstractmethods__
    assert all(callable(getattr(InProcessAdapter, op)) for op in OPS)
    assert issubclass(InProcessAdapter, Adapter)


def test_describe_reports_missing_names_per_stage(tmp_path: Path) -> None:
    a = adapter_for(tmp_path)
    d = a.describe()
    assert d["kind"] == "file" and d["target"].endswith("submission.py")
    assert d["stages"]["tokenizer_v1"] == [] and d["stages"]["dataset"] == []
    assert d["stages"]["tokenizer_v2"] == ["SimpleTokenizerV2"]
    assert d["stages"]["dataloader"] == ["create_dataloader_v1"]
    assert d["names"]["create_dataloader_v1"] is None
    with pytest.raises(StageMissing) as info:
        a.tokenizer_new(2, {"a": 0})
    assert (info.value.stage, info.value.missing) == ("tokenizer_v2", ["SimpleTokenizerV2"])
    a.close()


def test_tokenizer_roundtrip_and_impl_error(tmp_path: Path) -> None:
    a = adapter_for(tmp_path)
    h = a.tokenizer_new(1, {"Hello": 0, "world": 1})
    assert a.tokenizer_encode(h, "Hello world") == [0, 1]
    assert a.tokenizer_decode(h, [1, 0]) == "world Hello"
    with pytest.raises(ImplError) as info:
        a.tokenizer_encode(h, "unknown")
    err = info.value
    assert err.exc_type == "KeyError" and err.is_a("LookupError") and not err.is_a("ValueError")
    assert "submission.py" in err.tb and "'unknown'" in err.message
    a.release(h)
    with pytest.raises(Exception, match="not a live tokenizer handle"):
        a.tokenizer_encode(h, "Hello")
    a.close()


def test_a_batch_answers_like_single_calls_and_stops_where_a_loop_would(tmp_path: Path) -> None:
    a = adapter_for(tmp_path)
    h = a.tokenizer_new(1, {"Hello": 0, "world": 1})
    texts = ["Hello world", "world", "unknown", "Hello"]
    batch = a.tokenizer_encode_many(h, texts)
    assert batch["values"] == [[0, 1], [1]] and batch["error"]["exc_type"] == "KeyError"
    answers = each_result(batch, len(texts))
    assert [next(answers), next(answers)] == [a.tokenizer_encode(h, t) for t in texts[:2]]
    with pytest.raises(ImplError) as info:
        next(answers)
    assert info.value.is_a("LookupError") and "'unknown'" in info.value.message and "submission.py" in info.value.tb
    assert list(each_result(a.tokenizer_decode_many(h, [[1, 0], []]), 2)) == ["world Hello", ""]
    for malformed in ({"values": [[0]], "error": None}, {"values": [[0]] * 3, "error": None}, [[0], [1]]):
        with pytest.raises(HarnessError, match="malformed"):
            list(each_result(malformed, 2))  # a broken worker's answer never passes as results
    a.close()


@pytest.mark.parametrize(
    ("returned", "expected"),
    [
        ("(1, 2, 3)", [1, 2, 3]),  # a tuple
        ("torch.tensor([1, 2, 3])", [1, 2, 3]),  # a tensor of ints
        ("[np.int64(1), 2, 3]", [1, 2, 3]),  # numpy integer scalars
        ("torch.tensor([])", []),  # what torch.tensor(ids) gives for empty text (float32)
    ],
)
def test_ids_are_normalised_to_list_of_int(tmp_path: Path, returned: str, expected: list[int]) -> None:
    a = adapter_for(tmp_path, v2_encode_returning(returned))
    ids = a.tokenizer_encode(a.tokenizer_new(2, {}), "x")
    assert ids == expected and type(ids) is list and all(type(i) is int for i in ids)
    a.close()


@pytest.mark.parametrize(
    ("returned", "words"),
    [
        ("np.array([1, 2])", "numpy.ndarray"),
        ("torch.tensor([1.0, 2.0])", "torch.float32 tensor"),
        ("torch.tensor(7)", "of shape []"),
        ("torch.tensor([1 + 2j])", "complex64 tensor"),
        ("'1 2'", "returned str"),
        ("[1, None]", "item 1 is NoneType"),
        ("[True, False]", "item 0 is bool"),
    ],
)
def test_ids_of_the_wrong_type_are_a_clear_type_error(tmp_path: Path, returned: str, words: str) -> None:
    a = adapter_for(tmp_path, v2_encode_returning(returned))
    with pytest.raises(ImplError) as info:
        a.tokenizer_encode(a.tokenizer_new(2, {}), "x")
    assert info.value.is_a("TypeError") and words in info.value.message and "encode" in info.value.message
    a.close()


def test_decode_must_return_str(tmp_path: Path) -> None:
    extra = (
        "class Text(str):\n    pass\n"
        "class SimpleTokenizerV2(SimpleTokenizerV1):\n"
        "    def decode(self, ids):\n        return Text('hi') if ids else b'hi'\n"
    )
    a = adapter_for(tmp_path, extra)
    h = a.tokenizer_new(2, {})
    text = a.tokenizer_decode(h, [0])
    assert text == "hi" and type(text) is str
    with pytest.raises(ImplError, match="returned bytes; expected a str"):
        a.tokenizer_decode(h, [])
    a.close()


def test_system_exit_from_submission_becomes_impl_error(tmp_path: Path) -> None:
    a = adapter_for(tmp_path, v2_encode_returning("sys.exit(3)"))
    with pytest.raises(ImplError) as info:
        a.tokenizer_encode(a.tokenizer_new(2, {}), "x")
    assert info.value.exc_type == "SystemExit" and info.value.is_a("BaseException")
    a.close()


def test_calls_run_in_scratch_dir_and_restore_cwd(tmp_path: Path) -> None:
    extra = (
        "import os\nclass SimpleTokenizerV2(SimpleTokenizerV1):\n"
        "    def decode(self, ids):\n        return open('the-verdict.txt').read(5) + '|' + os.getcwd()\n"
    )
    a = adapter_for(tmp_path, extra)
    before = Path.cwd()
    head, cwd = a.tokenizer_decode(a.tokenizer_new(2, {}), []).split("|")
    assert head == "I HAD" and Path(cwd) == a.loaded.scratch and Path.cwd() == before
    a.close()


def test_network_is_blocked_during_calls(tmp_path: Path) -> None:
    extra = (
        "import urllib.request\nclass SimpleTokenizerV2(SimpleTokenizerV1):\n"
        "    def decode(self, ids):\n        return urllib.request.urlopen('http://example.com', timeout=60).read()\n"
    )
    a = adapter_for(tmp_path, extra)
    with pytest.raises(ImplError) as info:
        a.tokenizer_decode(a.tokenizer_new(2, {}), [])
    assert info.value.is_a("OSError") and "network access is blocked" in info.value.message
    a.close()


def test_dataset_with_fake_tokenizer_records_calls(tmp_path: Path) -> None:
    a = adapter_for(tmp_path)
    ids = list(range(10, 20))
    h = a.dataset_new("some text", max_length=4, stride=3, tokenizer={"fake_ids": ids})
    n = a.dataset_len(h)
    assert n == len(range(0, len(ids) - 4, 3))
    items = a.dataset_items(h, [0, n - 1])
    for (x, y), start in zip(items, (0, 3 * (n - 1))):
        assert assert_plain(x).tolist() == ids[start:start + 4]
        assert assert_plain(y).tolist() == ids[start + 1:start + 5]
    assert a.dataset_tokenizer_calls(h) == [
        {"method": "encode", "text": "some text", "allowed_special": ["<|endoftext|>"]}
    ]
    a.close()


def test_dataset_item_that_is_not_a_pair(tmp_path: Path) -> None:
    extra = "GPTDatasetV1.__getitem__ = lambda self, i: self.input_ids[i]\n"
    a = adapter_for(tmp_path, extra)
    h = a.dataset_new("t", 2, 1, {"fake_ids": [1, 2, 3, 4]})
    with pytest.raises(ImplError, match=r"dataset\[0\] returned torch.Tensor; expected a pair"):
        a.dataset_items(h, [0])
    a.close()


def test_dataloader_called_by_keyword_and_seeded(tmp_path: Path, verdict_text: str, gpt2) -> None:
    # parameters in an unusual order: a positional call would bind them wrongly
    extra = '''
def make_loader(txt, stride, max_length, batch_size, drop_last=True, shuffle=True, num_workers=0):
    import tiktoken
    ds = GPTDatasetV1(txt, tiktoken.get_encoding("gpt2"), max_length, stride)
    return DataLoader(ds, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, num_workers=num_workers)
'''
    a = adapter_for(tmp_path, extra, {"create_dataloader_v1": "make_loader"})
    r = a.dataloader_batches(verdict_text, batch_size=2, max_length=4, stride=4, shuffle=True,
                             drop_last=True, seed=123, max_batches=3)
    assert r["is_dataloader"] and r["type"] == "torch.utils.data.dataloader.DataLoader"
    ids = gpt2.encode(verdict_text)
    windows = len(range(0, len(ids) - 4, 4))
    assert r["len"] == windows // 2 and len(r["batches"]) == 3
    x, y = (assert_plain(t) for t in r["batches"][0])
    assert x.shape == (2, 4) and torch.equal(x[:, 1:], y[:, :-1])
    again = a.dataloader_batches(verdict_text, batch_size=2, max_length=4, stride=4, shuffle=True,
                                 drop_last=True, seed=123, max_batches=3)
    assert all(torch.equal(p, q) for b1, b2 in zip(r["batches"], again["batches"]) for p, q in zip(b1, b2))
    a.close()


def test_embeddings_seeded_state_forward_backward(tmp_path: Path) -> None:
    a = adapter_for(tmp_path)
    h = a.embeddings_new(6, 3, 4, seed=123)
    state = a.embeddings_state(h)
    torch.manual_seed(123)
    expected = torch.nn.Embedding(6, 3).weight.detach()
    assert state["is_module"] and state["token_is_embedding"] and state["pos_is_embedding"]
    assert torch.equal(assert_plain(state["token_embedding_layer"]), expected)
    ids = torch.tensor([[2, 3, 5]])
    out = assert_plain(a.embeddings_forward(h, ids))
    assert torch.equal(out, expected[ids] + state["pos_embedding_layer"][:3])
    grads = a.embeddings_backward(h, ids, torch.ones(1, 3, 3))
    assert assert_plain(grads["token_embedding_layer"])[[2, 3, 5]].eq(1).all()
    assert grads["token_embedding_layer"][[0, 1, 4]].eq(0).all()
    again = a.embeddings_backward(h, ids, torch.ones(1, 3, 3))  # grads are zeroed, not accumulated
    assert torch.equal(again["pos_embedding_layer"], grads["pos_embedding_layer"])
    a.close()


def test_tensor_subclass_results_become_plain_tensors(tmp_path: Path) -> None:
    extra = '''
class Marked(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return super().__torch_function__(func, types, args, kwargs or {})

class Sneaky(InputEmbeddings):
    def forward(self, ids):
        return super().forward(ids).as_subclass(Marked)
'''
    a = adapter_for(tmp_path, extra, {"InputEmbeddings": "Sneaky"})
    h = a.embeddings_new(5, 2, 3, seed=1)
    out = assert_plain(a.embeddings_forward(h, torch.tensor([0, 1])))
    assert out.shape == (2, 2) and out.dtype == torch.float32
    a.close()


def test_bpe_prefers_target_tokenizer_and_passes_special_sets(tmp_path: Path, gpt2) -> None:
    a = adapter_for(tmp_path)
    assert a.bpe_info() == {"n_vocab": gpt2.n_vocab, "source": "tiktoken.get_encoding('gpt2')"}
    text = "Hello <|endoftext|> world"
    assert a.bpe_encode(text, allowed_special=["<|endoftext|>"]) == gpt2.encode(text, allowed_special={"<|endoftext|>"})
    assert a.bpe_encode(text, allowed_special="all") == gpt2.encode(text, allowed_special="all")
    with pytest.raises(ImplError) as info:
        a.bpe_encode(text)  # tiktoken refuses special tokens by default
    assert info.value.is_a("ValueError")
    a.close()
    own = adapter_for(tmp_path, "import tiktoken\ntokenizer = tiktoken.get_encoding('gpt2')\n")
    assert own.bpe_info()["source"] == "target.tokenizer"
    assert own.bpe_decode(gpt2.encode("Akwirw ier")) == "Akwirw ier"
    own.close()


def test_bpe_scratch_stage_uses_book_keywords(tmp_path: Path, data_dir: Path) -> None:
    extra = '''
class BPETokenizerSimple:
    def load_vocab_and_merges_from_openai(self, vocab_path, bpe_merges_path):
        self.loaded = (vocab_path, bpe_merges_path)
    def encode(self, text, allowed_special=None):
        return [len(text), len(allowed_special or ())]
    def decode(self, ids):
        return "|".join(self.loaded)
    def train(self, text, vocab_size, allowed_special={"<|endoftext|>"}):
        self.loaded = (text, str(vocab_size))
'''
    a = adapter_for(tmp_path, extra)
    enc, bpe = str(data_dir / "gpt2" / "encoder.json"), str(data_dir / "gpt2" / "vocab.bpe")
    h = a.bpe_scratch_new(enc, bpe)
    assert a.bpe_scratch_decode(h, []) == f"{enc}|{bpe}"
    assert a.bpe_scratch_encode(h, "abc", ["<|endoftext|>"]) == [3, 1]
    assert a.bpe_scratch_train(h, "hello", 300) is None
    assert a.bpe_scratch_decode(h, []) == "hello|300"
    a.close()


def test_open_adapter_defaults_to_reference() -> None:
    a = open_adapter(None)
    d = a.describe()
    assert d["target"] == "reference" and d["kind"] == "module"
    assert all(missing == [] for missing in d["stages"].values())
    assert a.bpe_info()["source"] == "target.tokenizer"
    a.close()


def test_forward_returning_numpy_is_a_clear_type_error(tmp_path: Path) -> None:
    extra = "class AsNumpy(InputEmbeddings):\n    def forward(self, ids):\n        return super().forward(ids).detach().numpy()\n"
    a = adapter_for(tmp_path, extra, {"InputEmbeddings": "AsNumpy"})
    h = a.embeddings_new(5, 2, 3, seed=1)
    with pytest.raises(ImplError) as info:
        a.embeddings_forward(h, torch.tensor([0, 1]))
    assert info.value.is_a("TypeError") and "returned numpy.ndarray; expected a torch.Tensor" in info.value.message
    a.close()


def test_dataloader_signature_and_workers_without_starting_them(tmp_path: Path, verdict_text: str) -> None:
    """Listing 2.6's defaults cross as wire values; ``max_batches=0`` reads ``loader.num_workers``
    without iterating (so no worker process starts)."""
    a = InProcessAdapter.from_target("reference", scratch=tmp_path)
    sig = {p["name"]: p for p in a.dataloader_signature()}
    assert [sig[n]["default"] for n in ("batch_size", "max_length", "stride", "shuffle", "drop_last",
                                        "num_workers")] == [4, 256, 128, True, True, 0]
    assert sig["txt"]["has_default"] is False and sig["txt"]["kind"] == "positional_or_keyword"
    r = a.dataloader_batches(verdict_text[:300], batch_size=2, max_length=4, stride=4, shuffle=False,
                             drop_last=True, num_workers=2, max_batches=0)
    assert r["num_workers"] == 2 and r["batches"] == []
    a.close()


def test_bpe_scratch_state_after_training(tmp_path: Path) -> None:
    a = InProcessAdapter.from_target("reference", scratch=tmp_path)
    h = a.bpe_scratch_new(None, None)
    a.bpe_scratch_train(h, "ab ab ab cd cd", 261, ["<|endoftext|>"])
    state = a.bpe_scratch_state(h)
    assert state["vocab_len"] == 261 and state["specials"] == {"<|endoftext|>": 1}
    assert [m[2] for m in state["merges"]] == [258, 259, 260]  # after 257 base tokens and the special
    assert state["merges"][0] == [97, 98, 258]  # "a" "b": the bonus notebook's ids, chr(97), chr(98)
    a.close()


def test_absent_parts_and_encode_without_allowed_special(tmp_path: Path) -> None:
    """The simple bonus notebook's shape: describe() names the optional parts its class lacks, and
    encode is called without ``allowed_special`` when none is asked for."""
    extra = '''
class BPETokenizerSimple:
    def encode(self, text):
        return [len(text)]
    def decode(self, ids):
        return ""
    def train(self, text, vocab_size, allowed_special={"<|endoftext|>"}):
        pass
'''
    a = adapter_for(tmp_path, extra)
    assert a.describe()["absent"] == {"bpe_scratch": ["load_vocab_and_merges_from_openai", "encode(allowed_special)"]}
    assert a.bpe_scratch_encode(a.bpe_scratch_new(None, None), "abc") == [3]
    a.close()
    assert InProcessAdapter.from_target("reference", scratch=tmp_path / "ref").describe()["absent"] == {}


def test_the_traceback_holds_the_learners_line_not_the_harness_or_the_library_depths(tmp_path: Path) -> None:
    """A bad regex in decode fails deep in ``re``'s parser; what a failure shows (its last lines)
    must still hold the learner's line, and none of the harness frames that called in."""
    bad = "\nclass SimpleTokenizerV1(SimpleTokenizerV1):\n    def decode(self, ids):\n" \
          "        return re.sub(r'\\s+([,.?!\"()\\])', r'\\1', ' '.join(map(str, ids)))\n"
    a = adapter_for(tmp_path, bad)
    try:
        with pytest.raises(ImplError) as info:
            a.tokenizer_decode(a.tokenizer_new(1, {"a": 0}), [0])
    finally:
        a.close()
    line = (SUBMISSION + bad).splitlines().index(bad.splitlines()[-1].rstrip()) + 1
    last = info.value.tb.strip().splitlines()[-6:]
    assert any(f"submission.py\", line {line}, in decode" in ln for ln in last), last
    assert "frames in Python's libraries" in info.value.tb and "llmspec" not in info.value.tb


def test_a_chained_exception_says_what_it_was_raised_while_handling(tmp_path: Path) -> None:
    chained = "\nclass SimpleTokenizerV1(SimpleTokenizerV1):\n    def encode(self, text):\n        try:\n" \
              "            return [self.str_to_int[text]]\n        except KeyError as e:\n" \
              "            raise ValueError('unknown word') from e\n"
    a = adapter_for(tmp_path, chained)
    try:
        with pytest.raises(ImplError) as info:
            a.tokenizer_encode(a.tokenizer_new(1, {"a": 0}), "Hello")
    finally:
        a.close()
    assert info.value.tb.strip().splitlines()[-2:] == ["  (while handling KeyError: 'Hello')",
                                                       "ValueError: unknown word"], info.value.tb
