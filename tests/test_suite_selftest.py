"""The spec suite judged by running it: reference passes, editions differ, partial submissions get
"not implemented" for exactly the missing stages, ``llmspec check`` exit codes.

Each case runs ``pytest spec_tests`` in a subprocess (the way learners and graders run it) and reads
the ``--llmspec-report`` JSON, so what is asserted is the published contract, not plugin internals.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from llmspec.stages import CORE_STAGES

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec_tests"
pytestmark = pytest.mark.slow

PARTIAL = '''
import re
class SimpleTokenizerV1:
    def __init__(self, vocab):
        self.str_to_int = vocab
        self.int_to_str = {i: s for s, i in vocab.items()}
    def encode(self, text):
        words = [s.strip() for s in re.split(r'([,.:;?_!"()\\']|--|\\s)', text) if s.strip()]
        return [self.str_to_int[s] for s in words]
    def decode(self, ids):
        text = " ".join(self.int_to_str[i] for i in ids)
        return re.sub(r'\\s+([,.?!"()\\'])', r'\\1', text)
'''


def run_suite(tmp_path: Path, *args: str) -> dict:
    report = tmp_path / "report.json"
    env = {**os.environ, "LLMSPEC_DATA": os.environ.get("LLMSPEC_DATA", str(ROOT.parent / "shared" / "data"))}
    proc = subprocess.run([sys.executable, "-m", "pytest", str(SPEC), "-q", "-p", "no:cacheprovider",
                           "--llmspec-report", str(report), *args], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=600)
    assert report.is_file(), proc.stdout[-2000:] + proc.stderr[-2000:]
    data = json.loads(report.read_text())
    data["_stdout"] = proc.stdout
    data["_rc"] = proc.returncode
    return data


def test_reference_passes_every_stage(tmp_path):
    r = run_suite(tmp_path)
    assert r["_rc"] == 0, r["_stdout"][-3000:]
    for stage in CORE_STAGES:
        row = r["stages"][stage]
        assert row["status"] == "pass" and row["total"] > 0 and row["passed"] == row["total"], (stage, row)
    assert "llmspec: verdict per stage" in r["_stdout"]


def test_meap_reference_passes_meap_edition(tmp_path):
    r = run_suite(tmp_path, "--impl", "reference.meap", "--edition", "meap", "--stages",
                  "tokenizer_v1,tokenizer_v2")
    assert r["_rc"] == 0, r["_stdout"][-3000:]
    assert r["edition"] == "meap"
    assert {r["stages"][s]["status"] for s in ("tokenizer_v1", "tokenizer_v2")} == {"pass"}


def test_print_reference_fails_meap_edition_tokenizers(tmp_path):
    r = run_suite(tmp_path, "--impl", "reference", "--edition", "meap", "--stages",
                  "tokenizer_v1,tokenizer_v2,dataset")
    assert r["stages"]["tokenizer_v1"]["status"] == "fail"
    assert r["stages"]["tokenizer_v2"]["status"] == "fail"
    assert r["stages"]["dataset"]["status"] == "pass"  # editions only differ in the regex
    assert r["stages"]["embeddings"]["status"] == "not_selected"


def test_partial_submission_reports_missing_stages_once(tmp_path):
    sub = tmp_path / "partial.py"
    sub.write_text(PARTIAL)
    r = run_suite(tmp_path, "--impl", str(sub))
    assert r["stages"]["tokenizer_v1"]["status"] == "pass", r["_stdout"][-3000:]
    assert r["stages"]["bpe"]["status"] == "pass"
    for stage, name in (("embeddings", "InputEmbeddings"), ("dataset", "GPTDatasetV1"),
                        ("tokenizer_v2", "SimpleTokenizerV2")):
        row = r["stages"][stage]
        assert row["status"] == "not_implemented" and row["missing"] == [name] and row["passed"] == 0
        msgs = {t["message"] for t in r["tests"] if t["stage"] == stage}
        assert msgs == {f"{stage}: not implemented (missing {name})"}
    assert "not implemented (missing InputEmbeddings)" in r["_stdout"]


def test_impl_map_accepts_other_names(tmp_path):
    sub = tmp_path / "renamed.py"
    sub.write_text(PARTIAL.replace("class SimpleTokenizerV1", "class WordTokenizer"))
    r = run_suite(tmp_path, "--impl", str(sub), "--impl-map", "SimpleTokenizerV1=WordTokenizer",
                  "--stages", "tokenizer_v1")
    assert r["stages"]["tokenizer_v1"]["status"] == "pass", r["_stdout"][-3000:]


def check(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "LLMSPEC_DATA": os.environ.get("LLMSPEC_DATA", str(ROOT.parent / "shared" / "data"))}
    return subprocess.run([sys.executable, "-m", "llmspec", "check", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=600)


def test_check_exit_codes(tmp_path):
    sub = tmp_path / "partial.py"
    sub.write_text(PARTIAL)
    ok = check("--stages", "tokenizer_v1,bpe", cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "tokenizer_v1" in ok.stdout and "11/11" in ok.stdout
    partial = check(str(sub), cwd=tmp_path)
    assert partial.returncode == 1
    assert "not implemented (missing InputEmbeddings)" in partial.stdout
    assert check(str(tmp_path / "missing.py"), cwd=tmp_path).returncode == 2
    assert check("--stages", "nope", cwd=tmp_path).returncode == 2
    no_data = subprocess.run([sys.executable, "-m", "llmspec", "check"], capture_output=True, text=True,
                             cwd=tmp_path, timeout=600,
                             env={**os.environ, "LLMSPEC_DATA": str(tmp_path / "nodata"),
                                  "XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert no_data.returncode == 3, no_data.stdout + no_data.stderr
