"""The stages of chapter 2 and the names each one needs from an implementation.

This table is the single source of truth for stage names: the pytest markers, ``--stages``, the
"not implemented" check, grading points and the reports all read it.  Names are the book's.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    name: str
    title: str
    section: str  # where the book introduces it
    names: tuple[str, ...]  # contract names the implementation must define
    optional: bool = False  # runs only when selected, or when the target defines its names
    # Variables the book's inline code leaves (no class): a target that defines none of ``names`` but
    # one of these is judged from the state its code left (see ``STATE_TEST_PREFIX``).
    state_names: tuple[str, ...] = ()
    # Optional parts of the class that some tests need (``@pytest.mark.part("method(param)")``): a class
    # without one gets those tests reported once as not run, and the rest of the stage judged.
    parts: tuple[str, ...] = ()


# The variables of the book's inline 2.7-2.8 cells that the embeddings stage reads when judged from
# state (``inputs`` is the chapter's batch; the book repository's dataloader notebook calls it ``x``).
EMBEDDINGS_STATE: tuple[str, ...] = (
    "embedding_layer", "token_embedding_layer", "pos_embedding_layer", "vocab_size", "output_dim",
    "context_length", "max_length", "inputs", "x", "token_embeddings", "pos_embeddings", "input_embeddings")

STAGES: dict[str, Stage] = {
    s.name: s
    for s in (
        Stage("tokenizer_v1", "SimpleTokenizerV1", "2.3, Listing 2.3", ("SimpleTokenizerV1",)),
        Stage("tokenizer_v2", "SimpleTokenizerV2", "2.4, Listing 2.4", ("SimpleTokenizerV2",)),
        # tiktoken's "gpt2": the target's module-level ``tokenizer`` when tiktoken-like, else
        # ``tiktoken.get_encoding("gpt2")`` in the target's process, if the target uses tiktoken at all
        # (``names.uses_tiktoken``, ``names.imports_tiktoken``; else "missing tiktoken").
        Stage("bpe", "GPT-2 byte pair encoding (tiktoken)", "2.5", ()),
        Stage("dataset", "GPTDatasetV1", "2.6, Listing 2.5", ("GPTDatasetV1",)),
        Stage("dataloader", "create_dataloader_v1", "2.6, Listing 2.6", ("create_dataloader_v1",)),
        # The book builds 2.7-2.8 inline, with no class: token_embedding_layer, pos_embedding_layer.
        Stage("embeddings", "token + positional embeddings", "2.7-2.8", ("InputEmbeddings",),
              state_names=("token_embedding_layer", "pos_embedding_layer")),
        Stage("bpe_scratch", "byte-level BPE from scratch (bonus)", "bonus: bpe-from-scratch", ("BPETokenizerSimple",),
              optional=True, parts=("load_vocab_and_merges_from_openai", "encode(allowed_special)")),
    )
}

CORE_STAGES: tuple[str, ...] = tuple(n for n, s in STAGES.items() if not s.optional)
EDITIONS: tuple[str, ...] = ("print", "meap")

# Every contract name any stage may ask for (an instructor may remap each with --impl-map).
# ``tokenizer`` is the book's module-level ``tokenizer = tiktoken.get_encoding("gpt2")`` (2.5).
CONTRACT_NAMES: tuple[str, ...] = tuple(
    dict.fromkeys(n for s in STAGES.values() for n in s.names)
) + ("tokenizer",)


# Tests named ``test_state_*`` judge a stage from the state the target's code left, the others through
# the book's class; grading splits a stage's points over the tests of the way its target is judged.
STATE_TEST_PREFIX = "test_state_"


def judged_from_state(test_id: str) -> bool:
    """Whether a test id (``file::test_name[params]``) is one of the state-mode tests."""
    name = test_id.rsplit("::", 1)[-1]
    return name.startswith(STATE_TEST_PREFIX)


def stage_modes(names: dict[str, object], namespace_has: "set[str] | frozenset[str]") -> dict[str, str]:
    """``{stage: "state"}`` for each stage whose contract names are all missing from ``names``
    (contract name -> found name or None) while the namespace holds one of its state names."""
    out = {}
    for stage in STAGES.values():
        if not stage.state_names or any(names.get(n) is not None for n in stage.names):
            continue
        if any(n in namespace_has for n in stage.state_names):
            out[stage.name] = "state"
    return out


# How the book (for InputEmbeddings, the contract) calls each name: shown beside a learner's signature
# that does not fit, and what "did you mean" hints rank candidates by.
BOOK_SIGNATURES: dict[str, str] = {
    "SimpleTokenizerV1": "SimpleTokenizerV1(vocab)",
    "SimpleTokenizerV2": "SimpleTokenizerV2(vocab)",
    "GPTDatasetV1": "GPTDatasetV1(txt, tokenizer, max_length, stride)",
    "create_dataloader_v1": "create_dataloader_v1(txt, batch_size=4, max_length=256, stride=128, shuffle=True, "
                            "drop_last=True, num_workers=0)",
    "InputEmbeddings": "InputEmbeddings(vocab_size, output_dim, context_length)",
    "BPETokenizerSimple": "BPETokenizerSimple()",
}
# Other names the book's own code has used for a contract name (accepted with a note unless names
# are strict): the book repository's earlier notebooks call the loader create_dataloader.
BOOK_ALIASES: dict[str, tuple[str, ...]] = {"create_dataloader_v1": ("create_dataloader",)}


def parse_stages(text: str | None) -> tuple[str, ...] | None:
    """Parse ``--stages a,b`` (or ``all``); ``None`` means "the default selection"."""
    if not text:
        return None
    if text.strip() == "all":
        return tuple(STAGES)
    names = tuple(dict.fromkeys(p.strip() for p in text.split(",") if p.strip()))
    unknown = [n for n in names if n not in STAGES]
    if unknown:
        from llmspec.i18n import _

        raise ValueError(_("unknown stage(s) {names}; choose from {stages} or 'all'").format(
            names=", ".join(unknown), stages=", ".join(STAGES)))
    return names
