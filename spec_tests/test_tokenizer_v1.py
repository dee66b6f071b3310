"""Stage ``tokenizer_v1``: ``SimpleTokenizerV1`` (section 2.3, Listing 2.3).

The suite builds the vocabulary from the-verdict.txt itself (trusted side) and hands it to the
learner's class; expectations come from the book's pre-tokenizer ``split`` for the selected edition.
"""
from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from llmspec import explain
from llmspec.errors import ImplError
from llmspec.i18n import _
from spec_tests import _domains as D
from spec_tests import strategies as S

pytestmark = pytest.mark.tokenizer_v1
STAGE = "tokenizer_v1"


@pytest.mark.golden("tokenizer_v1")
def test_golden(objects, case, verdict_text):
    """Every V1 number the documents print (ids of the book's passage, round trip, KeyError)."""
    objects.check_tokenizer_case(1, case, verdict_text)


def test_encodes_the_whole_story(objects, verdict_text, split, vocab, vocab_decode, edition):
    """2.3: the-verdict.txt encodes to one id per pre-token (4649 MEAP; print without ':' and ';', as
    ``_domains.V1_OPEN`` says); a word missing from the vocabulary is named, with why (e.g. the MEAP
    regex keeps ';' attached: 'up;')."""
    what = "SimpleTokenizerV1.encode(the-verdict.txt)"
    story = D.v1_text(verdict_text, 1, edition)
    ids = objects.encode(1, objects.tokenizer(1), story, what)
    expected = [vocab[w] for w in split(story)]
    explain.check_ids(what, expected, ids, stage=STAGE, decode=vocab_decode, hint=objects.edition_hint)


@given(data=st.data())
@S.scaled(1.0)
def test_encode_is_the_book_split(objects, vocab, v1_words, split, edition, vocab_decode, data):
    """P1: for text of vocabulary tokens, encode == [vocab[w] for w in split(text)]; ids in range."""
    text = data.draw(S.vocab_text(v1_words, edition), label="text")
    ids = objects.encode(1, objects.tokenizer(1), text, "SimpleTokenizerV1.encode", given=text)
    explain.check_ids("SimpleTokenizerV1.encode", [vocab[w] for w in split(text)], ids, stage=STAGE,
                      decode=vocab_decode, given=text, hint=objects.edition_hint)


@given(data=st.data())
@S.scaled(1.0)
def test_encode_decode_encode(objects, impl, vocab, v1_words, edition, vocab_decode, data):
    """The V1 round-trip property (P3/P4): encode(decode(encode(t))) == encode(t), and decode(encode(.)) is
    idempotent (decode is lossy, not wrong)."""
    text = data.draw(S.vocab_text(v1_words, edition), label="text")
    handle = objects.tokenizer(1)
    try:  # each step gets what the previous one returned
        ids = impl.tokenizer_encode(handle, text)
        back = impl.tokenizer_decode(handle, ids)
        again = impl.tokenizer_encode(handle, back)
        back_again = impl.tokenizer_decode(handle, again)
    except ImplError as err:
        explain.impl_raised("SimpleTokenizerV1 encode/decode", err, stage=STAGE, given=text)
    explain.check_ids(_("encode(decode(encode(t))) with decode(...) = {text}").format(text=explain.short(back)),
                      ids, again,
                      stage=STAGE, decode=vocab_decode, given=text)
    # P4: f = decode . encode is idempotent (f(t) need not equal t: spacing is normalised).
    explain.check_text("decode(encode(decode(encode(t)))) vs decode(encode(t))", back, back_again,
                       stage=STAGE, given=text)


@given(data=st.data())
@S.scaled(0.7)
@example(data=None)  # the plain case: one unknown word between known ones
def test_unknown_word_raises_keyerror(objects, impl, vocab, v1_words, edition, data):
    """P1: any word outside the vocabulary raises ``KeyError`` (V1 has no ``<|unk|>``)."""
    if data is None:
        text = "the Hello the"
    else:
        before = data.draw(S.vocab_text(v1_words, edition, max_pieces=4), label="before")
        word = data.draw(S.unknown_word(vocab), label="unknown word")
        after = data.draw(S.vocab_text(v1_words, edition, max_pieces=4), label="after")
        text = f"{before} {word} {after}"
    try:
        ids = impl.tokenizer_encode(objects.tokenizer(1), text)
    except ImplError as err:
        explain.expect(err.is_a("KeyError"), _("SimpleTokenizerV1.encode({text!r}) raised {error}; the book's "
                                               "V1 raises KeyError for a word outside the vocabulary").format(
                                                   text=text, error=err), stage=STAGE)
        return
    explain.fail(_("SimpleTokenizerV1.encode({text!r}) returned {ids}, but the text holds a word outside the "
                   "vocabulary: V1 must raise KeyError ({where}); substituting <|unk|> is SimpleTokenizerV2's "
                   "job").format(text=text, ids=explain.short(ids), where=explain.book(STAGE)))


@given(data=st.data())
@S.scaled(0.7)
def test_decode_spacing(objects, data):
    """P5: decode joins with single spaces, none before ``,.?!"()'``, none leading or trailing."""
    words = data.draw(S.decode_words(list(objects.vocabs[1])), label="words")
    objects.check_decode_spacing(1, words)


def test_uses_the_given_vocabulary(objects, vocab, split):
    """P7: the ids come from the vocabulary passed in, not from one the class rebuilds itself."""
    shuffled = {w: len(vocab) - 1 - i for w, i in vocab.items()}  # same words, reversed ids
    text = "I had always thought Jack Gisburn rather a cheap genius--though a good fellow enough."
    ids = objects.encode(1, objects.tokenizer(1, shuffled), text, _("SimpleTokenizerV1(vocab with other ids).encode"),
                         given=text, vocab=shuffled)
    explain.check_ids(_("SimpleTokenizerV1(vocab with other ids).encode"), [shuffled[w] for w in split(text)],
                      ids, stage=STAGE, given=text)


# --- small domains, enumerated, and vocabularies of generated text (spec_tests/_domains.py) --------
(test_every_split_character, test_every_decode_character, test_decode_rejects_unknown_ids,
 test_encode_on_a_vocabulary_of_the_text) = D.stage_tests(1)
