"""Which edition of the book a target follows: the print edition's regex splits ``:`` and ``;`` off
words, the MEAP edition's (the transcript 002_7f7806e88e8c52a4.txt, section 2.2) keeps them attached.
The print book's own Listing 2.3 is the exception: its regex lacks ``:;`` (its vocabulary and Listing
2.4 have them), so a V1 that keeps them attached beside a V2 that splits them off is the print book.

``--edition auto`` asks the target's ``SimpleTokenizerV1`` (else V2) to encode a probe text holding
both, with a vocabulary of the pieces of *both* splits (neither edition's tokenizer can raise); the ids
say which split it made.  A target without a tokenizer is judged by its Listing 2.5 instead.
"""
from __future__ import annotations

from typing import Any

from llmspec.errors import HarnessError, ImplError
from llmspec.i18n import _
from llmspec.stages import EDITIONS

AUTO = "auto"
EDITION_CHOICES: tuple[str, ...] = (AUTO, *EDITIONS)
# ':' ';' tell the editions apart; the punctuation both editions split on (,.?_!"()' and --) makes a
# regex that splits neither (the book's first attempt, r'(\s)') match neither edition.
PROBE = 'Hello, world: do you like "tea" (or coffee)? Yes; it\'s --good_!'


def check_edition(edition: str) -> str:
    """``edition`` if it is one of :data:`EDITION_CHOICES`; else ValueError saying which are."""
    if edition not in EDITION_CHOICES:
        raise ValueError(_("edition must be one of {choices}, not {edition!r}").format(
            choices=", ".join(EDITION_CHOICES), edition=edition))
    return edition


def probe_vocab(version: int) -> dict[str, int]:
    """The pieces of both editions' splits of :data:`PROBE` (plus V2's special tokens), sorted."""
    from reference.tokenizers import SPECIAL_TOKENS, split_text

    pieces = sorted({p for e in EDITIONS for p in split_text(PROBE, e)})
    if version == 2:
        pieces += [t for t in SPECIAL_TOKENS if t not in pieces]
    return {p: i for i, p in enumerate(pieces)}


def detect(adapter: Any, description: dict[str, Any]) -> tuple[str, str]:
    """``(edition, one line saying which, why and how to override)`` for ``--edition auto``: the edition
    whose split the target's tokenizer makes (V1 first), else its dataset's; print when neither tells."""
    edition, why = None, _("no SimpleTokenizerV1 or SimpleTokenizerV2 to probe")
    versions = _versions(description)
    if not versions and description.get("names", {}).get("GPTDatasetV1"):
        edition, why = probe_dataset(adapter)
    told = [(v, *probe_one(adapter, v)) for v in versions]
    told = [(v, e, w) for v, e, w in told if e is not None] or told[-1:]  # V2 when V1's split is like neither
    if told:
        _v, edition, why = told[0]
    if edition is not None and not all(accepts(edition, v, e) for v, e, _w in told) \
            and all(accepts("print", v, e) for v, e, _w in told):
        edition, why = "print", _("SimpleTokenizerV1 keeps ':' and ';' on the word before them and "
                                  "SimpleTokenizerV2 splits them off, as the print book's Listings 2.3 and 2.4 do")
    return edition or "print", _("edition {edition} (auto: {why}; {override})").format(
        edition=edition or "print", why=why, override=_("override with --edition print|meap"))


def accepts(edition: str, version: int, split: str) -> bool:
    """Whether a ``SimpleTokenizerV{version}`` that splits as ``split``'s regex follows ``edition``'s
    listing.  The print book's Listing 2.3 splits as the MEAP's (its regex lacks ':' and ';', while its
    vocabulary and Listing 2.4 split them off) and the book repository's V1 as 2.4: under print, V1
    may do either."""
    return split == edition or (edition, version) == ("print", 1)


def probe_dataset(adapter: Any) -> tuple[str | None, str]:
    """``(the edition whose Listing 2.5 the target's GPTDatasetV1 follows, or None; why)``: the print
    edition's passes ``allowed_special`` to ``tokenizer.encode``, the MEAP edition's
    (002_7f7806e88e8c52a4.txt, section 2.6) does not.  Asked with a recording tokenizer."""
    try:
        handle = adapter.dataset_new("the text", 2, 1, {"fake_ids": list(range(10))})
        calls = adapter.dataset_tokenizer_calls(handle)
        adapter.release(handle)
    except (ImplError, HarnessError) as err:
        return None, _("no tokenizer to probe, and GPTDatasetV1(...) raised {error}").format(error=err)
    encodes = [c for c in calls if isinstance(c, dict) and c.get("method") == "encode"]
    if len(encodes) != 1:
        return None, _("no tokenizer to probe, and GPTDatasetV1 called tokenizer.encode {count} times").format(
            count=len(encodes))
    if encodes[0].get("allowed_special") is None:
        return "meap", _("no tokenizer to probe, and GPTDatasetV1 calls plain tokenizer.encode(txt), as the "
                         "MEAP edition's Listing 2.5 does")
    return "print", _("no tokenizer to probe, and GPTDatasetV1 passes allowed_special to tokenizer.encode, as "
                      "the print edition's Listing 2.5 does")


def _versions(description: dict[str, Any]) -> list[int]:
    names = description.get("names", {})
    return [v for v in (1, 2) if names.get(f"SimpleTokenizerV{v}")]


def probe_one(adapter: Any, version: int) -> tuple[str | None, str]:
    """``(the edition whose split SimpleTokenizerV{version} makes, or None; why)``."""
    from reference.tokenizers import split_text

    cls = f"SimpleTokenizerV{version}"
    vocab = probe_vocab(version)
    words = {i: w for w, i in vocab.items()}
    try:
        handle = adapter.tokenizer_new(version, vocab)
        ids = adapter.tokenizer_encode(handle, PROBE)
        adapter.release(handle)
    except (ImplError, HarnessError) as err:
        return None, _("{cls}.encode({probe!r}) raised {error}").format(cls=cls, probe=PROBE, error=err)
    pieces = [words.get(i, "?") for i in ids]
    if pieces == split_text(PROBE, "meap"):
        return "meap", _("{cls} keeps ':' and ';' attached to the word before them, as the MEAP "
                         "edition's regex r'([,.?_!\"()\\']|--|\\s)' does").format(cls=cls)
    if pieces == split_text(PROBE, "print"):
        return "print", _("{cls} splits ':' and ';' off words, as the print edition's regex "
                          "r'([,.:;?_!\"()\\']|--|\\s)' does").format(cls=cls)
    return None, _("{cls} split {probe!r} into {pieces}, like neither edition").format(
        cls=cls, probe=PROBE, pieces=pieces)


def mismatch_hint(adapter: Any, description: dict[str, Any], edition: str) -> str:
    """A line for failure messages when a tokenizer of the target follows the *other* edition than
    the one judged (``--edition print`` on MEAP code; a MEAP V1 beside a print V2): ``""`` otherwise."""
    probed = {v: probe_one(adapter, v) for v in _versions(description)}
    other = [(v, e, why) for v, (e, why) in probed.items() if e is not None and not accepts(edition, v, e)]
    if not other:
        return ""
    version, found, why = other[0]
    same = [v for v, (e, _why) in probed.items() if e == edition]
    if same:
        from reference.tokenizers import PATTERNS

        return _("the suite judges the {edition} edition, which your SimpleTokenizerV{same} follows, but {why}: "
                 "your two tokenizers split by different editions' regex; the {edition} edition's Listing "
                 "{listing} splits with r'{pattern}'").format(
                     edition=edition, same=same[0], why=why, listing="2.3" if version == 1 else "2.4",
                     pattern=PATTERNS[edition])
    return _("the suite judges the {edition} edition, but {why}: if you followed the {label} edition, run "
             "with --edition {probed} (or --edition auto, the default of llmspec check)").format(
                 edition=edition, why=why, label="MEAP" if found == "meap" else found, probed=found)
