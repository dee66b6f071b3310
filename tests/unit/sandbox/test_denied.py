"""A PermissionError under the sandbox says that the code runs confined, and a DataLoader with worker
processes runs where the worker's /dev/shm is its own (as root) and is told what to change where not."""
from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from prerequisites import missing as prerequisite_missing

from llmspec.errors import ImplError
from llmspec.runtime.proxy import ProxyAdapter
from llmspec.sandbox import denied, isolation, landlock

VOCAB = {"hello": 0, ",": 1, "world": 2, "!": 3}
TEXT = "In the sunlit terraces of the house, Gisburn's pictures hung in a row. " * 4


@pytest.fixture
def fresh(monkeypatch) -> None:
    """This process is not confined (only a worker ever is); each test says what it stands for."""
    monkeypatch.setattr(denied, "_CONFINED", {})


@pytest.fixture
def proxies():
    made: list[ProxyAdapter] = []

    def make(target: str, **kw) -> ProxyAdapter:
        kw.setdefault("start", "fork")
        made.append(ProxyAdapter(target, call_timeout=20, load_timeout=60, **kw))
        return made[-1]

    yield make
    for p in made:
        p.close()


def refused(tb: str = "", message: str = "[Errno 13] Permission denied: '../data/out.txt'") -> ImplError:
    return ImplError("PermissionError", message, ["PermissionError", "OSError", "Exception"], tb)


def test_nothing_is_added_outside_the_sandbox(fresh) -> None:
    """Plain ``llmspec check``: a PermissionError is the learner's own (a read-only file of theirs)."""
    assert denied.hint(refused()) == ""
    assert not denied.is_confined()


def test_a_refused_write_says_the_code_may_write_only_its_scratch_folder(fresh) -> None:
    denied.confined(shared_memory=True)
    assert "may write only in its scratch folder" in denied.hint(refused())
    assert denied.hint(ImplError("ValueError", "Permission denied", ["ValueError"])) == ""  # not a refusal


def test_dataloader_workers_refused_shared_memory_are_told_to_use_num_workers_0(fresh) -> None:
    tb = 'File "/usr/lib/python3.11/multiprocessing/synchronize.py", line 57, in __init__\n'
    denied.confined(shared_memory=False)
    text = denied.hint(refused(tb, "[Errno 13] Permission denied"))
    assert "DataLoader" in text and "num_workers=0" in text and "Listing 2.6" in text
    torch_own = ImplError("RuntimeError", "unable to open shared memory object </torch_1_2> in read-write mode: "
                          "Permission denied (13)", ["RuntimeError"])
    assert "num_workers=0" in denied.hint(torch_own)
    denied.confined(shared_memory=True)  # /dev/shm is the worker's own: no such advice
    assert "num_workers" not in denied.hint(refused(tb, "[Errno 13] Permission denied"))


def test_only_a_private_dev_shm_is_opened_to_the_submission() -> None:
    assert isolation.private_shm(False) == []
    assert isolation.private_shm(True) == (["/dev/shm"] if os.path.isdir("/dev/shm")
                                           and not os.path.islink("/dev/shm") else [])
    if os.path.isdir("/dev/shm") and not os.path.islink("/dev/shm"):  # something kept is bound back into it
        os.makedirs(f"/dev/shm/llmspec-test-{os.getpid()}", exist_ok=True)
        try:
            assert isolation.private_shm(True, [f"/dev/shm/llmspec-test-{os.getpid()}"]) == []
        finally:
            os.rmdir(f"/dev/shm/llmspec-test-{os.getpid()}")


def confinable() -> None:
    if not isolation.is_root() and landlock.abi_version() < 1:
        prerequisite_missing("neither root nor Landlock: nothing confines the worker's writes here")


def writer(tmp_path: Path) -> str:
    """A tokenizer whose decode keeps a copy of its output one folder up, as some do."""
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "writes_data.py"
    path.write_text(textwrap.dedent("""
        class SimpleTokenizerV1:
            def __init__(self, vocab): self.inv = {i: s for s, i in vocab.items()}
            def encode(self, text): return []
            def decode(self, ids):
                text = " ".join(self.inv[i] for i in ids)
                with open("../decoded.txt", "w") as f:
                    f.write(text)
                return text
        """))
    return str(path)


def test_a_write_outside_scratch_under_the_sandbox_says_why(proxies, tmp_path: Path) -> None:
    confinable()
    proxy = proxies(writer(tmp_path))
    with pytest.raises(ImplError) as caught:
        proxy.tokenizer_decode(proxy.tokenizer_new(1, VOCAB), [0])
    assert caught.value.is_a("PermissionError")
    assert "runs confined here: it may write only in its scratch folder" in caught.value.message


def test_the_learners_own_permission_error_gets_no_sandbox_hint(proxies, tmp_path: Path) -> None:
    """``sandbox=False`` (``llmspec check``'s worker): a refusal is the learner's file system's."""
    target = writer(tmp_path)
    Path(target).write_text(Path(target).read_text().replace(
        'open("../decoded.txt", "w")', 'open(raise_(PermissionError(13, "Permission denied")))'
    ) + "def raise_(exc): raise exc\n")
    proxy = proxies(target, sandbox=False)
    with pytest.raises(ImplError) as caught:
        proxy.tokenizer_decode(proxy.tokenizer_new(1, VOCAB), [0])
    assert caught.value.is_a("PermissionError") and "confined" not in caught.value.message


LOADER = textwrap.dedent("""
    import tiktoken
    import torch
    from torch.utils.data import DataLoader, Dataset

    class GPTDatasetV1(Dataset):
        def __init__(self, txt, tokenizer, max_length, stride):
            ids = tokenizer.encode(txt)
            self.pairs = [(torch.tensor(ids[i:i + max_length]), torch.tensor(ids[i + 1:i + max_length + 1]))
                          for i in range(0, len(ids) - max_length, stride)]
        def __len__(self): return len(self.pairs)
        def __getitem__(self, idx): return self.pairs[idx]

    def create_dataloader_v1(txt, batch_size=4, max_length=256, stride=128, shuffle=True, drop_last=True,
                             num_workers=0):
        dataset = GPTDatasetV1(txt, tiktoken.get_encoding("gpt2"), max_length, stride)
        return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                          num_workers=num_workers)
    """)


def test_a_dataloader_with_worker_processes_runs_under_the_graders_sandbox(proxies, tmp_path: Path) -> None:
    """As root (Gradescope, a container) the worker's /dev/shm is its own: ``num_workers=2`` is the
    correct implementation it is, and its batches are those of ``num_workers=0``."""
    if not isolation.is_root():
        prerequisite_missing("needs root: only then is the worker's /dev/shm a private mount")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "loader.py").write_text(LOADER)
    proxy = proxies(str(tmp_path / "sub" / "loader.py"))
    asked = dict(batch_size=2, max_length=4, stride=4, shuffle=False, drop_last=True)
    with_workers = proxy.dataloader_batches(TEXT, **asked, num_workers=2)
    assert with_workers["num_workers"] == 2 and with_workers["batches"]
    alone = proxy.dataloader_batches(TEXT, **asked, num_workers=0)["batches"]
    assert [[x.tolist(), y.tolist()] for x, y in with_workers["batches"]] == [[x.tolist(), y.tolist()] for x, y in alone]
    if proxy.worker_info["landlock"].get("fs"):  # Landlock grants it, beside the scratch folder
        assert proxy.worker_info["landlock"]["writable"][1:] == ["/dev/shm"]
