"""The warm parent (one in-process run of the suite on the reference, then ``gc.freeze``, before
forking a trusted child per submission) is a cache: it must not change any verdict.

Fairness guard: the same class graded with and without the warm-up gets the same score and the same
status for every test.  Outputs are not compared: a submission whose own bug is nondeterministic
(an unseeded shuffle) prints different ids on every run either way.  Two small stages keep it cheap.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

VARIANTS = Path(__file__).parent / "variants"
sys.path.insert(0, str(VARIANTS))
from make_buggy import ensure_generated  # noqa: E402  (the bug zoo's generator; tests/ is not a package)
CONFIG = """
[assignment]
name = "warm parent check"
stages = ["dataset", "dataloader"]
[stages.dataset]
points = 25
[stages.dataloader]
points = 15
"""


def grade_class(cls: Path, out: Path, cfg: Path, warm: bool) -> dict[str, list[tuple[str, str, float]]]:
    env = dict(os.environ, LLMSPEC_DATA=os.environ.get("LLMSPEC_DATA", "/work/shared/data"))
    env.pop("LLMSPEC_GRADE_NO_WARM", None)
    if not warm:
        env["LLMSPEC_GRADE_NO_WARM"] = "1"
    proc = subprocess.run([sys.executable, "-m", "llmspec", "grade", str(cls), "--out", str(out), "--config",
                           str(cfg), "--jobs", "2", "-q"], cwd=cls.parent, env=env, text=True,
                          capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = {}
    for path in sorted(out.glob("*/results.json")):
        data = json.loads(path.read_text())
        results[path.parent.name] = [(t["name"], t["status"], t["score"]) for t in data["tests"]]
    return results


def test_warm_parent_changes_no_verdict(tmp_path):
    cls = tmp_path / "class"
    cls.mkdir()
    ensure_generated()
    for rel in ("correct/book_style.py", "buggy/dl_shuffle_ignored.py", "buggy/ds_stride_ignored.py",
                "buggy/dl_shuffle_drop_last_swapped.py"):
        src = VARIANTS / rel
        (cls / src.name).write_text(src.read_text())
    cfg = tmp_path / "c.toml"
    cfg.write_text(CONFIG)
    warm = grade_class(cls, tmp_path / "warm", cfg, warm=True)
    cold = grade_class(cls, tmp_path / "cold", cfg, warm=False)
    assert len(warm) == 4 and all(warm.values())
    assert warm == cold
    assert any(status == "failed" for tests in warm.values() for _, status, _ in tests)  # bugs were seen
