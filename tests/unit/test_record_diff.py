"""``llmspec record`` / ``llmspec diff``: the reference must not drift from its committed recording,
and diff must say "no difference" for a correct implementation and name the first differing input
for a buggy one."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmspec import cli
from llmspec import record as rec
from llmspec.runtime.connect import open_adapter

from paths import BOOK_STYLE, BPE_VARIANTS, ROOT
FIXTURE = ROOT / "fixtures" / "record"
VARIANTS = BPE_VARIANTS


@pytest.fixture(scope="module")
def reference_recording() -> dict:
    impl = open_adapter(None)
    try:
        return rec.record(impl)
    finally:
        impl.close()


def test_reference_has_not_drifted(reference_recording):
    """Re-record the reference; any change to an output fails here with the first differing input.
    (Seeded values depend on torch: the recording's meta.json names the versions it was made with.)"""
    meta = json.loads((FIXTURE / rec.META).read_text())
    same, lines = rec.diff(rec.read(FIXTURE), reference_recording, ("committed", "now"))
    assert same, f"recorded with torch {meta['torch']}, tiktoken {meta['tiktoken']}:\n" + "\n".join(lines)
    assert set(meta["stages"]) == set(rec.RECORDERS)


def test_recording_round_trips_through_files(reference_recording, tmp_path):
    rec.write(reference_recording, tmp_path, "reference")
    assert rec.read(tmp_path) == json.loads(json.dumps(reference_recording))


def test_diff_names_the_first_changed_case(reference_recording, tmp_path, capsys):
    changed = json.loads(json.dumps(reference_recording))
    case = changed["dataset"]["cases"][1]
    case["output"][0][0]["data"][2] = 1  # one id of one window
    rec.write(changed, tmp_path, "edited")
    code = cli.main(["diff", str(FIXTURE), str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1
    assert f"dataset: 1 of 6 cases differ; first: {case['id']}" in out
    assert "tokenizer_v1: no difference" in out and "differences found" in out


def test_diff_correct_variant_reports_no_difference(capsys):
    code = cli.main(["diff", "reference", str(VARIANTS / "correct_independent.py"), "--stages", "bpe_scratch"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "bpe_scratch: no difference" in out


# variant -> the fixed input diff must name first
FIRST = {
    "merge_by_frequency": "encode-6",  # only the story has a word where frequency != rank order
    "no_byte_to_unicode": "encode-4",
    "no_contractions": "encode-4",
    "special_split": "encode-0",
    "decode_drops_bytes": "decode-5",
    "greedy_whitespace": "encode-4",
}


@pytest.mark.parametrize("variant", sorted(FIRST))
def test_diff_buggy_variant_names_first_input(variant, capsys):
    code = cli.main(["diff", "reference", str(VARIANTS / f"{variant}.py"), "--stages", "bpe_scratch"])
    out = capsys.readouterr().out
    assert code == 1, out
    assert f"first: {FIRST[variant]} " in out, out
    assert "  input " in out


def test_record_cli_writes_stage_files(tmp_path, capsys):
    out_dir = tmp_path / "rec"
    code = cli.main(["record", "--impl", str(VARIANTS / "correct_independent.py"), "--out", str(out_dir)])
    assert code == 0
    meta = json.loads((out_dir / rec.META).read_text())
    assert meta["target"].endswith("correct_independent.py")
    assert "missing" in json.loads((out_dir / "dataset.json").read_text())  # not implemented: recorded
    assert len(json.loads((out_dir / "bpe_scratch.json").read_text())["cases"]) == 15
    # the variant only has the bonus stage, so against the reference every other stage differs
    assert cli.main(["diff", str(FIXTURE), str(out_dir)]) == 1
    assert "dataset: not implemented by B" in capsys.readouterr().out


def test_record_takes_its_target_as_check_does(tmp_path, capsys):
    """``llmspec record TARGET --out DIR`` (as ``llmspec check TARGET``) records what ``--impl TARGET`` does;
    a target given both ways is refused with exit 2."""
    target = str(VARIANTS / "correct_independent.py")
    assert cli.main(["record", target, "--out", str(tmp_path / "a"), "--stages", "bpe_scratch"]) == 0
    assert cli.main(["record", "--impl", target, "--out", str(tmp_path / "b"), "--stages", "bpe_scratch"]) == 0
    assert (tmp_path / "a" / "bpe_scratch.json").read_text() == (tmp_path / "b" / "bpe_scratch.json").read_text()
    capsys.readouterr()
    assert cli.main(["record", target, "--impl", "reference", "--out", str(tmp_path / "c")]) == 2
    assert "the target given twice" in capsys.readouterr().err and not (tmp_path / "c").exists()


def test_a_chapter_port_without_the_bonus_is_no_difference(capsys):
    """The book-style file has no BPETokenizerSimple: the optional stage is said, and counts only when
    asked for (as ``llmspec check`` does not fail a chapter without the bonus either)."""
    assert cli.main(["diff", "reference", str(BOOK_STYLE)]) == 0
    out = capsys.readouterr().out
    assert "bpe_scratch: not implemented by B" in out and "not counted" in out and out.endswith("no difference\n")
    assert cli.main(["diff", "reference", str(BOOK_STYLE), "--stages", "dataset,bpe_scratch"]) == 1
    assert "bpe_scratch: not implemented by B (missing BPETokenizerSimple)\n" in capsys.readouterr().out


def test_code_that_ends_the_process_at_import_is_a_load_error(tmp_path, capsys):
    """record and diff run a target in a worker, as check does: ``os._exit(0)`` at import is exit 2
    naming the line, never a silent exit 0 (in process it would end llmspec itself)."""
    ends = tmp_path / "ends.py"
    ends.write_text("import os\nos._exit(0)\n" + BOOK_STYLE.read_text())
    assert cli.main(["diff", "reference", str(ends), "--stages", "dataset"]) == 2
    assert "os._exit(0)`, line 2" in capsys.readouterr().err
    assert cli.main(["record", "--impl", str(ends), "--out", str(tmp_path / "rec"), "--stages", "dataset"]) == 2
    assert "line 2" in capsys.readouterr().err and not (tmp_path / "rec").exists()


def test_diff_bad_input_exits_2(tmp_path, capsys):
    assert cli.main(["diff", "reference", str(tmp_path / "nope")]) == 2
    (tmp_path / rec.META).write_text("{not json")
    assert cli.main(["diff", str(tmp_path), str(FIXTURE)]) == 2


INLINE_EMBEDDINGS = '''
import torch
torch.manual_seed(123)
embedding_layer = torch.nn.Embedding(6, 3)
vocab_size, output_dim, context_length = 50257, 256, 4
token_embedding_layer = torch.nn.Embedding(vocab_size, output_dim)
pos_embedding_layer = torch.nn.Embedding(context_length, output_dim)
inputs = torch.tensor([[40, 367, 2885, 1464], [1807, 3619, 402, 271]])
token_embeddings = token_embedding_layer(inputs)
pos_embeddings = pos_embedding_layer(torch.arange(context_length))
input_embeddings = token_embeddings + pos_embeddings
'''


def test_inline_embedding_cells_are_recorded_from_state(tmp_path, capsys):
    """The book's 2.7-2.8 cells define no InputEmbeddings class: the recording keeps the variables
    they leave (shapes, the seeded 6 x 3 layer whole) instead of calling the stage "not implemented",
    and diff says the two kinds of recording are not comparable case by case."""
    (tmp_path / "cells.py").write_text(INLINE_EMBEDDINGS)
    out = tmp_path / "rec"
    assert cli.main(["record", "--impl", str(tmp_path / "cells.py"), "--out", str(out), "--stages", "embeddings"]) == 0
    assert "judged from state" in capsys.readouterr().out
    data = rec.read(out)["embeddings"]
    assert data["judged"] == "state" and "missing" not in data
    cases = {c["id"]: c["output"] for c in data["cases"]}
    assert cases["state-token_embedding_layer"]["shape"] == [50257, 256]
    assert cases["state-token_embedding_layer"]["weight"] is None  # too big to keep whole
    assert cases["state-input_embeddings"]["shape"] == [2, 4, 256]
    assert cases["state-vocab_size"]["value"] == 50257
    assert cases["state-embedding_layer"]["weight"]["shape"] == [6, 3]  # the seeded 2.7 layer, whole
    again = tmp_path / "rec-again"  # recorded from state twice: the same recording
    assert cli.main(["record", "--impl", str(tmp_path / "cells.py"), "--out", str(again), "--stages", "embeddings"]) == 0
    same, lines = rec.diff(rec.read(out), rec.read(again))
    assert same, lines
    same, lines = rec.diff(rec.read(out), rec.read(FIXTURE), ("cells", "reference"))
    assert not same and any(line.startswith("embeddings:") and "not comparable case by case" in line
                            for line in lines), lines
