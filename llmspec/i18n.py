"""Learner-facing text in the learner's language, through the standard ``gettext`` machinery.

Every message a learner reads is written in English as a ``str.format`` template wrapped in
:func:`_`, e.g. ``_("{what} returned {actual}").format(what=..., actual=...)``: the template is the
catalog's msgid, so a translation can reorder the placeholders but never drop or add one.  Catalogs
live in ``llmspec/locale/<lang>/LC_MESSAGES/llmspec.po``.  The language is chosen by
:func:`set_language` (``--lang``), else ``LLMSPEC_LANG``, else the locale; English is the fallback.
"""
from __future__ import annotations

import gettext
import os
from pathlib import Path

DOMAIN = "llmspec"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES: tuple[str, ...] = ("en", "zh", "ko")

_current: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def set_language(lang: str | None) -> str:
    """Use ``lang`` (``en``, ``zh``, ``ko``; ``None`` = ``LLMSPEC_LANG``, else the locale) from now
    on in this process; returns the language in force."""
    global _current, _language
    chosen = (lang or os.environ.get("LLMSPEC_LANG") or "").strip() or None
    _language = _normalise(chosen) if chosen else "en"
    if _language == "en":
        _current = gettext.NullTranslations()
    else:
        _current = gettext.translation(DOMAIN, LOCALE_DIR, languages=[_language], fallback=True)
    return _language


def language() -> str:
    return _language


def _normalise(lang: str) -> str:
    code = lang.lower().replace("-", "_").split(".")[0].split("_")[0]
    return code if code in LANGUAGES else "en"


def _(message: str) -> str:
    """The translation of ``message`` in the current language (the message itself when none)."""
    return _current.gettext(message)
