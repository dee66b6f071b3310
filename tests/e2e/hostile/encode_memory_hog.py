"""SimpleTokenizerV1.encode allocates memory without bound; every other listing is the book's.  The
worker's memory cap kills it; only the tokenizer_v1 stage may lose points."""
# llmspec-honest-stages: tokenizer_v2 bpe dataset dataloader embeddings

# @@BOOK_STYLE@@: the test pastes tests/suite/variants/correct/book_style.py here


def _hog_encode(self, text):
    hog = []
    while True:
        hog.append(bytearray(50 * 1024 * 1024))


SimpleTokenizerV1.encode = _hog_encode
