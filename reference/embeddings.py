"""Sections 2.7-2.8: token embeddings plus absolute positional embeddings.

The book builds the two ``nn.Embedding`` layers at module level; here they live in one module so a
test can seed, build, run forward and backward through a single object.  Attribute names are the
book's (``token_embedding_layer``, ``pos_embedding_layer``)."""
from __future__ import annotations

import torch
from torch import nn


class InputEmbeddings(nn.Module):
    """``token_embedding_layer(ids) + pos_embedding_layer(arange(T))`` for ``ids`` of shape [B, T]."""

    def __init__(self, vocab_size: int, output_dim: int, context_length: int):
        super().__init__()
        self.context_length = context_length
        self.token_embedding_layer = nn.Embedding(vocab_size, output_dim)
        self.pos_embedding_layer = nn.Embedding(context_length, output_dim)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        if ids.dim() == 0:
            raise ValueError("InputEmbeddings expects token ids of shape [batch, seq_len], got a scalar")
        seq_len = ids.shape[-1]
        if seq_len > self.context_length:
            raise ValueError(
                f"sequence length {seq_len} exceeds context_length {self.context_length}: "
                "there is no positional embedding for positions beyond it"
            )
        token_embeddings = self.token_embedding_layer(ids)
        pos_embeddings = self.pos_embedding_layer(torch.arange(seq_len, device=ids.device))
        return token_embeddings + pos_embeddings
