"""The corpus: chapter-2 code in the styles learners really write, each with its expected verdict per stage.

Beside the bug zoo (``tests/suite/variants/``: one planted bug each in code written to the contract), the
corpus holds whole files and notebooks as they are found in the wild: the book repository's ch02
notebook and its dataloader notebook, the MEAP-era listings, early and mistyped names, renamed
parameters, downloads and reads of ``the-verdict.txt`` at import, IPython magics and failing cells,
the inline embeddings with the mistakes learners make, comments in Chinese and Korean, scripts
with a ``__main__`` block, files that print a lot.  Every stage such a file implements must get a
verdict (pass or fail), and the expected one, through ``llmspec check`` in process, through
``--isolate``, and through ``llmspec grade``.

An entry is a recipe of cells from :mod:`corpus_parts` (see there why), written by ``corpus_build.py`` as a
``.py`` file, a notebook, or a package directory.  ``says`` names text that the stage's failure
messages must contain (the variable or parameter the learner should look at).
"""
from __future__ import annotations

import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import corpus_bonus as bonus  # noqa: E402  (sibling modules; tests/ is not a package)
import corpus_parts as p  # noqa: E402

STAGES = ("tokenizer_v1", "tokenizer_v2", "bpe", "dataset", "dataloader", "embeddings")
# The optional bonus stage: judged by `llmspec check` for an entry that expects a verdict on it (the
# corpus's grading config, tests/suite/corpus/grading.toml, grades the six chapter stages only).
BONUS = "bpe_scratch"
PASS, FAIL, NOT_IMPLEMENTED = "pass", "fail", "not_implemented"


@dataclass(frozen=True)
class Markdown:
    text: str


@dataclass(frozen=True)
class Entry:
    name: str
    style: str  # the real-world style it stands for (one line, for the table)
    cells: tuple[str | Markdown, ...]
    fmt: str = "py"  # "py" | "ipynb" | "package" (then ``files`` holds the modules)
    expected: dict[str, str] = field(default_factory=dict)  # stage -> verdict (default: pass)
    says: dict[str, str] = field(default_factory=dict)  # stage -> text its failures must name
    files: dict[str, tuple[str, ...]] = field(default_factory=dict)
    noted: tuple[str, ...] = ()  # text that the notes of `llmspec check` must hold, one note each

    def verdict(self, stage: str) -> str:
        return self.expected.get(stage, PASS)

    @property
    def filename(self) -> str:
        return self.name + {"py": ".py", "ipynb": ".ipynb", "package": ""}[self.fmt]


def md(text: str) -> Markdown:
    return Markdown(text.strip())


NO_EMBEDDINGS = {"embeddings": NOT_IMPLEMENTED}
# the bonus notebooks define no chapter names; 2.5 needs none: they use tiktoken (to compare), so its gpt2 is judged
BONUS_ONLY = {**{s: NOT_IMPLEMENTED for s in STAGES if s != "bpe"}, BONUS: PASS}
TOKENIZERS_ONLY_MISSING = {"tokenizer_v1": NOT_IMPLEMENTED, "tokenizer_v2": NOT_IMPLEMENTED}


def chapter(regex: str = p.PRINT_REGEX, *, data: tuple[str, ...] = (p.READ_VERDICT,), v1: str = "SimpleTokenizerV1",
            v2: str = "SimpleTokenizerV2", ds: str = "GPTDatasetV1", allowed_special: bool = True,
            loader: str = "create_dataloader_v1", signature: str = "book", demo_extra: str = ", shuffle=False"
            ) -> tuple[str, ...]:
    """Sections 2.2-2.6 in order, the way most files and notebooks are laid out."""
    length = p.LOADER_SIGNATURES[signature][2]
    return (*data, p.vocabulary(regex), p.tokenizer_v1(v1, regex), p.tokenizer_v2(v2, regex), p.tokenizer_demo(v2),
            p.BPE, p.dataset(ds, allowed_special), p.loader(loader, signature, ds),
            p.loader_demo(loader, demo_extra, length))


BOOK_NOTEBOOK = (
    md("# Chapter 2: Working with Text Data"), p.VERSIONS, md("## 2.2 Tokenizing text"),
    p.download("requests_if_missing"), p.READ_VERDICT, p.vocabulary(), p.tokenizer_v1(), p.V1_KEYERROR_CELL,
    p.tokenizer_v2(), p.tokenizer_demo(), "# pip install tiktoken", p.BPE, md("## 2.6 Data sampling"),
    p.dataset(), p.loader(), p.loader_demo(), md("## 2.7 Token embeddings"), p.SEEDED_EMBEDDING,
    *p.inline_embeddings(),
)


def _bpe_cell_as(bpe: str) -> tuple[str | Markdown, ...]:
    """The book's notebook with 2.5's cell typed as ``bpe``, and 2.6's loader without its own ``import
    tiktoken``: only an IPython line may be left out of that cell, else ``tiktoken`` is a NameError there."""
    loader = p.loader().replace("import tiktoken\n\n\n", "", 1)
    assert loader != p.loader() and p.BPE in bpe
    return tuple({p.BPE: bpe, p.loader(): loader}.get(c, c) if isinstance(c, str) else c for c in BOOK_NOTEBOOK)


MEAP_CHAPTER = chapter(p.MEAP_REGEX, allowed_special=False, loader="create_dataloader", signature="early_shuffle")
FIRST_CHAPTER = chapter(p.MEAP_REGEX, allowed_special=False, loader="create_dataloader", signature="early",
                        demo_extra="")


def book_notebook_with(*embeddings: str) -> tuple[str | Markdown, ...]:
    """The book's notebook up to 2.7, then the given 2.8 cells."""
    cut = BOOK_NOTEBOOK.index(p.SEEDED_EMBEDDING) + 1
    return (*BOOK_NOTEBOOK[:cut], *embeddings)


TYPED_SUBCLASS = '''
import re
from typing import Dict, List

import tiktoken
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

SPLIT = re.compile(r'([,.:;?_!"()\\']|--|\\s)')


class SimpleTokenizerV1:
    """Listing 2.3, with type hints and a compiled pattern."""

    def __init__(self, vocab: Dict[str, int]) -> None:
        self.token_to_id = vocab
        self.id_to_token = {idx: tok for tok, idx in vocab.items()}

    def split(self, text: str) -> List[str]:
        return [piece.strip() for piece in SPLIT.split(text) if piece.strip()]

    def lookup(self, token: str) -> int:
        return self.token_to_id[token]

    def encode(self, text: str) -> List[int]:
        return [self.lookup(tok) for tok in self.split(text)]

    def decode(self, ids: List[int]) -> str:
        return re.sub(r'\\s+([,.?!"()\\'])', r'\\1', " ".join(self.id_to_token[i] for i in ids))


class SimpleTokenizerV2(SimpleTokenizerV1):
    """Listing 2.4 as a subclass: only the lookup changes."""

    def lookup(self, token: str) -> int:
        return self.token_to_id.get(token, self.token_to_id["<|unk|>"])


class GPTDatasetV1(Dataset):
    def __init__(self, txt: str, tokeniser, max_len: int, stride: int) -> None:
        ids = torch.tensor(tokeniser.encode(txt, allowed_special={"<|endoftext|>"}), dtype=torch.long)
        starts = range(0, len(ids) - max_len, stride)
        self.windows = [(ids[s:s + max_len], ids[s + 1:s + max_len + 1]) for s in starts]

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, idx: int) -> tuple[Tensor, Tensor]:
        return self.windows[idx]


def create_dataloader_v1(txt: str, batch_size: int = 4, max_length: int = 256, stride: int = 128,
                         shuffle: bool = True, drop_last: bool = True, num_workers: int = 0) -> DataLoader:
    encoding = tiktoken.get_encoding("gpt2")
    return DataLoader(GPTDatasetV1(txt, encoding, max_length, stride), batch_size=batch_size,
                      shuffle=shuffle, drop_last=drop_last, num_workers=num_workers)
'''

MAIN_GUARD = '''
def main() -> None:
    """Everything the chapter prints, only when run as a script (never on import)."""
    @DOWNLOAD@
    with open("the-verdict.txt", encoding="utf-8") as f:
        text = f.read()
    loader = create_dataloader_v1(text, batch_size=8, max_length=4, stride=4, shuffle=False)
    # 입력 임베딩: 토큰 임베딩 + 위치 임베딩 (2.8)
    layer = InputEmbeddings(50257, 256, 4)
    for inputs, _targets in loader:
        print(layer(inputs).shape)
        break


if __name__ == "__main__":
    main()
'''

CHATTY = '''
# debugging output, as learners leave it in
with open("the-verdict.txt", "r", encoding="utf-8") as f:
    raw_text = f.read()
for number, word in enumerate(re.split(r'([,.:;?_!"()\\']|--|\\s)', raw_text)):
    print(number, repr(word))
'''

ZH = {
    "title": "# 第二章：处理文本数据\n\n本笔记本跟随书中的代码，逐个单元格实现分词器、数据加载器和嵌入层。",
    "download": "## 2.2 下载训练文本\n\n如果本地没有 `the-verdict.txt`，先从书的仓库下载。",
    "tokenizer": "## 2.3 将词元转换为词元 ID",
    "embeddings": "## 2.8 编码单词位置信息\n\n词元嵌入加上绝对位置嵌入，得到输入嵌入。",
}

def _loader_in_a_class() -> tuple[str, ...]:
    """The loader as a static method of the learner's own class, the demo calling it through the class."""
    cells = list(chapter())
    head, found, rest = cells[-2].partition("def create_dataloader_v1")
    body = textwrap.indent(found + rest, "    ")
    cells[-2] = head + "class Runner:\n    @staticmethod\n" + body
    cells[-1] = cells[-1].replace("create_dataloader_v1(", "Runner.create_dataloader_v1(")
    return tuple(cells)


def _loader_indented_into_dataset() -> tuple[str, ...]:
    """The loader typed in the dataset's cell one indentation level too deep: a plain function in
    GPTDatasetV1's body (no ``self``), which the demo then calls through the class."""
    cells = list(chapter())
    ds = next(i for i, c in enumerate(cells) if isinstance(c, str) and "class GPTDatasetV1(" in c)
    ld = next(i for i, c in enumerate(cells) if isinstance(c, str) and "def create_dataloader_v1" in c)
    head, found, rest = cells[ld].partition("def create_dataloader_v1")
    body = textwrap.indent(found + rest, "    ")
    cells[ds] = head + cells[ds].rstrip("\n") + "\n\n" + body
    del cells[ld]
    cells[-1] = cells[-1].replace("create_dataloader_v1(", "GPTDatasetV1.create_dataloader_v1(")
    return tuple(cells)


def _print_book_as_printed() -> tuple[str, ...]:
    """Listing 2.3 as the print book has it (no ':' ';' in its regex), Listing 2.4 with them."""
    cells = list(chapter())
    cells[cells.index(p.tokenizer_v1())] = p.tokenizer_v1(regex=p.MEAP_REGEX)
    return tuple(cells)


def _mixed_edition_tokenizers() -> tuple[str, ...]:
    """V1 splitting ':' ';' off, V2 keeping them on: the two listings of no edition of the book."""
    cells = list(chapter())
    cells[cells.index(p.tokenizer_v2())] = p.tokenizer_v2(regex=p.MEAP_REGEX)
    return tuple(cells)


ENTRIES: tuple[Entry, ...] = (
    Entry("book_notebook", "the book repository's ch02 notebook: requests download, failing KeyError cell, "
          "inline 2.7-2.8", BOOK_NOTEBOOK, fmt="ipynb"),
    Entry("book_dataloader_notebook", "the book's dataloader notebook: one cell, context_length = 1024, "
          "batch taken in a loop as x",
          (p.VERSIONS, "\n\n\n".join([p.dataset(), p.loader(), p.READ_VERDICT]), p.DATALOADER_SUMMARY,
           p.DATALOADER_LOOP),
          fmt="ipynb", expected=dict(TOKENIZERS_ONLY_MISSING)),
    # No tokenizer to tell the edition by: --edition auto asks the dataset how it calls encode.
    Entry("meap_dataloader_notebook", "the dataloader notebook typed from the MEAP transcript: Listing 2.5 "
          "with plain tokenizer.encode(txt), the loader without num_workers, no tokenizer classes",
          (p.VERSIONS, "\n\n\n".join([p.dataset(allowed_special=False), p.loader(signature="meap"), p.READ_VERDICT]),
           p.DATALOADER_SUMMARY, p.DATALOADER_LOOP),
          fmt="ipynb", expected=dict(TOKENIZERS_ONLY_MISSING)),
    Entry("meap_notebook", "the MEAP-era notebook: regex without : ;, dataset without allowed_special, "
          "create_dataloader(..., shuffle=True) without drop_last", (*MEAP_CHAPTER, p.SEEDED_EMBEDDING,
                                                                     *p.inline_embeddings(loader_name="create_dataloader")),
          fmt="ipynb"),
    # The loader of the book repository's first notebooks has no shuffle parameter at all, so Listing
    # 2.6's shuffle=True cannot be asked of it: a verdict (fail), with its signature beside the book's.
    Entry("meap_first_notebook", "the book repository's first notebook: MEAP listings, create_dataloader "
          "without shuffle, positional layer sized by the vocabulary and looked up at the token ids",
          (*FIRST_CHAPTER, *p.inline_embeddings("vocab_size", "inputs", loader_name="create_dataloader",
                                                 loader_extra="")),
          fmt="ipynb", expected={"dataloader": FAIL, "embeddings": FAIL},
          says={"dataloader": "yours is create_dataloader(txt, batch_size=4, max_length=256, stride=128)",
                "embeddings": "not at the token ids"}),
    Entry("meap_listings_script", "MEAP listings typed into a script: loader without num_workers",
          chapter(p.MEAP_REGEX, allowed_special=False, signature="meap"), expected=dict(NO_EMBEDDINGS)),
    Entry("early_loader_name", "the early name create_dataloader (Listing 2.6 signature), an InputEmbeddings "
          "class", (*chapter(loader="create_dataloader"), p.fill(p.INPUT_EMBEDDINGS_CLASS, comment=""))),
    Entry("case_typo_names", "names off by letter case: SimpletokenizerV2, create_dataloader_V1",
          chapter(v2="SimpletokenizerV2", loader="create_dataloader_V1"), expected=dict(NO_EMBEDDINGS)),
    Entry("renamed_window_size", "a renamed loader parameter: window_size for max_length",
          chapter(signature="window_size", demo_extra=""), expected={"dataloader": FAIL, **NO_EMBEDDINGS},
          says={"dataloader": "window_size"}),
    Entry("download_urllib_always", "an unconditional urlretrieve at import, then a read from the cwd",
          (*chapter(data=(p.download("urllib_always"), p.READ_VERDICT)), p.fill(p.INPUT_EMBEDDINGS_CLASS, comment=""))),
    Entry("download_into_data_dir", "a conditional requests download into data/ (it really runs: the "
          "working directory has no data/), the refs/heads/main URL form",
          chapter(data=(p.download("requests_into_data_dir", p.BOOK_URL.replace("/main/", "/refs/heads/main/")),)),
          expected=dict(NO_EMBEDDINGS)),
    Entry("download_gpt2_files", "the bonus notebooks' streamed download of GPT-2's encoder.json and vocab.bpe",
          (p.GPT2_FILES, *chapter()), expected=dict(NO_EMBEDDINGS)),
    Entry("download_requests_text", "requests.get(url).text at import (no file)",
          chapter(data=(p.download("requests_text"),)), expected=dict(NO_EMBEDDINGS)),
    Entry("notebook_magics_urllib", "a notebook with !pip, %matplotlib, %%time, the printed listing's "
          "conditional urlretrieve, a NameError cell",
          (md("Setup"), "!pip install tiktoken torch", "%matplotlib inline", p.download("urllib_if_missing"),
           *chapter()[:4], "print(tokenzier.encode(text))  # typo: fails, the notebook goes on",
           "%%time\n" + chapter()[4], *chapter()[5:], p.SEEDED_EMBEDDING, *p.inline_embeddings()),
          fmt="ipynb"),
    Entry("reads_verdict_at_import", "a plain script: the story read from the cwd, the vocabulary and "
          "tokenizers built at import", (*chapter(), "tokenizer_v2 = SimpleTokenizerV2(vocab)\nprint(len(vocab))"),
          expected=dict(NO_EMBEDDINGS)),
    Entry("inline_pos_sized_by_vocab", "2.8 inline with the positional layer sized by the vocabulary",
          book_notebook_with(*p.inline_embeddings(pos_rows="vocab_size")), fmt="ipynb",
          expected={"embeddings": FAIL}, says={"embeddings": "pos_embedding_layer.weight has shape [50257, 256]"}),
    Entry("inline_pos_indexed_by_ids", "2.8 inline with the positions looked up at the token ids",
          book_notebook_with(*p.inline_embeddings(pos_rows="vocab_size", pos_ids="inputs")), fmt="ipynb",
          expected={"embeddings": FAIL}, says={"embeddings": "pos_embeddings has shape [8, 4, 256]"}),
    Entry("inline_layers_swapped", "2.8 inline with the two layers' sizes exchanged (the lookups then fail)",
          book_notebook_with(*p.inline_embeddings(swapped=True)), fmt="ipynb",
          expected={"embeddings": FAIL}, says={"embeddings": "token_embedding_layer.weight has shape [4, 256]"}),
    Entry("inline_no_positional", "2.8 inline without the positional layer",
          book_notebook_with(*p.inline_embeddings(positional=False)), fmt="ipynb",
          expected={"embeddings": FAIL}, says={"embeddings": "pos_embedding_layer is not defined"}),
    Entry("chinese_notebook", "a Chinese learner's notebook: markdown and comments in Chinese",
          (md(ZH["title"]), md(ZH["download"]), p.download("requests_if_missing"), p.READ_VERDICT,
           md(ZH["tokenizer"]), p.vocabulary(), p.tokenizer_v1(comment="# 词元 -> ID"),
           p.tokenizer_v2(comment="# ID -> 词元"), p.tokenizer_demo(), p.BPE, p.dataset(), p.loader(),
           p.loader_demo(), md(ZH["embeddings"]), p.SEEDED_EMBEDDING, *p.inline_embeddings()), fmt="ipynb"),
    Entry("korean_main_script", "a Korean learner's script: comments in Korean, demo under "
          "if __name__ == '__main__'",
          (md("2장: 텍스트 데이터 다루기 (토크나이저, 데이터로더, 임베딩)"), p.tokenizer_v1(comment="# 문자열 -> ID"),
           p.tokenizer_v2(comment="# ID -> 문자열"), p.dataset(), p.loader(),
           p.fill(p.INPUT_EMBEDDINGS_CLASS, comment="# 토큰 임베딩"),
           p.fill(MAIN_GUARD, download=p.download("urllib_if_missing").replace("\n", "\n    ")))),
    Entry("prints_a_lot", "debug prints everywhere: every pre-token at import, every window of every dataset",
          (*chapter()[:6], CHATTY, p.dataset(chatty=True), *chapter()[7:]), expected=dict(NO_EMBEDDINGS)),
    Entry("package_dir", "a package directory, one module per section, re-exported by __init__",
          (), fmt="package", files={
              "__init__.py": ("from .tokenizers import SimpleTokenizerV1, SimpleTokenizerV2\n"
                              "from .data import GPTDatasetV1, create_dataloader_v1\n"
                              "from .embeddings import InputEmbeddings\n",),
              "tokenizers.py": (p.tokenizer_v1(), p.tokenizer_v2()),
              "data.py": (p.dataset(), p.loader()),
              "embeddings.py": ("import torch", p.fill(p.INPUT_EMBEDDINGS_CLASS, comment="")),
          }),
    Entry("split_chapter_beside_a_venv", "a chapter split into files (no __init__.py), the story read from "
          "data/ at import, beside a tests/ folder that imports tiktoken and a .venv with megabytes of code: "
          "only the files the loader runs count", (), fmt="package", files={
              "tokenizers.py": (p.READ_VERDICT.replace('"the-verdict.txt"', '"data/the-verdict.txt"'),
                                p.vocabulary(), p.tokenizer_v1(), p.tokenizer_v2()),
              "sections.py": ('SECTIONS = ["2.2 Tokenizing text", "2.3 Converting tokens into token IDs"]',),
              "tests/test_bpe.py": ("import tiktoken", "from tokenizers import SimpleTokenizerV2"),
              ".venv/lib/python3.11/site-packages/vendored.py": ("x = 1\n" * 400_000,),
          }, expected={s: NOT_IMPLEMENTED for s in ("bpe", "dataset", "dataloader", "embeddings")},
          says={"bpe": "nothing in your code uses tiktoken"}),
    Entry("typed_subclass", "type hints, V2 as a subclass of V1, a tokeniser/max_len dataset, windows as views",
          (TYPED_SUBCLASS,), expected=dict(NO_EMBEDDINGS)),
    Entry("print_regex_meap_dataset", "print regex but Listing 2.5 from the MEAP (no allowed_special): "
          "judged as print, the dataset fails", chapter(allowed_special=False),
          expected={"dataset": FAIL, **NO_EMBEDDINGS}, says={"dataset": "allowed_special"}),
    Entry("reads_data_subdir", "the story read from data/the-verdict.txt (the learner runs from a folder "
          "that keeps it in data/), at import", chapter(data=(p.READ_VERDICT.replace(
              '"the-verdict.txt"', '"data/the-verdict.txt"'),)), expected=dict(NO_EMBEDDINGS)),
    Entry("loader_static_method", "create_dataloader_v1 written as a @staticmethod of the learner's class",
          _loader_in_a_class(), expected=dict(NO_EMBEDDINGS)),
    Entry("loader_indented_into_dataset", "create_dataloader_v1 indented into GPTDatasetV1's body (no self), "
          "called through the class", _loader_indented_into_dataset(), expected=dict(NO_EMBEDDINGS)),
    Entry("print_book_as_printed", "the print book's Listings 2.3 and 2.4 as printed: V1's regex without ':' ';', "
          "V2's with them (the vocabulary of 2.3 splits them off): judged as print, both pass",
          _print_book_as_printed(), expected=dict(NO_EMBEDDINGS)),
    Entry("loader_with_workers", "sections 2.2-2.6 with the loader's demo built with num_workers=2 (the book's "
          "default is 0): its worker processes run in --isolate and grade too, all pass",
          chapter(demo_extra=", shuffle=False, num_workers=2"), expected=dict(NO_EMBEDDINGS)),
    Entry("book_typed_as_a_script", "the book's notebook typed into one .py file, 2.3's KeyError demonstration "
          "too: Python stops there, llmspec skips that statement with a note and runs the rest", BOOK_NOTEBOOK,
          noted=("the top-level statements that raised were skipped (line ",)),
    Entry("notebook_per_section", "one notebook per section in a folder, each repeating the story and the classes of "
          "the sections before it, a scratch notebook beside them: the folder is the chapter", (), fmt="package",
          files={
              "ch02_2-4_tokenizers.ipynb": (p.READ_VERDICT, p.vocabulary(), p.tokenizer_v1(), p.V1_KEYERROR_CELL,
                                            p.tokenizer_v2(), p.tokenizer_demo()),
              "ch02_5_bpe.ipynb": (p.BPE,),
              "ch02_6_sampling.ipynb": (p.READ_VERDICT, p.dataset(), p.loader(), p.loader_demo()),
              "ch02_7-8_embeddings.ipynb": (p.READ_VERDICT, p.dataset(), p.loader(), "import torch",
                                            p.SEEDED_EMBEDDING, *p.inline_embeddings()),
              "Untitled.ipynb": ("print('trying things')", "undefined_name"),
          }),
    Entry("mixed_edition_tokenizers", "V1 splitting ':' ';' off, V2 keeping them on (no edition's pair): auto "
          "takes V1's edition, V2 fails naming both", _mixed_edition_tokenizers(),
          expected={"tokenizer_v2": FAIL, **NO_EMBEDDINGS}, says={"tokenizer_v2": "different editions' regex"}),
    Entry("tokenizers_so_far", "a notebook worked up to 2.4: the versions cell, the story, V1 and V2, no tiktoken "
          "yet, so 2.5 is not done either", (md("# Chapter 2"), p.VERSIONS, p.download("requests_if_missing"),
                                             p.READ_VERDICT, p.vocabulary(), p.tokenizer_v1(), p.tokenizer_v2(),
                                             p.tokenizer_demo()), fmt="ipynb",
          expected={s: NOT_IMPLEMENTED for s in ("bpe", "dataset", "dataloader", "embeddings")},
          says={"bpe": "nothing in your code uses tiktoken"}),
    Entry("pip_in_the_bpe_cell", "the book's notebook as typed on a hosted notebook: `!pip install tiktoken` "
          "in the same cell as 2.5's `import tiktoken`, the only import of it (2.6's loader uses it)",
          _bpe_cell_as("!pip install tiktoken\n" + p.BPE), fmt="ipynb"),
    Entry("help_in_the_bpe_cell", "2.5's cell ending with IPython's help on what it made (`tokenizer.encode?`), "
          "the only import of tiktoken as above", _bpe_cell_as(p.BPE.rstrip("\n") + "\ntokenizer.encode?\n"),
          fmt="ipynb"),
    Entry("renamed_dataset_class", "the dataset class renamed GPTDataset (not a case difference)",
          chapter(ds="GPTDataset"), expected={"dataset": NOT_IMPLEMENTED, **NO_EMBEDDINGS},
          says={"dataset": "--impl-map GPTDatasetV1=GPTDataset"}),
    # ch02/05_bpe-from-scratch: the bonus stage's contract is this notebook; its one difference from
    # GPT-2 on the story passes with a note
    Entry("bonus_bpe_notebook", "the book repository's BPE-from-scratch notebook: the book's folders searched "
          "for the story and GPT-2's files, trained to 1000, GPT-2's files loaded", bonus.NOTEBOOK, fmt="ipynb",
          expected=dict(BONUS_ONLY), noted=("gives ' ' | \"'s\" | 'ub' | 'ject' where GPT-2 gives \" '\" | 'subject'",)),
    Entry("bonus_bpe_simple_notebook", "the book repository's simple BPE notebook: no GPT-2 loader, encode(text) "
          "only, the story read from ../01_main-chapter-code/", bonus.SIMPLE_NOTEBOOK, fmt="ipynb",
          expected=dict(BONUS_ONLY), noted=("load_vocab_and_merges_from_openai is not implemented",)),
)


def entries(names: list[str] | None = None) -> list[Entry]:
    if not names:
        return list(ENTRIES)
    by_name = {e.name: e for e in ENTRIES}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise SystemExit(f"unknown corpus entries: {', '.join(unknown)}")
    return [by_name[n] for n in names]
