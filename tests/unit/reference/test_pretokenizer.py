"""Project tests for ``reference.pretokenizer``: its ``\\p{L}``/``\\p{N}`` tables are what they
claim to be (re-derived from :mod:`unicodedata` plus the Unicode 15-16 additions), and tiktoken,
the oracle, cuts text at the same places around every edge of them.  The pattern's alternatives
themselves are judged through the tokenizer (test_bpe_scratch.py and the ``bpe_scratch`` stage)."""
from __future__ import annotations

import unicodedata

from reference import pretokenizer as p


def test_unicode_16_letters_and_numbers(ref, gpt2):
    """The Unicode 15-16 table: range ends and middles split exactly like tiktoken's engine."""
    for a, b in p.NEWER_LETTERS + p.NEWER_NUMBERS:
        for cp in {a, (a + b) // 2, b}:
            for text in (chr(cp) + "'s", "x" + chr(cp) + "1 ?", " " + chr(cp) * 2 + "é"):
                assert ref.encode(text) == gpt2.encode(text), hex(cp)


def test_committed_letter_number_tables_rederive():
    """``LETTER_RANGES`` / ``NUMBER_RANGES`` (committed so no process walks 1.1M code points at
    start-up) equal what unicodedata + the Unicode 15-16 tables give (~0.5 s).  A Python whose
    Unicode database is newer than 16 may classify more code points: then the table must be
    regenerated with :func:`derive_ranges`, after re-checking the new ones against tiktoken."""
    letters, numbers = p.derive_ranges()
    assert p._parse_ranges(p.LETTER_RANGES) == letters, f"unicodedata {unicodedata.unidata_version}"
    assert p._parse_ranges(p.NUMBER_RANGES) == numbers, f"unicodedata {unicodedata.unidata_version}"


def test_table_edges_split_like_tiktoken(ref, gpt2):
    """tiktoken is the oracle for the tables too: the first and last code point of every letter
    and number run (and the one just past it) pre-tokenise exactly like tiktoken's engine."""
    points = {cp for table in (p.LETTER_RANGES, p.NUMBER_RANGES) for a, z in p._parse_ranges(table)
              for cp in (a, z, z + 1) if cp < 0x110000 and not 0xD800 <= cp < 0xE000}
    texts = [chr(cp) + "'s" + chr(cp) + "1 " + chr(cp) for cp in sorted(points)]
    assert [ref.encode(t) for t in texts] == [gpt2.encode(t) for t in texts]
