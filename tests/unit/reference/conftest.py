"""The GPT-2 tokenizer of ``reference.bpe_scratch``, loaded once per module for the tests of the BPE
and of its pre-tokenizer (``gpt2``, tiktoken's, the oracle they are compared with, comes from the
llmspec plugin)."""
from __future__ import annotations

import pytest

from llmspec.data import locate
from reference.bpe_scratch import BPETokenizerSimple


@pytest.fixture(scope="module")
def ref() -> BPETokenizerSimple:
    files = locate()
    tok = BPETokenizerSimple()
    tok.load_vocab_and_merges_from_openai(str(files.encoder_json), str(files.vocab_bpe))
    return tok
