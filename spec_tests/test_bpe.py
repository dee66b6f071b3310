"""Stage ``bpe``: GPT-2 byte pair encoding through tiktoken (section 2.5).

The implementation's module-level ``tokenizer`` is used when it is tiktoken-like, else
``tiktoken.get_encoding("gpt2")`` in the implementation's process; either way it must *be* GPT-2's
encoding: the same ids as the trusted tiktoken ``gpt2`` on every text, lossless, special token handled
as ``allowed_special`` says.
"""
from __future__ import annotations

import pytest
from hypothesis import example, given

from llmspec import explain
from llmspec.documents import TIKTOKEN_GOLDENS
from llmspec.errors import ImplError
from llmspec.i18n import _
from spec_tests import strategies as S

pytestmark = pytest.mark.bpe
STAGE = "bpe"
EOT = S.EOT


def encode(impl, text, **kw):
    """``tokenizer.encode(text, **kw)``; what it raises fails the test with the book's words."""
    __tracebackhide__ = True
    try:
        return impl.bpe_encode(text, **kw)
    except ImplError as err:
        explain.impl_raised(f"tokenizer.encode({', '.join(f'{k}={v!r}' for k, v in kw.items()) or ''})",
                            err, stage=STAGE, given=text)


@pytest.mark.golden("bpe")
def test_golden(impl, gpt2, case):
    """The ids the documents print ("Akwirw ier", the book's <|endoftext|> sentence, n_vocab)."""
    inp, exp, src = case["input"], case["expected"], case.get("source")
    if "n_vocab" in exp:
        info = impl.bpe_info()
        explain.expect(info.get("n_vocab") in (None, exp["n_vocab"]),
                       _("tokenizer.n_vocab is {actual}, GPT-2's is {expected}").format(
                           actual=info.get("n_vocab"), expected=exp["n_vocab"]),
                       stage=STAGE, source=src)
        explain.check_ids("tokenizer.encode('<|endoftext|>', allowed_special={'<|endoftext|>'})",
                          [exp["endoftext_id"]], encode(impl, EOT, allowed_special=[EOT]), stage=STAGE,
                          source=src)
        return
    texts = inp.get("texts") or [inp["text"]]
    wanted = exp["ids"] if "texts" in inp else [exp["ids"]]
    kw = {"allowed_special": inp["allowed_special"]} if inp.get("allowed_special") else {}
    for text, ids in zip(texts, wanted):
        got = encode(impl, text, **kw)
        explain.check_ids("tokenizer.encode", ids, got, stage=STAGE, source=src, decode=gpt2.decode,
                          given=text)
        if "decoded" in exp:
            try:
                back = impl.bpe_decode(got)
            except ImplError as err:
                explain.impl_raised("tokenizer.decode", err, stage=STAGE, given=got)
            explain.check_text("tokenizer.decode", exp["decoded"], back, stage=STAGE, source=src)


def test_encodes_the_story(impl, gpt2, verdict_text):
    """2.5: the-verdict.txt is 5145 GPT-2 tokens, the same ids as tiktoken's gpt2."""
    from llmspec import fixtures

    count = fixtures.case("verdict", "verdict-gpt2-tokens")["expected"]["gpt2_tokens"]
    ids = encode(impl, verdict_text, allowed_special=[EOT])
    expected = gpt2.encode(verdict_text, allowed_special={EOT})
    explain.expect(len(expected) == count, _("trusted gpt2 gives {count} tokens, fixture {fixture}").format(
                       count=len(expected), fixture=count),
                   stage=STAGE)
    explain.check_ids("tokenizer.encode(the-verdict.txt)", expected, ids, stage=STAGE, decode=gpt2.decode)


@given(text=S.bpe_text())
@S.scaled(1.0)
@example(text="Akwirw ier")
@example(text="日本語 🤗 \x00\t  tabs")
def test_lossless_and_gpt2(impl, gpt2, text):
    """P9/P13: decode(encode(t)) == t for any text; a non-empty text gives between 1 and one id per
    UTF-8 byte (BPE only merges bytes); and the ids are GPT-2's (tiktoken ``gpt2``)."""
    ids = encode(impl, text)
    size = len(text.encode("utf-8"))
    explain.expect(isinstance(ids, list) and (1 if text else 0) <= len(ids) <= size,
                   _("tokenizer.encode({text}) gave {count} ids for {size} UTF-8 bytes; byte-level BPE gives at "
                     "least one id for non-empty text and never more ids than bytes").format(
                         text=explain.short(text), count=len(ids), size=size),
                   stage=STAGE)
    explain.check_ids("tokenizer.encode", gpt2.encode_ordinary(text), ids, stage=STAGE,
                      decode=gpt2.decode, given=text)
    try:
        back = impl.bpe_decode(ids)
    except ImplError as err:
        explain.impl_raised("tokenizer.decode", err, stage=STAGE, given=ids)
    explain.check_text("tokenizer.decode(tokenizer.encode(t))", text, back, stage=STAGE, given=text)


@given(a=S.bpe_text(20), b=S.bpe_text(20))
@S.scaled(0.5)
@example(a="Hello, do you like tea? ", b=" In the sunlit terraces")
def test_endoftext_allowed_vs_disallowed(impl, gpt2, a, b):
    """P11/P12/P10: the literal <|endoftext|> raises by default, is id 50256 when allowed, and is
    ordinary text when nothing is disallowed."""
    text = a + EOT + b
    try:
        ids = impl.bpe_encode(text)
    except ImplError as err:
        explain.expect(err.is_a("ValueError"), _("tokenizer.encode({text!r}) raised {error}; tiktoken raises "
                                                 "ValueError for a disallowed special token").format(
                                                     text=text, error=err), stage=STAGE)
    else:
        explain.fail(_("tokenizer.encode({text!r}) returned {ids}; with no allowed_special the GPT-2 tokenizer "
                       "must raise ValueError on '<|endoftext|>' ({where})").format(
                           text=text, ids=explain.short(ids), where=explain.book(STAGE)))
    allowed = encode(impl, text, allowed_special=[EOT])
    explain.check_ids("tokenizer.encode(..., allowed_special={'<|endoftext|>'})",
                      gpt2.encode_ordinary(a) + [gpt2.eot_token] + gpt2.encode_ordinary(b), allowed,
                      stage=STAGE, decode=gpt2.decode, given=text)
    plain = encode(impl, text, disallowed_special=[])
    explain.check_ids("tokenizer.encode(..., disallowed_special=())", gpt2.encode_ordinary(text), plain,
                      stage=STAGE, decode=gpt2.decode, given=text)


# Goldens of research/spec-suites.md P13 (tiktoken's own tests and the ``Encoding.encode`` docstring;
# book cell 74, whose text has "terracesof" with no space).  The trusted tiktoken must agree too.
P13_GOLDENS = [
    ("hello world", {}, [31373, 995]),
    (EOT, {"disallowed_special": []}, [27, 91, 437, 1659, 5239, 91, 29]),
    ("Hello, do you like tea? <|endoftext|> In the sunlit terracesof someunknownPlace.",
     {"allowed_special": [EOT]},
     [15496, 11, 466, 345, 588, 8887, 30, 220, 50256, 554, 262, 4252, 18250, 8812, 2114, 1659, 617,
      34680, 27271, 13]),
]


@pytest.mark.parametrize("text, kw, ids", P13_GOLDENS, ids=["hello-world", "eot-as-text", "book-cell-74"])
def test_golden_p13(impl, gpt2, text, kw, ids):
    """P13 goldens: "hello world", the literal ``<|endoftext|>`` as plain text, the book's sentence."""
    src = {"document": TIKTOKEN_GOLDENS}
    trusted = gpt2.encode(text, **{k: set(v) for k, v in kw.items()})
    explain.expect(trusted == ids, _("trusted tiktoken gives {trusted}, the golden says {ids}").format(
        trusted=trusted, ids=ids), stage=STAGE)
    explain.check_ids(f"tokenizer.encode({', '.join(f'{k}={v!r}' for k, v in kw.items())})", ids,
                      encode(impl, text, **kw), stage=STAGE, source=src, decode=gpt2.decode, given=text)
