"""Learner-facing text in the learner's language (en, zh, ko), from gettext ``.po`` catalogs.

Every message is an English ``str.format`` template wrapped in :func:`_`: the template is the catalog's
msgid, so a translation may reorder placeholders but never drop or add one.  The ``.po`` sources are
read directly: nothing generated is committed, and no stale ``.mo`` can shadow them.
"""
from __future__ import annotations

import ast
import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

DOMAIN = "llmspec"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES: tuple[str, ...] = ("en", "zh", "ko")
_LOCALE_VARS = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

_current: dict[str, str] | None = None  # the catalog in force; None: not chosen yet (first _() decides)
_language = "en"
_catalogs: dict[str, dict[str, str]] = {}


def set_language(lang: str | None = None) -> str:
    """Use ``lang`` (``en``, ``zh``, ``ko``; ``None`` = ``LLMSPEC_LANG``, else the locale) from now
    on in this process; returns the language in force.  An unknown language is English."""
    global _current, _language
    chosen = (lang or "").strip() or os.environ.get("LLMSPEC_LANG", "").strip() or locale_language()
    _language = normalise(chosen)
    _current = translations(_language)
    return _language


@contextlib.contextmanager
def switched(lang: str | None) -> Iterator[str]:
    """Use ``lang`` inside the block only (``None``: keep the language in force)."""
    global _current, _language
    saved = (_current, _language)
    try:
        yield set_language(lang) if lang else language()
    finally:
        _current, _language = saved


def language() -> str:
    """The language in force (choosing it from the environment on first use)."""
    if _current is None:
        set_language()
    return _language


def locale_language() -> str:
    """The first supported language of the locale variables (``LANGUAGE`` may list several, colon
    separated, as gettext reads it); ``"en"`` for ``C``/``POSIX`` or anything unsupported."""
    for var in _LOCALE_VARS:
        value = os.environ.get(var, "").strip()
        if not value:
            continue
        for part in value.split(":"):
            code = normalise(part)
            if code != "en" or part.lower().startswith("en"):
                return code
        if var != "LANGUAGE":  # the first set variable of the others decides, as in gettext
            return "en"
    return "en"


def normalise(lang: str) -> str:
    """``zh_CN.UTF-8`` -> ``zh``, ``ko-KR`` -> ``ko``, ``en_US`` / ``C`` / unknown -> ``en``."""
    code = lang.lower().replace("-", "_").split(".")[0].split("@")[0].split("_")[0]
    return code if code in LANGUAGES else "en"


def translations(lang: str) -> dict[str, str]:
    """The catalog of ``lang``, ``{msgid: msgstr}`` (cached; English and a missing catalog are empty)."""
    if lang not in _catalogs:
        po = catalog_path(lang)
        _catalogs[lang] = read_po(po) if lang != "en" and po.is_file() else {}
    return _catalogs[lang]


def catalog_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def translated(text: str) -> str:
    """The translation of ``text`` (the text itself when none).  Called as :func:`_` on literals (the
    msgids ``scripts/i18n_catalog.py`` collects), and by this name on texts from data (stage titles)."""
    if _current is None:
        set_language()
    assert _current is not None
    return _current.get(text, text)


_ = translated


# --- the .po reader --------------------------------------------------------------------------------
def read_po(path: Path) -> dict[str, str]:
    """``{msgid: msgstr}`` of a ``.po`` file (the header entry ``""`` included), for the subset the
    catalogs use (no ``msgctxt``); untranslated and ``#, fuzzy`` entries are kept out, as ``msgfmt`` does."""
    entries: dict[str, str] = {}
    msgid: list[str] | None = None
    msgstr: list[str] | None = None
    target: list[str] | None = None
    fuzzy = False

    def flush() -> None:
        nonlocal msgid, msgstr, fuzzy
        if msgid is not None and msgstr is not None:  # an entry ends: its flags end with it
            key, value = "".join(msgid), "".join(msgstr)
            if value and not (fuzzy and key):
                entries[key] = value
            fuzzy = False
        msgid = msgstr = None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            if msgstr is not None:
                flush()
            if line.startswith("#,") and "fuzzy" in line:
                fuzzy = True
            continue
        keyword, _sep, rest = line.partition(" ")
        if keyword == "msgid":
            flush()
            msgid = target = []
        elif keyword == "msgstr":
            msgstr = target = []
        elif line.startswith('"'):
            rest = line
        else:
            raise ValueError(f"{path}:{number}: cannot read {line[:40]!r}")
        if target is None:
            raise ValueError(f"{path}:{number}: a string outside msgid/msgstr")
        target.append(_po_string(rest.strip(), path, number))
    flush()
    return entries


def _po_string(text: str, path: Path, number: int) -> str:
    if not (len(text) >= 2 and text[0] == text[-1] == '"'):
        raise ValueError(f"{path}:{number}: expected a quoted string, got {text[:40]!r}")
    return ast.literal_eval(text)  # C-style escapes (\n \t \" \\) are Python's too
