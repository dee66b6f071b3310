"""Trusted expectations shared by several stage modules (test modules never import each other).

Everything here is computed on the harness side from the book's listings, never by the implementation
under test, so a wrong submission cannot make its own expectation.
"""
from __future__ import annotations

from typing import Any


def book_windows(ids: list[int], max_length: int, stride: int) -> list[tuple[list[int], list[int]]]:
    """Listing 2.5's loop: ``(ids[i : i+L], ids[i+1 : i+L+1])`` for ``i`` in
    ``range(0, n - L, stride)``; the dataset, the dataloader and their goldens all derive from it."""
    return [(ids[i:i + max_length], ids[i + 1:i + max_length + 1])
            for i in range(0, len(ids) - max_length, stride)]


def keyerror_word(err: Any) -> str | None:
    """The word a ``KeyError`` from ``str_to_int[word]`` names (``"'up;'"`` -> ``"up;"``), else None."""
    import ast

    if not getattr(err, "is_a", lambda *_: False)("KeyError"):
        return None
    try:
        word = ast.literal_eval(err.message)
    except (ValueError, SyntaxError):
        return None
    return word if isinstance(word, str) else None


def why_not_in_vocabulary(word: str, edition: str, text: str = "") -> str:
    """Why ``word`` is not in the vocabulary the suite built with ``edition``'s split of the-verdict.txt:
    the split kept ``:`` ``;`` attached (the MEAP regex) or cut them off (the print regex), or it
    split differently from the book altogether; where the word's text occurs in ``text``."""
    from llmspec.i18n import _
    from reference.tokenizers import PATTERNS

    where = ""
    bare = word.rstrip(":;") if word.endswith((":", ";")) else word
    at = text.find(word) if text else -1
    if at >= 0:
        where = _(" (the text has {context!r})").format(context=text[max(0, at - 20):at + len(word) + 20])
    kept = [c for c in ":;" if c in word]
    if edition == "print" and kept and bare:
        return _("{word!r} is not in the vocabulary{where}: your split keeps {chars} attached to {bare!r}, as "
                 "the MEAP edition's regex r'{meap}' does; the print edition's r'{print}' (which built this "
                 "vocabulary) splits them off. If you followed the MEAP edition, run with --edition meap (or "
                 "--edition auto)").format(word=word, where=where, chars=" ".join(repr(c) for c in kept),
                                           bare=bare, meap=PATTERNS["meap"], print=PATTERNS["print"])
    if edition == "meap" and word in (":", ";"):
        return _("{word!r} is not in the vocabulary: your split cuts {word!r} off the word before it, as the "
                 "print edition's regex r'{print}' does; the MEAP edition's r'{meap}' (which built this "
                 "vocabulary) keeps it attached. If you followed the print edition, run with --edition print "
                 "(or --edition auto)").format(word=word, meap=PATTERNS["meap"], print=PATTERNS["print"])
    return _("{word!r} is not in the vocabulary{where}: the book's split (re.split(r'{pattern}', text), strip "
             "each piece, drop empty ones) of the-verdict.txt never produces it, so your encode splits the "
             "text differently").format(word=word, where=where, pattern=PATTERNS[edition])
