"""The in-process :class:`~llmspec.runtime.adapter.Adapter`: the one place that touches submission objects.

Everything it returns is a wire value (:mod:`llmspec.runtime.normalise`), so the same tests run against
the worker's proxy (the worker runs this very class on the far side of a pipe); every exception raised
by implementation code becomes :class:`~llmspec.errors.ImplError` carrying only names and text.
``create_dataloader_v1`` is called by keyword (learners reorder and add parameters with defaults), and
``GPTDatasetV1(txt, tokenizer, max_length, stride)`` positionally, as Listing 2.6 calls it (learners'
parameter names vary, the book's order does not).
"""
from __future__ import annotations

import collections
import functools
import itertools
import operator
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import torch

from llmspec import data
from llmspec.errors import HarnessError, ImplError, StageMissing
from llmspec.i18n import _
from llmspec.runtime import target as _target
from llmspec.runtime.adapter import Adapter, DatasetTokenizer, SpecialSet
from llmspec.runtime.loaders import Skipped
from llmspec.runtime.names import (accepts_keywords, call_as_the_book, imports_tiktoken, misspelt, side_by_side,
                                   signature_of, uses_tiktoken)
from llmspec.runtime.normalise import (FakeTokenizer, absent_parts, state_value, to_impl_error, type_name,
                                        wire_error, wire_ids, wire_pair, wire_parameter, wire_str, wire_tensor)
from llmspec.stages import STAGES, stage_modes

F = TypeVar("F", bound=Callable[..., Any])


def _op(method: F) -> F:
    """Run an adapter operation under the target's conditions (scratch cwd, network blocked) and
    turn anything the implementation raises into :class:`ImplError`."""

    @functools.wraps(method)
    def wrapper(self: "InProcessAdapter", *args: Any, **kwargs: Any) -> Any:
        with self.loaded.running():
            try:
                return method(self, *args, **kwargs)
            except (HarnessError, ImplError, KeyboardInterrupt):
                raise
            except BaseException as exc:  # SystemExit from submission code is its failure too
                raise to_impl_error(exc) from None

    return wrapper  # type: ignore[return-value]


def _special_keywords(**sets: SpecialSet) -> dict[str, Any]:
    """The special-token keywords asked for, as tiktoken takes them (lists become sets, "all" stays); one
    not asked for is not passed at all (the simple bonus notebook's ``encode(text)`` has none)."""
    return {key: value if value == "all" else set(value) for key, value in sets.items() if value is not None}


def manual_seed(seed: int) -> None:
    """What ``torch.manual_seed(seed)`` does to the CPU generator, all that chapter 2 uses, without
    the seeding it defers to every accelerator backend (3 ms a call, a tenth of a warm in-kernel check)."""
    torch.default_generator.manual_seed(seed)


class InProcessAdapter(Adapter):
    """Answers adapter calls by calling a :class:`~llmspec.runtime.target.LoadedTarget` directly."""

    def __init__(self, loaded: _target.LoadedTarget):
        self.loaded = loaded
        self._handles: dict[int, tuple[str, Any]] = {}
        self._next = itertools.count(1)

    @classmethod
    def from_target(cls, target: str | None, impl_map: dict[str, str] | None = None,
                    scratch: Path | None = None, strict_names: bool = False) -> "InProcessAdapter":
        """Resolve and :func:`~llmspec.runtime.target.load` ``target`` (``None``: the reference)."""
        return cls(_target.load(_target.resolve(target or "reference"), impl_map, scratch, strict_names))

    # --- helpers ---------------------------------------------------------------------------------
    def _need(self, stage: str) -> list[Any]:
        """The target's objects for ``stage``'s names, or :class:`StageMissing`."""
        names = STAGES[stage].names
        missing = [n for n in names if self.loaded.names.get(n) is None]
        if missing:
            raise StageMissing(stage, missing)
        return [self.loaded.get(n) for n in names]

    def _book_call(self, contract: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Call the target's ``contract`` object as the book does (see :func:`call_as_the_book`)."""
        return call_as_the_book(contract, self.loaded.names.get(contract) or contract, fn, *args, **kwargs)

    def _new_handle(self, kind: str, obj: Any) -> int:
        handle = next(self._next)
        self._handles[handle] = (kind, obj)
        return handle

    def _handle(self, handle: int, kind: str) -> Any:
        entry = self._handles.get(handle)
        if entry is None or entry[0] != kind:
            raise HarnessError(f"handle {handle!r} is not a live {kind} handle")
        return entry[1]

    def _own_bpe(self) -> Any:
        """The target's own module-level ``tokenizer`` (2.5) when it is tiktoken-like, else ``None``."""
        own = self.loaded.get("tokenizer")
        return own if own is not None and all(hasattr(own, a) for a in ("encode", "decode", "n_vocab")) else None

    def _bpe(self) -> tuple[Any, str]:
        """The tokenizer the bpe stage runs on: the target's own (:meth:`_own_bpe`), else GPT-2's."""
        own = self._own_bpe()
        return (own, "target.tokenizer") if own is not None else (data.gpt2_encoding(), "tiktoken.get_encoding('gpt2')")

    # --- discovery -------------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        names = dict(self.loaded.names)
        state_names = {n for st in STAGES.values() for n in st.state_names}
        modes = stage_modes(names, {n for n in state_names if self.loaded.state_name(n)})
        stages = {s: [] if s in modes else [n for n in st.names if names.get(n) is None] for s, st in STAGES.items()}
        hints = dict(self.loaded.hints)
        if not (uses_tiktoken(self.loaded.namespace) or self._own_bpe() is not None
                or imports_tiktoken(self.loaded.sources())):
            stages["bpe"] = ["tiktoken"]
            hints["tiktoken"] = _("2.5 encodes with GPT-2's BPE from tiktoken (tokenizer = "
                                  "tiktoken.get_encoding(\"gpt2\")); nothing in your code uses tiktoken")
        return {
            "target": self.loaded.spec.display,
            "kind": self.loaded.spec.kind,
            "names": names,
            "stages": stages,
            "judged": modes,
            "absent": {s: absent for s, st in STAGES.items() if st.parts and st.names
                       for absent in [absent_parts(self.loaded.get(st.names[0]), st.parts)] if absent},
            "hints": hints,
            "notes": list(self.loaded.notes),
            "skipped": sum(isinstance(n, Skipped) for n in self.loaded.notes),
        }

    # --- 2.3 / 2.4 -------------------------------------------------------------------------------
    @_op
    def tokenizer_new(self, version: int, vocab: dict[str, int]) -> int:
        stage = {1: "tokenizer_v1", 2: "tokenizer_v2"}.get(version)
        if stage is None:
            raise HarnessError(f"tokenizer version must be 1 or 2, not {version!r}")
        (cls,) = self._need(stage)
        return self._new_handle("tokenizer", self._book_call(STAGES[stage].names[0], cls, dict(vocab)))

    @_op
    def tokenizer_encode(self, handle: int, text: str) -> list[int]:
        return wire_ids(self._handle(handle, "tokenizer").encode(text), "encode")

    @_op
    def tokenizer_decode(self, handle: int, ids: list[int]) -> str:
        return wire_str(self._handle(handle, "tokenizer").decode(list(ids)), "decode")

    # --- 2.5 -------------------------------------------------------------------------------------
    @_op
    def bpe_encode(self, text: str, allowed_special: SpecialSet = None,
                   disallowed_special: SpecialSet = None) -> list[int]:
        tok, _source = self._bpe()
        kw = _special_keywords(allowed_special=allowed_special, disallowed_special=disallowed_special)
        return wire_ids(tok.encode(text, **kw), "tokenizer.encode")

    @_op
    def bpe_decode(self, ids: list[int]) -> str:
        tok, _source = self._bpe()
        return wire_str(tok.decode(list(ids)), "tokenizer.decode")

    @_op
    def bpe_info(self) -> dict[str, Any]:
        tok, source = self._bpe()
        n_vocab = getattr(tok, "n_vocab", None)
        if n_vocab is not None:
            if isinstance(n_vocab, bool) or not hasattr(type(n_vocab), "__index__"):
                raise wire_error(_("tokenizer.n_vocab is {type}; expected an int").format(type=type_name(n_vocab)))
            n_vocab = operator.index(n_vocab)
        return {"n_vocab": n_vocab, "source": source}

    # --- 2.6 -------------------------------------------------------------------------------------
    @_op
    def dataset_new(self, txt: str, max_length: int, stride: int, tokenizer: DatasetTokenizer = "gpt2") -> int:
        (cls,) = self._need("dataset")
        if tokenizer == "gpt2":  # never the target's own tokenizer: this stage judges windowing, not BPE
            tok: Any = data.gpt2_encoding()
            fake = None
        elif isinstance(tokenizer, dict) and "fake_ids" in tokenizer:
            tok = fake = FakeTokenizer([int(i) for i in tokenizer["fake_ids"]])
        else:
            raise HarnessError(f"dataset tokenizer must be 'gpt2' or {{'fake_ids': [...]}}, not {tokenizer!r}")
        dataset = self._book_call("GPTDatasetV1", cls, txt, tok, max_length, stride)  # positional, as Listing 2.6
        return self._new_handle("dataset", (dataset, fake))

    @_op
    def dataset_len(self, handle: int) -> int:
        dataset, _fake = self._handle(handle, "dataset")
        return operator.index(len(dataset))

    @_op
    def dataset_items(self, handle: int, indices: list[int]) -> list[list[torch.Tensor]]:
        dataset, _fake = self._handle(handle, "dataset")
        return [wire_pair(dataset[int(i)], f"dataset[{int(i)}]") for i in indices]

    @_op
    def dataset_tokenizer_calls(self, handle: int) -> list[dict[str, Any]]:
        _dataset, fake = self._handle(handle, "dataset")
        return [dict(c) for c in fake.calls] if fake is not None else []

    @_op
    def dataloader_batches(self, txt: str, batch_size: int, max_length: int, stride: int,
                           shuffle: bool, drop_last: bool, num_workers: int = 0,
                           seed: int | None = None, max_batches: int | None = None) -> dict[str, Any]:
        (create,) = self._need("dataloader")
        # Older copies of the book (the MEAP notebook, the book repository's notebooks of late 2023) lack
        # shuffle, drop_last and/or num_workers: such a loader gets only the keywords it accepts and is
        # judged with DataLoader's defaults; asking it to shuffle is the one thing it cannot do.
        asked = {"shuffle": shuffle, "drop_last": drop_last, "num_workers": num_workers}
        takes = dict(zip(asked, accepts_keywords(create, *asked)))
        name = self.loaded.names.get("create_dataloader_v1") or "create_dataloader_v1"
        for keyword in (k for k in asked if not takes[k]):
            typo = misspelt(create, keyword, asked[keyword])
            if typo is not None:  # left out, its default would stand for what the test asked
                raise wire_error(_("{name} has no {keyword} parameter, and its parameter {typo} looks like it "
                                   "misspelt: Listing 2.6 calls it {keyword}; {signatures}").format(
                    name=name, keyword=keyword, typo=typo,
                    signatures=side_by_side("create_dataloader_v1", name, create)))
        if shuffle and not takes["shuffle"]:
            raise wire_error(_("{name} has no shuffle parameter, so it cannot shuffle (Listing 2.6 passes "
                              "shuffle=True on to the DataLoader); {signatures}").format(
                name=name, signatures=side_by_side("create_dataloader_v1", name, create)))
        if num_workers and not takes["num_workers"]:
            raise wire_error(_("create_dataloader_v1 has no num_workers parameter (asked for {count})").format(
                count=num_workers))
        kwargs = dict(batch_size=batch_size, max_length=max_length, stride=stride,
                      **{key: value for key, value in asked.items() if takes[key]})
        drop_last = drop_last and takes["drop_last"]
        if seed is not None:
            manual_seed(seed)
        loader = self._book_call("create_dataloader_v1", create, txt, **kwargs)
        cls = type(loader)
        try:
            length: int | None = operator.index(len(loader))
        except TypeError:
            length = None
        if seed is not None:
            manual_seed(seed)
        batches = []
        if max_batches != 0:  # 0: judge the loader's attributes only, never start its workers
            iterator = iter(loader)
            try:
                for i, batch in enumerate(iterator):
                    if max_batches is not None and i >= max_batches:
                        break
                    batches.append(wire_pair(batch, f"batch {i}"))
            finally:
                del iterator  # shuts DataLoader worker processes down now, not at garbage collection
        workers = getattr(loader, "num_workers", None)
        return {
            "type": f"{cls.__module__}.{cls.__qualname__}",
            "is_dataloader": isinstance(loader, torch.utils.data.DataLoader),
            "len": length,
            "drop_last": drop_last,
            "batches": batches,
            "num_workers": workers if type(workers) is int else None,
        }

    @_op
    def dataloader_signature(self) -> list[dict[str, Any]]:
        (create,) = self._need("dataloader")
        sig = signature_of(create)
        return [] if sig is None else [wire_parameter(p) for p in sig.parameters.values()]

    # --- 2.7 / 2.8 -------------------------------------------------------------------------------
    @_op
    def embeddings_new(self, vocab_size: int, output_dim: int, context_length: int, seed: int | None = None) -> int:
        (cls,) = self._need("embeddings")
        if seed is not None:
            manual_seed(seed)
        return self._new_handle("embeddings", self._book_call("InputEmbeddings", cls, vocab_size, output_dim,
                                                              context_length))

    @_op
    def embeddings_state(self, handle: int) -> dict[str, Any]:
        emb = self._handle(handle, "embeddings")
        state: dict[str, Any] = {"is_module": isinstance(emb, torch.nn.Module)}
        for attr, key in (("token_embedding_layer", "token"), ("pos_embedding_layer", "pos")):
            layer = getattr(emb, attr, None)
            weight = getattr(layer, "weight", None) if layer is not None else None
            state[attr] = None if weight is None else wire_tensor(weight, f"{attr}.weight")
            state[f"{key}_is_embedding"] = isinstance(layer, torch.nn.Embedding)
            state[f"{key}_trainable"] = bool(getattr(weight, "requires_grad", False))
        return state

    @_op
    def embeddings_forward(self, handle: int, ids: torch.Tensor) -> torch.Tensor:
        return wire_tensor(self._handle(handle, "embeddings")(ids.clone()), "InputEmbeddings.forward")

    @_op
    def embeddings_backward(self, handle: int, ids: torch.Tensor,
                            grad_output: torch.Tensor) -> dict[str, torch.Tensor | None]:
        emb = self._handle(handle, "embeddings")
        layers = {a: getattr(emb, a, None) for a in ("token_embedding_layer", "pos_embedding_layer")}
        for module in (emb, *layers.values()):
            if isinstance(module, torch.nn.Module):
                module.zero_grad(set_to_none=True)
        with torch.enable_grad():
            out = emb(ids.clone())
            if not isinstance(out, torch.Tensor):
                raise wire_error(_("{what} returned {type}; expected a torch.Tensor").format(
                    what="InputEmbeddings.forward", type=type_name(out)))
            grad_output = grad_output.clone()
            if out.shape != grad_output.shape:  # what out.backward(grad_output) says, word for word
                raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of {grad_output.shape} and "
                                   f"output[0] has a shape of {out.shape}.")
            # the same gradients, bit for bit, as out.backward(grad_output), without the sympy import
            # torch makes on its first backward with a gradient argument (0.35 s, a tenth of the suite)
            (out * grad_output).sum().backward()
        grads: dict[str, torch.Tensor | None] = {}
        for attr, layer in layers.items():
            grad = getattr(getattr(layer, "weight", None), "grad", None)
            grads[attr] = None if grad is None else wire_tensor(grad, f"{attr}.weight.grad")
        return grads

    # --- state -----------------------------------------------------------------------------------
    @_op
    def state_read(self, names: list[str], rows: dict[str, list[int]] | None = None) -> dict[str, Any]:
        namespace = self.loaded.namespace
        return {name: state_value(name, namespace[own], (rows or {}).get(name))
                for name in map(str, names) for own in [self.loaded.state_name(name)] if own}

    # --- bonus: BPE from scratch -----------------------------------------------------------------
    @_op
    def bpe_scratch_new(self, encoder_json: str | None, vocab_bpe: str | None) -> int:
        (cls,) = self._need("bpe_scratch")
        tok = cls()
        if encoder_json is not None and vocab_bpe is not None:
            # keyword names from the book repo's bpe-from-scratch notebook
            tok.load_vocab_and_merges_from_openai(vocab_path=encoder_json, bpe_merges_path=vocab_bpe)
        return self._new_handle("bpe_scratch", tok)

    @_op
    def bpe_scratch_encode(self, handle: int, text: str, allowed_special: SpecialSet = None) -> list[int]:
        kw = _special_keywords(allowed_special=allowed_special)
        return wire_ids(self._handle(handle, "bpe_scratch").encode(text, **kw), "BPETokenizerSimple.encode")

    @_op
    def bpe_scratch_decode(self, handle: int, ids: list[int]) -> str:
        return wire_str(self._handle(handle, "bpe_scratch").decode(list(ids)), "BPETokenizerSimple.decode")

    @_op
    def bpe_scratch_train(self, handle: int, text: str, vocab_size: int,
                          allowed_special: SpecialSet = None) -> None:
        kw = _special_keywords(allowed_special=allowed_special)
        self._handle(handle, "bpe_scratch").train(text, vocab_size, **kw)

    @_op
    def bpe_scratch_state(self, handle: int) -> dict[str, Any]:
        tok = self._handle(handle, "bpe_scratch")
        vocab = getattr(tok, "vocab", None)
        merges = getattr(tok, "bpe_merges", None)
        state: dict[str, Any] = {"vocab_len": None, "merges": None, "specials": {}}
        if isinstance(vocab, dict):
            state["vocab_len"] = len(vocab)
            specials: collections.Counter[str] = collections.Counter()
            for value in vocab.values():
                if isinstance(value, (bytes, bytearray)):  # a vocabulary of bytes, not of GPT-2's characters
                    value = bytes(value).decode("utf-8", "replace")
                if isinstance(value, str) and value.startswith("<|") and value.endswith("|>"):
                    specials[str.__str__(value)] += 1
            state["specials"] = dict(specials)
        if isinstance(merges, dict):
            state["merges"] = [[*wire_ids(list(pair), "BPETokenizerSimple.bpe_merges key"),
                                *wire_ids([new], "BPETokenizerSimple.bpe_merges value")]
                               for pair, new in merges.items()]
        return state

    # --- lifetime --------------------------------------------------------------------------------
    def release(self, handle: int) -> None:
        self._handles.pop(handle, None)

    def close(self) -> None:
        self._handles.clear()
        self.loaded.close()
