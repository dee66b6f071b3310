"""Every corpus entry (``tests/suite/corpus/corpus_manifest.py``) gets its expected verdict on every stage through
``llmspec check`` (a worker with the learner's permissions), through ``llmspec check --isolate``, and through
``llmspec grade``.

The three runs happen once for the whole corpus (``tests/suite/corpus/runner.py``: two warm processes for
the ``check`` runs, one ``llmspec grade`` over a directory holding every entry); each test then
asserts one entry in one mode, so a wrong verdict names its entry, mode and stage.
``python tests/suite/corpus/runner.py`` prints the same as a table."""
from __future__ import annotations

import sys
from pathlib import Path

import importlib.util

import pytest

from paths import CORPUS
if str(CORPUS) not in sys.path:
    sys.path.insert(0, str(CORPUS))


def _load_runner():
    """``tests/suite/corpus/runner.py`` under its own module name (the bug zoo has a ``runner`` too)."""
    spec = importlib.util.spec_from_file_location("corpus_runner", CORPUS / "runner.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["corpus_runner"] = module
    spec.loader.exec_module(module)
    return module


runner = _load_runner()
from corpus_manifest import ENTRIES, STAGES  # noqa: E402

CASES = [(e, m) for e in ENTRIES for m in runner.MODES]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, runner.Result]]:
    workdir = tmp_path_factory.mktemp("corpus")
    workdir.chmod(0o755)
    return runner.run(list(ENTRIES), runner.MODES, workdir)


def test_the_corpus_is_two_dozen_styles_with_a_verdict_for_every_stage() -> None:
    assert len(ENTRIES) >= 20 and len({e.name for e in ENTRIES}) == len(ENTRIES)
    for entry in ENTRIES:
        assert all(entry.verdict(s) in ("pass", "fail", "not_implemented") for s in STAGES)
        assert set(entry.says) <= {s for s in STAGES if entry.verdict(s) != "pass"}


@pytest.mark.parametrize("entry,mode", [pytest.param(e, m, id=f"{e.name}-{m}") for e, m in CASES])
def test_expected_verdict(results, entry, mode: str) -> None:
    result = results[mode].get(entry.name)
    bad = runner.problems(entry, result, mode)
    assert not bad, "\n".join(bad) + "\n" + (result.output[-4000:] if result else "")


def test_grading_agrees_with_check_stage_by_stage(results) -> None:
    for entry in ENTRIES:
        verdicts = {m: results[m][entry.name].stages for m in runner.MODES}
        assert verdicts["grading"] == verdicts["isolated"] == verdicts["check"], entry.name
