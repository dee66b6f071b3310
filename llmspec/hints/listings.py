"""The book's listings a learner's code is put beside, per stage and per edition.

The print edition's code is ``book_listings.txt`` (data: read with ast, never run).  The MEAP
edition's listings (the transcript's Listings 2.3-2.6) differ from it in a handful of places, so
they are derived from it by exact replacements, each of which must apply: a change to the print
text that breaks one fails loudly instead of leaving the MEAP listing silently wrong.
"""
from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

TEXT = Path(__file__).with_name("book_listings.txt")


@dataclass(frozen=True)
class Listing:
    """Where a stage's code is in the book: ``contract`` names the class (whose ``methods`` are
    compared) or function; ``label`` is the listing's name (``""``: the book's code of
    ``section``, which it gives inline, not as a numbered listing)."""

    contract: str
    label: str
    section: str
    methods: tuple[str, ...] = ()
    by_keyword: bool = False  # the suite calls it by keyword: parameters match by name, in any order
    optional: tuple[str, ...] = ()  # parameters CONTRACT.md lets a learner leave out


LISTINGS: dict[str, Listing] = {
    "tokenizer_v1": Listing("SimpleTokenizerV1", "Listing 2.3", "2.3", ("__init__", "encode", "decode")),
    "tokenizer_v2": Listing("SimpleTokenizerV2", "Listing 2.4", "2.4", ("__init__", "encode", "decode")),
    "dataset": Listing("GPTDatasetV1", "Listing 2.5", "2.6", ("__init__", "__len__", "__getitem__")),
    "dataloader": Listing("create_dataloader_v1", "Listing 2.6", "2.6", by_keyword=True,
                          optional=("drop_last", "num_workers")),  # the MEAP notebook's loader lacks both
    "embeddings": Listing("InputEmbeddings", "", "2.7-2.8", ("__init__", "forward")),
}
# The variables of the book's inline 2.7-2.8 cells a learner's top-level code is compared by (the
# embeddings stage judged from state), in the book's order; ``torch.manual_seed`` comes with them.
INLINE: tuple[str, ...] = ("embedding_layer", "token_embedding_layer", "token_embeddings", "pos_embedding_layer",
                           "pos_embeddings", "input_embeddings")

_MEAP = (  # (old, new, count): the MEAP transcript's Listings 2.3-2.6 (002_7f7806e88e8c52a4.txt)
    (r"""re.split(r'([,.:;?_!"()\']|--|\s)', text)""", r"""re.split(r'([,.?_!"()\']|--|\s)', text)""", 2),  # no :;
    (r"""re.sub(r'\s+([,.:;?!"()\'])', r'\1', text)""", r"""re.sub(r'\s+([,.?!"()\'])', r'\1', text)""", 1),
    ("    def __init__(self, txt, tokenizer, max_length, stride):\n",
     "    def __init__(self, txt, tokenizer, max_length, stride):\n        self.tokenizer = tokenizer\n", 1),
    ('token_ids = tokenizer.encode(txt, allowed_special={"<|endoftext|>"})', "token_ids = tokenizer.encode(txt)", 1),
    ("shuffle=True, drop_last=True,\n                         num_workers=0):", "shuffle=True, drop_last=True):", 1),
    ("        drop_last=drop_last,\n        num_workers=num_workers\n", "        drop_last=drop_last\n", 1),
)


@functools.lru_cache(maxsize=None)
def source(edition: str) -> str:
    """The book's chapter-2 code of ``edition`` (``print`` or ``meap``) as text."""
    text = TEXT.read_text(encoding="utf-8")
    if edition == "meap":
        for old, new, count in _MEAP:
            if text.count(old) != count:
                raise AssertionError(f"book_listings.txt: {old!r} expected {count} time(s)")
            text = text.replace(old, new)
    return text


@functools.lru_cache(maxsize=None)
def module(edition: str) -> ast.Module:
    return ast.parse(source(edition))


def definition(edition: str, name: str) -> ast.ClassDef | ast.FunctionDef:
    """The listing's class or function ``name``."""
    return next(n for n in module(edition).body
                if isinstance(n, (ast.ClassDef, ast.FunctionDef)) and n.name == name)


def inline(edition: str) -> list[ast.stmt]:
    """The book's inline 2.7-2.8 statements (the top-level code after the last definition)."""
    body = module(edition).body
    last = max(i for i, n in enumerate(body) if isinstance(n, (ast.ClassDef, ast.FunctionDef)))
    return body[last + 1:]


def attributes_read(cls: ast.ClassDef) -> set[str]:
    """The ``self`` attributes a listing class reads (one it only sets is the book's aside, e.g. the
    MEAP Listing 2.5's ``self.tokenizer``: leaving it out is no difference)."""
    return {n.attr for n in ast.walk(cls) if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Load)
            and isinstance(n.value, ast.Name) and n.value.id == "self"}
