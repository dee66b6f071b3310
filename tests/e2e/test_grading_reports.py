"""Grading pieces that need no worker: config, scoring, report formats, CSV, HTML, atomic writes,
shards, submission discovery, the Gradescope bundle.  Fast: nothing here runs the suite."""
from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest

from llmspec.grading import atomic, shard
from llmspec.grading.config import load_config, parse_config
from llmspec.grading.gradebook import gradebook_csv
from llmspec.grading.html import report_html
from llmspec.grading.results import clean, gradescope, graded_tests, junit_xml, load_valid
from llmspec.grading.scoring import Outcome, score, summary
from llmspec.grading.submissions import discover

CANON = [("test_a.py::t1", "tokenizer_v1"), ("test_a.py::t2", "tokenizer_v1"),
         ("test_a.py::t3", "tokenizer_v1"), ("test_b.py::e1", "embeddings")]


def small_config(extra: str = ""):
    import tomllib

    return parse_config(tomllib.loads(
        '[assignment]\nstages=["tokenizer_v1","embeddings"]\n[stages.tokenizer_v1]\npoints=15\n'
        '[stages.embeddings]\npoints=20\n' + extra))


def graded(outcomes: dict, config=None, **kw):
    return score("alice", "alice.py", CANON, outcomes, config or small_config(), missing_reason="did not run", **kw)


def test_default_points_are_the_issue_defaults():
    c = load_config()
    assert c.points == {"tokenizer_v1": 15, "tokenizer_v2": 15, "bpe": 10, "dataset": 25,
                        "dataloader": 15, "embeddings": 20}
    assert c.max_score == 100


@pytest.mark.parametrize("bad, named", [
    ('[stages.nope]\npoints=1', "stages.nope"), ('[assignment]\nedition="x"', "assignment.edition"),
    ('[[tests]]\nweight=1', "tests[0]"), ('[stages.bpe]\nvisibility="secret"', "stages.bpe.visibility"),
    ("[oops]", "[oops]"), ('[assignment]\nnmae="x"', "assignment.nmae"), ("[limits]\ncall_timout=3", "limits.call_timout"),
    ("[stages.dataset]\npionts=30", "stages.dataset.pionts"), ('[[tests]]\nmatch="*"\nwieght=2', "tests[0].wieght"),
    ("[stages.bpe_scratch]\ntimeout=30", "stage bpe_scratch has no points"),
    ('[assignment]\nstages=["dataset", "bpe_scratch"]', "stage bpe_scratch has no points"),
    ("[stages.dataset]\npoints=true", "stages.dataset.points"), ("[limits]\nmemory_mb=0", "limits.memory_mb"),
])
def test_bad_config_is_one_line_that_names_the_key(bad, named):
    import tomllib

    with pytest.raises(ValueError) as caught:
        parse_config(tomllib.loads(bad), where="my.toml")
    message = str(caught.value)
    assert message.startswith("grading config my.toml: ") and named in message and "\n" not in message


def test_a_config_says_only_what_it_changes():
    """A config with one assignment key and one [[tests]] rule (no [stages.*] table) grades every
    stage out of its default points: left-out keys keep the packaged defaults, stage points too."""
    import tomllib

    default = load_config()
    partial = parse_config(tomllib.loads('[assignment]\nhidden_visibility = "hidden"\n'
                                         '[[tests]]\nmatch = "test_dataset.py::*"\nvisibility = "hidden"\n'))
    assert partial.stages == default.stages and partial.points == default.points and partial.max_score == 100
    assert (partial.hypothesis_seed, partial.call_timeout, partial.edition) == (
        default.hypothesis_seed, default.call_timeout, default.edition)
    assert partial.visibility("test_dataset.py::test_x", "dataset") == "hidden"
    one = parse_config(tomllib.loads("[stages.dataset]\npoints = 30\n"))
    assert one.points == {**default.points, "dataset": 30} and one.max_score == 105
    bonus = parse_config(tomllib.loads("[stages.bpe_scratch]\npoints = 10\n"))
    assert bonus.stages == (*default.stages, "bpe_scratch") and bonus.max_score == 110
    assert parse_config({}).fingerprint() == default.fingerprint()


def test_a_config_error_exits_2_with_one_line(tmp_path):
    import subprocess
    import sys

    (tmp_path / "c.toml").write_text("[stages.dataset]\npionts = 30\n")
    proc = subprocess.run([sys.executable, "-m", "llmspec", "grade", str(tmp_path / "missing.py"),
                           "--config", str(tmp_path / "c.toml"), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "stages.dataset.pionts" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "llmspec", "grade", str(tmp_path / "missing.py"),
                           "--config", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr == f"llmspec: grading config {tmp_path / 'nope.toml'}: cannot be " \
        "read (No such file or directory)\n"
    assert not (tmp_path / "out").exists()


def test_stage_points_split_by_weight_and_missing_tests_fail_with_reason():
    c = small_config('[[tests]]\nmatch="*::t3"\nweight=2\nvisibility="hidden"\n')
    g = graded({"test_a.py::t1": Outcome("test_a.py::t1", "tokenizer_v1", True),
                "test_a.py::t3": Outcome("test_a.py::t3", "tokenizer_v1", False, "wrong ids")}, c)
    by = {t.test_id: t for t in g.tests}
    assert by["test_a.py::t1"].max_score == 3.75 and by["test_a.py::t3"].max_score == 7.5
    assert g.score == 3.75 and g.max_score == 35
    assert by["test_a.py::t2"].message == "did not run" and not by["test_a.py::t2"].passed
    assert by["test_a.py::t3"].visibility == "after_due_date"  # hidden: the total stays visible


def test_hidden_defaults_to_after_due_date_and_strict_hidden_is_opt_in():
    """Gradescope hides a student's total while a test with points is `hidden`; "hidden" therefore
    becomes `after_due_date` unless the instructor asks for the strict form."""
    assert load_config().hidden_visibility == "after_due_date"
    rule = '[[tests]]\nmatch="*::t3"\nvisibility="hidden"\n'
    assert small_config(rule).visibility("test_a.py::t3", "tokenizer_v1") == "after_due_date"
    data = small_config(rule).raw
    strict = parse_config({**data, "assignment": {**data["assignment"], "hidden_visibility": "hidden"}})
    assert strict.visibility("test_a.py::t3", "tokenizer_v1") == "hidden"
    assert strict.fingerprint() != small_config(rule).fingerprint()
    with pytest.raises(ValueError, match="hidden_visibility"):
        parse_config({"assignment": {"hidden_visibility": "visible"}})


def test_gradescope_schema_and_hidden_feedback():
    c = small_config('[[tests]]\nmatch="*::t3"\nvisibility="hidden"\n')
    g = graded({t: Outcome(t, s, t != "test_a.py::t3", "" if t != "test_a.py::t3" else "secret detail")
                for t, s in CANON}, c)
    data = json.loads(json.dumps(gradescope(g, c.fingerprint(), 50)))
    assert set(data) <= {"score", "execution_time", "output", "output_format", "visibility",
                         "stdout_visibility", "extra_data", "tests", "leaderboard"}
    assert isinstance(data["execution_time"], float) and data["score"] == g.score
    summary_test, *tests = data["tests"]  # a test is hidden: the summary waits for it (test_gradescope_view.py)
    assert graded_tests(data) == tests and len(tests) == len(g.tests)
    assert (summary_test["score"], summary_test["max_score"], summary_test["visibility"]) == (0, 0, "after_due_date")
    for t in tests:
        assert set(t) == {"name", "number", "score", "max_score", "status", "output", "output_format",
                          "visibility", "tags"}
        assert t["status"] in ("passed", "failed") and t["visibility"] in ("visible", "after_due_date")
        assert t["tags"] in (["tokenizer_v1"], ["embeddings"])
    hidden = next(t for t in data["tests"] if t["name"] == "test_a.py::t3")
    assert hidden["output"] == "hidden test failed" and "secret" not in json.dumps(data)
    assert "All visible tests passed" in data["output"]
    assert load_valid_dict(data, c.fingerprint())


def load_valid_dict(data, fp):
    return data["extra_data"]["llmspec"]["complete"] and data["extra_data"]["llmspec"]["config"] == fp


def test_failure_summary_puts_the_actionable_line_first():
    g = graded({}, status="problem", reason="alice.py:3: syntax error: invalid syntax")
    assert summary(g).splitlines()[0] == "alice.py:3: syntax error: invalid syntax"
    assert g.score == 0 and g.max_score == 35


def test_outputs_are_truncated_and_control_chars_removed():
    out = clean("a\x00b" + "x" * 5000, 100)
    assert len(out) <= 100 and "truncated" in out and "\x00" not in out


def read_junit(g, tmp_path):
    """The JUnit report as a real parser reads it (junitparser, a test dependency)."""
    from junitparser import JUnitXml

    (tmp_path / "junit.xml").write_text(junit_xml(g), encoding="utf-8")
    suite = next(iter(JUnitXml.fromfile(str(tmp_path / "junit.xml"))))
    return suite, {case.name.split("::")[-1]: [type(r).__name__ for r in case.result] for case in suite}


def test_junit_counts_wrong_answers_as_failures_and_unjudged_tests_as_errors(tmp_path):
    """A wrong answer is a <failure>; a test that never judged an answer is an <error>: one that did
    not run (absent: t2, and the embeddings stage's only test), and every test of a stage whose tests
    all failed with the one reason the plugin gives a stage that cannot run."""
    loaded = {"test_a.py::t1": Outcome("test_a.py::t1", "tokenizer_v1", True),
              "test_a.py::t3": Outcome("test_a.py::t3", "tokenizer_v1", False, "expected [1], got [2]")}
    suite, results = read_junit(graded(loaded), tmp_path)
    assert (suite.tests, suite.failures, suite.errors) == (4, 1, 2)
    assert results == {"t1": [], "t2": ["Error"], "t3": ["Failure"], "e1": ["Error"]}
    cannot_load = {t: Outcome(t, s, False, "cannot load alice.py: NameError: name 'torch' is not defined")
                   for t, s in CANON}
    suite, results = read_junit(graded(cannot_load), tmp_path)
    assert (suite.tests, suite.failures, suite.errors) == (4, 0, 4)
    flagged = {"test_a.py::t1": Outcome("test_a.py::t1", "tokenizer_v1", False, "error in test setup: boom"),
               "test_a.py::t2": Outcome("test_a.py::t2", "tokenizer_v1", False, "wrong"),
               "test_a.py::t3": Outcome("test_a.py::t3", "tokenizer_v1", True),
               "test_b.py::e1": Outcome("test_b.py::e1", "embeddings", False, "wrong")}
    suite, results = read_junit(graded(flagged), tmp_path)
    assert results == {"t1": ["Failure"], "t2": ["Failure"], "t3": [], "e1": ["Failure"]}  # each judged, wrong
    error = next(c for c in suite if c.name.endswith("::t1")).result[0]
    assert error.message == "error in test setup: boom" and suite.time >= 0


def test_junit_a_submission_that_cannot_load_is_all_errors(tmp_path):
    """The syntax error found before grading (status "problem"): every test an error, none a failure."""
    suite, results = read_junit(graded({}, status="problem", reason="alice.py:3: syntax error"), tmp_path)
    assert (suite.tests, suite.failures, suite.errors) == (4, 0, 4)
    assert all(r == ["Error"] for r in results.values())


def _results(n_pass: int, name: str):
    c = small_config()
    outs = {t: Outcome(t, s, i < n_pass, "boom") for i, (t, s) in enumerate(CANON)}
    g = score(name, name, CANON, outs, c, missing_reason="x")
    return gradescope(g, c.fingerprint())


def test_gradebook_csv_neutralises_formulas():
    rows = list(csv.DictReader(io.StringIO(gradebook_csv([_results(4, "=cmd()"), _results(0, "bob")]))))
    assert rows[0]["submission"] == "'=cmd()" and float(rows[0]["percent"]) == 100.0
    assert float(rows[1]["score"]) == 0 and rows[1]["tokenizer_v1"] == "0.0"


def test_html_is_self_contained_and_escapes_submission_text():
    html = report_html([_results(2, "<script>x</script>"), _results(4, "carol")], "class")
    assert "<script>x" not in html and "&lt;script&gt;" in html
    assert 'id="histogram"' in html and 'id="test-rates"' in html and "<svg" in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in html


def test_atomic_write_and_resume_marker(tmp_path):
    atomic.write_text(tmp_path / "a" / "f.txt", "hello")
    assert (tmp_path / "a" / "f.txt").read_text() == "hello"
    assert not [p for p in (tmp_path / "a").iterdir() if p.name != "f.txt"]
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "results.json").write_text('{"score": 100, "tests": []}')  # forged: not ours
    assert load_valid(tmp_path / "r" / "results.json") is None
    stale = atomic.staging_dir(tmp_path, "bob")
    atomic.clean_stale(tmp_path)
    assert not stale.exists()


def test_shards_partition_deterministically():
    names = [f"student{i:03d}" for i in range(50)]

    class S:
        def __init__(self, n):
            self.name = n

    parts = [[s.name for s in shard.select([S(n) for n in reversed(names)], (k, 4))] for k in (1, 2, 3, 4)]
    assert sorted(sum(parts, [])) == names and all(parts)
    assert parts[0] == [s.name for s in shard.select([S(n) for n in names], (1, 4))]
    with pytest.raises(ValueError):
        shard.parse_shard("5/4")


def test_discovery_turns_bad_input_into_one_line_problems(tmp_path):
    cls = tmp_path / "class"
    cls.mkdir()
    (cls / "good.py").write_text("class SimpleTokenizerV1: pass\n")
    (cls / "syntax.py").write_text("def f(:\n")
    (cls / "nb.ipynb").write_text("{not json")
    (cls / "notes.txt").write_text("hi")
    with zipfile.ZipFile(cls / "nopy.zip", "w") as zf:
        zf.writestr("readme.md", "hi")
    with zipfile.ZipFile(cls / "evil.zip", "w") as zf:
        zf.writestr("../escape.py", "x = 1")
    with zipfile.ZipFile(cls / "zipped.zip", "w") as zf:
        zf.writestr("hw/ch02.py", "class SimpleTokenizerV1: pass\n")
        zf.writestr("hw/util.py", "x = 1\n")
    (cls / "dir_sub").mkdir()
    (cls / "dir_sub" / "solution.ipynb").write_text('{"cells": []}')
    subs = {s.name: s for s in discover([str(cls), str(tmp_path / "missing.py")], tmp_path / "work")}
    assert subs["good"].problem is None and subs["good"].target.endswith("good.py")
    assert "syntax error" in subs["syntax"].problem and ":1:" in subs["syntax"].problem
    assert "invalid JSON" in subs["nb"].problem
    assert "no Python file" in subs["nopy"].problem
    assert "unsafe path" in subs["evil"].problem and not (tmp_path / "work" / "escape.py").exists()
    assert subs["zipped"].target.endswith("ch02.py")
    assert subs["dir_sub"].target.endswith("solution.ipynb")
    assert "no such file" in subs["missing"].problem
    assert "not a .py file" in subs["notes.txt"].problem
    assert all("\n" not in (s.problem or "") for s in subs.values())


def test_gradescope_bundle_has_executable_entry_points(tmp_path):
    from llmspec.grading.bundle import build_bundle

    data = {}
    for rel in ("the-verdict.txt", "gpt2/encoder.json", "gpt2/vocab.bpe"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
        data[rel] = tmp_path / rel
    blob = build_bundle(None, data, package="llmspec-ch02==0.1.0")
    assert blob == build_bundle(None, data, package="llmspec-ch02==0.1.0")  # reproducible
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        names = zf.namelist()
        assert {"setup.sh", "run_autograder", "grading.toml", "data/the-verdict.txt"} <= set(names)
        for exe in ("setup.sh", "run_autograder"):
            assert zf.getinfo(exe).external_attr >> 16 & 0o111
        run = zf.read("run_autograder").decode()
        assert "/autograder/submission" in run and "--gradescope-out /autograder/results/results.json" in run
        setup = zf.read("setup.sh").decode()
        assert "torch==2.13.0" in setup and "pip install -q llmspec-ch02==0.1.0\n" in setup
    with zipfile.ZipFile(io.BytesIO(build_bundle(None, data, package="llmspec-ch02>=0.1"))) as zf:
        assert "pip install -q 'llmspec-ch02>=0.1'\n" in zf.read("setup.sh").decode()  # not a shell redirect
    for unrelated in ("llmspec", "llmspec==0.3.18", " LLMSpec>=0.1"):  # the package index's other project
        with pytest.raises(ValueError, match="unrelated project"):
            build_bundle(None, data, package=unrelated)


# --- exact points -------------------------------------------------------------------------------
def test_stage_shares_are_whole_cents_that_add_up_to_the_stage_points():
    """Every test count a stage can have (1..80), equal and unequal weights, all, none or every
    other test passed, each stage's points of the default config plus awkward ones: the shares are
    whole cents, add up to the points, and the passed tests' shares to what the stage earned."""
    from decimal import Decimal

    from llmspec.grading.scoring import earned_cents, stage_shares

    for points in (15, 10, 25, 20, 12.5, 33.33, 0.01, 7):
        for n in range(1, 81):
            for weights in ([1.0] * n, [float(1 + i % 3) for i in range(n)]):
                for passed in ([True] * n, [False] * n, [i % 2 == 0 for i in range(n)]):
                    shares = stage_shares(points, weights, passed)
                    assert len(shares) == n
                    assert sum(Decimal(str(s)) for s in shares) == Decimal(str(points)), (points, n)
                    assert all(Decimal(str(s)) == Decimal(str(s)).quantize(Decimal("0.01")) for s in shares)
                    won = sum(Decimal(str(s)) for s, ok in zip(shares, passed) if ok)
                    assert won * 100 == earned_cents(points, weights, passed)
                    assert max(shares) - min(shares) <= points * 2 / sum(weights) + 0.02
    assert stage_shares(15, [1.0] * 7, [True] * 7) == [2.15, 2.15, 2.14, 2.14, 2.14, 2.14, 2.14]
    assert stage_shares(10, [0.0, 0.0], [True, False]) == [0.0, 0.0]


def test_a_correct_submission_shows_full_marks_in_every_format(tmp_path):
    """All tests passed under the default points with the suite's awkward test counts (7 and 37
    tests in a stage): results.json (top level, tests, stages), JUnit, the Classroom payload, the
    CSV and the HTML all say exactly 100/100."""
    from report_audit import short_of_full_marks

    from llmspec.grading.output import write_class, write_submission

    c = load_config()
    counts = {"tokenizer_v1": 7, "tokenizer_v2": 9, "bpe": 11, "dataset": 37, "dataloader": 13, "embeddings": 3}
    canon = [(f"test_{s}.py::t{i}", s) for s in c.stages for i in range(counts[s])]
    good = score("good", "good.py", canon, {t: Outcome(t, s, True) for t, s in canon}, c, missing_reason="x")
    half = score("half", "half.py", canon, {t: Outcome(t, s, i % 2 == 0) for i, (t, s) in enumerate(canon)}, c,
                 missing_reason="x")
    data = [write_submission(tmp_path, g, c) for g in (good, half)]
    write_class(tmp_path, data, "class")
    assert short_of_full_marks(tmp_path, "good", 100) == []
    assert good.score == 100 and sum(t.max_score for t in good.tests) == pytest.approx(100, abs=1e-9)
    assert short_of_full_marks(tmp_path, "half", 100) != []
    from decimal import Decimal

    half_tests = sum(Decimal(str(t["score"])) for t in data[1]["tests"])
    assert half_tests == Decimal(str(data[1]["score"]))  # the top-level score is the sum of the tests'


def test_every_stage_has_its_own_budget_and_the_outer_cap_covers_them_all():
    import tomllib

    from llmspec.grading.child import pytest_args

    c = load_config()
    assert c.stage_timeout == 60 and c.submission_timeout == 6 * 60 + 120
    c = parse_config(tomllib.loads('[assignment]\nstages=["tokenizer_v1","dataset"]\n[limits]\nstage_timeout=30\n'
                                   '[stages.tokenizer_v1]\npoints=15\n[stages.dataset]\npoints=25\ntimeout=90\n'))
    assert c.stage_timeout == 30 and c.stage_timeouts == {"dataset": 90}
    assert c.submission_timeout == 30 + 90 + 120
    args = " ".join(pytest_args("sub.py", c))
    assert "stage_timeout=30" in args and "stage_timeout.dataset=90" in args
    assert c.fingerprint() != load_config().fingerprint()
    for bad in ('[limits]\nstage_timeout=0', '[stages.bpe]\ntimeout="long"'):
        with pytest.raises(ValueError, match="timeout"):
            parse_config(tomllib.loads(bad))
