"""Share many in-process runs between a few warm Python processes (the bug zoo's and the corpus's runners).

Starting Python with torch and tiktoken costs more CPU than judging one file, so a runner deals its
jobs to ``jobs`` child processes (``python RUNNER --worker JOBS.json``), each of which calls one
function per job (``pytest.main`` for the zoo, ``llmspec.cli.main`` for the corpus) with its output
captured, and appends one JSON line per finished job.  A job a child could not finish (it crashed or
hung) is simply missing from the result, and the runner judges it the slow way.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

OUTPUT_KEEP = 200_000
REPO = Path(__file__).resolve().parent.parent
JOBS = max(1, min(2, os.cpu_count() or 1))  # the machine has 2 cores; each child is one process


def child_env(importable: bool = False) -> dict[str, str]:
    """The environment of a child run: none of the caller's ``LLMSPEC_IMPL*`` (each job names its
    target), the data beside the checkout unless ``LLMSPEC_DATA`` says where, and (``importable``)
    this checkout first on ``PYTHONPATH``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMSPEC_IMPL")}
    env.setdefault("LLMSPEC_DATA", str(REPO.parent / "shared" / "data"))
    if importable:
        env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def read_report(path: Path) -> dict | None:
    """A suite's JSON report, or None when it was not written (or was cut short)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def serve(jobs_file: Path, call: Callable[[list[str]], Any]) -> int:
    """Child side: ``call(job["args"])`` for each job, its exit code and output as a JSON line."""
    jobs = json.loads(jobs_file.read_text(encoding="utf-8"))
    with open(jobs["results"], "a", encoding="utf-8") as results:
        for job in jobs["jobs"]:
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
                try:
                    code = int(call(job["args"]))
                except SystemExit as exc:  # argparse, sys.exit in a command
                    code = exc.code if isinstance(exc.code, int) else 2
            results.write(json.dumps({"id": job["id"], "returncode": code,
                                      "output": buf.getvalue()[-OUTPUT_KEEP:]}) + "\n")
            results.flush()
    return 0


def run(runner: Path, jobs: list[tuple[str, list[str]]], workdir: Path, *, tag: str, processes: int,
        timeout: float, env: dict[str, str], cwd: Path) -> dict[str, dict[str, Any]]:
    """Deal ``jobs`` (id, args) round-robin to ``processes`` children of ``runner``; id -> result row
    (``returncode``, ``output``) for every job that finished within ``timeout`` seconds in all."""
    procs = []
    for w in range(processes):
        mine = jobs[w::processes]
        if not mine:
            continue
        jobs_file = workdir / f"{tag}-worker{w}.jobs.json"
        results = workdir / f"{tag}-worker{w}.results.jsonl"
        results.unlink(missing_ok=True)
        jobs_file.write_text(json.dumps({"results": str(results),
                                         "jobs": [{"id": i, "args": a} for i, a in mine]}))
        cmd = [sys.executable, str(runner), "--worker", str(jobs_file)]
        procs.append((subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL), results))
    deadline = time.monotonic() + timeout
    for proc, _ in procs:
        try:
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    rows: dict[str, dict[str, Any]] = {}
    for _, results in procs:
        if results.exists():
            for line in results.read_text(encoding="utf-8").splitlines():
                row = json.loads(line)
                rows[row["id"]] = row
    return rows
