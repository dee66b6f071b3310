"""create_dataloader_v1 calls os._exit(0) (a grader reading exit codes would see a success); every
other listing is the book's.  The dead worker costs the dataloader stage only."""
# llmspec-honest-stages: tokenizer_v1 tokenizer_v2 bpe dataset embeddings
import os

# @@BOOK_STYLE@@: the test pastes tests/suite/variants/correct/book_style.py here


def create_dataloader_v1(*args, **kwargs):  # noqa: F811 - the attack replaces the book's function
    print("12 passed in 0.01s")
    os._exit(0)
