# A correct chapter-2 implementation whose dataset holds ONE token tensor and serves windows as
# views made with Tensor.unfold (no per-window copies).  The suite must accept views and any
# storage layout: only the windows' values, dtype and count are the book's contract.  Its loader has
# the MEAP notebook's signature (no drop_last, no num_workers), which the contract leaves open.
import re

import tiktoken
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

SPLIT = re.compile(r'([,.:;?_!"()\']|--|\s)')
NO_SPACE_BEFORE = re.compile(r'\s+([,.?!"()\'])')


def _pieces(text):
    return [p.strip() for p in SPLIT.split(text) if p.strip()]


class SimpleTokenizerV1:
    def __init__(self, vocab):
        self.str_to_int = vocab
        self.int_to_str = {i: s for s, i in vocab.items()}

    def encode(self, text):
        return [self.str_to_int[p] for p in _pieces(text)]

    def decode(self, ids):
        return NO_SPACE_BEFORE.sub(r"\1", " ".join(self.int_to_str[i] for i in ids))


class SimpleTokenizerV2(SimpleTokenizerV1):
    def encode(self, text):
        unk = self.str_to_int["<|unk|>"]
        return [self.str_to_int.get(p, unk) for p in _pieces(text)]


tokenizer = tiktoken.get_encoding("gpt2")


class GPTDatasetV1(Dataset):
    def __init__(self, txt, tokenizer, max_length, stride):
        ids = torch.as_tensor(tokenizer.encode(txt, allowed_special={"<|endoftext|>"}), dtype=torch.long)
        if len(ids) > max_length:
            # inputs come from ids[:-1] and targets from ids[1:], so no target reads past the end
            self.inputs = ids[:-1].unfold(0, max_length, stride)
            self.targets = ids[1:].unfold(0, max_length, stride)
        else:
            self.inputs = self.targets = ids.new_empty((0, max_length))

    def __len__(self):
        return self.inputs.shape[0]

    def __getitem__(self, idx):
        return self.inputs[idx], self.targets[idx]


def create_dataloader_v1(txt, batch_size=4, max_length=256, stride=128, shuffle=True):
    # the MEAP notebook's signature: no drop_last, no num_workers (the DataLoader's defaults apply)
    dataset = GPTDatasetV1(txt, tiktoken.get_encoding("gpt2"), max_length, stride)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle)


class InputEmbeddings(nn.Module):
    def __init__(self, vocab_size, output_dim, context_length):
        super().__init__()
        self.token_embedding_layer = nn.Embedding(vocab_size, output_dim)
        self.pos_embedding_layer = nn.Embedding(context_length, output_dim)

    def forward(self, token_ids):
        positions = torch.arange(token_ids.size(-1), device=token_ids.device)
        # [B, T, D] + [T, D] broadcasts the same positional rows onto every sequence
        return self.token_embedding_layer(token_ids) + self.pos_embedding_layer(positions)
