"""What an implementation returns, made into wire values on its own side of the adapter.

Ids become ``list[int]``, text an exact ``str``, tensors plain detached contiguous CPU copies of a
dtype :mod:`llmspec.runtime.wire` can carry; anything else is a ``TypeError`` (an
:class:`~llmspec.errors.ImplError`) that names what returned it, in both modes alike.  Objects of the
target (a layer, a default argument) never cross: only their shape, type name or short repr.
"""
from __future__ import annotations

import inspect
import math
import operator
import os
import reprlib
import site
import sys
import sysconfig
import traceback
from pathlib import Path
from typing import Any

import torch

from llmspec.errors import ImplError
from llmspec.i18n import _
from llmspec.runtime.wire import DTYPES

_WIRE_DTYPES = frozenset(DTYPES.values())
_ONLY_INT = frozenset({int})
# Tensors (and layer weights) up to this many elements cross whole; bigger ones (the 50257 x 256
# token layer) only by shape and the rows the trusted side asks for.
STATE_MAX_ELEMENTS = 1 << 20


def wire_error(message: str) -> ImplError:
    return ImplError("TypeError", message, ["TypeError", "Exception", "BaseException"], "")


def type_name(value: object) -> str:
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
            raise wire_error(_("{what} returned a {dtype} tensor of shape {shape}; expected token ids (a list of "
                                "ints)").format(what=what, dtype=t.dtype, shape=list(t.shape)))
        return [int(x) for x in t.reshape(-1).tolist()]
    if not isinstance(value, (list, tuple)):
        raise wire_error(_("{what} returned {type}; expected token ids (a list of ints)").format(
            what=what, type=type_name(value)))
    if type(value) in (list, tuple) and _ONLY_INT.issuperset(map(type, value)):
        return list(value)  # plain ints already (the book's lists): no check per item needed
    ids = []
    for i, x in enumerate(value):
        if isinstance(x, bool) or not hasattr(type(x), "__index__"):
            raise wire_error(_("{what} returned a sequence whose item {i} is {type} {value}; expected ints").format(
                what=what, i=i, type=type_name(x), value=f"{x!r:.40}"))
        ids.append(operator.index(x))
    return ids


def wire_str(value: object, what: str) -> str:
    """An exact ``str`` (a subclass is copied to a plain str)."""
    if not isinstance(value, str):
        raise wire_error(_("{what} returned {type}; expected a str").format(what=what, type=type_name(value)))
    return str.__str__(value)


def wire_tensor(value: object, what: str) -> torch.Tensor:
    """A plain, detached, contiguous CPU copy of a tensor, same dtype and shape; never a subclass."""
    if not isinstance(value, torch.Tensor):
        raise wire_error(_("{what} returned {type}; expected a torch.Tensor").format(what=what, type=type_name(value)))
    with torch._C.DisableTorchFunctionSubclass():  # a subclass's hooks never run on our side
        # only what llmspec.runtime.wire can carry, so both modes agree
        if value.layout != torch.strided or value.dtype not in _WIRE_DTYPES:
            raise wire_error(_("{what} returned a {layout} {dtype} tensor; expected a dense tensor of one of "
                                "{dtypes}").format(what=what, layout=value.layout, dtype=value.dtype,
                                                   dtypes=", ".join(DTYPES)))
        return value.detach().cpu().clone().contiguous().as_subclass(torch.Tensor)


def wire_pair(value: object, what: str) -> list[torch.Tensor]:
    """``(input, target)`` as returned by ``dataset[i]`` or one DataLoader batch."""
    if isinstance(value, torch.Tensor) or not isinstance(value, (list, tuple)) or len(value) != 2:
        raise wire_error(_("{what} returned {type}; expected a pair (input_ids, target_ids)").format(
            what=what, type=type_name(value)))
    return [wire_tensor(value[0], what + "[0]"), wire_tensor(value[1], what + "[1]")]


class FakeTokenizer:
    """Given to ``GPTDatasetV1`` so windowing is judged apart from BPE: ``encode`` returns a copy of
    fixed ids and records how it was called."""

    def __init__(self, ids: list[int]):
        self._ids = list(ids)
        self.calls: list[dict[str, Any]] = []

    def encode(self, text: Any, allowed_special: Any = None, disallowed_special: Any = None,
               **kw: Any) -> list[int]:
        if allowed_special is not None and allowed_special != "all":
            allowed_special = sorted(str(s) for s in allowed_special)
        self.calls.append({"method": "encode", "text": text if isinstance(text, str) else repr(text),
                           "allowed_special": allowed_special})
        return list(self._ids)


def state_value(name: str, value: Any, rows: list[int] | None) -> dict[str, Any]:
    """One namespace value as :meth:`Adapter.state_read` describes it (never the object itself)."""
    kind = type_name(value)
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


def wire_parameter(p: inspect.Parameter) -> dict[str, Any]:
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


def to_impl_error(exc: BaseException) -> ImplError:
    """Names and text of an implementation's exception (never the object itself)."""
    mro = [c.__name__ for c in type(exc).__mro__ if c is not object]
    return ImplError(type(exc).__name__, str(exc), mro, learners_traceback(exc))


# Where code that is not the learner's lives: Python's libraries (torch, tiktoken, re; the user's and
# the system's site-packages too) and this harness.
_NOT_THE_LEARNERS = tuple({os.path.join(p, "") for p in (
    *(sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")),
    site.getusersitepackages(), *(p for p in sys.path if p.endswith(("site-packages", "dist-packages"))),
    str(Path(__file__).resolve().parents[1]))})


def is_learners(filename: str) -> bool:
    """Whether a traceback frame's file is the learner's code (a file, a notebook cell), not Python's
    libraries, this harness, or code Python makes itself (``<frozen importlib._bootstrap>``, ``<string>``)."""
    return not filename.startswith(_NOT_THE_LEARNERS) and not (filename.startswith("<") and filename.endswith(">"))


def learners_traceback(exc: BaseException) -> str:
    """The traceback from the learner's first frame to their last one, then the exception: the
    harness's frames that called in, and the library frames below the learner's last line (a
    ``re`` error deep in its parser), are left out, so the few lines a failure shows hold the
    learner's line; the library file that raised is named (where a DataLoader's worker processes
    failed: :mod:`llmspec.sandbox.denied` reads it).  All of it when no frame is the learner's."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [i for i, f in enumerate(frames) if is_learners(f.filename)]
    if not own:
        return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    below = len(frames) - own[-1] - 1
    context = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return "".join(["Traceback (most recent call last):\n", *traceback.format_list(frames[own[0]:own[-1] + 1]),
                    _("  ... ({count} frames in Python's libraries, the last in {file})").format(
                        count=below, file="/".join(Path(frames[-1].filename).parts[-2:])) + "\n" if below else "",
                    _("  (while handling {error})").format(error=f"{type(context).__name__}: {context}") + "\n"
                    if context is not None else "",
                    *traceback.format_exception_only(type(exc), exc)])


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
