"""Writing the report tree: ``DIR/<name>/{results.json,junit.xml,classroom.env}``,
``DIR/gradebook.csv`` and ``DIR/report.html``.  ``results.json`` is the completeness marker resume
checks; the trusted parent writes a directory only after the submission's processes are dead, so
nothing the submission wrote can survive in it.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from llmspec.grading import atomic
from llmspec.grading.classroom import classroom_env
from llmspec.grading.config import GradingConfig
from llmspec.grading.gradebook import gradebook_csv
from llmspec.grading.html import report_html
from llmspec.grading.results import gradescope, junit_xml, load_valid
from llmspec.grading.scoring import Graded


def write_submission(out: Path, g: Graded, config: GradingConfig, log: Path | None = None, digest: str = "",
                     shown: Callable[[str], str] = str) -> dict:
    """``shown``: the log's paths of the grader's temporary copy said as the submission's own
    (:meth:`~llmspec.grading.submissions.Submission.shown`); that copy is gone once the run ends."""
    data = gradescope(g, config.fingerprint(), config.max_output_chars, config.name, digest)
    stage = atomic.staging_dir(out, g.name)
    (stage / "junit.xml").write_text(junit_xml(g), encoding="utf-8", errors="backslashreplace")
    (stage / "classroom.env").write_text(classroom_env(g), encoding="utf-8", errors="backslashreplace")
    if log is not None and log.is_file():
        with open(log, "rb") as fh:  # its tail only: a submission can make the log as large as the disk
            fh.seek(max(0, fh.seek(0, os.SEEK_END) - 200_000))
            text = fh.read().decode("utf-8", "surrogateescape")
        (stage / "pytest.log").write_bytes(shown(text).encode("utf-8", "surrogateescape"))
    (stage / "results.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    atomic.replace_dir(stage, out / g.name)
    return data


def write_class(out: Path, results: list[dict], title: str) -> None:
    atomic.write_text(out / "gradebook.csv", gradebook_csv(results))
    atomic.write_text(out / "report.html", report_html(results, title))


def collect_results(dirs: list[Path]) -> list[dict]:
    """Every complete ``results.json`` under the given output directories (for ``llmspec merge``)."""
    found: dict[str, dict] = {}
    for d in dirs:
        for f in sorted(Path(d).glob("*/results.json")):
            data = load_valid(f)
            if data is None:
                continue
            name = data["extra_data"]["llmspec"]["submission"]
            if name in found and found[name] != data:
                raise ValueError(f"submission {name!r} appears in more than one shard with different results")
            found[name] = data
    return [found[k] for k in sorted(found)]
