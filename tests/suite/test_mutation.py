"""Mutation testing as a habit: a new surviving mutant of ``reference/`` cannot go unnoticed.

``make mutate`` judges every first-order mutant (a few minutes, on demand); here CI judges a
deterministic sample of them, plus the bookkeeping that keeps the committed list of equivalent
mutants honest (every listed id still exists and has a reason).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from paths import MUTATION

sys.path.insert(0, str(MUTATION))

import mutate  # noqa: E402  (tests/ is not a package)

SAMPLE = 12  # mutants per CI run, chosen by a hash of their ids (the same on every run)


def test_equivalent_list_names_existing_mutants_with_reasons() -> None:
    equivalent = mutate.load_equivalent()
    ids = {m.id for f in mutate.RUNS for m in mutate.mutants(f)}
    stale = sorted(set(equivalent) - ids)
    assert not stale, f"equivalent.txt lists mutants that no longer exist (the reference changed): {stale}"
    assert all(reason for reason in equivalent.values()), [k for k, r in equivalent.items() if not r]


def test_mutant_ids_are_unique_and_every_file_is_mutated() -> None:
    ms = [m for f in mutate.RUNS for m in mutate.mutants(f)]
    assert len({m.id for m in ms}) == len(ms)
    assert {m.file for m in ms} == set(mutate.RUNS)
    ref = {p.name for p in mutate.REFERENCE.glob("*.py")}
    assert ref == set(mutate.RUNS), f"a reference file the mutation run does not know: {ref - set(mutate.RUNS)}"


def test_mutants_apply() -> None:
    """Mutants (a deterministic sample of 80) are valid Python and differ from the reference (no
    silent no-op edits); ``make mutate`` reports any mutant whose run errors as ERROR."""
    import ast

    ms = mutate.sample([m for f in mutate.RUNS for m in mutate.mutants(f)], 80)
    for f in sorted({m.file for m in ms}):
        original = ast.unparse(ast.parse((mutate.REFERENCE / f).read_text(encoding="utf-8")))
        for m in (m for m in ms if m.file == f):
            source = mutate.apply(m)
            compile(source, m.file, "exec")
            assert source != original, m.id


@pytest.mark.slow
def test_a_sample_of_mutants_is_killed(tmp_path: Path) -> None:
    """The deterministic sample: every mutant in it is killed by the spec suite or listed as
    equivalent (exit 0), else the output names the survivor."""
    proc = subprocess.run([sys.executable, str(MUTATION / "mutate.py"), "--sample", str(SAMPLE),
                           "--timeout", "60"], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert f"[{SAMPLE}/{SAMPLE}]" in proc.stdout


def test_regular_expressions_and_call_sites_are_mutated() -> None:
    """The operators for the bugs chapter 2 has: a regex string is found by tracing it to ``re``
    (the whitespace class spelled into GPT-2's pattern through an f-string field, the book's split
    pattern through a dict, a class attribute and a parameter), and loses one alternative or class
    item; ``range()``, slices and argument order get their variants too."""
    ids = {m.id: m for f in ("pretokenizer.py", "tokenizers.py", "dataset.py") for m in mutate.mutants(f)}
    for expected in ("pretokenizer.py::<module>::regex::drop class item \\t#1",
                     "pretokenizer.py::gpt2_pattern::regex::drop class item {N}#1",
                     "pretokenizer.py::gpt2_pattern::regex::drop alternative ll#1",
                     "tokenizers.py::<module>::regex::drop alternative --#1",
                     "tokenizers.py::<module>::regex::drop class item :#1"):
        assert expected in ids, expected
    source = mutate.apply(ids["pretokenizer.py::gpt2_pattern::regex::drop class item {N}#1"])
    assert "[^{S}{L}]++" in source and "[^{S}{L}{N}]" not in source
    ops = {m.op for m in ids.values()}
    assert {"regex", "range", "swap", "slice"} <= ops
    assert not any("<|endoftext|>" in m.detail for m in ids.values() if m.op == "regex")  # traced, not guessed
