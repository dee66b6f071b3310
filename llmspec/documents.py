"""The documents golden values come from, named as a reader knows them.

The fixtures cite each golden value by its seed file (``fixtures/*.json``: ``source.document``,
with the provenance), which no learner can place.  A failure message names the document instead:
"printed in the book's chapter 2 (MEAP edition), 2.6", "the book's Chinese translation, 2.8", "the
embeddings guide".  The file names stay where maintainers look for them: the fixtures, and the
``documents`` field of each failed test in the ``--report`` JSON (:func:`cited`).
"""
from __future__ import annotations

from llmspec.i18n import _

PRINT_EDITION = "print edition of the book (not among the seeds; values computed by the reference from the verified data)"
TIKTOKEN_GOLDENS = "research/spec-suites.md P13 (tiktoken tests, book cell 74)"
BONUS_TESTS = "rasbt/LLMs-from-scratch ch02/05_bpe-from-scratch/tests.py"


def names() -> dict[str, str]:
    """Each document a fixture cites (``source.document``) as a reader knows it, in the learner's
    language (built on each call: the language may change)."""
    return {
        "000_9953371f2b0fc0d0.txt": _('the embeddings guide ("3. Token Embeddings")'),
        "001_52be6651b96e3b18.txt": _('the blog post "Building LLM part 2"'),
        "002_7f7806e88e8c52a4.txt": _("printed in the book's chapter 2 (MEAP edition)"),
        "003_26158f6a5bd1e0ed.txt": _("the book's Chinese translation"),
        "004_4163245e9f5aa4d5.txt": _("the Korean embeddings guide"),
        PRINT_EDITION: _("the book's print edition (computed by the reference from the book's data)"),
        TIKTOKEN_GOLDENS: _("tiktoken's own tests and the book repository's notebook"),
        BONUS_TESTS: _("the tests of the book repository's bonus BPE notebook"),
    }


def described(document: str) -> str:
    """What ``document`` is, in the learner's language; a document :func:`names` does not know is
    named as it is."""
    return names().get(document, document)


def cited(message: str) -> list[str]:
    """The documents (as the fixtures name them) a failure message cites: the maintainer's view of
    the reader's names in it (the message must be in the language in force)."""
    return [doc for doc, name in names().items() if name in message]
