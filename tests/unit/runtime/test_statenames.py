"""The variables of the book's inline 2.7-2.8 cells under the learner's own names
(llmspec.runtime.statenames): a did-you-mean with the ``--impl-map`` that renames them back, which
``--impl-map`` accepts.  End to end (judged from state, through the worker):
``tests/unit/test_state_embeddings.py``."""
from __future__ import annotations

import pytest


def test_state_hints_name_the_learners_own_layers_and_skip_the_rest():
    """Top-level Embedding layers ranked by name for the book's 2.8 variables; 2.7's small example
    layer under another name, or a layer nothing like either, is not suggested."""
    import torch

    from llmspec.runtime.statenames import state_hints

    E = torch.nn.Embedding
    one = state_hints({"token_embedding_layer": E(50, 8), "positional_embedding_layer": E(4, 8), "emb": E(6, 3)},
                      {}, None)
    assert one == {"pos_embedding_layer": "did you mean positional_embedding_layer, a torch.nn.Embedding(4, 8)? "
                                          "(accept it with --impl-map pos_embedding_layer=positional_embedding_layer)"}
    both = state_hints({"tok_emb": E(50, 8), "pos_emb": E(4, 8), "emb": E(6, 3)}, {}, None)
    assert list(both) == ["InputEmbeddings"] and "emb = torch.nn.Embedding(6, 3)" not in both["InputEmbeddings"]
    assert "--impl-map token_embedding_layer=tok_emb,pos_embedding_layer=pos_emb" in both["InputEmbeddings"]
    assert state_hints({"tok_emb": E(50, 8)}, {}, "did you mean MyEmbeddings(...)") == {}  # the class hint stays
    assert state_hints({"emb": E(6, 3), "weights": torch.zeros(2)}, {}, None) == {}
    # already renamed with --impl-map: nothing is missing, so nothing is suggested
    assert state_hints({"token_embedding_layer": E(50, 8), "p": E(4, 8)}, {"pos_embedding_layer": "p"}, None) == {}


def test_the_impl_map_accepts_the_books_inline_variables():
    from llmspec.errors import TargetError
    from llmspec.runtime.names import check_impl_map
    from llmspec.runtime.statenames import state_aliases

    mapped = check_impl_map({"pos_embedding_layer": "p", "SimpleTokenizerV1": "Tok"})
    assert state_aliases(mapped) == {"pos_embedding_layer": "p"}
    with pytest.raises(TargetError, match="variables of the book's 2.7-2.8 cells: embedding_layer"):
        check_impl_map({"pos_layer": "p"})
