"""The spec suite judged by running it: reference passes, editions differ, partial submissions get
"not implemented" for exactly the missing stages, ``llmspec check`` exit codes, messages that teach.

Each case runs ``pytest spec_tests`` or ``llmspec check`` in a subprocess (the way learners and graders
run it) and reads the ``--llmspec-report`` JSON, so what is asserted is the published contract, not
plugin internals.  All runs start together in one module fixture, two at a time (the machine has two
cores), and each run answers several tests: the partial submission's ``llmspec check`` run gives its
exit code, its printed table *and* its JSON report.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from llmspec.stages import CORE_STAGES

from paths import ROOT
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
# A learner's classic slip: decode without the re.sub (spaces before punctuation stay).
NO_SUB = PARTIAL.rsplit("return re.sub", 1)[0] + "return text\n"
# encode never returns for a text with a comma (line 8: the loop)
HANGS_IN_ENCODE = PARTIAL.replace("    def encode(self, text):\n", "    def encode(self, text):\n"
                                  "        while ',' in text: pass\n", 1)


@dataclass
class Result:
    rc: int
    stdout: str
    report: dict | None


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMSPEC_IMPL")}
    env.setdefault("LLMSPEC_DATA", str(ROOT.parent / "shared" / "data"))
    return {**env, **extra}


def _run(cmd: list[str], cwd: Path, report: Path | None, env: dict[str, str]) -> Result:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=600)
    data = json.loads(report.read_text()) if report is not None and report.is_file() else None
    return Result(proc.returncode, proc.stdout + proc.stderr, data)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Result]:
    """Every subprocess of this module, started together (two at a time), keyed by name."""
    tmp = tmp_path_factory.mktemp("selftest")
    (tmp / "partial.py").write_text(PARTIAL)
    (tmp / "renamed.py").write_text(PARTIAL.replace("class SimpleTokenizerV1", "class WordTokenizer"))
    (tmp / "no_sub.py").write_text(NO_SUB)
    (tmp / "exits.py").write_text("import os\nos._exit(0)\n")
    (tmp / "hangs.py").write_text(HANGS_IN_ENCODE)
    pytest_cmd = [sys.executable, "-m", "pytest", str(SPEC), "-q", "-p", "no:cacheprovider"]
    check_cmd = [sys.executable, "-m", "llmspec", "check"]
    jobs: dict[str, tuple[list[str], Path | None, dict[str, str]]] = {}

    def suite(name: str, *args: str) -> None:
        jobs[name] = ([*pytest_cmd, "--llmspec-report", str(tmp / f"{name}.json"), *args],
                      tmp / f"{name}.json", _env())

    def check(name: str, *args: str, env: dict[str, str] | None = None) -> None:
        jobs[name] = ([*check_cmd, "--report", str(tmp / f"{name}.json"), *args], tmp / f"{name}.json",
                      env or _env())

    # longest first, so the two workers finish together
    suite("reference")
    check("partial", str(tmp / "partial.py"))
    suite("print_as_meap", "--impl", "reference", "--edition", "meap", "--stages",
          "tokenizer_v1,tokenizer_v2,dataset")
    suite("meap", "--impl", "reference.meap", "--edition", "meap", "--stages", "tokenizer_v1,tokenizer_v2")
    check("renamed", str(tmp / "renamed.py"), "--impl-map", "SimpleTokenizerV1=WordTokenizer",
          "--stages", "tokenizer_v1")
    suite("no_sub", "--impl", str(tmp / "no_sub.py"), "--stages", "tokenizer_v1")
    suite("collect_only", "--collect-only")
    check("partial_in_process", str(tmp / "partial.py"), "--in-process")
    check("exits", str(tmp / "exits.py"))
    suite("hangs", "--impl", str(tmp / "hangs.py"), "--worker", "--llmspec-limit", "call_timeout=3",
          "--stages", "tokenizer_v1")
    check("missing_file", str(tmp / "missing.py"))
    check("bad_stage", "--stages", "nope")
    check("no_data", env=_env(LLMSPEC_DATA=str(tmp / "nodata"), XDG_CACHE_HOME=str(tmp / "cache")))
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(_run, cmd, tmp, report, env) for name, (cmd, report, env) in jobs.items()}
        return {name: f.result() for name, f in futures.items()}


def test_reference_passes_every_stage(runs):
    r = runs["reference"]
    assert r.rc == 0 and r.report is not None, r.stdout[-3000:]
    for stage in CORE_STAGES:
        row = r.report["stages"][stage]
        assert row["status"] == "pass" and row["total"] > 0 and row["passed"] == row["total"], (stage, row)
    assert "llmspec: verdict per stage" in r.stdout


def test_meap_reference_passes_meap_edition(runs):
    r = runs["meap"]
    assert r.rc == 0, r.stdout[-3000:]
    assert r.report["edition"] == "meap"
    assert {r.report["stages"][s]["status"] for s in ("tokenizer_v1", "tokenizer_v2")} == {"pass"}


def test_print_reference_fails_meap_edition_tokenizers(runs):
    stages = runs["print_as_meap"].report["stages"]
    assert stages["tokenizer_v1"]["status"] == "fail"
    assert stages["tokenizer_v2"]["status"] == "fail"
    assert stages["dataset"]["status"] == "pass"  # editions only differ in the regex
    assert stages["embeddings"]["status"] == "not_selected"


def test_partial_submission_reports_missing_stages_once(runs):
    r = runs["partial"]
    assert r.rc == 1 and r.report is not None, r.stdout[-3000:]
    stages = r.report["stages"]
    assert stages["tokenizer_v1"]["status"] == "pass", r.stdout[-3000:]
    bpe = stages["bpe"]  # 2.5 is tiktoken's: a file that never uses it has not done 2.5
    assert bpe["status"] == "not_implemented" and bpe["missing"] == ["tiktoken"] and bpe["passed"] == 0
    assert "tiktoken: 2.5 encodes with GPT-2's BPE from tiktoken" in r.stdout
    for stage, name in (("embeddings", "InputEmbeddings"), ("dataset", "GPTDatasetV1"),
                        ("tokenizer_v2", "SimpleTokenizerV2")):
        row = stages[stage]
        assert row["status"] == "not_implemented" and row["missing"] == [name] and row["passed"] == 0
        msgs = {t["message"] for t in r.report["tests"] if t["stage"] == stage}
        assert msgs == {f"{stage}: not implemented (missing {name})"}
    assert "not implemented (missing InputEmbeddings)" in r.stdout


def test_impl_map_accepts_other_names(runs):
    r = runs["renamed"]
    assert r.rc == 0, r.stdout[-3000:]
    row = r.report["stages"]["tokenizer_v1"]
    assert row["status"] == "pass" and row["passed"] == row["total"] > 0
    assert f"{row['passed']}/{row['total']}" in r.stdout.replace(" ", "")


def test_failure_messages_teach(runs):
    """A decode bug: the message names the listing, shows expected vs actual text, and a property
    failure carries Hypothesis' drawn arguments but none of the fixtures (no 20 kB of the-verdict)."""
    r = runs["no_sub"]
    assert r.report["stages"]["tokenizer_v1"]["status"] == "fail"
    failed = {t["name"].split("[")[0]: t["message"] for t in r.report["tests"] if t["outcome"] == "failed"}
    spacing = failed["test_decode_spacing"]
    assert spacing.startswith("SimpleTokenizerV1.decode") and "Listing 2.3" in spacing
    assert "expected" in spacing and "actual" in spacing
    assert "Falsifying example" in spacing and "Draw 1 (words):" in spacing
    assert "objects=" not in spacing and len(spacing) < 2000
    assert "Hypothesis' minimal example" in r.stdout and "verdict_text=" not in r.stdout


def test_collect_only_prints_no_verdict(runs):
    r = runs["collect_only"]
    assert r.rc == 0, r.stdout[-3000:]
    assert "tests collected" in r.stdout and "verdict per stage" not in r.stdout and r.report is None


def test_check_exit_codes(runs):
    assert runs["missing_file"].rc == 2, runs["missing_file"].stdout
    assert runs["bad_stage"].rc == 2, runs["bad_stage"].stdout
    assert runs["no_data"].rc == 3, runs["no_data"].stdout
    # no target: the reference is checked, and the learner is told so before anything else
    assert runs["no_data"].stdout.startswith("No file given: this checks llmspec's own reference"), runs["no_data"].stdout


def test_check_runs_the_learners_code_in_a_worker_and_in_process_alike(runs):
    default, in_process = runs["partial"], runs["partial_in_process"]
    assert default.report["worker"] and not in_process.report["worker"]
    assert default.rc == in_process.rc == 1
    assert default.report["stages"] == in_process.report["stages"]
    assert [(t["name"], t["outcome"], t["message"]) for t in default.report["tests"]] == \
        [(t["name"], t["outcome"], t["message"]) for t in in_process.report["tests"]]


def test_check_never_passes_a_file_that_ends_the_process(runs):
    r = runs["exits"]
    assert r.rc == 2, r.stdout[-2000:]
    assert "exits.py: your code ended the process (`os._exit(0)`, line 2)" in r.stdout, r.stdout[-2000:]


def test_a_hang_in_a_call_ends_within_its_budget_and_names_its_line(runs):
    r = runs["hangs"]
    tests = r.report["tests"]
    stuck = [t for t in tests if "did not answer within 3 s" in t["message"]]
    assert len(stuck) == 1, [t["message"][:200] for t in tests]
    assert "your code was at line 8 (`while ',' in text: pass`)" in stuck[0]["message"], stuck[0]["message"]
    assert r.report["stages"]["tokenizer_v1"]["status"] == "fail"
