"""Section 2.6 (Listings 2.5, 2.6): sliding-window input/target pairs and their DataLoader.

Unlike the book's listing, which keeps two tensors per window in Python lists (at stride 1 that is
``2 * max_length`` copies of every token), this dataset keeps one token tensor and returns views
into it.  Which windows exist, and what they hold, are exactly the book's: starts at
``range(0, len(ids) - max_length, stride)``, target = input shifted by one token."""
from __future__ import annotations

import operator
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from reference.bpe import get_gpt2_encoding


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got bool")
    number = operator.index(value)  # TypeError for floats/strings, like range() would
    if number < 1:
        raise ValueError(f"{name} must be >= 1, got {number}")
    return number


class GPTDatasetV1(Dataset):
    """Windows of ``max_length`` token ids every ``stride`` tokens, with next-token targets."""

    def __init__(self, txt: str, tokenizer: Any, max_length: int, stride: int):
        self.max_length = _positive_int("max_length", max_length)
        self.stride = _positive_int("stride", stride)
        token_ids = tokenizer.encode(txt, allowed_special={"<|endoftext|>"})
        if isinstance(token_ids, torch.Tensor):
            token_ids = token_ids.tolist()
        elif not isinstance(token_ids, (list, tuple)):
            token_ids = list(token_ids)  # e.g. an iterator from a custom tokenizer
        # one int64 tensor (the book's torch.tensor(list) dtype); no copy of the Python list first
        self.token_ids = torch.tensor(token_ids, dtype=torch.long)
        # same count as the book's loop: range(0, len(token_ids) - max_length, stride)
        self._len = len(range(0, len(self.token_ids) - self.max_length, self.stride))

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, idx: int) -> tuple[torch.Tensor, torch.Tensor]:
        i = operator.index(idx)
        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError(f"index {idx} out of range for dataset of length {self._len}")
        start = i * self.stride
        end = start + self.max_length
        return self.token_ids[start:end], self.token_ids[start + 1 : end + 1]


def create_dataloader_v1(
    txt: str,
    batch_size: int = 4,
    max_length: int = 256,
    stride: int = 128,
    shuffle: bool = True,
    drop_last: bool = True,
    num_workers: int = 0,
) -> DataLoader:
    """Listing 2.6: GPT-2 BPE, :class:`GPTDatasetV1`, and a ``torch.utils.data.DataLoader``."""
    tokenizer = get_gpt2_encoding()
    dataset = GPTDatasetV1(txt, tokenizer, max_length, stride)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        drop_last=drop_last,
        num_workers=num_workers,
    )
