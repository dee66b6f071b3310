"""``--edition auto``: the target's own tokenizer says which edition of the book it follows (the
MEAP regex keeps ':' and ';' attached), and under MEAP every MEAP listing passes (Listing 2.5 without
``allowed_special``, Listing 2.6 without ``num_workers``)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest


import book_targets as T  # noqa: E402
from llmspec import editions  # noqa: E402
from llmspec.grading.config import parse_config  # noqa: E402
from llmspec.runtime.inprocess import InProcessAdapter  # noqa: E402

V2_ONLY_PRINT = '''
import re
class SimpleTokenizerV2:
    def __init__(self, vocab):
        self.str_to_int = vocab
    def encode(self, text):
        parts = [p.strip() for p in re.split(r'([,.:;?_!"()\\']|--|\\s)', text) if p.strip()]
        return [self.str_to_int.get(p, self.str_to_int["<|unk|>"]) for p in parts]
'''
BROKEN = "class SimpleTokenizerV1:\n    def __init__(self, vocab):\n        raise RuntimeError('not yet')\n"
# The book's first attempt at a regex (2.2) splits only whitespace, commas and periods: a V1 written
# with it raises KeyError on the probe, so its (MEAP) V2 decides.
FIRST_ATTEMPT_V1 = T.MEAP_FILE.replace("""r'([,.?_!"()\\']|--|\\s)'""", "r'([,.]|\\s)'", 1)  # V1's encode only
ODD = ("class SimpleTokenizerV1:\n    def __init__(self, vocab):\n        self.vocab = vocab\n"
       "    def encode(self, text):\n        return [0]\n")


# No tokenizer: the dataset's Listing 2.5 tells the edition (the MEAP one calls plain encode(txt)).
PRINT_DATASET = T.LOADER
MEAP_DATASET = T.LOADER.replace('tokenizer.encode(txt, allowed_special={"<|endoftext|>"})', "tokenizer.encode(txt)")
BROKEN_DATASET = T.LOADER.replace("def __init__(self, txt, tokenizer, max_length, stride):\n",
                                  "def __init__(self, txt, tokenizer, max_length, stride):\n"
                                  "        raise RuntimeError('not yet')\n")
assert MEAP_DATASET != PRINT_DATASET != BROKEN_DATASET


def _detect(tmp_path: Path, source: str | None) -> tuple[str, str]:
    target = "reference"
    if source is not None:
        (tmp_path / "t.py").write_text(source)
        target = str(tmp_path / "t.py")
    adapter = InProcessAdapter.from_target(target)
    try:
        return editions.detect(adapter, adapter.describe())
    finally:
        adapter.close()


@pytest.mark.parametrize("source, edition, why", [
    (None, "print", "SimpleTokenizerV1 splits ':' and ';' off words"),
    (T.MEAP_FILE, "meap", "keeps ':' and ';' attached"),
    (V2_ONLY_PRINT, "print", "SimpleTokenizerV2 splits"),
    ("x = 1\n", "print", "no SimpleTokenizerV1 or SimpleTokenizerV2 to probe"),
    (BROKEN, "print", "raised RuntimeError: not yet"),
    (ODD, "print", "like neither edition"),
    (FIRST_ATTEMPT_V1, "meap", "SimpleTokenizerV2 keeps ':' and ';' attached"),
    (MEAP_DATASET, "meap", "GPTDatasetV1 calls plain tokenizer.encode(txt), as the MEAP edition's Listing 2.5"),
    (PRINT_DATASET, "print", "GPTDatasetV1 passes allowed_special to tokenizer.encode"),
    (BROKEN_DATASET, "print", "GPTDatasetV1(...) raised RuntimeError: not yet"),
    (T.MEAP_FILE.replace("SimpleTokenizer", "Tokenizer") + PRINT_DATASET, "print", "passes allowed_special"),
])
def test_auto_probes_the_targets_tokenizer(tmp_path, source, edition, why):
    got, line = _detect(tmp_path, source)
    assert got == edition and why in line and "--edition print|meap" in line, line


def test_first_attempt_fixture_differs_from_the_meap_file():
    assert FIRST_ATTEMPT_V1 != T.MEAP_FILE and "r'([,.]|\\s)'" in FIRST_ATTEMPT_V1


def test_probe_vocabulary_holds_both_splits():
    vocab = editions.probe_vocab(1)
    for edition in ("print", "meap"):
        from reference.tokenizers import split_text

        assert all(p in vocab for p in split_text(editions.PROBE, edition))
    assert {"world:", ":", "Yes;", ";"} <= set(vocab)
    assert list(editions.probe_vocab(2))[-2:] == ["<|endoftext|>", "<|unk|>"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("editions")
    meap = tmp / "meap_ch02.py"
    meap.write_text(T.MEAP_FILE)
    stages = ["--stages", "tokenizer_v1,tokenizer_v2,dataset,dataloader"]
    return T.run_suites({"auto": [str(meap), *stages],
                         "auto_isolated": [str(meap), "--isolate", *stages],
                         "forced_print": [str(meap), "--edition", "print", *stages],
                         "reference": ["--stages", "tokenizer_v1,dataset"]}, tmp)


@pytest.mark.parametrize("name", ["auto", "auto_isolated"])
def test_a_meap_file_is_detected_and_passes(runs, name):
    code, out, report = runs[name]
    assert code == 0, out
    assert report["edition"] == "meap" and "edition meap (auto:" in out
    assert all(r["status"] == "pass" for r in report["stages"].values() if r["status"] != "not_selected")


def test_forcing_print_on_a_meap_file_fails_and_says_why(runs):
    code, out, report = runs["forced_print"]
    assert code == 1 and report["edition"] == "print" and not report["edition_reason"]
    assert report["stages"]["tokenizer_v1"]["status"] == "pass"  # the print book's own Listing 2.3 splits so
    assert report["stages"]["tokenizer_v2"]["status"] == "fail"
    assert report["stages"]["dataset"]["status"] == "fail"


def test_the_reference_is_print(runs):
    code, out, report = runs["reference"]
    assert code == 0 and report["edition"] == "print", out
    assert "edition print (auto: SimpleTokenizerV1 splits" in out


def test_grading_config_takes_the_edition():
    assert parse_config({}).edition == "print"
    assert parse_config({"assignment": {"edition": "auto"}}).edition == "auto"
    with pytest.raises(ValueError, match="edition must be one of"):
        parse_config({"assignment": {"edition": "second"}})


def test_grading_auto_scores_each_submission_in_its_edition(tmp_path):
    """Golden cases differ per edition, so ``edition = "auto"`` scores each submission against the
    test list of the edition it was probed as, and says which in its feedback."""
    import json
    import os
    import subprocess

    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "meap_ch02.py").write_text(T.MEAP_FILE)
    config = tmp_path / "auto.toml"
    config.write_text('[assignment]\nedition = "auto"\nstages = ["tokenizer_v1", "dataset"]\n'
                      '[stages.tokenizer_v1]\npoints = 10\n[stages.dataset]\npoints = 10\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMSPEC_IMPL")}
    proc = subprocess.run([sys.executable, "-m", "llmspec", "grade", str(subs), "--out", str(tmp_path / "g"),
                           "--config", str(config)], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads((tmp_path / "g" / "meap_ch02" / "results.json").read_text())
    assert result["score"] == 20, result["output"]
    assert "edition meap (auto:" in result["output"]
    assert any("verdict-passage-meap" in t["name"] for t in result["tests"])


# A learner's V1 typed from the MEAP edition, V2 from the print edition (one regex each).
PRINTED = T.BASE.replace("""r'([,.:;?_!"()\\']|--|\\s)'""", """r'([,.?_!"()\\']|--|\\s)'""", 1)  # V1 only
MIXED = T.BASE[::-1].replace("""r'([,.:;?_!"()\\']|--|\\s)'"""[::-1], """r'([,.?_!"()\\']|--|\\s)'"""[::-1], 1)[::-1]


def test_the_print_books_own_listings_are_the_print_edition(tmp_path: Path) -> None:
    """The print book's Listing 2.3 splits without ':' and ';', its Listing 2.4 with them: print, no hint."""
    (tmp_path / "printed.py").write_text(PRINTED)
    adapter = InProcessAdapter.from_target(str(tmp_path / "printed.py"))
    try:
        description = adapter.describe()
        edition, why = editions.detect(adapter, description)
        assert edition == "print" and "as the print book's Listings 2.3 and 2.4 do" in why
        assert editions.mismatch_hint(adapter, description, "print") == ""
    finally:
        adapter.close()


def test_tokenizers_of_two_editions_are_named_in_the_hint(tmp_path: Path) -> None:
    """V1 splitting ':' ';' off beside a V2 keeping them on: no edition's pair."""
    (tmp_path / "mixed.py").write_text(MIXED)
    adapter = InProcessAdapter.from_target(str(tmp_path / "mixed.py"))
    try:
        description = adapter.describe()
        assert editions.detect(adapter, description)[0] == "print"  # V1 decides
        hint = editions.mismatch_hint(adapter, description, "print")
        assert "which your SimpleTokenizerV1 follows, but SimpleTokenizerV2 keeps ':' and ';' attached" in hint
        assert "different editions' regex" in hint and "--edition auto" not in hint
        assert "the print edition's Listing 2.4 splits with r'([,.:;?_!\"()\\']|--|\\s)'" in hint, hint
        assert "which your SimpleTokenizerV2 follows, but SimpleTokenizerV1 splits" in \
            editions.mismatch_hint(adapter, description, "meap")
    finally:
        adapter.close()


def test_which_split_each_editions_listing_accepts() -> None:
    """Enumerated: each edition's listing splits as its own regex, except the print book's Listing
    2.3, which splits as the MEAP's (the book repository's V1 as 2.4): either is print."""
    table = {(e, v, s): editions.accepts(e, v, s) for e in ("print", "meap") for v in (1, 2) for s in ("print", "meap")}
    assert [key for key, ok in table.items() if ok] == [
        ("print", 1, "print"), ("print", 1, "meap"), ("print", 2, "print"), ("meap", 1, "meap"), ("meap", 2, "meap")]
