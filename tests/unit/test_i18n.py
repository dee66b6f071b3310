"""Messages in the learner's language: complete catalogs, placeholders kept, the language chosen as
documented, and whole explanations printed in Chinese and Korean with English unchanged.

The msgids are every ``_("...")`` literal in ``llmspec/`` and ``spec_tests/``, found by walking the
syntax tree (``scripts/i18n_catalog.py``, which also updates the catalogs)."""
from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from llmspec import i18n

from paths import ROOT, VARIANTS
_spec = importlib.util.spec_from_file_location("i18n_catalog", ROOT / "scripts" / "i18n_catalog.py")
assert _spec is not None and _spec.loader is not None
catalog_tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(catalog_tool)

TRANSLATED = [lang for lang in i18n.LANGUAGES if lang != "en"]


@pytest.fixture(autouse=True)
def _english_afterwards():
    yield
    i18n.set_language("en")


def test_every_message_is_one_literal() -> None:
    found, problems = catalog_tool.messages()
    assert not problems, "\n".join(problems)
    assert len(found) > 50  # the extractor sees the harness' messages (explain, check, grading)
    assert "{stage}: not implemented (missing {names})" in found


@pytest.mark.parametrize("lang", TRANSLATED)
def test_catalog_translates_every_message_with_the_same_placeholders(lang: str) -> None:
    """Untranslated, placeholder-changing, stale or invalid entries (the maintainers' own check,
    ``python scripts/i18n_catalog.py``)."""
    found, _problems = catalog_tool.messages()
    assert len(i18n.read_po(i18n.catalog_path(lang))) > len(found) / 2  # the catalog is read at all
    problems = [p for p in catalog_tool.check() if p.startswith(f"{lang}: ")]
    assert not problems, f"{len(problems)} problems, e.g. {problems[:3]}"


def test_fields_sees_conversions_and_format_specs() -> None:
    assert catalog_tool.fields("{a!r} and {b:>6} of {a}") == ["a", "a", "b"]
    assert catalog_tool.fields("{{literal}} {x}") == ["x"]


def test_the_po_reader_reads_what_the_catalog_tool_writes(tmp_path: Path) -> None:
    text = 'he said "hi"\\n\tthen\nleft\n'
    po = tmp_path / "x.po"
    po.write_text(f"msgid {catalog_tool._quote(text)}\nmsgstr {catalog_tool._quote(text.upper())}\n"
                  '#, fuzzy\nmsgid "fuzzy one"\nmsgstr "ignored"\n\nmsgid "empty"\nmsgstr ""\n',
                  encoding="utf-8")
    assert i18n.read_po(po) == {text: text.upper()}  # fuzzy and untranslated entries are left out


@pytest.mark.parametrize("lang", TRANSLATED)
def test_set_language_uses_the_catalog(lang: str) -> None:
    assert i18n.set_language(lang) == lang
    catalog = i18n.read_po(i18n.catalog_path(lang))
    assert i18n._("pass") == catalog["pass"] != "pass"
    assert i18n._("a message no catalog has") == "a message no catalog has"


@pytest.mark.parametrize("env, expected", [
    ({"LLMSPEC_LANG": "ko", "LANG": "zh_CN.UTF-8"}, "ko"),  # LLMSPEC_LANG wins over the locale
    ({"LANG": "zh_CN.UTF-8"}, "zh"),
    ({"LC_ALL": "ko_KR.UTF-8", "LANG": "zh_CN.UTF-8"}, "ko"),  # as gettext: LC_ALL before LANG
    ({"LANGUAGE": "fr:ko", "LANG": "en_US.UTF-8"}, "ko"),  # LANGUAGE is a preference list
    ({"LANG": "C.UTF-8"}, "en"),
    ({"LANG": "fr_FR.UTF-8"}, "en"),  # no catalog: English
    ({}, "en"),
])
def test_the_language_comes_from_the_environment(env: dict[str, str], expected: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("LLMSPEC_LANG", *i18n._LOCALE_VARS):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    assert i18n.set_language(None) == expected
    assert i18n.set_language("zh") == "zh"  # an explicit choice (--lang) wins over everything


def test_stage_titles_in_english_are_the_stage_table() -> None:
    from llmspec.stages import STAGES
    from llmspec.verdict import stage_title

    i18n.set_language("en")
    assert {name: stage_title(name) for name in STAGES} == {name: s.title for name, s in STAGES.items()}
    with i18n.switched("zh"):  # the titles that are not the book's names are translated
        assert stage_title("embeddings") != STAGES["embeddings"].title
        assert stage_title("dataset") == "GPTDatasetV1"


def test_switched_is_temporary() -> None:
    i18n.set_language("en")
    with i18n.switched("zh"):
        assert i18n.language() == "zh"
    assert i18n.language() == "en" and i18n._("pass") == "pass"


def test_the_packaged_data_includes_every_catalog() -> None:
    import fnmatch
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    patterns = config["package-data"]["llmspec"]
    for po in (ROOT / "llmspec" / "locale").rglob("*.po"):
        rel = po.relative_to(ROOT / "llmspec").as_posix()
        assert any(fnmatch.fnmatch(rel, p) for p in patterns), f"{rel} is not in the distribution"


# --- whole explanations, end to end ----------------------------------------------------------------


def _check(lang: str, variant: str, stages: str) -> str:
    """``llmspec check --lang LANG`` in a locale that says otherwise (``--lang`` must win)."""
    target = VARIANTS / variant
    args = [sys.executable, "-m", "llmspec", "check", str(target), "--stages", stages, "--lang", lang]
    out = subprocess.run(args, capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "LLMSPEC_LANG": "ko" if lang != "ko" else "zh"})
    assert out.returncode == 1, out.stderr
    return out.stdout


@pytest.fixture(scope="module")
def buggy() -> str:
    """A dataset variant that ignores ``stride`` (written by ``make_buggy.py`` on demand)."""
    sys.path.insert(0, str(VARIANTS))
    try:
        import make_buggy
    finally:
        sys.path.remove(str(VARIANTS))
    assert (make_buggy.ensure_generated() / "ds_stride_ignored.py").is_file()
    return "buggy/ds_stride_ignored.py"


def test_english_output_is_unchanged_by_the_catalogs(buggy: str) -> None:
    english = _check("en", buggy, "dataset,embeddings")
    assert "  stage          passed/total  status\n" in english
    assert "dataset: first failure (test_golden_windows[verdict-8x4-stride4])" in english
    assert "first difference at position 0: expected 1807, got 367" in english
    assert re.search(r"^1 stage\(s\) pass: embeddings$", english, re.M)


@pytest.mark.parametrize("lang, words", [
    ("zh", ["阶段", "失败", "第一个失败", "第一处差异在位置 0:应为 1807,实际为 367", "应有的标记 ID", "代码清单 2.5",
            "印在书的第 2 章(MEAP 版)", "1 个阶段通过", "你的 GPTDatasetV1.__init__ 与代码清单 2.5(2.6)对照:"]),
    ("ko", ["단계", "실패", "첫 번째 실패", "첫 번째 차이는 위치 0: 기대값 1807, 실제값 367", "기대 토큰 ID", "예제 2.5",
            "책 2장(MEAP 판)에 실린 값", "통과한 단계 1개", "내 GPTDatasetV1.__init__ / 예제 2.5 (2.6) 비교:"]),
])
def test_the_explanation_is_printed_in_the_language(lang: str, words: list[str], buggy: str) -> None:
    out = _check(lang, buggy, "dataset,embeddings")
    for word in words:
        assert word in out, f"{word!r} not in:\n{out}"
    for english in ("first failure", "first difference", "expected ids", "stage(s) pass", "printed in", "beside"):
        assert english not in out, f"{english!r} left untranslated in:\n{out}"


# --- grading feedback in the class language --------------------------------------------------------


def test_the_grading_config_sets_the_class_language() -> None:
    from llmspec.grading.config import load_config, parse_config

    default = load_config()
    assert default.language is None
    zh = parse_config({**default.raw, "assignment": {**default.raw["assignment"], "language": "zh"}})
    assert zh.language == "zh" and zh.fingerprint() != default.fingerprint()
    with pytest.raises(ValueError, match="assignment.language must be one of"):
        parse_config({"assignment": {"language": "fr"}})


def test_feedback_and_class_report_in_the_class_language() -> None:
    from llmspec.grading.config import load_config
    from llmspec.grading.html import report_html
    from llmspec.grading.results import gradescope
    from llmspec.grading.scoring import Outcome, score, student_message, summary

    config = load_config()
    canonical = [("test_dataset.py::test_a", "dataset"), ("test_dataset.py::test_b", "dataset")]
    outcomes = {"test_dataset.py::test_a": Outcome("test_dataset.py::test_a", "dataset", True),
                "test_dataset.py::test_b": Outcome("test_dataset.py::test_b", "dataset", False, "wrong")}
    with i18n.switched("ko"):
        graded = score("alice", "alice.py", canonical, outcomes, config, missing_reason="-")
        text = summary(graded)
        assert text.startswith("점수: ") and "첫 번째 실패 (" in text
        assert "공개 테스트 0/1 통과  (토큰 임베딩과 위치 임베딩)" in text
        hidden = next(t for t in graded.tests if not t.passed)
        hidden.visibility = "after_due_date"
        assert student_message(hidden) == "숨겨진 테스트 실패"
        page = report_html([gradescope(graded, config.fingerprint(), 2000, config.name)], "class")
        assert '<html lang="ko">' in page and "점수 분포" in page and "Score distribution" not in page
    assert summary(graded).startswith("Score: ")


def test_a_function_that_binds_underscore_cannot_call_it() -> None:
    """``_, tail = ...`` makes ``_`` local to the whole function: a ``_()`` call in it would fail at
    run time with UnboundLocalError, so the catalog check reports it (a comprehension has its own
    scope and is fine)."""
    import ast

    bad = "def f():\n    _, tail = 1, 2\n    return _('a')\n"
    ok = "def g():\n    pairs = [a for a, _ in []]\n    return _('a')\n"
    assert catalog_tool._shadowed(ast.parse(bad), "bad.py") == [
        "bad.py:1: binds _ and calls _(): name the unused value otherwise"]
    assert catalog_tool._shadowed(ast.parse(ok), "ok.py") == []
