"""Nothing of its own: the grader's reference implementation, imported by name."""
# expect-flags: imports
# expect-score: 0
from reference.tokenizers import SimpleTokenizerV1, SimpleTokenizerV2
from reference.dataset import GPTDatasetV1, create_dataloader_v1
from reference.embeddings import InputEmbeddings
