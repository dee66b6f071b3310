"""The listing hint (``llmspec.hints``): for a failing stage, the learner's line that differs from the
book's listing of their edition, or nothing.

Most tests read code and build hints directly (no suite runs: cheap); two run ``llmspec check`` end to
end (a file and a notebook), one judges a namespace in process.  The bug zoo's measure is
``python tests/suite/variants/hints.py`` (the share of variants whose hint names the edited line, and the
hints that name a wrong line): here it must name every edit a listing covers, and never a wrong line.
"""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from llmspec.hints import listings, target_hints

from paths import CORPUS, ROOT, TESTS, VARIANTS
BOOK_STYLE = VARIANTS / "correct" / "book_style.py"
for _path in (TESTS, CORPUS, VARIANTS):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import book_targets as T  # noqa: E402
import hints as zoo  # noqa: E402  (tests/suite/variants/hints.py: the bug zoo's measure)

ALL_STAGES = list(listings.LISTINGS)


def _hints(path: Path, edition: str | None = None, stages: list[str] = ALL_STAGES,
           state: frozenset[str] = frozenset()) -> dict[str, dict]:
    return target_hints(str(path), edition or zoo.judged_edition(path), stages, set(state), False)


def _lines(hint: dict) -> list[tuple[Any, int, str | None, str | None]]:
    return [(d["cell"] or d["file"], d["line"], d["yours"], d["listing"]) for d in hint["differences"]]


# --- the listings ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["SimpleTokenizerV1", "SimpleTokenizerV2", "GPTDatasetV1", "create_dataloader_v1",
                                  "InputEmbeddings"])
def test_the_print_listings_are_the_book_style_file(name: str) -> None:
    """The listing text and the bug zoo's base are the book's code twice: statement for statement the same."""
    book_style = {n.name: n for n in ast.parse(BOOK_STYLE.read_text(encoding="utf-8")).body
                  if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
    assert ast.dump(book_style[name]) == ast.dump(listings.definition("print", name))


def test_the_meap_listings_are_the_transcripts() -> None:
    """Listings 2.3-2.6 of the MEAP transcript: the regex without ':' ';', Listing 2.5's plain
    ``encode(txt)`` and its ``self.tokenizer``, Listing 2.6 without ``num_workers``."""
    meap = listings.source("meap")
    assert meap.count(r"""re.split(r'([,.?_!"()\']|--|\s)', text)""") == 2 and ":;" not in meap
    dataset = listings.definition("meap", "GPTDatasetV1")
    assert ast.unparse(dataset.body[0].body[0]) == "self.tokenizer = tokenizer"
    assert "tokenizer.encode(txt)" in ast.unparse(dataset) and "allowed_special" not in ast.unparse(dataset)
    assert "num_workers" not in ast.unparse(listings.definition("meap", "create_dataloader_v1"))
    assert listings.inline("meap")[0].lineno > listings.definition("meap", "InputEmbeddings").end_lineno


# --- the bug zoo -----------------------------------------------------------------------------------


@pytest.mark.parametrize("bug", zoo.BUGS, ids=[b.name for b in zoo.BUGS])
def test_a_zoo_hint_names_the_edited_line_or_nothing(bug: Any) -> None:
    zoo.ensure_generated()
    verdict = zoo.judge(bug)
    assert not verdict.wrong, f"a hint names a line outside the edit {sorted(verdict.edited)}: {verdict.wrong}"
    if zoo.covered(bug):  # the edit is in a function a listing covers: the hint must find it
        assert verdict.named, f"no hint for {bug.name} (edited {sorted(verdict.edited)})"
    else:
        assert not verdict.spans


def test_the_zoo_summary_is_one_line_with_the_share_and_the_wrong_lines() -> None:
    out = subprocess.run([sys.executable, str(VARIANTS / "hints.py")], capture_output=True, text=True,
                         cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    covered = sum(zoo.covered(b) for b in zoo.BUGS)
    assert out.stdout.strip().endswith("0 hint line(s) name a line outside the edit (goal 0)")
    assert f"names the edited line for {covered} of {len(zoo.BUGS)} variants" in out.stdout


# --- code that is right, or not a version of the listing -----------------------------------------


@pytest.mark.parametrize("path", sorted((VARIANTS / "correct").iterdir()), ids=lambda p: p.name)
def test_correct_code_in_other_styles_gets_no_hint(path: Path) -> None:
    """Even asked for every stage (a failing check only asks for the failing ones): the correct
    files are either the listing in other words, or not a version of it."""
    assert _hints(path) == {}


NOT_DIFFERENCES = '''
import torch
from torch.utils.data import Dataset


class GPTDatasetV1(Dataset):
    """Listing 2.5, my way."""

    def __init__(self, text: str, tok, window: int, step: int) -> None:
        super().__init__()
        self.sources: list[torch.Tensor] = []
        self.labels = []  # next tokens
        self.window = window  # kept for printing
        ids = tok.encode(text, allowed_special={'<|endoftext|>'})
        assert len(ids) > window, "text too short"
        for start in range(0, len(ids) - window, step):
            x = ids[start:start + window]
            y = ids[start + 1:
                    start + window + 1]
            print(start)
            self.sources.append(torch.tensor(x, dtype=torch.long))
            self.labels.append(torch.tensor(y))

    def __len__(self) -> int:
        return len(self.sources)

    def __getitem__(self, index):
        return (self.sources[index], self.labels[index])
'''


def test_names_formatting_comments_hints_and_left_open_choices_are_not_differences(tmp_path: Path) -> None:
    same = tmp_path / "mine.py"
    same.write_text(NOT_DIFFERENCES, encoding="utf-8")
    assert _hints(same, "print") == {}
    buggy = tmp_path / "buggy.py"  # one real difference among them: the step, as the book's stride
    text = NOT_DIFFERENCES.replace("len(ids) - window, step)", "len(ids) - window, window)")
    buggy.write_text(text, encoding="utf-8")
    (where, line, yours, book), = _lines(_hints(buggy, "print")["dataset"])
    assert (where, line) == ("buggy.py", text[:text.index("for start in")].count("\n") + 1)
    assert yours.endswith("window, window):") and book.endswith("stride):")


def test_code_that_is_not_a_version_of_the_listing_gets_no_pointer(tmp_path: Path) -> None:
    """The view-based dataset with its window count off by one: wrong, but nothing to point at."""
    text = (VARIANTS / "correct" / "view_based.py").read_text(encoding="utf-8")
    buggy = tmp_path / "views.py"
    buggy.write_text(text.replace("if len(ids) > max_length:", "if len(ids) > max_length + 1:"), encoding="utf-8")
    assert _hints(buggy, "print", ["dataset"]) == {}


# --- the corpus's styles ---------------------------------------------------------------------------

# The corpus entries that fail a stage: what their hint names (learner statements, in order; None =
# a statement missing; no entry = no hint).  Every stage that passes gets no hint.
CORPUS_HINTS: dict[tuple[str, str], list[str | None]] = {
    ("meap_first_notebook", "embeddings"): ["pos_embedding_layer = torch.nn.Embedding(vocab_size, output_dim)",
                                            "pos_embeddings = pos_embedding_layer(inputs)"],
    ("renamed_window_size", "dataloader"): ["def create_dataloader_v1(txt, batch_size=4, window_size=256"],
    ("inline_pos_sized_by_vocab", "embeddings"): ["pos_embedding_layer = torch.nn.Embedding(vocab_size, output_dim)"],
    ("inline_pos_indexed_by_ids", "embeddings"): ["pos_embedding_layer = torch.nn.Embedding(vocab_size, output_dim)",
                                                  "pos_embeddings = pos_embedding_layer(inputs)"],
    ("inline_layers_swapped", "embeddings"): ["token_embedding_layer = torch.nn.Embedding(context_length, output_dim)",
                                              "pos_embedding_layer = torch.nn.Embedding(vocab_size, output_dim)"],
    ("inline_no_positional", "embeddings"): [None, "input_embeddings = token_embeddings"],
    ("print_regex_meap_dataset", "dataset"): ["token_ids = tokenizer.encode(txt)"],
    ("mixed_edition_tokenizers", "tokenizer_v2"): [r"""preprocessed = re.split(r'([,.?_!"()\']|--|\s)', text)"""],
}


def _judged_from_state(path: Path) -> frozenset[str]:
    from llmspec.hints.sources import definitions, read_target

    kind = "notebook" if path.suffix == ".ipynb" else "package" if path.is_dir() else "file"
    units = read_target(kind, str(path), path.name)
    inline = any(isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "token_embedding_layer" for t in n.targets)
                 for u in units for n in ast.walk(u.tree))
    return frozenset({"embeddings"}) if inline and "InputEmbeddings" not in definitions(units) else frozenset()


def test_the_corpus_styles_get_their_hint_or_none() -> None:
    from corpus_build import ensure_built
    from corpus_manifest import ENTRIES

    paths = ensure_built()
    seen = set()
    for entry in ENTRIES:
        path = paths[entry.name]
        edition = zoo.judged_edition(path) if path.is_file() else "print"
        hints = _hints(path, edition, state=_judged_from_state(path))
        for stage in ALL_STAGES:
            want = CORPUS_HINTS.get((entry.name, stage))
            got = [d["yours"] for d in hints[stage]["differences"]] if stage in hints else None
            if want is None:
                assert got is None, f"{entry.name} {stage}: {got}"
                continue
            seen.add((entry.name, stage))
            assert entry.verdict(stage) == "fail", (entry.name, stage)
            assert len(got) == len(want) and all(w is None and g is None or w and g and g.startswith(w)
                                                 for g, w in zip(got, want)), f"{entry.name} {stage}: {got}"
    assert seen == set(CORPUS_HINTS)


@pytest.mark.parametrize("mistake", sorted(T.MISTAKES))
def test_the_inline_cells_judged_from_state(tmp_path: Path, mistake: str) -> None:
    """The book's 2.7-2.8 cells with one planted mistake: the hint names a statement the mistake
    changed (or one it removed), or says nothing (the layers swapped everywhere is no version)."""
    hint = _hints(T.book_notebook(tmp_path / "nb.ipynb", mistake), "print", ["embeddings"],
                  frozenset({"embeddings"})).get("embeddings")
    if mistake == "layers_swapped":
        assert hint is None
        return
    assert hint is not None and hint["listing"] == "" and hint["section"] == "2.7-2.8"
    changed = [new for _old, new in T.MISTAKES[mistake] if new]
    for cell, _line, yours, book in _lines(hint):
        assert int(cell) >= 2 and book  # a cell of 2.7-2.8, beside the book's statement
        assert yours is None or any(new.splitlines()[0] in yours for new in changed), (yours, changed)
    assert T.book_notebook(tmp_path / "ok.ipynb") and _hints(tmp_path / "ok.ipynb", "print", ["embeddings"],
                                                             frozenset({"embeddings"})) == {}


def test_an_inline_operator_changed_is_named_on_its_line(tmp_path: Path) -> None:
    """An operator has no line of its own in the tree: the hint names the statement that holds it."""
    cells = [f"{name} = {value}" for name, value in (("vocab_size", 50257), ("output_dim", 256),
                                                        ("context_length", 1024), ("max_length", 4))]
    cells += ["inputs = torch.zeros(8, 4, dtype=torch.long)"] + [ast.unparse(s) for s in listings.inline("print")]
    path = tmp_path / "cells.py"
    path.write_text("import torch\n" + "\n".join(cells).replace("token_embeddings + pos", "token_embeddings - pos"))
    hint = _hints(path, "print", ["embeddings"], frozenset({"embeddings"}))["embeddings"]
    assert _lines(hint) == [("cells.py", len(cells) + 1, "input_embeddings = token_embeddings - pos_embeddings",
                             "input_embeddings = token_embeddings + pos_embeddings")]


# --- notebooks, the MEAP edition -------------------------------------------------------------------

STRIDE = "for i in range(0, len(token_ids) - max_length, stride):"
STRIDE_FORGOTTEN = "for i in range(0, len(token_ids) - max_length, 1):  # stride forgotten"


def _notebook_with_one_change(path: Path) -> Path:
    """The bug zoo's notebook (the book's style) with one changed line in GPTDatasetV1."""
    nb = json.loads((VARIANTS / "correct" / "notebook.ipynb").read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if "class GPTDatasetV1" in "".join(c["source"]))
    source = "".join(cell["source"])
    assert STRIDE in source
    cell["source"] = source.replace(STRIDE, STRIDE_FORGOTTEN)
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def test_a_notebook_hint_says_cell_and_line(tmp_path: Path) -> None:
    hint = _hints(_notebook_with_one_change(tmp_path / "ch02.ipynb"), stages=["dataset", "dataloader"])
    assert list(hint) == ["dataset"]  # create_dataloader_v1 is the listing's: nothing to point at there
    (difference,) = hint["dataset"]["differences"]
    assert (difference["cell"], difference["line"], difference["file"]) == ("21", 14, None)
    assert (difference["yours"], difference["listing"]) == (STRIDE_FORGOTTEN, STRIDE)
    (beside,) = hint["dataset"]["beside"]
    assert beside["yours"][difference["line"] - beside["line"]].strip() == STRIDE_FORGOTTEN
    assert beside["marked"] == [14] and beside["listing"][beside["listing_marked"][0] - 1].strip() == STRIDE


def test_a_cell_with_an_ipython_line_is_read_as_written(tmp_path: Path) -> None:
    """The loader runs such a cell without its IPython line: its hint counts that line, and quotes
    the learner's lines, never the ``pass`` that stood in for it."""
    from llmspec.hints.sources import read_target

    path = _notebook_with_one_change(tmp_path / "ch02.ipynb")
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if "class GPTDatasetV1" in "".join(c["source"]))
    cell["source"] = "!pip install tiktoken\n" + "".join(cell["source"])
    path.write_text(json.dumps(nb), encoding="utf-8")
    (difference,) = _hints(path, stages=["dataset"])["dataset"]["differences"]
    assert (difference["cell"], difference["line"], difference["yours"]) == ("21", 15, STRIDE_FORGOTTEN)
    (unit,) = [u for u in read_target("notebook", str(path), path.name) if u.cell == "21"]
    assert unit.lines[0] == "!pip install tiktoken" and isinstance(unit.tree.body[0], ast.Pass)


@pytest.mark.parametrize("extra, pointed", [("", True), ("        self.seen_@ = @\n" * 50, True),
                                            ("        self.seen_@ = @\n" * 400, False),
                                            ("        self.seen = [" + "0, " * 20_000 + "]\n", False)])
def test_a_function_far_longer_than_its_listing_gets_no_pointer(tmp_path: Path, extra: str, pointed: bool) -> None:
    """Aligning costs the square of the size, in the process that grades the class: a method of
    more than 300 statements or 20,000 nodes is no version of a listing of a dozen, and is not aligned."""
    source = (VARIANTS / "buggy" / "ds_int32_ids.py").read_text(encoding="utf-8")
    header = source.index("\n", source.index("def __init__", source.index("class GPTDatasetV1"))) + 1
    numbered = "".join(line.replace("@", str(n)) + "\n" for n, line in enumerate(extra.splitlines()))
    path = tmp_path / "ch02.py"
    path.write_text(source[:header] + numbered + source[header:], encoding="utf-8")
    assert ("dataset" in _hints(path, stages=["dataset"])) == pointed


@pytest.mark.parametrize("data", ["data.py", "parts/data.py"])
def test_a_package_hint_names_the_module_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: str) -> None:
    """A package (one module per section): the file inside it, as the learner finds it, also in a
    subfolder the package imports that has no ``__init__.py`` of its own."""
    from corpus_build import contents
    from corpus_manifest import entries

    for rel, text in contents(entries(["package_dir"])[0]).items():
        rel = rel.replace("data.py", data)
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        text = text.replace("from .data import", "from ." + data.removesuffix(".py").replace("/", ".") + " import")
        (tmp_path / rel).write_text(text.replace("i + max_length + 1]", "i + max_length]"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # "package_dir" as typed: a directory here, not an import
    (difference,) = _hints(Path("package_dir"), "print", ["dataset"])["dataset"]["differences"]
    text = (tmp_path / "package_dir" / data).read_text(encoding="utf-8").splitlines()
    assert difference["file"] == f"package_dir/{data}" and text[difference["line"] - 1].strip() == difference["yours"]


MEAP_TARGET_SHIFTED = T._edit(T.MEAP_FILE, ("target_chunk = token_ids[i + 1: i + max_length + 1]",
                                            "target_chunk = token_ids[i + 2: i + max_length + 2]"))


def test_a_meap_file_is_compared_with_the_meap_listing(tmp_path: Path) -> None:
    meap = tmp_path / "meap.py"
    meap.write_text(T.MEAP_FILE, encoding="utf-8")
    assert zoo.judged_edition(meap) == "meap" and _hints(meap) == {}
    printed = _hints(meap, "print")  # beside the print listings, its MEAP lines would differ
    assert {"tokenizer_v2", "dataset"} <= set(printed)
    assert "tokenizer_v1" not in printed  # its V1 splits as the print book's own Listing 2.3 does
    meap.write_text(MEAP_TARGET_SHIFTED, encoding="utf-8")
    hint = _hints(meap)["dataset"]
    assert hint["edition"] == "meap"
    assert [d["yours"] for d in hint["differences"]] == ["target_chunk = token_ids[i + 2: i + max_length + 2]"]


def test_a_namespace_checked_in_process_gets_the_hint_of_its_file(tmp_path: Path) -> None:
    """``llmspec.check()`` on a script's globals (the in-kernel path, outside IPython): the MEAP file
    with one edit, judged as MEAP, points at its file and line."""
    from llmspec import data
    from llmspec.kernel import check

    data.ensure_tiktoken_cache()
    path = tmp_path / "my_meap.py"
    path.write_text(MEAP_TARGET_SHIFTED, encoding="utf-8")
    namespace: dict[str, Any] = {"__name__": "learner"}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
    result = check("dataset", namespace=namespace)
    hint = result["dataset"].listing_hint
    assert result["dataset"].status == "fail" and hint["edition"] == "meap"
    (difference,) = hint["differences"]
    assert difference["file"] == "my_meap.py" and "i + 2" in difference["yours"]
    assert MEAP_TARGET_SHIFTED.splitlines()[difference["line"] - 1].strip() == difference["yours"]
    assert "my_meap.py:" in str(result) and "<mark" in result._repr_html_()


# --- end to end: llmspec check, the report, grading feedback ------------------------------------


def _check(*args: str, cwd: Path) -> tuple[int, str, dict]:
    report = cwd / "report.json"
    out = subprocess.run([sys.executable, "-m", "llmspec", "check", *args, "--report", str(report)],
                         capture_output=True, text=True, cwd=cwd, timeout=300,
                         env={**os.environ, "LLMSPEC_LANG": "en", "PYTHONPATH": str(ROOT)})
    return out.returncode, out.stdout + out.stderr, json.loads(report.read_text(encoding="utf-8"))


def test_llmspec_check_shows_the_line_and_the_report_keeps_it(tmp_path: Path) -> None:
    zoo.ensure_generated()
    target = tmp_path / "my_ch02.py"
    target.write_text((zoo.OUT / "ds_target_shifted_by_two.py").read_text(encoding="utf-8"), encoding="utf-8")
    code, out, report = _check("my_ch02.py", "--stages", "dataset,dataloader", cwd=tmp_path)
    assert code == 1
    assert ("  your GPTDatasetV1.__init__ beside Listing 2.5 (2.6):\n"
            "    my_ch02.py:64   target_chunk = token_ids[i + 2: i + max_length + 2]\n"
            "    Listing 2.5     target_chunk = token_ids[i + 1: i + max_length + 1]\n") in out
    assert list(report["listing_hints"]) == ["dataset"]
    (d,) = report["listing_hints"]["dataset"]["differences"]
    assert {k: d[k] for k in ("file", "cell", "line", "yours", "listing")} == {
        "file": "my_ch02.py", "cell": None, "line": 64, "yours": "target_chunk = token_ids[i + 2: i + max_length + 2]",
        "listing": "target_chunk = token_ids[i + 1: i + max_length + 1]"}
    # the golden's document as a reader knows it; its file name in the maintainers' field
    first = next(t for t in report["tests"] if t["outcome"] == "failed")
    assert "printed in the book's chapter 2 (MEAP edition), 2.6" in first["message"]
    assert "002_7f7806e88e8c52a4.txt" not in out and first["documents"] == ["002_7f7806e88e8c52a4.txt"]


def test_llmspec_check_of_a_notebook_says_cell_and_line(tmp_path: Path) -> None:
    _notebook_with_one_change(tmp_path / "ch02.ipynb")
    code, out, report = _check("ch02.ipynb", "--stages", "dataset", cwd=tmp_path)
    assert code == 1
    assert "    cell 21, line 14   " + STRIDE_FORGOTTEN in out
    assert "    Listing 2.5        " + STRIDE in out
    assert report["listing_hints"]["dataset"]["differences"][0]["cell"] == "21"


def test_a_passing_check_builds_no_hint() -> None:
    from llmspec.verdict import annotate

    report = {"stages": {"dataset": {"status": "pass"}}, "tests": [{"outcome": "passed", "message": ""}]}
    assert annotate(dict(report), {"names": {"GPTDatasetV1": "GPTDatasetV1"}}) == report


def test_grading_feedback_shows_the_hint_for_a_visible_test_only() -> None:
    from llmspec.grading.config import load_config
    from llmspec.grading.scoring import Outcome, score, student_message, with_listing_hints

    zoo.ensure_generated()
    target = str(zoo.OUT / "ds_target_shifted_by_two.py")
    canonical = [("test_dataset.py::test_a", "dataset"), ("test_dataset.py::test_b", "dataset")]
    outcomes = {t: Outcome(t, "dataset", False, "dataset[0] target: expected 367, got 2885") for t, _s in canonical}

    def graded(visibility: str) -> Any:
        g = score("alice", "alice.py", canonical, outcomes, load_config(), missing_reason="-")
        for t in g.tests:
            t.visibility = visibility
        return with_listing_hints(g, target, "print", False)

    shown = graded("visible")
    first, second = (student_message(t) for t in shown.tests if t.stage == "dataset")
    assert first.startswith("dataset[0] target") and "your GPTDatasetV1.__init__ beside Listing 2.5 (2.6):" in first
    rows = [" ".join(row.split()) for row in first.splitlines()[2:]]
    assert rows == ["ds_target_shifted_by_two.py:64 target_chunk = token_ids[i + 2: i + max_length + 2]",
                    "Listing 2.5 target_chunk = token_ids[i + 1: i + max_length + 1]"]
    assert "Listing" not in second  # once per stage, on its first failure
    hidden = graded("after_due_date")
    assert all("Listing" not in t.message and student_message(t) == "hidden test failed"
               for t in hidden.tests if t.stage == "dataset")


# --- documents as readers know them ----------------------------------------------------------------


def test_a_golden_names_its_document_as_a_reader_knows_it() -> None:
    from llmspec import i18n
    from llmspec.documents import cited, described, names
    from llmspec.explain import book

    i18n.set_language("en")
    source = {"document": "003_26158f6a5bd1e0ed.txt", "section": "2.8, create_dataloader(raw_text, batch_size=8, "
              "max_length=4, stride=5)"}
    where = book("dataset", source)
    assert where == ("2.6, Listing 2.5; the book's Chinese translation, 2.8, create_dataloader(raw_text, "
                     "batch_size=8, max_length=4, stride=5)")
    assert cited(f"dataset[0] input ({where}): ...") == ["003_26158f6a5bd1e0ed.txt"]
    for document in names():
        english = described(document)
        assert english != document and ".txt" not in english and cited(english) == [document]
        with i18n.switched("zh"):  # in the learner's language, and still traced back
            assert described(document) != english and cited(described(document)) == [document]


def test_the_listings_are_in_the_distribution() -> None:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert "llmspec.hints" in config["packages"]
    assert listings.TEXT.name in config["package-data"]["llmspec.hints"]
