"""Byte-level BPE from scratch (being written; see issue 5)."""


class BPETokenizerSimple:  # placeholder until the real module lands this session
    def __init__(self) -> None:
        raise NotImplementedError("reference.bpe_scratch is not written yet")
