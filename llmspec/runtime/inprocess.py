"""The in-process :class:`~llmspec.runtime.adapter.Adapter`: the implementation is imported into this process.

It is the one place that touches submission objects.  Everything it returns is a *wire value*
(see :mod:`llmspec.runtime.adapter`), normalised here, so the same tests run unchanged against the worker's
proxy (the worker runs this very class on the far side of a pipe).  Every exception raised by
implementation code becomes :class:`~llmspec.errors.ImplError` carrying only names and text.

Calling conventions follow how learners actually write chapter 2:

* ``create_dataloader_v1`` is called **by keyword**: learners often reorder or add parameters with
  defaults, and a positional call would silently bind ``stride`` to ``max_length``.
* ``GPTDatasetV1(txt, tokenizer, max_length, stride)`` is called **positionally**, exactly as
  Listing 2.6 calls it: parameter *names* vary among learners (``text``, ``max_len``), the order the
  book fixed does not.
"""
from __future__ import annotations

import functools
import inspect
import itertools
import math
import operator
import reprlib
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import torch

from llmspec.runtime import target as _target
from llmspec.runtime.adapter import Adapter, DatasetTokenizer, SpecialSet, run_chain, run_each
from llmspec.i18n import _
from llmspec.runtime.names import call_as_the_book, side_by_side
from llmspec.errors import HarnessError, ImplError, StageMissing
from llmspec.stages import STAGES, stage_modes
from llmspec.runtime.wire import DTYPES

_WIRE_DTYPES = frozenset(DTYPES.values())
_ONLY_INT = frozenset({int})

F = TypeVar("F", bound=Callable[..., Any])


class _LazyTracebackError(ImplError):
    """An :class:`ImplError` whose ``tb`` text is formatted on first read.

    Most implementation exceptions are *expected* (V1's ``KeyError`` on an unknown word, a dataset
    over too short a text) and their traceback is never shown; formatting it reads source lines for
    every frame.  The frames are summarised at once without source lines (no frame or submission
    object is kept alive), and turned into text only when a failure message or the worker's wire
    format asks for ``tb``."""

    def __init__(self, exc: BaseException, mro: list[str]):
        self._pending: traceback.TracebackException | None = traceback.TracebackException(
            type(exc), exc, exc.__traceback__, lookup_lines=False)
        super().__init__(type(exc).__name__, str(exc), mro)

    @property  # type: ignore[override]
    def tb(self) -> str:
        if self._tb is None:
            pending, self._pending = self._pending, None
            self._tb = "".join(pending.format()) if pending is not None else ""
        return self._tb

    @tb.setter
    def tb(self, value: str) -> None:
        self._tb = value or None  # ImplError.__init__ sets "" = "not formatted yet"


def to_impl_error(exc: BaseException) -> ImplError:
    """Names and text of an implementation's exception (never the object itself); the traceback
    text is formatted lazily (see :class:`_LazyTracebackError`)."""
    mro = [c.__name__ for c in type(exc).__mro__ if c is not object]
    return _LazyTracebackError(exc, mro)


def _wire_error(message: str) -> ImplError:
    return ImplError("TypeError", message, ["TypeError", "Exception", "BaseException"], "")


def _op(method: F) -> F:
    """Run an adapter operation under the target's conditions (scratch cwd, network blocked) and
    turn anything the implementation raises into :class:`ImplError`."""
    convert = _converting(method)

    @functools.wraps(method)
    def wrapper(self: "InProcessAdapter", *args: Any, **kwargs: Any) -> Any:
        with self.loaded.running():
            return convert(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _converting(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with anything the implementation raises turned into :class:`ImplError`."""

    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (HarnessError, ImplError, KeyboardInterrupt):
            raise
        except BaseException as exc:  # SystemExit from submission code is its failure too
            raise to_impl_error(exc) from None

    return call


def _unwrapped(self: "InProcessAdapter", method: Any, handle: int) -> Callable[[Any], Any]:
    """``method`` without its :func:`_op` wrapper, for inputs run inside one ``running()``; what
    the implementation raises still becomes :class:`ImplError`, input by input."""
    convert = _converting(method.__wrapped__)
    return lambda item: convert(self, handle, item)


# --- wire normalisation --------------------------------------------------------------------------


def _type_name(value: object) -> str:
    t = type(value)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def wire_ids(value: object, what: str) -> list[int]:
    """A list, tuple or 1-D integer tensor of token ids -> ``list[int]``; anything else (numpy
    arrays included: the book returns lists) is a TypeError naming what returned it."""
    if isinstance(value, torch.Tensor):
        t = wire_tensor(value, what)
        if t.dim() == 1 and t.numel() == 0:  # torch.tensor([]) is float32: still "no ids"
            return []
        if t.dtype.is_floating_point or t.dtype == torch.bool or t.dim() != 1:
            raise _wire_error(_("{what} returned a {dtype} tensor of shape {shape}; expected token ids (a list of "
                                "ints)").format(what=what, dtype=t.dtype, shape=list(t.shape)))
        return [int(x) for x in t.reshape(-1).tolist()]
    if not isinstance(value, (list, tuple)):
        raise _wire_error(_("{what} returned {type}; expected token ids (a list of ints)").format(
            what=what, type=_type_name(value)))
    if type(value) in (list, tuple) and _ONLY_INT.issuperset(map(type, value)):
        return list(value)  # plain ints already (the book's lists): no check per item needed
    ids = []
    for i, x in enumerate(value):
        if isinstance(x, bool) or not hasattr(type(x), "__index__"):
            raise _wire_error(_("{what} returned a sequence whose item {i} is {type} {value}; expected ints").format(
                what=what, i=i, type=_type_name(x), value=f"{x!r:.40}"))
        ids.append(operator.index(x))
    return ids


def wire_str(value: object, what: str) -> str:
    """An exact ``str`` (a subclass is copied to a plain str)."""
    if not isinstance(value, str):
        raise _wire_error(_("{what} returned {type}; expected a str").format(what=what, type=_type_name(value)))
    return str.__str__(value)


def wire_tensor(value: object, what: str) -> torch.Tensor:
    """A plain, detached, contiguous CPU copy of a tensor, same dtype and shape; never a subclass."""
    if not isinstance(value, torch.Tensor):
        raise _wire_error(_("{what} returned {type}; expected a torch.Tensor").format(what=what, type=_type_name(value)))
    with torch._C.DisableTorchFunctionSubclass():  # a subclass's hooks never run on our side
        # the worker can only send what llmspec.runtime.wire encodes: refuse the rest here too, so both
        # modes agree
        if value.layout != torch.strided or value.dtype not in _WIRE_DTYPES:
            raise _wire_error(_("{what} returned a {layout} {dtype} tensor; expected a dense tensor of one of "
                                "{dtypes}").format(what=what, layout=value.layout, dtype=value.dtype,
                                                   dtypes=", ".join(DTYPES)))
        t = value.detach().cpu().clone().contiguous()
        t = t.as_subclass(torch.Tensor)
    return t


def wire_pair(value: object, what: str) -> list[torch.Tensor]:
    """``(input, target)`` as returned by ``dataset[i]`` or one DataLoader batch."""
    if isinstance(value, torch.Tensor) or not isinstance(value, (list, tuple)) or len(value) != 2:
        raise _wire_error(_("{what} returned {type}; expected a pair (input_ids, target_ids)").format(
            what=what, type=_type_name(value)))
    return [wire_tensor(value[0], what + "[0]"), wire_tensor(value[1], what + "[1]")]


def _special(value: SpecialSet) -> Any:
    """Special-token sets as tiktoken takes them: lists become sets, "all" stays."""
    return value if value is None or value == "all" else set(value)


def manual_seed(seed: int) -> None:
    """What ``torch.manual_seed(seed)`` does to the CPU generator, which is all the book's seeded
    cells use.  ``torch.manual_seed`` also defers a seeding call to every accelerator backend that
    is not initialised yet, formatting a stack trace for each (about 3 ms per call here, a tenth of
    a warm in-kernel check); nothing in chapter 2 runs on an accelerator."""
    torch.default_generator.manual_seed(seed)


def _tiktoken_like(obj: object) -> bool:
    return all(hasattr(obj, a) for a in ("encode", "decode", "n_vocab"))


class FakeTokenizer:
    """Given to ``GPTDatasetV1`` so windowing is judged apart from BPE: ``encode`` returns a copy of
    fixed ids and records how it was called."""

    def __init__(self, ids: list[int]):
        self._ids = list(ids)
        self.calls: list[dict[str, Any]] = []

    def encode(self, text: Any, allowed_special: Any = None, disallowed_special: Any = None,
               **kw: Any) -> list[int]:
        if allowed_special is None or allowed_special == "all":
            allowed = allowed_special
        else:
            allowed = sorted(str(s) for s in allowed_special)
        self.calls.append({
            "method": "encode",
            "text": text if isinstance(text, str) else repr(text),
            "allowed_special": allowed,
        })
        return list(self._ids)


def _accepts(fn: Callable[..., Any], *names: str) -> list[bool]:
    """For each of ``names``, whether ``fn`` takes that keyword (or ``**kwargs``); True when it cannot
    be told.  One signature read for them all."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return [True] * len(names)
    anything = any(p.kind is p.VAR_KEYWORD for p in params)
    keywords = {p.name for p in params if p.kind is not p.POSITIONAL_ONLY}
    return [anything or name in keywords for name in names]


# Tensors (and layer weights) up to this many elements cross whole; bigger ones (the 50257 x 256
# token layer) only by shape and the rows the trusted side asks for.
STATE_MAX_ELEMENTS = 1 << 20


def _state_value(name: str, value: Any, rows: list[int] | None) -> dict[str, Any]:
    """One namespace value as :meth:`Adapter.state_read` describes it (never the object itself)."""
    kind = _type_name(value)
    if type(value) in (bool, int, str) or (type(value) is float and math.isfinite(value)):
        return {"type": kind, "value": value}
    if isinstance(value, torch.Tensor):
        with torch._C.DisableTorchFunctionSubclass():
            small = value.numel() <= STATE_MAX_ELEMENTS
            return {"type": kind, "shape": list(value.shape), "dtype": str(value.dtype).replace("torch.", ""),
                    "tensor": wire_tensor(value, name) if small else None}
    weight = getattr(value, "weight", None)
    if not isinstance(weight, torch.Tensor):
        return {"type": kind}
    with torch._C.DisableTorchFunctionSubclass():
        out: dict[str, Any] = {
            "type": kind,
            "is_embedding": isinstance(value, torch.nn.Embedding),
            "shape": list(weight.shape),
            "trainable": bool(weight.requires_grad),
            "weight": wire_tensor(weight, f"{name}.weight") if weight.numel() <= STATE_MAX_ELEMENTS else None,
        }
        if rows is not None and weight.dim() >= 1:
            index = torch.tensor([int(r) for r in rows if 0 <= int(r) < weight.shape[0]], dtype=torch.long)
            out["rows"] = wire_tensor(weight.detach()[index], f"{name}.weight[rows]")
    return out


def _wire_parameter(p: inspect.Parameter) -> dict[str, Any]:
    """One parameter of a signature as wire values; a default that is not a plain scalar is given
    by its (short) repr only, so no submission object crosses the wire."""
    has_default = p.default is not p.empty
    default = p.default if has_default else None
    plain = default is None or type(default) in (bool, int, float) or (type(default) is str and len(default) <= 80)
    return {
        "name": p.name,
        "kind": p.kind.name.lower(),
        "has_default": has_default,
        "default": default if plain else None,
        "default_repr": reprlib.repr(default)[:80] if has_default else None,
    }


def absent_parts(cls: Any, parts: tuple[str, ...]) -> list[str]:
    """The optional ``parts`` (``"method"`` or ``"method(param)"``, see
    :attr:`llmspec.stages.Stage.parts`) that the class ``cls`` lacks; read from the class and its
    signatures, nothing called.  A method taking ``**kwargs`` has every parameter."""
    if cls is None:
        return []
    out = []
    for part in parts:
        method, _, param = part.rstrip(")").partition("(")
        fn = inspect.getattr_static(cls, method, None)
        if fn is None:
            out.append(part)
            continue
        try:
            params = inspect.signature(getattr(cls, method)).parameters.values()
        except (TypeError, ValueError):  # no signature to read: assume the part is there
            continue
        if param and not any(p.name == param or p.kind is p.VAR_KEYWORD for p in params):
            out.append(part)
    return out


class InProcessAdapter(Adapter):
    """Answers adapter calls by calling a :class:`~llmspec.runtime.target.LoadedTarget` directly."""

    def __init__(self, loaded: _target.LoadedTarget):
        self.loaded = loaded
        self._handles: dict[int, tuple[str, Any]] = {}
        self._next = itertools.count(1)
        self._gpt2: Any = None

    @classmethod
    def from_target(cls, target: str | None, impl_map: dict[str, str] | None = None,
                    scratch: Path | None = None, strict_names: bool = False) -> "InProcessAdapter":
        """Resolve and load ``target`` (``None`` = the reference implementation); ``scratch`` is
        the working directory to run it in (default: a temporary one, removed by :meth:`close`);
        ``strict_names`` refuses near names (see :func:`llmspec.runtime.target.load`)."""
        spec = _target.resolve(target or "reference")
        return cls(_target.load(spec, impl_map, scratch, strict_names))

    def settle(self) -> None:
        """This process runs this target and no other until it exits (the worker): put the call
        conditions in force once instead of around every call (:meth:`LoadedTarget.settle`)."""
        self.loaded.settle()

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

    def _bpe(self) -> tuple[Any, str]:
        own = self.loaded.get("tokenizer")
        if own is not None and _tiktoken_like(own):
            return own, "target.tokenizer"
        if self._gpt2 is None:
            from llmspec import data

            self._gpt2 = data.gpt2_encoding()
        return self._gpt2, "tiktoken.get_encoding('gpt2')"

    # --- discovery -------------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        names = dict(self.loaded.names)
        state_names = {n for st in STAGES.values() for n in st.state_names}
        modes = stage_modes(names, {n for n in state_names if n in self.loaded.namespace})
        return {
            "target": self.loaded.spec.display,
            "kind": self.loaded.spec.kind,
            "names": names,
            "stages": {s: [] if s in modes else [n for n in st.names if names.get(n) is None]
                       for s, st in STAGES.items()},
            "judged": modes,
            "absent": {s: absent for s, st in STAGES.items() if st.parts and st.names
                       for absent in [absent_parts(self.loaded.get(st.names[0]), st.parts)] if absent},
            "hints": dict(self.loaded.hints),
            "notes": list(self.loaded.notes),
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
        tok = self._handle(handle, "tokenizer")
        return wire_ids(tok.encode(text), "encode")

    @_op
    def tokenizer_decode(self, handle: int, ids: list[int]) -> str:
        tok = self._handle(handle, "tokenizer")
        return wire_str(tok.decode(list(ids)), "decode")

    # One ``running()`` for the whole list: entering it (cwd, stdin, network block, a sys.modules
    # snapshot) costs more than one short encode.  Each input still fails on its own (Adapter).
    @_op
    def tokenizer_encode_many(self, handle: int, texts: list[str]) -> dict[str, Any]:
        return run_each(_unwrapped(self, InProcessAdapter.tokenizer_encode, handle), texts)

    @_op
    def tokenizer_decode_many(self, handle: int, ids_list: list[list[int]]) -> dict[str, Any]:
        return run_each(_unwrapped(self, InProcessAdapter.tokenizer_decode, handle), ids_list)

    @_op
    def tokenizer_chain_many(self, handle: int, start: Any, steps: list[str]) -> dict[str, Any]:
        return run_chain({"encode": _unwrapped(self, InProcessAdapter.tokenizer_encode, handle),
                          "decode": _unwrapped(self, InProcessAdapter.tokenizer_decode, handle)}, start, steps)

    # --- 2.5 -------------------------------------------------------------------------------------
    @_op
    def bpe_encode(self, text: str, allowed_special: SpecialSet = None,
                   disallowed_special: SpecialSet = None) -> list[int]:
        tok, _source = self._bpe()
        kw = {}
        if allowed_special is not None:
            kw["allowed_special"] = _special(allowed_special)
        if disallowed_special is not None:
            kw["disallowed_special"] = _special(disallowed_special)
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
                raise _wire_error(_("tokenizer.n_vocab is {type}; expected an int").format(type=_type_name(n_vocab)))
            n_vocab = operator.index(n_vocab)
        return {"n_vocab": n_vocab, "source": source}

    # --- 2.6 -------------------------------------------------------------------------------------
    @_op
    def dataset_new(self, txt: str, max_length: int, stride: int,
                    tokenizer: DatasetTokenizer = "gpt2") -> int:
        (cls,) = self._need("dataset")
        if tokenizer == "gpt2":
            tok: Any = self._bpe_plain()
            fake = None
        elif isinstance(tokenizer, dict) and "fake_ids" in tokenizer:
            tok = fake = FakeTokenizer([int(i) for i in tokenizer["fake_ids"]])
        else:
            raise HarnessError(f"dataset tokenizer must be 'gpt2' or {{'fake_ids': [...]}}, not {tokenizer!r}")
        dataset = self._book_call("GPTDatasetV1", cls, txt, tok, max_length, stride)  # positional, as Listing 2.6
        return self._new_handle("dataset", (dataset, fake))

    def _bpe_plain(self) -> Any:
        """The real GPT-2 encoding for a dataset (never the target's own ``tokenizer``: the dataset
        stage judges windowing, and the bpe stage judges the target's tokenizer)."""
        from llmspec import data

        return data.gpt2_encoding()

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
        # Older copies of the book (the MEAP notebook; the book repository's notebooks of late 2023,
        # whose create_dataloader(txt, batch_size, max_length, stride) has none of the three) define
        # the loader without shuffle, drop_last and/or num_workers: such a loader is judged as
        # DataLoader's defaults (shuffle=False, drop_last=False, no workers), so only the keywords it
        # accepts are passed; asking it to shuffle is the one thing it cannot do.
        kwargs: dict[str, Any] = dict(batch_size=batch_size, max_length=max_length, stride=stride)
        name = self.loaded.names.get("create_dataloader_v1") or "create_dataloader_v1"
        takes_shuffle, takes_drop_last, takes_workers = _accepts(create, "shuffle", "drop_last", "num_workers")
        if takes_shuffle:
            kwargs["shuffle"] = shuffle
        elif shuffle:
            raise _wire_error(_("{name} has no shuffle parameter, so it cannot shuffle (Listing 2.6 passes "
                              "shuffle=True on to the DataLoader); {signatures}").format(
                name=name, signatures=side_by_side("create_dataloader_v1", name, create)))
        if takes_drop_last:
            kwargs["drop_last"] = drop_last
        else:
            drop_last = False
        if takes_workers:
            kwargs["num_workers"] = num_workers
        elif num_workers:
            raise _wire_error(_("create_dataloader_v1 has no num_workers parameter (asked for {count})").format(
                count=num_workers))
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
        try:
            params = inspect.signature(create).parameters.values()
        except (TypeError, ValueError):
            return []
        return [_wire_parameter(p) for p in params]

    # --- 2.7 / 2.8 -------------------------------------------------------------------------------
    @_op
    def embeddings_new(self, vocab_size: int, output_dim: int, context_length: int,
                       seed: int | None = None) -> int:
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
        emb = self._handle(handle, "embeddings")
        return wire_tensor(emb(ids.clone()), "InputEmbeddings.forward")

    @_op
    def embeddings_backward(self, handle: int, ids: torch.Tensor,
                            grad_output: torch.Tensor) -> dict[str, torch.Tensor | None]:
        emb = self._handle(handle, "embeddings")
        layers = {a: getattr(emb, a, None) for a in ("token_embedding_layer", "pos_embedding_layer")}
        if isinstance(emb, torch.nn.Module):
            emb.zero_grad(set_to_none=True)
        for layer in layers.values():
            if isinstance(layer, torch.nn.Module):
                layer.zero_grad(set_to_none=True)
        with torch.enable_grad():
            out = emb(ids.clone())
            if not isinstance(out, torch.Tensor):
                raise _wire_error(_("{what} returned {type}; expected a torch.Tensor").format(
                    what="InputEmbeddings.forward", type=_type_name(out)))
            grad_output = grad_output.clone()
            if out.shape != grad_output.shape:  # what out.backward(grad_output) says, word for word
                raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of {grad_output.shape} and "
                                   f"output[0] has a shape of {out.shape}.")
            # the same gradients, bit for bit, as out.backward(grad_output) (d(sum(out * g))/d out = g
            # exactly), without the sympy import torch makes on its first backward with a gradient
            # argument (0.35 s, a tenth of the suite)
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
        out: dict[str, Any] = {}
        for name in names:
            name = str(name)
            if name in namespace:
                out[name] = _state_value(name, namespace[name], (rows or {}).get(name))
        return out

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
        tok = self._handle(handle, "bpe_scratch")
        # only when asked: the simple bonus notebook's encode(text) has no allowed_special
        kw = {} if allowed_special is None else {"allowed_special": _special(allowed_special)}
        return wire_ids(tok.encode(text, **kw), "BPETokenizerSimple.encode")

    @_op
    def bpe_scratch_decode(self, handle: int, ids: list[int]) -> str:
        tok = self._handle(handle, "bpe_scratch")
        return wire_str(tok.decode(list(ids)), "BPETokenizerSimple.decode")

    @_op
    def bpe_scratch_train(self, handle: int, text: str, vocab_size: int,
                          allowed_special: SpecialSet = None) -> None:
        tok = self._handle(handle, "bpe_scratch")
        if allowed_special is None:
            tok.train(text, vocab_size)
        else:
            tok.train(text, vocab_size, allowed_special=_special(allowed_special))
        return None

    @_op
    def bpe_scratch_state(self, handle: int) -> dict[str, Any]:
        tok = self._handle(handle, "bpe_scratch")
        vocab = getattr(tok, "vocab", None)
        merges = getattr(tok, "bpe_merges", None)
        state: dict[str, Any] = {"vocab_len": None, "merges": None, "specials": {}}
        if isinstance(vocab, dict):
            state["vocab_len"] = len(vocab)
            specials: dict[str, int] = {}
            for value in vocab.values():
                if isinstance(value, (bytes, bytearray)):  # a vocabulary of bytes, not of GPT-2's characters
                    value = bytes(value).decode("utf-8", "replace")
                if isinstance(value, str) and value.startswith("<|") and value.endswith("|>"):
                    text = str.__str__(value)
                    specials[text] = specials.get(text, 0) + 1
            state["specials"] = specials
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
