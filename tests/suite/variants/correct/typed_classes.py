"""A correct chapter-2 implementation in a typed, class-hierarchy style.

An abstract tokenizer base with a template method, a Protocol for "anything with encode", a frozen
dataclass for the window geometry and a registered position buffer.  The suite must judge behaviour,
not the shape of the code: this is the kind of port a maintainer writes.
"""
from __future__ import annotations

import abc
import re
from dataclasses import dataclass
from typing import Protocol, Sequence

import tiktoken
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

__all__ = ["SimpleTokenizerV1", "SimpleTokenizerV2", "GPTDatasetV1", "create_dataloader_v1",
           "InputEmbeddings", "tokenizer"]


class BaseTokenizer(abc.ABC):
    """Shared pre-tokenizer and decoder; subclasses decide what happens to unknown tokens."""

    SPLIT: re.Pattern[str] = re.compile(r'([,.:;?_!"()\']|--|\s)')
    DETACH: re.Pattern[str] = re.compile(r'\s+([,.:;?!"()\'])')

    def __init__(self, vocab: dict[str, int]) -> None:
        self.str_to_int: dict[str, int] = vocab
        self.int_to_str: dict[int, str] = {i: s for s, i in vocab.items()}

    def split(self, text: str) -> list[str]:
        return [t for t in (p.strip() for p in self.SPLIT.split(text)) if t]

    def encode(self, text: str) -> list[int]:
        return [self.lookup(token) for token in self.split(text)]

    def decode(self, ids: Sequence[int]) -> str:
        return self.DETACH.sub(r"\1", " ".join(self.int_to_str[int(i)] for i in ids))

    @abc.abstractmethod
    def lookup(self, token: str) -> int: ...


class SimpleTokenizerV1(BaseTokenizer):
    def lookup(self, token: str) -> int:
        return self.str_to_int[token]  # KeyError for an unknown token, as in Listing 2.3


class SimpleTokenizerV2(BaseTokenizer):
    UNK = "<|unk|>"

    def lookup(self, token: str) -> int:
        found = self.str_to_int.get(token)
        return self.str_to_int[self.UNK] if found is None else found


class Encoder(Protocol):
    def encode(self, text: str, *, allowed_special: set[str]) -> list[int]: ...


@dataclass(frozen=True)
class Windows:
    n_tokens: int
    max_length: int
    stride: int

    def __len__(self) -> int:
        return len(range(0, self.n_tokens - self.max_length, self.stride))

    def start(self, index: int) -> int:
        return range(0, self.n_tokens - self.max_length, self.stride)[index]


tokenizer: tiktoken.Encoding = tiktoken.get_encoding("gpt2")


class GPTDatasetV1(Dataset[tuple[Tensor, Tensor]]):
    def __init__(self, txt: str, tokenizer: Encoder, max_length: int, stride: int) -> None:
        ids = tokenizer.encode(txt, allowed_special={"<|endoftext|>"})
        self.ids: Tensor = torch.tensor(ids, dtype=torch.int64)
        self.windows = Windows(len(ids), max_length, stride)

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        s = self.windows.start(index)
        L = self.windows.max_length
        return self.ids[s:s + L].clone(), self.ids[s + 1:s + L + 1].clone()


def create_dataloader_v1(txt: str, batch_size: int = 4, max_length: int = 256, stride: int = 128,
                         shuffle: bool = True, drop_last: bool = True,
                         num_workers: int = 0) -> DataLoader[tuple[Tensor, Tensor]]:
    dataset = GPTDatasetV1(txt, tiktoken.get_encoding("gpt2"), max_length, stride)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                      num_workers=num_workers)


class InputEmbeddings(nn.Module):
    position_ids: Tensor

    def __init__(self, vocab_size: int, output_dim: int, context_length: int) -> None:
        super().__init__()
        self.token_embedding_layer = nn.Embedding(vocab_size, output_dim)
        self.pos_embedding_layer = nn.Embedding(context_length, output_dim)
        self.register_buffer("position_ids", torch.arange(context_length), persistent=False)

    def forward(self, token_ids: Tensor) -> Tensor:
        seq_len = token_ids.shape[1]
        if seq_len > self.position_ids.numel():
            raise ValueError(f"sequence of {seq_len} tokens exceeds context_length")
        return self.token_embedding_layer(token_ids) + self.pos_embedding_layer(self.position_ids[:seq_len])
