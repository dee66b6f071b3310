"""Stage ``tokenizer_v2``: ``SimpleTokenizerV2`` (section 2.4, Listing 2.4).

V2 is V1 plus two special tokens appended to the vocabulary: ``<|endoftext|>`` between documents and
``<|unk|>`` for every word outside the vocabulary.  The suite hands it the-verdict's vocabulary with
both specials (built on the trusted side).
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

pytestmark = pytest.mark.tokenizer_v2
STAGE = "tokenizer_v2"


def expected_ids(vocab: dict[str, int], words: list[str]) -> list[int]:
    """P2: a known word keeps its id, an unknown one becomes ``<|unk|>``."""
    return [vocab.get(w, vocab["<|unk|>"]) for w in words]


@pytest.mark.golden("tokenizer_v2")
def test_golden(objects, case, verdict_text):
    """Every V2 number the documents print (``<|endoftext|>`` kept, unknown words -> ``<|unk|>``)."""
    objects.check_tokenizer_case(2, case, verdict_text)


@given(text=S.tricky_text())
@S.scaled(1.0)
@example(text="Hello, do you like tea?")
@example(text="")
def test_never_raises_and_maps_unknown_to_unk(objects, impl, vocab_v2, split, vocab_decode, text):
    """P2: any text encodes (no exception); known words -> their id, unknown ones -> ``<|unk|>``."""
    try:
        ids = impl.tokenizer_encode(objects.tokenizer(2), text)
    except ImplError as err:
        explain.impl_raised(_("SimpleTokenizerV2.encode (must never raise: unknown words become <|unk|>)"),
                            err, stage=STAGE, given=text)
    explain.check_ids("SimpleTokenizerV2.encode", expected_ids(vocab_v2, split(text)), ids, stage=STAGE,
                      decode=vocab_decode, given=text, hint=objects.edition_hint)


@given(data=st.data())
@S.scaled(0.7)
@example(data=None)
def test_endoftext_separates_segments(objects, impl, vocab_v2, split, edition, vocab_decode, data):
    """P6: ``a <|endoftext|> b`` encodes to encode(a) + [id of <|endoftext|>] + encode(b)."""
    if data is None:
        a, b = "the last", "Hello again"
    else:
        a = data.draw(S.tricky_text(15), label="a")
        b = data.draw(S.known_or_tricky(list(vocab_v2), edition, 5, 15), label="b")
    text = f"{a} <|endoftext|> {b}"
    try:
        ids = impl.tokenizer_encode(objects.tokenizer(2), text)
    except ImplError as err:
        explain.impl_raised("SimpleTokenizerV2.encode", err, stage=STAGE, given=text)
    explain.check_ids(_("SimpleTokenizerV2.encode (text with <|endoftext|>)"),
                      expected_ids(vocab_v2, split(text)), ids, stage=STAGE, decode=vocab_decode, given=text)


@given(data=st.data())
@S.scaled(0.5)
def test_agrees_with_v1_on_known_text(objects, impl, vocab, edition, split, data):
    """V2 equals the book's V1 wherever V1 does not raise: on text of V1-vocabulary words the ids are
    ``[vocab[w] for w in split(text)]``.  Judged against the trusted V1, never the learner's own, so a
    V1 bug fails only the tokenizer_v1 stage."""
    text = data.draw(S.vocab_text(list(vocab), edition), label="text")
    try:
        ids = impl.tokenizer_encode(objects.tokenizer(2), text)
    except ImplError as err:
        explain.impl_raised("SimpleTokenizerV2.encode", err, stage=STAGE, given=text)
    explain.check_ids(_("SimpleTokenizerV2.encode vs the book's SimpleTokenizerV1.encode"),
                      [vocab[w] for w in split(text)], ids, stage=STAGE, given=text,
                      decode=objects.decoder(1))


@given(data=st.data())
@S.scaled(0.7)
def test_decode_spacing(objects, data):
    """P5: decode joins with single spaces, none before ``,.?!"()'``, none leading or trailing."""
    words = data.draw(S.decode_words(list(objects.vocabs[2])), label="words")
    objects.check_decode_spacing(2, words)


def test_unk_round_trips(objects, impl, vocab_v2):
    """P8: ``decode([unk]) == "<|unk|>"`` and ``encode("<|unk|>") == [unk]``."""
    unk = vocab_v2["<|unk|>"]
    handle = objects.tokenizer(2)
    try:
        text, ids = impl.tokenizer_decode(handle, [unk]), impl.tokenizer_encode(handle, "<|unk|>")
    except ImplError as err:
        explain.impl_raised("SimpleTokenizerV2 on <|unk|>", err, stage=STAGE)
    explain.check_text("SimpleTokenizerV2.decode([<|unk|> id])", "<|unk|>", text, stage=STAGE)
    explain.check_ids('SimpleTokenizerV2.encode("<|unk|>")', [unk], ids, stage=STAGE)


def test_uses_the_given_vocabulary(objects, impl, vocab_v2, split):
    """P7: ids (specials included) come from the vocabulary passed in, not a rebuilt one."""
    shuffled = {w: len(vocab_v2) - 1 - i for w, i in vocab_v2.items()}
    text = "Hello, do you like tea? <|endoftext|> In the sunlit terraces of the palace."
    try:
        ids = impl.tokenizer_encode(objects.tokenizer(2, shuffled), text)
    except ImplError as err:
        explain.impl_raised("SimpleTokenizerV2(vocab with other ids).encode", err, stage=STAGE, given=text)
    explain.check_ids("SimpleTokenizerV2(vocab with other ids).encode", expected_ids(shuffled, split(text)),
                      ids, stage=STAGE, given=text)


# --- small domains, enumerated, and vocabularies of generated text (spec_tests/_domains.py) --------
(test_every_split_character, test_every_decode_character, test_decode_rejects_unknown_ids,
 test_encode_on_a_vocabulary_of_the_text) = D.stage_tests(2)


def test_every_special_token(objects, edition):
    """Each special token alone, between words, glued to a word (then one unknown word), twice,
    before punctuation and in parentheses."""
    D.check_encodes(objects, 2, edition, D.special_cases())
