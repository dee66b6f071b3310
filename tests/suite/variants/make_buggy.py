"""Write the bug zoo: ``buggy/<name>.py`` = ``correct/book_style.py`` with ONE learner-style edit.

Why a generator: every buggy file must be a complete, self-contained submission (the suite loads it
like a learner's file), yet a reviewer should see at a glance that it differs from a known-correct
base by exactly one small change.  Each entry below is that change, as an exact ``old`` -> ``new``
replacement that must match the base exactly once.  The two partial (unfinished) submissions are
the base cut short at a section.  The files themselves are not committed (they would be near-copies
of the base): :func:`ensure_generated` writes them into ``buggy/``
(git-ignored) whenever they are missing or stale; ``python tests/suite/variants/make_buggy.py`` does the
same by hand, e.g. to open one in an editor or hand it to ``llmspec check``.

``stage`` is the stage whose tests must fail; every other core stage must pass, unless ``also``
names it with the reason (a bug in shared code can legitimately break a second stage).

Not in the zoo, on purpose: ``tokenizer = tiktoken.get_encoding("r50k_base")`` is an equivalent
mutant (tiktoken's r50k_base has gpt2's ranks, pattern and special tokens), and ``cl100k_base``
cannot be loaded offline, so such a file fails to load at all instead of failing the bpe stage.
The bpe entries below are wrong encodings that can be built offline.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE = HERE / "correct" / "book_style.py"
OUT = HERE / "buggy"

V1_ENCODE = """        preprocessed = re.split(r'([,.:;?_!"()\\']|--|\\s)', text)
        preprocessed = [item.strip() for item in preprocessed if item.strip()]
        ids = [self.str_to_int[s] for s in preprocessed]
        return ids

    def decode(self, ids):
        text = " ".join([self.int_to_str[i] for i in ids])
        # Replace spaces before the specified punctuations
        text = re.sub(r'\\s+([,.?!"()\\'])', r'\\1', text)"""


def _v2_regex(pattern: str) -> tuple[str, str]:
    """Swap the regex inside SimpleTokenizerV2 only (its split line is followed by the unk mapping,
    which V1's is not)."""
    tail = "\n        preprocessed = [item.strip() for item in preprocessed if item.strip()]\n        preprocessed = ["
    return (f"        preprocessed = re.split(r'{V2_PATTERN}', text){tail}",
            f"        preprocessed = re.split(r'{pattern}', text){tail}")


V2_PATTERN = r"""([,.:;?_!"()\']|--|\s)"""


@dataclass(frozen=True)
class Bug:
    name: str
    stage: str
    bug: str
    old: str
    new: str
    also: dict[str, str] = field(default_factory=dict)  # other stage -> why it fails too


def _v1(old: str, new: str) -> tuple[str, str]:
    """Edit inside SimpleTokenizerV1 only (V2 has similar lines; V1_ENCODE is V1's unique block)."""
    assert old in V1_ENCODE, old
    return V1_ENCODE, V1_ENCODE.replace(old, new, 1)


BUGS: tuple[Bug, ...] = (
    # ---- tokenizer_v1 (Listing 2.3) ----------------------------------------------------------
    Bug("v1_regex_first_attempt", "tokenizer_v1",
        "splits only on commas, periods and whitespace (the book's second regex attempt)",
        *_v1(r"""re.split(r'([,.:;?_!"()\']|--|\s)', text)""", r"""re.split(r'([,.]|\s)', text)""")),
    Bug("v1_whitespace_kept", "tokenizer_v1",
        "no strip: filters with `if item` so whitespace pieces stay as tokens (KeyError ' ')",
        *_v1("[item.strip() for item in preprocessed if item.strip()]",
             "[item for item in preprocessed if item]")),
    Bug("v1_empty_kept", "tokenizer_v1",
        "strips but keeps the empty strings re.split produces (KeyError '')",
        *_v1("[item.strip() for item in preprocessed if item.strip()]",
             "[item.strip() for item in preprocessed]")),
    Bug("v1_decode_no_sub", "tokenizer_v1",
        "decode joins with spaces but never removes the space before punctuation",
        *_v1("""        text = re.sub(r'\\s+([,.?!"()\\'])', r'\\1', text)""",
             "")),
    Bug("v1_decode_no_space", "tokenizer_v1",
        "decode joins tokens with '' instead of ' ' (words run together)",
        *_v1('text = " ".join(', 'text = "".join(')),
    Bug("v1_decode_backref_not_raw", "tokenizer_v1",
        "re.sub replacement '\\1' written without r: punctuation becomes chr(1)",
        *_v1("""r'\\1', text)""", """'\\1', text)""")),
    Bug("v1_int_to_str_not_inverted", "tokenizer_v1",
        "int_to_str is a copy of vocab (str->int), not its inverse: decode raises KeyError",
        "        self.int_to_str = {i: s for s, i in vocab.items()}\n\n    def encode(self, text):\n"
        "        preprocessed = re.split(r'([,.:;?_!\"()\\']|--|\\s)', text)\n"
        "        preprocessed = [item.strip() for item in preprocessed if item.strip()]\n"
        "        ids = [",
        "        self.int_to_str = {s: i for s, i in vocab.items()}\n\n    def encode(self, text):\n"
        "        preprocessed = re.split(r'([,.:;?_!\"()\\']|--|\\s)', text)\n"
        "        preprocessed = [item.strip() for item in preprocessed if item.strip()]\n"
        "        ids = ["),
    Bug("v1_unknown_dropped", "tokenizer_v1",
        "unknown words are silently dropped instead of raising KeyError",
        *_v1("ids = [self.str_to_int[s] for s in preprocessed]",
             "ids = [self.str_to_int[s] for s in preprocessed if s in self.str_to_int]")),
    Bug("v1_lowercases", "tokenizer_v1",
        "encode lower-cases the text first ('normalising' it): different ids, no error for known words",
        *_v1("re.split(r'([,.:;?_!\"()\\']|--|\\s)', text)",
             "re.split(r'([,.:;?_!\"()\\']|--|\\s)', text.lower())")),
    Bug("v1_regex_no_underscore", "tokenizer_v1",
        "regex without _ so the story's _italic_ words stay glued to their underscores",
        *_v1(r"""re.split(r'([,.:;?_!"()\']|--|\s)', text)""", r"""re.split(r'([,.:;?!"()\']|--|\s)', text)""")),
    Bug("v1_regex_no_double_dash", "tokenizer_v1",
        "regex without the -- alternative: 'genius--though' stays one token",
        *_v1(r"""re.split(r'([,.:;?_!"()\']|--|\s)', text)""", r"""re.split(r'([,.:;?_!"()\']|\s)', text)""")),
    Bug("v1_decode_space_before_quotes", "tokenizer_v1",
        "decode removes the space before ,.?! only, not before quotes and parentheses",
        *_v1("""re.sub(r'\\s+([,.?!"()\\'])', r'\\1', text)""", """re.sub(r'\\s+([,.?!])', r'\\1', text)""")),
    Bug("v1_decode_skips_unknown_ids", "tokenizer_v1",
        "decode silently skips ids that are not in the vocabulary (data lost, no error)",
        *_v1('text = " ".join([self.int_to_str[i] for i in ids])',
             'text = " ".join([self.int_to_str[i] for i in ids if i in self.int_to_str])')),
    Bug("v1_split_extra_chars", "tokenizer_v1",
        "V1's regex splits on characters outside the book's set too (%, $, an em-dash, curly quotes)",
        *_v1(r"""re.split(r'([,.:;?_!"()\']|--|\s)', text)""",
             "re.split(r'([,.:;?_!\"()\\'%$\u2014\u201c\u201d]|--|\\s)', text)")),
    Bug("v1_decode_removes_space_before_underscore", "tokenizer_v1",
        "decode also removes the space before _ (not one of the book's ,.?!\"()')",
        *_v1("""re.sub(r'\\s+([,.?!"()\\'])', r'\\1', text)""",
             """re.sub(r'\\s+([,.?!"()\\'_])', r'\\1', text)""")),
    # ---- tokenizer_v2 (Listing 2.4) ----------------------------------------------------------
    Bug("v2_decode_skips_unknown_ids", "tokenizer_v2",
        "V2's decode silently skips ids that are not in the vocabulary (data lost, no error)",
        r"""        text = " ".join([self.int_to_str[i] for i in ids])
        # Replace spaces before the specified punctuations
        text = re.sub(r'\s+([,.:;?!"()\'])', r'\1', text)""",
        r"""        text = " ".join([self.int_to_str[i] for i in ids if i in self.int_to_str])
        # Replace spaces before the specified punctuations
        text = re.sub(r'\s+([,.:;?!"()\'])', r'\1', text)"""),
    Bug("v2_no_unk", "tokenizer_v2",
        "V2 copied from V1 without the <|unk|> substitution: unknown words raise KeyError",
        """        preprocessed = [
            item if item in self.str_to_int else "<|unk|>" for item in preprocessed
        ]
""", ""),
    Bug("v2_unk_id_off_by_one", "tokenizer_v2",
        "unknown words get id len(vocab) (one past <|unk|>, which is the last id)",
        """        preprocessed = [
            item if item in self.str_to_int else "<|unk|>" for item in preprocessed
        ]
        ids = [self.str_to_int[s] for s in preprocessed]""",
        """        ids = [self.str_to_int.get(s, len(self.str_to_int)) for s in preprocessed]"""),
    Bug("v2_checks_wrong_dict", "tokenizer_v2",
        "membership tested against int_to_str (ids), so every word becomes <|unk|>",
        'item if item in self.str_to_int else "<|unk|>"',
        'item if item in self.int_to_str else "<|unk|>"'),
    Bug("v2_endoftext_split", "tokenizer_v2",
        "V2 regex also splits on <, > and | so <|endoftext|> is broken up and never recognised",
        *_v2_regex(r"""([,.:;?_!"()\'<>|]|--|\s)""")),
    Bug("v2_meap_regex", "tokenizer_v2",
        "V2 regex differs from V1: the MEAP pattern without :; (V1 uses the print one)",
        *_v2_regex(r"""([,.?_!"()\']|--|\s)""")),
    Bug("v2_readds_specials", "tokenizer_v2",
        "constructor appends the special tokens again: <|endoftext|>/<|unk|> get ids past the vocab",
        """class SimpleTokenizerV2:
    def __init__(self, vocab):
        self.str_to_int = vocab
""",
        """class SimpleTokenizerV2:
    def __init__(self, vocab):
        vocab = dict(vocab)
        vocab["<|endoftext|>"] = len(vocab)
        vocab["<|unk|>"] = len(vocab)
        self.str_to_int = vocab
"""),
    # ---- bpe (2.5) ---------------------------------------------------------------------------
    Bug("bpe_unk_replaces_endoftext", "bpe",
        "gpt2 extended with <|unk|> (like V2) but the special tokens replaced: <|endoftext|> lost",
        'tokenizer = tiktoken.get_encoding("gpt2")\n\n\nclass',
        '_gpt2 = tiktoken.get_encoding("gpt2")\n'
        'tokenizer = tiktoken.Encoding(\n'
        '    name="gpt2_unk",\n'
        '    pat_str=_gpt2._pat_str,\n'
        '    mergeable_ranks=_gpt2._mergeable_ranks,\n'
        '    special_tokens={"<|unk|>": 50257},\n'
        ')\n\n\nclass'),
    Bug("bpe_wrapper_drops_allowed_special", "bpe",
        "wrapper class around tiktoken whose encode ignores allowed_special (<|endoftext|> raises)",
        'tokenizer = tiktoken.get_encoding("gpt2")\n\n\nclass',
        'class GPT2Tokenizer:\n'
        '    def __init__(self):\n'
        '        self.enc = tiktoken.get_encoding("gpt2")\n'
        '        self.n_vocab = self.enc.n_vocab\n\n'
        '    def encode(self, text, **kwargs):\n'
        '        return self.enc.encode(text)\n\n'
        '    def decode(self, ids):\n'
        '        return self.enc.decode(ids)\n\n\n'
        'tokenizer = GPT2Tokenizer()\n\n\nclass'),
    Bug("bpe_decode_per_token", "bpe",
        "wrapper decode decodes token by token and joins with spaces (not lossless)",
        'tokenizer = tiktoken.get_encoding("gpt2")\n\n\nclass',
        'class GPT2Tokenizer:\n'
        '    def __init__(self):\n'
        '        self.enc = tiktoken.get_encoding("gpt2")\n'
        '        self.n_vocab = self.enc.n_vocab\n\n'
        '    def encode(self, text, **kwargs):\n'
        '        return self.enc.encode(text, **kwargs)\n\n'
        '    def decode(self, ids):\n'
        '        return " ".join(self.enc.decode([i]) for i in ids)\n\n\n'
        'tokenizer = GPT2Tokenizer()\n\n\nclass'),
    Bug("bpe_encode_ordinary", "bpe",
        "wrapper encode uses encode_ordinary: <|endoftext|> is encoded as plain text, never 50256",
        'tokenizer = tiktoken.get_encoding("gpt2")\n\n\nclass',
        'class GPT2Tokenizer:\n'
        '    def __init__(self):\n'
        '        self.enc = tiktoken.get_encoding("gpt2")\n'
        '        self.n_vocab = self.enc.n_vocab\n\n'
        '    def encode(self, text, **kwargs):\n'
        '        return self.enc.encode_ordinary(text)\n\n'
        '    def decode(self, ids):\n'
        '        return self.enc.decode(ids)\n\n\n'
        'tokenizer = GPT2Tokenizer()\n\n\nclass'),
    # ---- dataset (Listing 2.5) ---------------------------------------------------------------
    Bug("ds_range_plus_one", "dataset",
        "range(0, len - max_length + 1, stride): one window too many, its target is short",
        "range(0, len(token_ids) - max_length, stride)",
        "range(0, len(token_ids) - max_length + 1, stride)"),
    Bug("ds_range_minus_one", "dataset",
        "range(0, len - max_length - 1, stride): drops the last window",
        "range(0, len(token_ids) - max_length, stride)",
        "range(0, len(token_ids) - max_length - 1, stride)"),
    Bug("ds_target_not_shifted", "dataset",
        "target is the input window itself (not shifted by one)",
        "target_chunk = token_ids[i + 1: i + max_length + 1]",
        "target_chunk = token_ids[i:i + max_length]"),
    Bug("ds_target_shifted_by_two", "dataset",
        "target shifted by two tokens instead of one",
        "target_chunk = token_ids[i + 1: i + max_length + 1]",
        "target_chunk = token_ids[i + 2: i + max_length + 2]"),
    Bug("ds_target_too_short", "dataset",
        "target slice ends one early: token_ids[i + 1: i + max_length]",
        "target_chunk = token_ids[i + 1: i + max_length + 1]",
        "target_chunk = token_ids[i + 1: i + max_length]"),
    Bug("ds_stride_ignored", "dataset",
        "stride ignored: windows start at every token (step 1)",
        "range(0, len(token_ids) - max_length, stride)",
        "range(0, len(token_ids) - max_length)"),
    Bug("ds_stride_is_max_length", "dataset",
        "max_length used as the step: stride ignored, windows never overlap",
        "range(0, len(token_ids) - max_length, stride)",
        "range(0, len(token_ids) - max_length, max_length)"),
    Bug("ds_float_tensors", "dataset",
        "torch.Tensor(...) instead of torch.tensor(...): ids become float32",
        "            self.input_ids.append(torch.tensor(input_chunk))\n"
        "            self.target_ids.append(torch.tensor(target_chunk))",
        "            self.input_ids.append(torch.Tensor(input_chunk))\n"
        "            self.target_ids.append(torch.Tensor(target_chunk))"),
    Bug("ds_int32_ids", "dataset",
        "windows stored as int32 to save memory (the contract says torch.long)",
        "            self.input_ids.append(torch.tensor(input_chunk))\n"
        "            self.target_ids.append(torch.tensor(target_chunk))",
        "            self.input_ids.append(torch.tensor(input_chunk, dtype=torch.int32))\n"
        "            self.target_ids.append(torch.tensor(target_chunk, dtype=torch.int32))"),
    Bug("ds_no_allowed_special", "dataset",
        "tokenizer.encode(txt) without allowed_special: a text with <|endoftext|> raises",
        'token_ids = tokenizer.encode(txt, allowed_special={"<|endoftext|>"})',
        "token_ids = tokenizer.encode(txt)"),
    Bug("ds_getitem_swapped", "dataset",
        "__getitem__ returns (target, input)",
        "return self.input_ids[idx], self.target_ids[idx]",
        "return self.target_ids[idx], self.input_ids[idx]"),
    Bug("ds_getitem_returns_lists", "dataset",
        "__getitem__ returns Python lists (.tolist()) instead of tensors",
        "return self.input_ids[idx], self.target_ids[idx]",
        "return self.input_ids[idx].tolist(), self.target_ids[idx].tolist()"),
    # ---- dataloader (Listing 2.6) ------------------------------------------------------------
    Bug("dl_shuffle_ignored", "dataloader",
        "shuffle argument ignored (always False)",
        "        shuffle=shuffle,\n", "        shuffle=False,\n"),
    Bug("dl_drop_last_inverted", "dataloader",
        "drop_last passed inverted",
        "        drop_last=drop_last,\n", "        drop_last=not drop_last,\n"),
    Bug("dl_batch_size_ignored", "dataloader",
        "batch_size not passed to DataLoader (always 1)",
        "        batch_size=batch_size,\n", ""),
    Bug("dl_dataset_args_swapped", "dataloader",
        "GPTDatasetV1(txt, tokenizer, stride, max_length): max_length and stride swapped",
        "dataset = GPTDatasetV1(txt, tokenizer, max_length, stride)",
        "dataset = GPTDatasetV1(txt, tokenizer, stride, max_length)"),
    Bug("dl_shuffle_drop_last_swapped", "dataloader",
        "shuffle and drop_last passed to DataLoader the wrong way round",
        "        shuffle=shuffle,\n        drop_last=drop_last,\n",
        "        shuffle=drop_last,\n        drop_last=shuffle,\n"),
    Bug("dl_num_workers_not_passed", "dataloader",
        "create_dataloader_v1 accepts num_workers but never passes it to the DataLoader",
        "        drop_last=drop_last,\n        num_workers=num_workers\n", "        drop_last=drop_last,\n"),
    Bug("dl_default_max_length_128", "dataloader",
        "a listing default changed: max_length=128 (create_dataloader_v1(text) then yields other windows)",
        "def create_dataloader_v1(txt, batch_size=4, max_length=256,",
        "def create_dataloader_v1(txt, batch_size=4, max_length=128,"),
    # ---- embeddings (2.7-2.8) ----------------------------------------------------------------
    Bug("emb_no_positional", "embeddings",
        "forward returns the token embeddings only (positional embeddings never added)",
        "input_embeddings = token_embeddings + pos_embeddings",
        "input_embeddings = token_embeddings"),
    Bug("emb_pos_indexed_by_token_id", "embeddings",
        "positional layer indexed by the token ids instead of arange(T)",
        "self.pos_embedding_layer(torch.arange(inputs.shape[1]))",
        "self.pos_embedding_layer(inputs)"),
    Bug("emb_token_layer_transposed", "embeddings",
        "token layer built as Embedding(output_dim, vocab_size) (arguments swapped)",
        "torch.nn.Embedding(vocab_size, output_dim)",
        "torch.nn.Embedding(output_dim, vocab_size)"),
    Bug("emb_pos_sized_vocab", "embeddings",
        "positional layer sized vocab_size x output_dim instead of context_length x output_dim",
        "torch.nn.Embedding(context_length, output_dim)",
        "torch.nn.Embedding(vocab_size, output_dim)"),
    Bug("emb_context_length_as_dim", "embeddings",
        "positional layer built as Embedding(context_length, context_length)",
        "torch.nn.Embedding(context_length, output_dim)",
        "torch.nn.Embedding(context_length, context_length)"),
    Bug("emb_arange_plus_one", "embeddings",
        "positions are arange(T) + 1 (1-based)",
        "torch.arange(inputs.shape[1])",
        "torch.arange(inputs.shape[1]) + 1"),
    Bug("emb_arange_batch_dim", "embeddings",
        "positions from inputs.shape[0] (the batch size) instead of shape[1]",
        "torch.arange(inputs.shape[1])",
        "torch.arange(inputs.shape[0])"),
    Bug("emb_arange_context_length", "embeddings",
        "book's module-level code kept: arange(context_length) instead of arange(T)",
        "torch.arange(inputs.shape[1])",
        "torch.arange(self.pos_embedding_layer.num_embeddings)"),
    Bug("emb_pos_frozen", "embeddings",
        "positional weights frozen (requires_grad False) as if they were sinusoidal",
        "        self.pos_embedding_layer = torch.nn.Embedding(context_length, output_dim)\n",
        "        self.pos_embedding_layer = torch.nn.Embedding(context_length, output_dim)\n"
        "        self.pos_embedding_layer.weight.requires_grad_(False)\n"),
    Bug("emb_pos_first_row_only", "embeddings",
        "positional embeddings added to the first sequence of the batch only",
        "        input_embeddings = token_embeddings + pos_embeddings\n",
        "        input_embeddings = token_embeddings.clone()\n"
        "        input_embeddings[0] = input_embeddings[0] + pos_embeddings\n"),
)

def render(bug: Bug, base: str) -> str:
    """The buggy file's text: header, then the base with the bug's edit applied exactly once."""
    count = base.count(bug.old)
    if count != 1:
        raise ValueError(f"{bug.name}: edit must match the base exactly once, matched {count} times")
    text = base.replace(bug.old, bug.new, 1)
    header = [f"# stage: {bug.stage}", f"# bug: {bug.bug}"]
    header += [f"# also-fails: {stage} -- {why}" for stage, why in sorted(bug.also.items())]
    header.append("# generated by tests/suite/variants/make_buggy.py from correct/book_style.py (do not edit)")
    body = text.split("\n", 3)[3]  # drop the base's own 3-line header comment
    return "\n".join(header) + "\n" + body


def expected_files() -> dict[Path, str]:
    base = BASE.read_text(encoding="utf-8")
    names = [b.name for b in BUGS]
    assert len(names) == len(set(names)), "duplicate bug names"
    return {OUT / f"{b.name}.py": render(b, base) for b in BUGS}


PARTIAL_OUT = HERE / "partial"


def partial_files() -> dict[Path, str]:
    """The unfinished submissions: the base cut short, so they are the book's code up to a section."""
    base = BASE.read_text(encoding="utf-8")
    tokenizers = base[base.index("class SimpleTokenizerV1"):base.index("tokenizer = tiktoken")].rstrip()
    return {
        PARTIAL_OUT / "no_embeddings.py": (
            "# A learner part-way through chapter 2: everything up to section 2.6, no InputEmbeddings yet.\n"
            "# Expected: embeddings 'not implemented' (reported once), full results for the other stages.\n"
            + base[base.index("import re"):base.index("class InputEmbeddings")].rstrip() + "\n"),
        PARTIAL_OUT / "tokenizers_only.py": (
            "# A learner who has done sections 2.2-2.4 only: SimpleTokenizerV1/V2, nothing else.\n"
            "# Expected: dataset, dataloader, embeddings 'not implemented'; both tokenizer stages pass, and\n"
            "# bpe passes too (without a module-level tokenizer the suite uses tiktoken's gpt2).\n"
            "import re\n\n\n" + tokenizers + "\n"),
    }


def _sync(out: Path, wanted: dict[Path, str]) -> Path:
    out.mkdir(exist_ok=True)
    for stale in set(out.glob("*.py")) - set(wanted):
        stale.unlink()
    for path, text in wanted.items():
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    return out


def ensure_generated() -> Path:
    """Make ``buggy/`` and ``partial/`` hold exactly the generator's output (idempotent; rewrites only
    what differs); returns ``buggy/``."""
    _sync(PARTIAL_OUT, partial_files())
    return _sync(OUT, expected_files())


def main() -> None:
    out = ensure_generated()
    print(f"wrote {len(BUGS)} buggy variants to {out}")


if __name__ == "__main__":
    main()
