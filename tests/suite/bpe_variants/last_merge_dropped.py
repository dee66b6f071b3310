"""Bug: an off-by-one while reading vocab.bpe drops the last merge, so GPT-2's highest-ranked token
(id 50255) is never produced; its text encodes as two ids."""
from __future__ import annotations

from reference.bpe_scratch import BPETokenizerSimple as _Correct


class BPETokenizerSimple(_Correct):
    def load_vocab_and_merges_from_openai(self, vocab_path, bpe_merges_path):
        super().load_vocab_and_merges_from_openai(vocab_path, bpe_merges_path)
        merges = sorted(self.bpe_ranks, key=self.bpe_ranks.__getitem__)[:-1]
        specials = dict(self.special_tokens)
        vocab = {i: t for i, t in self.vocab.items() if t not in specials}
        self._install(vocab, merges, specials)
