"""The message catalogs' maintenance tool: every ``_("...")`` literal in the sources is a msgid.

    python scripts/i18n_catalog.py check    # what tests/unit/test_i18n.py checks, as a list
    python scripts/i18n_catalog.py update   # rewrite llmspec/locale/*/LC_MESSAGES/llmspec.po: new
                                            # msgids added untranslated, stale ones dropped,
                                            # existing translations kept

Msgids are found by walking the syntax tree (not by regex), so a message split over lines by
implicit string concatenation is one msgid, as gettext sees it at run time.
"""
from __future__ import annotations

import ast
import json
import string
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("llmspec", "spec_tests")  # where learner-facing messages are written
sys.path.insert(0, str(ROOT))

from llmspec.i18n import LANGUAGES, catalog_path, read_po  # noqa: E402

HEADER = """# Messages of llmspec, the chapter-2 specification suite of "Build a Large Language Model (From
# Scratch)", in {name}.  Terms follow {terms}.
# Maintained with scripts/i18n_catalog.py; every msgid is a str.format template: keep its
# {{placeholders}} (tests/unit/test_i18n.py checks them).
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Language: {lang}\\n"
"""
LANGUAGE_NOTES = {
    "zh": ("Simplified Chinese", "the Chinese translation of the MEAP chapter,\n# 003_26158f6a5bd1e0ed.txt "
           "in ../shared/seeds: 标记, 标记 ID, 嵌入, 词汇表, 分词器, 数据加载器, 滑动窗口, 批次, 张量"),
    "ko": ("Korean", "the Korean guide to token embeddings,\n# 004_4163245e9f5aa4d5.txt in ../shared/seeds: "
           "토큰, 토큰 임베딩, 위치 임베딩, 어휘, 임베딩 레이어, 배치, 텐서, 시퀀스"),
}


def messages(root: Path = ROOT) -> tuple[dict[str, list[str]], list[str]]:
    """``({msgid: ["path", ...]}, [problems])``; a problem is a ``_()`` call whose argument is
    not one string literal (an f-string or a variable cannot be looked up in a catalog).  The
    sections of the seed documents that the fixtures cite are msgids too (shown in explanations),
    and the stage titles of :data:`llmspec.stages.STAGES`."""
    found: dict[str, list[str]] = {}
    problems: list[str] = []
    for top in SOURCES:
        for path in sorted((root / top).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            tree = ast.parse(path.read_text(encoding="utf-8"), rel)
            problems += _shadowed(tree, rel)
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_"):
                    continue
                arg = node.args[0] if len(node.args) == 1 and not node.keywords else None
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    where = found.setdefault(arg.value, [])
                    if rel not in where:  # files only: line numbers would churn the catalogs
                        where.append(rel)
                else:
                    problems.append(f"{rel}:{node.lineno}: _() needs exactly one string literal")
    for path in sorted((root / "fixtures").glob("*.json")):  # cited sections (llmspec.i18n.translated)
        rel = path.relative_to(root).as_posix()
        for section in _sections(json.loads(path.read_text(encoding="utf-8"))):
            where = found.setdefault(section, [])
            if rel not in where:
                where.append(rel)
    from llmspec.stages import CONTRACT_NAMES, STAGES  # the stage titles (llmspec.verdict.stage_title)

    for stage in STAGES.values():
        if stage.title not in CONTRACT_NAMES:  # a book name (GPTDatasetV1) stays as it is
            where = found.setdefault(stage.title, [])
            if "llmspec/stages.py" not in where:
                where.append("llmspec/stages.py")
    return found, problems


def _shadowed(tree: ast.AST, rel: str) -> list[str]:
    """Functions that call ``_()`` and also bind ``_`` (``_, tail = ...``): Python makes ``_`` local
    to the whole function, so the call fails with UnboundLocalError."""
    out = []
    for fn in ast.walk(tree):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        body = [n for stmt in (fn.body if isinstance(fn.body, list) else [fn.body]) for n in ast.walk(stmt)]
        in_comprehension = {id(n) for c in body if isinstance(c, ast.comprehension) for n in ast.walk(c.target)}
        binds = any(isinstance(n, ast.Name) and n.id == "_" and isinstance(n.ctx, ast.Store)
                    and id(n) not in in_comprehension for n in body)  # a comprehension has its own scope
        calls = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "_" for n in body)
        if binds and calls:
            out.append(f"{rel}:{fn.lineno}: binds _ and calls _(): name the unused value otherwise")
    return out


def _sections(node: object) -> list[str]:
    """Every ``"section"`` string of a fixture (where in its seed document a golden value is)."""
    if isinstance(node, dict):
        own = [node["section"]] if isinstance(node.get("section"), str) else []
        return own + [s for v in node.values() for s in _sections(v)]
    if isinstance(node, list):
        return [s for v in node for s in _sections(v)]
    return []


def fields(template: str) -> list[str]:
    """The placeholders of a ``str.format`` template, sorted (``{a!r}`` and ``{a:>6}`` are ``a``)."""
    return sorted(name for _, name, _, _ in string.Formatter().parse(template) if name is not None)


def _quote(text: str) -> str:
    body = text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t")
    parts = body.split("\n")
    if len(parts) == 1:
        return f'"{body}"'
    lines = [p + "\\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
    return '""\n' + "\n".join(f'"{line}"' for line in lines)


def update(root: Path = ROOT) -> None:
    found, problems = messages(root)
    if problems:
        sys.exit("\n".join(problems))
    for lang in LANGUAGES:
        if lang == "en":
            continue
        po = catalog_path(lang)
        old = read_po(po) if po.is_file() else {}
        name, terms = LANGUAGE_NOTES[lang]
        out = [HEADER.format(name=name, terms=terms, lang=lang)]
        for msgid, where in found.items():
            out.append(f"#: {' '.join(where)}\nmsgid {_quote(msgid)}\nmsgstr {_quote(old.get(msgid, ''))}\n")
        po.parent.mkdir(parents=True, exist_ok=True)
        po.write_text("\n".join(out), encoding="utf-8")
        print(f"{po.relative_to(root)}: {len(found)} messages, "
              f"{sum(1 for m in found if not old.get(m))} untranslated")


def check(root: Path = ROOT) -> list[str]:
    """Every problem of the catalogs: untranslated, stale or placeholder-changing entries, and
    translations that are not valid templates (``tests/unit/test_i18n.py`` asserts there are none)."""
    found, problems = messages(root)
    for lang in LANGUAGES:
        if lang == "en":
            continue
        catalog = read_po(catalog_path(lang)) if catalog_path(lang).is_file() else {}
        catalog.pop("", None)
        for msgid in found:
            if not catalog.get(msgid):
                problems.append(f"{lang}: no translation of {msgid!r} ({found[msgid][0]})")
            elif fields(catalog[msgid]) != fields(msgid):
                problems.append(f"{lang}: placeholders {fields(catalog[msgid])} instead of "
                                f"{fields(msgid)} in the translation of {msgid!r}")
        problems += [f"{lang}: stale entry {m!r} (no longer in the sources)" for m in catalog if m not in found]
        for msgid, msgstr in catalog.items():  # every translation is a valid template for its msgid
            try:
                msgstr.format(**{name: "x" for name in fields(msgid)})
            except (KeyError, IndexError, ValueError) as exc:
                problems.append(f"{lang}: the translation of {msgid!r} is not a valid template ({exc})")
    return problems


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "update":
        update()
    else:
        wrong = check()
        print("\n".join(wrong) or "catalogs complete")
        sys.exit(1 if wrong else 0)
