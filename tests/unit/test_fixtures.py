"""The golden fixture files follow their schema (every case cites a document and says where its
value comes from), and ``llmspec.fixtures`` reads and filters them."""
from __future__ import annotations

import json

import pytest

from llmspec import fixtures

NAMES = ("verdict", "tokenizer_v1", "tokenizer_v2", "blog_cat", "bpe", "dataset", "embeddings")
SEEDS = ("000_9953371f2b0fc0d0.txt", "001_52be6651b96e3b18.txt", "002_7f7806e88e8c52a4.txt",
         "003_26158f6a5bd1e0ed.txt", "004_4163245e9f5aa4d5.txt")


def documents(source: dict) -> bool:
    """A source names a seed document, or says plainly that it is the print edition (no seed)."""
    doc = source["document"]
    return doc in SEEDS or doc.startswith("print edition")


@pytest.mark.parametrize("name", NAMES)
def test_fixture_schema(name: str) -> None:
    doc = fixtures.load(name)
    assert doc["description"] and doc["provenance"] and documents(doc["source"]) and doc["source"]["section"]
    ids = [c["id"] for c in doc["cases"]]
    assert ids and len(ids) == len(set(ids))
    for c in doc["cases"]:
        assert set(c) >= {"id", "edition", "input", "expected"}, c["id"]
        assert c["edition"] in (None, "print", "meap"), c["id"]
        assert documents(c.get("source", doc["source"])), c["id"]
        floats = [v for v in json.dumps(c["expected"]).replace("[", " ").replace("]", " ").replace(",", " ").split()
                  if "." in v and v.lstrip("-").replace(".", "").isdigit()]
        assert not floats or c.get("atol", 0) > 0, f"{c['id']}: float values need an atol"


@pytest.mark.parametrize("name", NAMES)
def test_provenance_cites_only_what_a_learner_can_look_up(name: str) -> None:
    """Sources and provenance reach learners (a failing test prints them): they cite documents and
    book sections, never the project's own work items."""
    text = json.dumps(fixtures.load(name)).lower()
    for word in ("issue", "ticket"):
        assert word not in text, f"{name}.json mentions {word!r}"


def test_fixture_files_are_all_listed() -> None:
    on_disk = {p.stem for p in fixtures.REPO_FIXTURES.glob("*.json")}
    assert on_disk == set(NAMES)


def test_cases_filter_by_edition() -> None:
    print_ids = {c["id"] for c in fixtures.cases("tokenizer_v1", "print")}
    meap_ids = {c["id"] for c in fixtures.cases("tokenizer_v1", "meap")}
    neutral = {c["id"] for c in fixtures.cases("tokenizer_v1")}
    assert "verdict-passage-print" in print_ids - meap_ids
    assert "verdict-passage-meap" in meap_ids - print_ids
    assert neutral == print_ids & meap_ids and "cat-encode-prefix" in neutral


def test_case_lookup_and_copies() -> None:
    case = fixtures.case("bpe", "akwirw-ier")
    assert case["expected"]["ids"] == [33901, 86, 343, 86, 220, 959]
    case["expected"]["ids"].clear()  # callers get copies: mutation does not leak
    assert fixtures.case("bpe", "akwirw-ier")["expected"]["ids"]
    with pytest.raises(KeyError, match="akwirw-ier"):
        fixtures.case("bpe", "no-such-case")


def test_installed_package_fallback(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Outside a checkout the files come from the ``llmspec._fixtures`` package."""
    monkeypatch.setattr(fixtures, "REPO_FIXTURES", tmp_path / "absent")
    fixtures._load_text.cache_clear()
    try:
        assert fixtures.case("verdict", "verdict-characters")["expected"] == {"characters": 20479}
    finally:
        fixtures._load_text.cache_clear()
