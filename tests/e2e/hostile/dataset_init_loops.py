"""GPTDatasetV1.__init__ never returns; every other listing is the book's (the dataloader builds a
GPTDatasetV1, so its stage hangs too).  Graded stage by stage, the hang costs its own stages only."""
# llmspec-honest-stages: tokenizer_v1 tokenizer_v2 bpe embeddings

# @@BOOK_STYLE@@: the test pastes tests/suite/variants/correct/book_style.py here


class GPTDatasetV1(GPTDatasetV1):  # noqa: F811 - the attack replaces the book's class
    def __init__(self, txt, tokenizer, max_length, stride):
        while True:
            pass
