"""How the bonus stage ``bpe_scratch`` decides each call it makes to a learner's ``BPETokenizerSimple``.

Two oracles: the ideal result (GPT-2's ids from tiktoken, its decoded text, or the text back after
a round trip) passes; the result of the book repository's bonus notebook
(:mod:`spec_tests._bpe_notebook`) passes too, with one note per kind of call, so a learner who typed
the book learns of the difference without being failed for it; where the notebook raises (a
character outside its vocabulary), raising passes as well: that input is outside the contract.
Anything else fails, with the ideal and the notebook's result side by side.
"""
from __future__ import annotations

from typing import Any, Callable

import pytest

from llmspec import documents, explain
from llmspec.errors import ImplError
from llmspec.i18n import _
from spec_tests import _bpe_notebook as nb

STAGE = "bpe_scratch"
EOT = "<|endoftext|>"
TRAIN_VOCAB = 1000  # the book repository's tests.py trains the-verdict.txt to 1000 entries
BONUS_TESTS = {"document": documents.BONUS_TESTS,
               "section": "bonus: bpe-from-scratch"}
LOADER, ALLOWED = "load_vocab_and_merges_from_openai", "encode(allowed_special)"  # llmspec.stages parts


class Tokenizers:
    """The learner's tokenizers, built lazily inside test bodies (a constructor or loader that
    raises fails that test with an explanation instead of erroring every test), once per session;
    plus the notebook model and the notes of the run."""

    def __init__(self, impl: Any, verdict: str, run: Any) -> None:
        self.impl, self.verdict, self.run = impl, verdict, run
        absent = set((run.description.get("absent") or {}).get(STAGE, ()))
        # the simple notebook's shape: no GPT-2 loader; its training and encoding are accepted too
        self.simple_shape = LOADER in absent
        self.takes_allowed = ALLOWED not in absent
        self._gpt2: int | None = None
        self._trained: int | None = None
        self._notebook: nb.NotebookGPT2 | None = None
        self._noted: set[str] = set()

    def gpt2(self) -> int:
        __tracebackhide__ = True
        if self._gpt2 is None:
            from llmspec.data import locate

            files = locate()
            try:
                self._gpt2 = self.impl.bpe_scratch_new(str(files.encoder_json), str(files.vocab_bpe))
            except ImplError as err:
                explain.impl_raised(f"BPETokenizerSimple().{LOADER}(encoder.json, vocab.bpe)", err, stage=STAGE)
        return self._gpt2

    def trained(self) -> int:
        """A tokenizer trained as the book repository's tests.py trains it (once per session)."""
        __tracebackhide__ = True
        if self._trained is None:
            self._trained = self.train(self.verdict, TRAIN_VOCAB, [EOT], "the-verdict.txt")[0]
        return self._trained

    def train(self, text: str, vocab_size: int, specials: list[str] | None, label: str | None = None
              ) -> tuple[int, dict[str, Any]]:
        """``(handle, state)`` after ``BPETokenizerSimple().train(...)`` (``specials`` None: the
        default ``allowed_special``)."""
        __tracebackhide__ = True
        try:
            h = self.impl.bpe_scratch_new(None, None)
            self.impl.bpe_scratch_train(h, text, vocab_size, *([] if specials is None else [specials]))
            return h, self.impl.bpe_scratch_state(h)
        except ImplError as err:
            explain.impl_raised(train_call(label or repr(text[:40]), vocab_size, specials), err, stage=STAGE)

    def notebook(self) -> nb.NotebookGPT2:
        if self._notebook is None:
            from llmspec.data import locate

            files = locate()
            self._notebook = nb.NotebookGPT2(str(files.encoder_json), str(files.vocab_bpe))
        return self._notebook

    def encode(self, handle: int, text: str, allowed: list[str] | None = None) -> list[int]:
        __tracebackhide__ = True
        got = self.attempt(self.impl.bpe_scratch_encode, handle, text, allowed)
        if isinstance(got, ImplError):
            call = "encode" if allowed is None else f"encode(..., allowed_special={set(allowed)})"
            explain.impl_raised(f"BPETokenizerSimple.{call}", got, stage=STAGE, given=text)
        return got

    def decode(self, handle: int, ids: list[int]) -> str:
        __tracebackhide__ = True
        got = self.attempt(self.impl.bpe_scratch_decode, handle, ids)
        if isinstance(got, ImplError):
            explain.impl_raised("BPETokenizerSimple.decode", got, stage=STAGE, given=ids)
        return got

    @staticmethod
    def attempt(call: Callable[..., Any], *args: Any) -> Any:
        """The call's result, or the learner's exception (an :class:`ImplError`) as a value."""
        try:
            return call(*args)
        except ImplError as err:
            return err

    def note(self, kind: str, text: str) -> None:
        """One note per kind of call ("encode", "decode", "round trip") in the run's notes, where
        the table of verdicts shows them: the first difference the notebook explains."""
        if kind not in self._noted:
            self._noted.add(kind)
            self.run.description.setdefault("notes", []).append(f"{STAGE}: {text}")


def train_call(text: str, vocab_size: int, specials: list[str] | None) -> str:
    extra = "" if specials is None else f", allowed_special={set(specials)}"
    return f"BPETokenizerSimple().train({text}, vocab_size={vocab_size}{extra})"


def attempt_oracle(call: Callable[..., Any], *args: Any) -> Any:
    """The notebook model's result, or its ``ValueError`` as a value."""
    try:
        return call(*args)
    except ValueError as err:
        return err


def span(expected: list[int], actual: list[int], gpt2: Any) -> tuple[int, str, str]:
    """``(position, expected pieces, actual pieces)`` of the first stretch where two GPT-2 id lists
    differ, up to where their bytes line up again (at most 8 pieces each)."""
    at = explain.first_difference(expected, actual) or 0

    def ends(ids: list[int]) -> list[int]:
        out, total = [], 0
        for i in ids[at:at + 8]:
            total += len(gpt2.decode_single_token_bytes(i)) if 0 <= i < gpt2.n_vocab else 1
            out.append(total)
        return out

    e, a = ends(expected), ends(actual)
    common = next((x for x in e if x in a), None)
    j = e.index(common) + 1 if common is not None else len(e)
    k = a.index(common) + 1 if common is not None else len(a)
    return at, explain.gpt2_pieces(expected[at:at + j], 0, 8), explain.gpt2_pieces(actual[at:at + k], 0, 8)


def cut(text: str, limit: int = 50) -> str:
    """``repr`` of the start of ``text``, marked when cut."""
    return repr(text[:limit]) + ("..." if len(text) > limit else "")


def where_texts_differ(expected: str, actual: str) -> tuple[int, str, str]:
    """``(character, expected around it, actual around it)`` at the first difference of two texts."""
    at = explain.first_difference(expected, actual) or 0
    lo = max(0, at - 12)
    return at, cut(expected[lo:], 30), cut(actual[lo:], 30)


def assert_encodes(toks: Tokenizers, gpt2: Any, what: str, text: str, allowed: list[str] | None = None, *,
                   expected: list[int] | None = None, source: dict[str, Any] | None = None,
                   given: str | None = None) -> None:
    """``encode(text)`` with GPT-2's files loaded: GPT-2's ids, or the notebook's (with a note)."""
    __tracebackhide__ = True
    want = gpt2.encode(text, allowed_special=set(allowed or ())) if expected is None else expected
    got = toks.attempt(toks.impl.bpe_scratch_encode, toks.gpt2(), text, allowed)
    if got == want:
        return
    book = attempt_oracle(toks.notebook().encode, text, allowed)
    shown = given if given is not None else text
    if isinstance(got, list) and got == book:
        at, gpt2_pieces, pieces = span(want, got, gpt2)
        toks.note("encode", _("{what} gives {pieces} where GPT-2 gives {gpt2_pieces} (input {input}, position "
                              "{at}): as the book repository's bonus notebook (bpe-from-scratch.ipynb) does, so "
                              "it passes").format(what=what, pieces=pieces, gpt2_pieces=gpt2_pieces,
                                                  input=cut(shown), at=at))
        return
    if isinstance(got, ImplError) and isinstance(book, ValueError):
        return  # a character outside the notebook's vocabulary: outside the contract
    if isinstance(got, ImplError):
        explain.impl_raised(what, got, stage=STAGE, given=shown, source=source)
    if not isinstance(got, list) or not all(isinstance(i, int) for i in got):
        explain.check_ids(what, want, got, stage=STAGE, source=source, given=shown)
    msg = explain.ids_message(what, want, got, stage=STAGE, source=source, given=shown)
    at = explain.first_difference(want, got) or 0
    lines = [msg, _("  expected pieces {pieces}").format(pieces=explain.gpt2_pieces(want, at)),
             _("  actual pieces   {pieces}").format(pieces=explain.gpt2_pieces(got, at))]
    if isinstance(book, ValueError):
        lines.append(_("  the book repository's bonus notebook raises ValueError here (also accepted)"))
    elif book == want:
        lines.append(_("  the book repository's bonus notebook (bpe-from-scratch.ipynb) gives the expected ids too"))
    else:
        lines.append(_("  the bonus notebook's pieces {pieces} (also accepted)").format(
            pieces=explain.gpt2_pieces(book, at)))
    explain.fail("\n".join(lines))


def assert_decodes(toks: Tokenizers, what: str, ids: list[int], expected: str, given: Any = None) -> None:
    """``decode(ids)`` with GPT-2's files loaded: GPT-2's text, or the notebook's (with a note)."""
    __tracebackhide__ = True
    got = toks.attempt(toks.impl.bpe_scratch_decode, toks.gpt2(), ids)
    if got == expected:
        return
    book = attempt_oracle(toks.notebook().decode, ids)
    if isinstance(got, str) and got == book:
        at, want_part, got_part = where_texts_differ(expected, got)
        toks.note("decode", _("{what} gives {actual} where GPT-2 gives {expected} (character {at}): as the book "
                              "repository's bonus notebook (bpe-from-scratch.ipynb) does, so it passes").format(
            what=what, actual=got_part, expected=want_part, at=at))
        return
    if isinstance(got, ImplError) and isinstance(book, ValueError):
        return
    if isinstance(got, ImplError):
        explain.impl_raised(what, got, stage=STAGE, given=given if given is not None else ids)
    explain.check_text(what, expected, got, stage=STAGE, given=given if given is not None else ids)


def assert_round_trips(toks: Tokenizers, handle: int, text: str, what: str, given: str | None = None) -> None:
    """``decode(encode(text))`` after training on the-verdict.txt: the text back, or what one of the
    book's notebooks gives back (the simple notebook's only for a tokenizer of its shape)."""
    __tracebackhide__ = True
    allowed = [EOT] if EOT in text and toks.takes_allowed else None
    ids = toks.attempt(toks.impl.bpe_scratch_encode, handle, text, allowed)
    got = ids if isinstance(ids, ImplError) else toks.attempt(toks.impl.bpe_scratch_decode, handle, ids)
    if got == text:
        return
    books = [(nb.NOTEBOOK, attempt_oracle(nb.round_trip, text, [EOT], allowed))]
    if toks.simple_shape:
        books.append((nb.SIMPLE_NOTEBOOK, attempt_oracle(nb.round_trip, text, [EOT], None, True)))
    shown = given if given is not None else text
    for source, book in books:
        if isinstance(got, str) and got == book:
            at, want_part, got_part = where_texts_differ(text, got)
            toks.note("round trip", _("{what} gives {actual} where the text has {expected} (character {at}): as "
                                      "the book repository's {document} does, so it passes").format(
                what=what, actual=got_part, expected=want_part, at=at,
                document=source["document"].rsplit("/", 1)[-1]))
            return
        if isinstance(got, ImplError) and isinstance(book, ValueError):
            return
    if isinstance(got, ImplError):
        explain.impl_raised(what, got, stage=STAGE, given=shown)
    books_say = [_("  the book repository's {document} gives {result}").format(
        document=source["document"].rsplit("/", 1)[-1],
        result="ValueError" if isinstance(book, ValueError) else explain.short(book, 90)) for source, book in books]
    try:
        explain.check_text(what, text, got, stage=STAGE, given=shown)
    except pytest.fail.Exception as exc:
        explain.fail("\n".join([str(exc.msg), *books_say]))
