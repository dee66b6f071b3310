"""llmspec.suite: the spec suite run in this process, as ``llmspec check``, the in-kernel check and
the grader's trusted child run it."""
from __future__ import annotations

import ast
import subprocess
import sys

from llmspec.suite import QUIET_SUITE, spec_dir


def test_no_check_of_the_suite_is_a_bare_assert() -> None:
    """The suite runs without pytest's assertion rewriting (``--assert=plain``): a bare ``assert``
    would then fail with only "AssertionError", so every check names what it expected."""
    bare = [f"{f.name}:{node.lineno}" for f in sorted(spec_dir().glob("*.py"))
            for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))) if isinstance(node, ast.Assert)]
    assert "--assert=plain" in QUIET_SUITE and bare == []


def test_a_process_that_imported_llmspec_runs_the_suite_without_warnings() -> None:
    """A kernel, or the warm grader, imported llmspec before the run: pytest used to warn, four times
    in ``llmspec check -v`` and in every graded submission's log, that it could not rewrite them."""
    code = ("import sys, llmspec.plugin, spec_tests.strategies\n"  # imported before the run
            "from llmspec.suite import run_suite\n"
            "sys.exit(run_suite(['--stages', 'tokenizer_v1'])[0])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and "15 passed" in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]
    assert "cannot be rewritten" not in done.stdout + done.stderr and "warnings summary" not in done.stdout
