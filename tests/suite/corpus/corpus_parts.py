"""Building blocks of the corpus: each piece of chapter 2 as learners write it, once, with its variants.

The corpus files (``corpus_manifest.py`` lists them, ``corpus_build.py`` writes them) are composed from these
pieces, so each piece of the book's code stands here once and a corpus file differs from another
only where the styles really differ (regex, names, signatures, where the data comes from, cells).
Placeholders are ``@NAME@`` tokens replaced by :func:`fill`, so the code keeps its own braces.

The listings themselves (the tokenizers, the dataset) are taken from the bug zoo's book-style file
(``tests/suite/variants/correct/book_style.py``, proven to pass every stage) and edited, so the book's code
is written once in the tests.

The styles were studied in the book repository's ch02 notebooks at several dates (Listing 2.1's
download, the MEAP regex without ``:`` ``;``, the early ``create_dataloader`` and the positional
layer once sized by the vocabulary) and in public learners' files and notebooks (comments in
Chinese and Korean, renamed parameters, debug prints, ``if __name__ == "__main__":`` blocks); no
code is copied from either.
"""
from __future__ import annotations

import ast
import functools
import textwrap
from pathlib import Path

PRINT_REGEX = r"""([,.:;?_!"()\']|--|\s)"""  # Listing 2.3, print edition
MEAP_REGEX = r"""([,.?_!"()\']|--|\s)"""  # the MEAP listing: ':' and ';' stay attached
BOOK_URL = ("https://raw.githubusercontent.com/rasbt/LLMs-from-scratch/main/ch02/"
            "01_main-chapter-code/the-verdict.txt")


def fill(template: str, **values: str) -> str:
    """``template`` dedented, with every ``@KEY@`` replaced by ``values[key]``."""
    text = textwrap.dedent(template).strip("\n")
    for key, value in values.items():
        text = text.replace(f"@{key.upper()}@", value)
    assert "@" not in text.replace("@property", ""), f"unfilled placeholder in {text[:80]!r}"
    return text


# --- 2.2: the data ---------------------------------------------------------------------------------
VERSIONS = fill("""
    from importlib.metadata import version

    print("torch version:", version("torch"))
    print("tiktoken version:", version("tiktoken"))
    """)


def download(how: str, url: str = BOOK_URL) -> str:
    """Listing 2.1's download in the forms learners use.

    ``requests_if_missing`` (the book repository's notebook today), ``urllib_if_missing`` (the
    printed listing), ``urllib_always`` (no existence check), ``requests_into_data_dir`` (a
    ``data/`` folder, so the download really runs), ``requests_text`` (no file at all)."""
    pad = " " * (8 if how.endswith(("if_missing", "data_dir")) else 4)
    url_lines = "\n".join(f'{pad}"{part}"' for part in (url[:40], url[40:]))
    templates = {
        "requests_if_missing": """
            import os
            import requests

            if not os.path.exists("the-verdict.txt"):
                url = (
            @URL@
                )
                response = requests.get(url, timeout=30)
                response.raise_for_status()
                with open("the-verdict.txt", "wb") as f:
                    f.write(response.content)
            """,
        "urllib_if_missing": """
            import os
            import urllib.request

            if not os.path.exists("the-verdict.txt"):
                url = (
            @URL@
                )
                urllib.request.urlretrieve(url, "the-verdict.txt")
            """,
        "urllib_always": """
            import urllib.request

            file_path = "the-verdict.txt"
            urllib.request.urlretrieve(
            @URL@,
                file_path,
            )
            """,
        "requests_into_data_dir": """
            import os
            import requests

            os.makedirs("data", exist_ok=True)
            if not os.path.exists("data/the-verdict.txt"):
                url = (
            @URL@
                )
                with open("data/the-verdict.txt", "w", encoding="utf-8") as f:
                    f.write(requests.get(url, timeout=30).text)
            raw_text = open("data/the-verdict.txt", encoding="utf-8").read()
            """,
        "requests_text": """
            import requests

            raw_text = requests.get(
            @URL@
            ).text
            """,
    }
    return fill(templates[how], url=url_lines)


READ_VERDICT = fill("""
    with open("the-verdict.txt", "r", encoding="utf-8") as f:
        raw_text = f.read()

    print("Total number of character:", len(raw_text))
    print(raw_text[:99])
    """)


def vocabulary(regex: str = PRINT_REGEX) -> str:
    """2.3-2.4: pre-tokens of the story, then the vocabulary with the two special tokens."""
    return fill("""
        import re

        preprocessed = re.split(r'@REGEX@', raw_text)
        preprocessed = [item.strip() for item in preprocessed if item.strip()]
        print(len(preprocessed))

        all_tokens = sorted(set(preprocessed))
        all_tokens.extend(["<|endoftext|>", "<|unk|>"])
        vocab = {token: integer for integer, token in enumerate(all_tokens)}
        print(len(vocab))
        """, regex=regex)


# The bonus byte-pair notebooks fetch GPT-2's own files (streamed, with a progress count).
GPT2_FILES = fill("""
    import os
    import requests

    GPT2_DIR = "gpt2_model"
    os.makedirs(GPT2_DIR, exist_ok=True)
    for filename in ("encoder.json", "vocab.bpe"):
        path = os.path.join(GPT2_DIR, filename)
        if os.path.exists(path):
            continue
        r = requests.get("https://openaipublic.blob.core.windows.net/gpt-2/models/124M/" + filename, stream=True)
        total = int(r.headers["content-length"])
        with open(path, "wb") as f:
            for chunk in r.iter_content(chunk_size=1000):
                f.write(chunk)
        print(f"Fetched {filename}: {total} bytes")

    import json

    with open(os.path.join(GPT2_DIR, "encoder.json"), encoding="utf-8") as f:
        gpt2_encoder = json.load(f)
    print("GPT-2 vocabulary:", len(gpt2_encoder))
    """)


# --- 2.3-2.4: the simple tokenizers -----------------------------------------------------------------
BOOK_STYLE = Path(__file__).resolve().parents[1] / "variants" / "correct" / "book_style.py"


@functools.lru_cache(maxsize=None)
def book(name: str) -> str:
    """The source of the top-level class or function ``name`` in the bug zoo's book-style file."""
    source = BOOK_STYLE.read_text(encoding="utf-8")
    for node in ast.parse(source).body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)) and node.name == name:
            return ast.get_source_segment(source, node) or ""
    raise KeyError(f"{BOOK_STYLE.name} defines no {name}")


def edit(text: str, old: str, new: str) -> str:
    """``text`` with ``old`` (which must occur) replaced by ``new``."""
    assert old in text, f"{old!r} not in the book-style listing"
    return text.replace(old, new)


def _tokenizer(book_name: str, name: str, regex: str, comment: str) -> str:
    code = edit(book(book_name), f"class {book_name}:", f"class {name}:")
    code = edit(code, "self.str_to_int = vocab", f"self.str_to_int = vocab  {comment}")
    return edit(code, f"re.split(r'{PRINT_REGEX}', text)", f"re.split(r'{regex}', text)")


def tokenizer_v1(name: str = "SimpleTokenizerV1", regex: str = PRINT_REGEX, comment: str = "# string -> id") -> str:
    """Listing 2.3 under ``name``, splitting with ``regex``."""
    return "import re\n\n\n" + _tokenizer("SimpleTokenizerV1", name, regex, comment)


def tokenizer_v2(name: str = "SimpleTokenizerV2", regex: str = PRINT_REGEX, comment: str = "# id -> string") -> str:
    """Listing 2.4 under ``name``, splitting with ``regex``."""
    return _tokenizer("SimpleTokenizerV2", name, regex, comment)


def tokenizer_demo(cls: str = "SimpleTokenizerV2") -> str:
    return fill("""
        tokenizer = @CLS@(vocab)
        text = " <|endoftext|> ".join(("Hello, do you like tea?", "In the sunlit terraces of the palace."))
        print(tokenizer.encode(text))
        print(tokenizer.decode(tokenizer.encode(text)))
        """, cls=cls)


# The book's own failing cell: V1 on a word that is not in the story.
V1_KEYERROR_CELL = fill("""
    tokenizer = SimpleTokenizerV1(vocab)
    tokenizer.encode("Hello, do you like tea?")
    """)

# --- 2.5: BPE ---------------------------------------------------------------------------------------
BPE = fill("""
    import tiktoken

    tokenizer = tiktoken.get_encoding("gpt2")
    integers = tokenizer.encode(
        "Hello, do you like tea? <|endoftext|> In the sunlit terraces of someunknownPlace.",
        allowed_special={"<|endoftext|>"},
    )
    print(integers)
    print(tokenizer.decode(integers))
    """)


# --- 2.6: dataset and loader ------------------------------------------------------------------------
def dataset(name: str = "GPTDatasetV1", allowed_special: bool = True, length: str = "max_length",
            tok: str = "tokenizer", chatty: bool = False) -> str:
    """Listing 2.5.  ``allowed_special=False`` is the MEAP listing; ``chatty`` prints every window."""
    code = edit(book("GPTDatasetV1"), "class GPTDatasetV1(", f"class {name}(")
    if not allowed_special:
        code = edit(code, 'tokenizer.encode(txt, allowed_special={"<|endoftext|>"})', "tokenizer.encode(txt)")
    if chatty:
        code = edit(code, "tokenizer, max_length, stride):", "tokenizer, max_length, stride, verbose=True):")
        code = edit(code, "self.target_ids = []\n", "self.target_ids = []\n        self.verbose = verbose\n")
        code = edit(code, "i + max_length + 1]\n", "i + max_length + 1]\n"
                    "            if self.verbose:\n                print(i, input_chunk, target_chunk)\n")
    code = code.replace("max_length", length).replace("tokenizer", tok)
    return "import torch\nfrom torch.utils.data import Dataset, DataLoader\n\n\n" + code


LOADER_SIGNATURES = {
    # Listing 2.6 (print)
    "book": ("batch_size=4, max_length=256, stride=128, shuffle=True, drop_last=True, num_workers=0",
             "batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, num_workers=num_workers",
             "max_length"),
    # the MEAP listing: no num_workers
    "meap": ("batch_size=4, max_length=256, stride=128, shuffle=True, drop_last=True",
             "batch_size=batch_size, shuffle=shuffle, drop_last=drop_last", "max_length"),
    # the book repository's notebook from its start until January 2024: no shuffle, drop_last, num_workers
    "early": ("batch_size=4, max_length=256, stride=128", "batch_size=batch_size", "max_length"),
    # ... then with shuffle (still no drop_last, num_workers)
    "early_shuffle": ("batch_size=4, max_length=256, stride=128, shuffle=True", "batch_size=batch_size, shuffle=shuffle",
                      "max_length"),
    # a learner's own parameter name for the window length
    "window_size": ("batch_size=4, window_size=256, stride=128, shuffle=True, drop_last=True",
                    "batch_size=batch_size, shuffle=shuffle, drop_last=drop_last", "window_size"),
}


def loader(name: str = "create_dataloader_v1", signature: str = "book", ds: str = "GPTDatasetV1") -> str:
    params, passed, length = LOADER_SIGNATURES[signature]
    return fill("""
        import tiktoken


        def @NAME@(txt, @PARAMS@):
            tokenizer = tiktoken.get_encoding("gpt2")
            dataset = @DS@(txt, tokenizer, @LEN@, stride)
            return DataLoader(dataset, @PASSED@)
        """, name=name, params=params, passed=passed, ds=ds, len=length)


def loader_demo(name: str = "create_dataloader_v1", extra: str = ", shuffle=False", length: str = "max_length") -> str:
    return fill("""
        dataloader = @NAME@(raw_text, batch_size=8, @LEN@=4, stride=4@EXTRA@)
        data_iter = iter(dataloader)
        inputs, targets = next(data_iter)
        print("Inputs:\\n", inputs)
        print("\\nTargets:\\n", targets)
        """, name=name, extra=extra, len=length)


# --- 2.7-2.8: embeddings ----------------------------------------------------------------------------
SEEDED_EMBEDDING = fill("""
    input_ids = torch.tensor([2, 3, 5, 1])
    vocab_size = 6
    output_dim = 3

    torch.manual_seed(123)
    embedding_layer = torch.nn.Embedding(vocab_size, output_dim)
    print(embedding_layer.weight)
    print(embedding_layer(input_ids))
    """)


def inline_embeddings(pos_rows: str = "context_length", pos_ids: str = "torch.arange(max_length)",
                      swapped: bool = False, positional: bool = True, loader_name: str = "create_dataloader_v1",
                      loader_extra: str = ", shuffle=False") -> list[str]:
    """2.8 as the book's notebook writes it, one string per cell, with the mistakes learners make:
    the positional layer sized by the vocabulary (``pos_rows="vocab_size"``), looked up at the token
    ids (``pos_ids="inputs"``), the two layers' sizes exchanged (``swapped``), or no positional part."""
    token_rows, pos_rows = (pos_rows, "vocab_size") if swapped else ("vocab_size", pos_rows)
    cells = [
        fill("""
            vocab_size = 50257
            output_dim = 256
            @SIZES@
            token_embedding_layer = torch.nn.Embedding(@ROWS@, output_dim)
            """, rows=token_rows, sizes="context_length = 4\n" if swapped else ""),
        fill("""
            max_length = 4
            dataloader = @LOADER@(
                raw_text, batch_size=8, max_length=max_length, stride=max_length@EXTRA@
            )
            data_iter = iter(dataloader)
            inputs, targets = next(data_iter)
            print("Inputs shape:", inputs.shape)
            """, loader=loader_name, extra=loader_extra),
        "token_embeddings = token_embedding_layer(inputs)\nprint(token_embeddings.shape)",
    ]
    if not positional:
        return cells + ["input_embeddings = token_embeddings  # the positions come later\nprint(input_embeddings.shape)"]
    return cells + [
        fill("""
            context_length = max_length
            pos_embedding_layer = torch.nn.Embedding(@ROWS@, output_dim)
            """, rows=pos_rows),
        f"pos_embeddings = pos_embedding_layer({pos_ids})\nprint(pos_embeddings.shape)",
        "input_embeddings = token_embeddings + pos_embeddings\nprint(input_embeddings.shape)",
    ]


# The book repository's dataloader notebook: one cell of definitions, ``context_length = 1024``,
# and the batch taken in a loop as ``x``.
DATALOADER_SUMMARY = fill("""
    vocab_size = 50257
    output_dim = 256
    context_length = 1024

    token_embedding_layer = torch.nn.Embedding(vocab_size, output_dim)
    pos_embedding_layer = torch.nn.Embedding(context_length, output_dim)

    batch_size = 8
    max_length = 4
    dataloader = create_dataloader_v1(raw_text, batch_size=batch_size, max_length=max_length, stride=max_length)
    """)
DATALOADER_LOOP = fill("""
    for batch in dataloader:
        x, y = batch
        token_embeddings = token_embedding_layer(x)
        pos_embeddings = pos_embedding_layer(torch.arange(max_length))
        input_embeddings = token_embeddings + pos_embeddings
        break

    print(input_embeddings.shape)
    """)

# A class, as learners who package the chapter write it (the contract's InputEmbeddings).
INPUT_EMBEDDINGS_CLASS = """
    class InputEmbeddings(torch.nn.Module):
        def __init__(self, vocab_size, output_dim, context_length):
            super().__init__()
            self.token_embedding_layer = torch.nn.Embedding(vocab_size, output_dim)  @COMMENT@
            self.pos_embedding_layer = torch.nn.Embedding(context_length, output_dim)

        def forward(self, token_ids):
            positions = torch.arange(token_ids.shape[1], device=token_ids.device)
            return self.token_embedding_layer(token_ids) + self.pos_embedding_layer(positions)
    """
