"""The wire format between the trusted harness and a worker that runs submission code.

Why a format of our own: the trusted side must never unpickle (or otherwise execute) anything a
worker sends - a pickle from a hostile submission is code.  So a message is UTF-8 JSON, a tensor
``{"__tensor__": {"dtype": "int64", "shape": [2, 3], "data": <base64 of the raw bytes>}}``, and
decoding is strict: only wire values come out, anything unexpected raises :class:`WireError`.
Each frame is an 8-byte big-endian length, checked against a cap *before* allocating, then the
message; every read/write on the trusted side has a deadline, so a worker that sends garbage, too
much, or nothing at all cannot hang or exhaust it.
"""
from __future__ import annotations

import base64
import binascii
import ctypes
import json
import math
import os
import select
import struct
import sys
import time
from typing import Any

import torch

from llmspec.errors import HarnessError

DEFAULT_MAX_BYTES = 256 * 1024 * 1024  # a message over this many bytes is rejected
MAX_DEPTH = 64  # nesting of lists/dicts; wire values of the suite are a few levels deep
MAX_DIMS = 16
_HEADER = struct.Struct(">Q")
TENSOR_KEY = "__tensor__"

# The dtypes a tensor may have on the wire (name -> dtype).  Complex, quantized and sparse tensors
# have no place in chapter 2 and are refused rather than guessed at.
DTYPES: dict[str, torch.dtype] = {
    name: getattr(torch, name)
    for name in ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64")
}
_DTYPE_NAMES = {v: k for k, v in DTYPES.items()}

if sys.byteorder != "little":  # pragma: no cover - every platform torch ships CPU wheels for
    raise ImportError("llmspec.runtime.wire assumes a little-endian host (raw tensor bytes are sent as-is)")


class WireError(HarnessError):
    """A message is not a valid wire message (malformed, too big, unexpected content)."""


class WireTimeout(WireError):
    """Reading or writing a frame did not finish before its deadline."""


class WireClosed(WireError):
    """The other end closed the connection (for a worker: it most likely died)."""


# --- values <-> JSON-able structure ----------------------------------------------------------------
def _tensor_to_json(t: torch.Tensor) -> dict[str, Any]:
    if t.layout != torch.strided or t.is_quantized:
        raise WireError(f"cannot send a {t.layout} tensor; only dense tensors")
    name = _DTYPE_NAMES.get(t.dtype)
    if name is None:
        raise WireError(f"cannot send a tensor of dtype {t.dtype}; allowed: {', '.join(DTYPES)}")
    # as_subclass: a tensor subclass's overrides must not run while we serialise it
    plain = torch.Tensor.as_subclass(t, torch.Tensor).detach().cpu().contiguous()
    nbytes = plain.numel() * plain.element_size()
    data = ctypes.string_at(plain.data_ptr(), nbytes) if nbytes else b""  # one memcpy, no numpy
    return {TENSOR_KEY: {"dtype": name, "shape": list(plain.shape), "data": base64.b64encode(data).decode("ascii")}}


# Exact types that are JSON as they are, at any depth allowed (a subclass takes the long way: an int
# subclass is sent as a plain int, a float must be finite).
_PLAIN = frozenset({int, str, bool, type(None)})


def to_jsonable(value: Any, _depth: int = 0) -> Any:
    """Turn a wire value into plain JSON data (tensors as ``__tensor__`` objects).

    Tuples become lists (the adapter speaks lists); anything else that is not a wire value raises
    :class:`WireError` naming the offending type.  A list of plain scalars (token ids, texts) is
    taken whole: checking the element types in C costs a fraction of a call per element."""
    if _depth > MAX_DEPTH:
        raise WireError(f"value nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise WireError(f"non-finite float {value!r} outside a tensor")
        return float(value)
    if isinstance(value, torch.Tensor):
        return _tensor_to_json(value)
    if isinstance(value, (list, tuple)):
        # exact types only: a subclass's own __iter__ could hand out other items the second time
        if type(value) in (list, tuple) and _depth < MAX_DEPTH and _PLAIN.issuperset(map(type, value)):
            return list(value)
        return [to_jsonable(v, _depth + 1) for v in value]
    if isinstance(value, dict):
        out = {}
        plain = _depth < MAX_DEPTH
        for k, v in value.items():
            if not isinstance(k, str):
                raise WireError(f"dict key {k!r} is not a str")
            if k == TENSOR_KEY:
                raise WireError(f"dict key {TENSOR_KEY!r} is reserved for tensors")
            out[k] = v if plain and type(v) in _PLAIN else to_jsonable(v, _depth + 1)
        return out
    raise WireError(f"{type(value).__module__}.{type(value).__qualname__} is not a wire value")


def _tensor_from_json(spec: Any) -> torch.Tensor:
    if not isinstance(spec, dict) or set(spec) != {"dtype", "shape", "data"}:
        raise WireError("a tensor needs exactly the keys dtype, shape, data")
    dtype = DTYPES.get(spec["dtype"]) if isinstance(spec["dtype"], str) else None
    if dtype is None:
        raise WireError(f"tensor dtype {spec['dtype']!r} is not one of {', '.join(DTYPES)}")
    shape = spec["shape"]
    if not isinstance(shape, list) or len(shape) > MAX_DIMS or not all(type(d) is int and d >= 0 for d in shape):
        raise WireError(f"tensor shape {shape!r} is not a list of at most {MAX_DIMS} sizes >= 0")
    if not isinstance(spec["data"], str):
        raise WireError("tensor data is not a base64 string")
    try:
        data = base64.b64decode(spec["data"].encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise WireError(f"tensor data is not valid base64: {exc}") from None
    numel = math.prod(shape)
    if len(data) != numel * dtype.itemsize:
        raise WireError(f"tensor of shape {shape} and dtype {spec['dtype']} needs {numel * dtype.itemsize} bytes, "
                        f"got {len(data)}")
    if numel == 0:
        return torch.empty(shape, dtype=dtype)
    t = torch.frombuffer(bytearray(data), dtype=dtype).reshape(shape)
    if dtype == torch.bool and bool((t.view(torch.uint8) > 1).any()):
        raise WireError("bool tensor holds bytes other than 0 and 1")
    return t


def from_jsonable(obj: Any, _depth: int = 0) -> Any:
    """Inverse of :func:`to_jsonable` for already-parsed JSON, rebuilding tensors strictly."""
    if _depth > MAX_DEPTH:
        raise WireError(f"message nested deeper than {MAX_DEPTH} levels")
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        if not math.isfinite(obj):
            raise WireError("non-finite float outside a tensor")
        return obj
    if isinstance(obj, list):
        if _depth < MAX_DEPTH and _PLAIN.issuperset(map(type, obj)):
            return obj
        return [from_jsonable(v, _depth + 1) for v in obj]
    if isinstance(obj, dict):
        if TENSOR_KEY in obj:
            if len(obj) != 1:
                raise WireError(f"{TENSOR_KEY!r} object has extra keys {sorted(set(obj) - {TENSOR_KEY})}")
            return _tensor_from_json(obj[TENSOR_KEY])
        plain = _depth < MAX_DEPTH
        return {k: v if plain and type(v) in _PLAIN else from_jsonable(v, _depth + 1) for k, v in obj.items()}
    raise WireError(f"unexpected JSON value of type {type(obj).__name__}")  # pragma: no cover


def _no_constants(name: str) -> Any:
    raise WireError(f"JSON constant {name} is not allowed outside a tensor")


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        duplicate = next(k for k, _v in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise WireError(f"duplicate key {duplicate!r}")
    return out


# Made once: json.dumps/json.loads with options build a new encoder/decoder on every call.
# No circular check: to_jsonable returns a tree of new containers, at most MAX_DEPTH deep.
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"), check_circular=False)
_DECODER = json.JSONDecoder(object_pairs_hook=_pairs, parse_constant=_no_constants)


def encode(value: Any, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Serialise a wire value to bytes (UTF-8 JSON); too big -> :class:`WireError`."""
    try:
        text = _ENCODER.encode(to_jsonable(value))
    except RecursionError:
        raise WireError("value nested too deeply") from None
    data = text.encode("utf-8", "surrogatepass")  # lone surrogates in a str survive the trip
    if len(data) > max_bytes:
        raise WireError(f"message of {len(data)} bytes exceeds the cap of {max_bytes} bytes")
    return data


def decode(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """Parse bytes from :func:`encode` back into wire values, rejecting anything unexpected."""
    if len(data) > max_bytes:
        raise WireError(f"message of {len(data)} bytes exceeds the cap of {max_bytes} bytes")
    try:
        text = bytes(data).decode("utf-8", "surrogatepass")
        obj = _DECODER.decode(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise WireError(f"malformed message: {str(exc)[:200]}") from None
    return from_jsonable(obj)


# --- framing over a file descriptor ------------------------------------------------------------
# One poll object per (descriptor, events), made on first use: a frame is read and written with
# three waits, and making and registering a new object each time costs more than the poll itself.
# A descriptor number closed and reused later is polled as the new file, which is what is asked.
_POLLERS: dict[tuple[int, int], Any] = {}


def _wait(fd: int, events: int, deadline: float | None) -> None:
    """Until ``fd`` is ready for ``events``; :class:`WireTimeout` once ``deadline`` has passed."""
    poller = _POLLERS.get((fd, events))
    if poller is None:
        poller = _POLLERS[fd, events] = select.poll()
        poller.register(fd, events)
    while True:
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise WireTimeout("deadline passed")
        if poller.poll(None if left is None else max(1, int(left * 1000))):
            return


# Without a deadline (the worker's side) a descriptor is not polled before each read or write:
# a blocking one waits in the read or write itself, a non-blocking one is polled when it would block.
def _write_all(fd: int, data: bytes, deadline: float | None) -> None:
    view = memoryview(data)
    while view:
        if deadline is not None:
            _wait(fd, select.POLLOUT, deadline)
        try:
            n = os.write(fd, view[: 1 << 20])
        except BlockingIOError:
            if deadline is None:
                _wait(fd, select.POLLOUT, None)
            continue
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise WireClosed(f"connection closed while writing ({exc.strerror})") from None
        view = view[n:]


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    chunks: list[bytes] = []
    while n:
        if deadline is not None:
            _wait(fd, select.POLLIN, deadline)
        try:
            chunk = os.read(fd, min(n, 1 << 20))
        except BlockingIOError:
            if deadline is None:
                _wait(fd, select.POLLIN, None)
            continue
        except (ConnectionResetError, BrokenPipeError):
            raise WireClosed("connection reset") from None
        if not chunk:
            raise WireClosed("connection closed by the other end")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def send_frame(fd: int, payload: bytes, deadline: float | None = None) -> None:
    """Write one length-prefixed frame (``deadline`` is a ``time.monotonic()`` value)."""
    _write_all(fd, _HEADER.pack(len(payload)) + payload, deadline)


def recv_frame(fd: int, max_bytes: int = DEFAULT_MAX_BYTES, deadline: float | None = None) -> bytes:
    """Read one frame; a length over ``max_bytes`` is refused before anything is allocated."""
    (length,) = _HEADER.unpack(_read_exact(fd, _HEADER.size, deadline))
    if length > max_bytes:
        raise WireError(f"incoming message of {length} bytes exceeds the cap of {max_bytes} bytes")
    return _read_exact(fd, length, deadline)


def send(fd: int, value: Any, deadline: float | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """Encode ``value`` and send it as one frame."""
    send_frame(fd, encode(value, max_bytes), deadline)


def recv(fd: int, deadline: float | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """Receive one frame and decode it strictly."""
    return decode(recv_frame(fd, max_bytes, deadline), max_bytes)
