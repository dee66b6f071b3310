"""Replaying the reference's Hypothesis examples in every trusted child (``llmspec/grading/replay.py``)
is a cache: it must give exactly the verdicts and the reports Hypothesis itself gives.

* The premise, checked directly: a submission that passes a property is handed exactly the examples
  the reference was (recorded on both, compared example by example).
* Graded with and without the warm parent (which records), a class with bugs in every stage gets
  the same status, score and report for every test.
* A submission whose state the replay changes (it fails only on its first call) still fails.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

VARIANTS = Path(__file__).parent / "variants"
sys.path.insert(0, str(VARIANTS))
from make_buggy import ensure_generated  # noqa: E402  (the bug zoo's generator; tests/ is not a package)

RECORD_AND_OBSERVE = textwrap.dedent("""
    import copy, json, sys
    import pytest
    from hypothesis.strategies._internal.core import DataObject
    from llmspec.grading import replay
    from llmspec.grading.config import load_config
    from llmspec.grading.runner import base_args, pytest_args, warm_up

    warm_up()
    config = load_config()
    # 1. what the grader records, on the reference in process (its stand-in body records)
    pytest.main(base_args(config) + ["-p", "no:faulthandler"], plugins=[replay.Recorder()])
    recorded = {"|".join(key): examples for key, examples in replay.RECORDED.items()}

    # 2. what a real run hands the properties, on a learner file through the worker, seen from outside:
    #    a profiler notes each call of a property's own body (its arguments) and each draw's result
    class Observer:
        def __init__(self):
            self.seen, self.bodies, self.current = {}, {}, None

        @pytest.hookimpl(hookwrapper=True)
        def pytest_pyfunc_call(self, pyfuncitem):
            hyp = getattr(pyfuncitem.obj, "hypothesis", None)
            if hyp is None:
                yield
                return
            from llmspec.grading.runner import test_id
            code, fixtures = hyp.inner_test.__code__, set(pyfuncitem._fixtureinfo.argnames)
            examples = self.seen.setdefault(test_id(pyfuncitem.nodeid), [])

            def profile(frame, event, arg):
                if event == "call" and frame.f_code is code:
                    self.current = {k: (["draws"] if isinstance(v, DataObject) else copy.deepcopy(v))
                                    for k, v in frame.f_locals.items() if k not in fixtures}
                    examples.append(self.current)
                elif event == "return" and frame.f_code is DataObject.draw.__code__ and self.current is not None:
                    for v in self.current.values():
                        if isinstance(v, list) and v[:1] == ["draws"]:
                            v.append(copy.deepcopy(arg))

            sys.setprofile(profile)
            try:
                yield
            finally:
                sys.setprofile(None)

    observer = Observer()
    pytest.main(pytest_args(sys.argv[1], config) + ["-p", "no:faulthandler"], plugins=[observer])
    print("RECORDS " + json.dumps({"recorded": recorded, "seen": observer.seen}, default=repr))
""")


def _env() -> dict[str, str]:
    env = dict(os.environ, LLMSPEC_DATA=os.environ.get("LLMSPEC_DATA", "/work/shared/data"))
    env.pop("LLMSPEC_GRADE_NO_WARM", None)
    return env


def test_a_passing_submission_is_handed_the_reference_examples(tmp_path: Path) -> None:
    """Every recorded property's examples, in order, are exactly what a real Hypothesis run (no
    recorder, the property's own body) hands a correct learner file graded through the worker:
    its arguments, and for ``st.data()`` properties every value drawn."""
    proc = subprocess.run([sys.executable, "-c", RECORD_AND_OBSERVE, str(VARIANTS / "correct" / "typed_classes.py")],
                          cwd=tmp_path, env=_env(), text=True, capture_output=True, timeout=300)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RECORDS ")), None)
    assert line is not None, proc.stdout[-2000:] + proc.stderr[-2000:]
    data = json.loads(line[len("RECORDS "):])
    recorded, seen = data["recorded"], data["seen"]
    assert len(recorded) >= 15, recorded.keys()  # most properties qualify
    assert any(k.startswith("print|") for k in recorded), recorded.keys()  # st.data() ones too, per edition
    for key, examples in recorded.items():
        tid = key.split("|", 1)[1]
        real = seen[tid]
        flat = [{k: (["draws", *[value for _label, value in v]] if isinstance(v, list) and key.startswith("print|")
                     and k == "data" else v) for k, v in e.items()} for e in examples]
        # a real run also calls the body on examples Hypothesis abandons inside a draw (the draw
        # raises, seen as a None result; never recorded: they reach no implementation)
        real = [e for e in real if not (isinstance(e.get("data"), list) and None in e["data"][1:])]
        names = {k for e in examples for k in e}  # the body's own defaults are not Hypothesis's
        real = [{k: v for k, v in e.items() if k in names} for e in real]
        assert json.loads(json.dumps(flat, default=repr)) == real, tid


def grade(cls: Path, out: Path, warm: bool) -> dict[str, list[tuple[str, str, float, str]]]:
    env = _env()
    if not warm:
        env["LLMSPEC_GRADE_NO_WARM"] = "1"
    proc = subprocess.run([sys.executable, "-m", "llmspec", "grade", str(cls), "--out", str(out), "--jobs", "2",
                           "-q"], cwd=cls.parent, env=env, text=True, capture_output=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {p.parent.name: [(t["name"], t["status"], t["score"], t.get("output", ""))
                            for t in json.loads(p.read_text())["tests"]]
            for p in sorted(out.glob("*/results.json"))}


def test_replayed_class_gets_hypothesis_own_verdicts_and_reports(tmp_path: Path) -> None:
    """The warm parent (one run of the suite on the reference, its examples recorded, the heap frozen,
    then a trusted child forked per submission) is a cache: the same class graded with and without
    it gets the same status, score and report for every test.  The report is not compared for a
    submission whose own bug is nondeterministic (an unseeded shuffle prints other ids every run)."""
    cls = tmp_path / "class"
    cls.mkdir()
    ensure_generated()
    for rel in ("correct/book_style.py", "buggy/v1_lowercases.py", "buggy/v2_no_unk.py", "buggy/bpe_encode_ordinary.py",
                "buggy/ds_stride_ignored.py", "buggy/dl_batch_size_ignored.py", "buggy/emb_pos_frozen.py",
                "buggy/dl_shuffle_ignored.py", "buggy/dl_shuffle_drop_last_swapped.py"):
        (cls / Path(rel).name).write_text((VARIANTS / rel).read_text())
    warm = grade(cls, tmp_path / "warm", warm=True)
    cold = grade(cls, tmp_path / "cold", warm=False)
    assert len(warm) == 9 and warm.keys() == cold.keys()
    unseeded = {"dl_shuffle_ignored", "dl_shuffle_drop_last_swapped"}  # both shuffle without a seed
    assert {k: [t[:3] for t in v] for k, v in warm.items()} == {k: [t[:3] for t in v] for k, v in cold.items()}
    assert {k: v for k, v in warm.items() if k not in unseeded} == {k: v for k, v in cold.items() if k not in unseeded}
    failed = {name for name, tests in warm.items() if any(s == "failed" for _, s, _, _ in tests)}
    assert failed >= {"v1_lowercases", "v2_no_unk", "bpe_encode_ordinary", "ds_stride_ignored",
                      "dl_batch_size_ignored", "emb_pos_frozen", "dl_shuffle_ignored",
                      "dl_shuffle_drop_last_swapped"}, failed
    assert "book_style" not in failed


STATEFUL = textwrap.dedent("""
    import os
    from hypothesis import given, settings, strategies as st

    calls = {"n": 0}


    @settings(derandomize=True, database=None, max_examples=20)
    @given(st.integers(0, 100))
    def test_property(n):
        calls["n"] += 1
        # the 'submission' errs on its third call only: state the replay's calls change
        assert not (os.environ.get("GLITCH") and calls["n"] == 3), "wrong on the third call"
""")
RECORD_THEN_REPLAY = textwrap.dedent("""
    import os, sys
    import pytest
    from llmspec.grading import replay

    # --hypothesis-seed fixes the random source apart from the body (the recorder stands in for it)
    pytest.main([sys.argv[1], "-q", "-p", "no:cacheprovider", "--hypothesis-seed", "0"], plugins=[replay.Recorder()])
    print("RECORDED", sum(len(v) for v in replay.RECORDED.values()))
    os.environ["GLITCH"] = "1"
    sys.modules.pop("test_stateful", None)
    code = pytest.main([sys.argv[1], "-q", "-p", "no:cacheprovider", "--hypothesis-seed", "0"],
                       plugins=[replay.Replayer()])
    print("EXIT", int(code))
""")


def test_a_failure_the_replay_met_stands_when_the_rerun_passes(tmp_path: Path) -> None:
    """The replay meets the failure on the third example; Hypothesis, run afterwards on an
    implementation whose state has moved on, passes; the property still fails, with the replay's
    failure, because Hypothesis starting fresh would have met that same example first."""
    (tmp_path / "test_stateful.py").write_text(STATEFUL)
    proc = subprocess.run([sys.executable, "-c", RECORD_THEN_REPLAY, str(tmp_path / "test_stateful.py")],
                          cwd=tmp_path, env=_env(), text=True, capture_output=True, timeout=120)
    assert "RECORDED 20" in proc.stdout, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "EXIT 1" in proc.stdout and "wrong on the third call" in proc.stdout, proc.stdout[-3000:]
