"""Learner-facing text in the learner's language, through the standard ``gettext`` machinery.

Every message a learner reads is written in English as a ``str.format`` template wrapped in
:func:`_`, e.g. ``_("{what} returned {actual}").format(what=..., actual=...)``: the template is the
catalog's msgid, so a translation can reorder the placeholders but never drop or add one (a project
test checks every catalog).  Catalogs live in ``llmspec/locale/<lang>/LC_MESSAGES/llmspec.po``.

Only the ``.po`` sources are kept and shipped.  Python's :class:`gettext.GNUTranslations` reads the
compiled ``.mo`` format, so the first message in a language compiles its catalog in memory
(:func:`compile_po`, a few milliseconds): nothing generated is committed, nothing is written next to
the installed package (which may be read-only), and a stale ``.mo`` can never shadow an edited
``.po``.  ``python -m llmspec.i18n DIR`` writes the ``.mo`` files for tools that want them on disk.

The language is chosen by :func:`set_language` (``--lang``), else ``LLMSPEC_LANG``, else the
locale (``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``, as gettext reads them); English is the
fallback and the source text.
"""
from __future__ import annotations

import ast
import contextlib
import gettext
import io
import os
import struct
import sys
from collections.abc import Iterator
from pathlib import Path

DOMAIN = "llmspec"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES: tuple[str, ...] = ("en", "zh", "ko")
_LOCALE_VARS = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

_current: gettext.NullTranslations | None = None  # None: not chosen yet (first _() decides)
_language = "en"
_catalogs: dict[str, gettext.NullTranslations] = {}


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


def translations(lang: str) -> gettext.NullTranslations:
    """The catalog of ``lang`` as a :class:`gettext.GNUTranslations` (cached; English and a missing
    catalog are the identity)."""
    if lang not in _catalogs:
        po = catalog_path(lang)
        if lang == "en" or not po.is_file():
            _catalogs[lang] = gettext.NullTranslations()
        else:
            _catalogs[lang] = gettext.GNUTranslations(io.BytesIO(compile_po(read_po(po))))
    return _catalogs[lang]


def catalog_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def _(message: str) -> str:
    """The translation of ``message`` in the current language (the message itself when none)."""
    return translated(message)


def translated(text: str) -> str:
    """:func:`_` for a text that comes from data, not from a ``_("...")`` literal: the sections of
    the seed documents that golden values cite (``fixtures/*.json``), which the catalogs hold too
    (``scripts/i18n_catalog.py`` reads them from the fixtures)."""
    if _current is None:
        set_language()
    assert _current is not None
    return _current.gettext(text)


# --- the .po reader and .mo writer ----------------------------------------------------------------


def read_po(path: Path) -> dict[str, str]:
    """``{msgid: msgstr}`` of a ``.po`` file (the header entry ``""`` included).

    The subset gettext's ``msgfmt`` accepts that the catalogs use: ``#`` comments, ``msgctxt`` is
    not used, ``msgid``/``msgstr`` with C-style escaped strings continued on following lines.
    Untranslated (empty) and ``#, fuzzy`` entries are kept out, as ``msgfmt`` does."""
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
            msgid = []
            target = msgid
        elif keyword == "msgstr":
            msgstr = []
            target = msgstr
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


def compile_po(entries: dict[str, str]) -> bytes:
    """The GNU ``.mo`` bytes of ``{msgid: msgstr}`` (little-endian, no hash table), the format
    :class:`gettext.GNUTranslations` reads; a UTF-8 header is added when the catalog has none."""
    entries = dict(entries)
    entries.setdefault("", "Content-Type: text/plain; charset=UTF-8\n")
    keys = sorted(entries)
    ids = [k.encode("utf-8") for k in keys]
    strs = [entries[k].encode("utf-8") for k in keys]
    n = len(keys)
    header = 7 * 4
    ids_table, strs_table = header, header + n * 8
    data_start = strs_table + n * 8
    offsets: list[int] = []
    blob = b""
    for chunk in ids + strs:
        offsets += [len(chunk), data_start + len(blob)]
        blob += chunk + b"\0"
    out = struct.pack("<7I", 0x950412DE, 0, n, ids_table, strs_table, 0, data_start)
    out += struct.pack(f"<{4 * n}I", *offsets)
    return out + blob


def main(argv: list[str] | None = None) -> int:
    """``python -m llmspec.i18n OUTDIR``: write ``OUTDIR/<lang>/LC_MESSAGES/llmspec.mo``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m llmspec.i18n OUTDIR", file=sys.stderr)
        return 2
    for lang in LANGUAGES:
        po = catalog_path(lang)
        if po.is_file():
            out = Path(args[0]) / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(compile_po(read_po(po)))
            print(out)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
