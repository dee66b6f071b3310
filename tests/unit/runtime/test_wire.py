"""The wire format: what goes in comes out, and anything unexpected is refused (never unpickled)."""
from __future__ import annotations

import base64
import json
import pickle
import socket
import time

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmspec.runtime import wire

SETTINGS = settings(derandomize=True, max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False, allow_infinity=False), st.text()
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5).filter(lambda k: k != wire.TENSOR_KEY), inner, max_size=4)),
    max_leaves=20,
)


def tensor_json(dtype: str = "int64", shape: list[int] | None = None, data: bytes = b"", **extra: object) -> bytes:
    spec = {"dtype": dtype, "shape": [len(data) // 8] if shape is None else shape, "data": base64.b64encode(data).decode()}
    spec.update(extra)
    return json.dumps({wire.TENSOR_KEY: spec}).encode()


def raw_bytes(t: torch.Tensor) -> list[int]:
    flat = t.reshape(-1).contiguous()
    return flat.view(torch.uint8).tolist() if flat.numel() else []


@SETTINGS
@given(values)
def test_plain_values_round_trip(value: object) -> None:
    assert wire.decode(wire.encode(value)) == value


@pytest.mark.parametrize("dtype", list(wire.DTYPES))
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 0, 3), (2, 3)])
def test_tensors_round_trip_bit_exact(dtype: str, shape: tuple[int, ...]) -> None:
    gen = torch.Generator().manual_seed(0)
    t = (torch.randn(shape, generator=gen) * 50).to(wire.DTYPES[dtype])
    back = wire.decode(wire.encode({"t": [t]}))["t"][0]
    assert type(back) is torch.Tensor
    assert back.dtype == t.dtype and back.shape == t.shape
    assert raw_bytes(back) == raw_bytes(t)  # bit-exact, NaN payloads and -0.0 included


def test_nan_and_inf_survive_inside_tensors_and_views_are_made_contiguous() -> None:
    t = torch.tensor([[float("nan"), float("inf")], [-float("inf"), 1.0]]).t()  # non-contiguous
    back = wire.decode(wire.encode(t))
    assert back.isnan()[0, 0] and back[1, 0] == float("inf") and back[0, 1] == -float("inf")
    assert torch.equal(back[1:], t[1:])


def test_tensor_subclass_and_grad_arrive_as_plain_detached_tensor() -> None:
    class Sneaky(torch.Tensor):
        pass

    t = torch.ones(2, requires_grad=True).as_subclass(Sneaky)
    back = wire.decode(wire.encode(t))
    assert type(back) is torch.Tensor and not back.requires_grad


def test_tuples_become_lists() -> None:
    assert wire.decode(wire.encode((1, (2, "x")))) == [1, [2, "x"]]


@pytest.mark.parametrize(
    "value",
    [float("nan"), [float("inf")], {1: "non-str key"}, {wire.TENSOR_KEY: 1}, object(), b"bytes", {"s": {1, 2}},
     torch.zeros(2, dtype=torch.complex64)],
)
def test_encode_refuses_non_wire_values(value: object) -> None:
    with pytest.raises(wire.WireError):
        wire.encode(value)


@pytest.mark.parametrize(
    "payload",
    [
        pickle.dumps([1, 2]),  # never unpickled: it is simply not JSON
        b"NaN",
        b'{"x": Infinity}',
        b'{"a": 1, "a": 2}',
        b"\xff\xfe",
        b"[" * 10000 + b"]" * 10000,
        tensor_json("complex64", [1], b"\0" * 8),
        tensor_json("object", [1], b"\0" * 8),
        tensor_json("int64", [2], b"\0" * 8),  # shape says 16 bytes, 8 given
        tensor_json("int64", [-1], b""),
        tensor_json("int64", [True], b"\0" * 8),
        tensor_json("int64", [1], b"\0" * 8, extra="key"),
        tensor_json("bool", [1], b"\x02"),
        json.dumps({wire.TENSOR_KEY: {"dtype": "int64", "shape": [1], "data": "!!!"}}).encode(),
        json.dumps({wire.TENSOR_KEY: {"dtype": "int64", "shape": [0], "data": ""}, "other": 1}).encode(),
    ],
)
def test_decode_is_strict(payload: bytes) -> None:
    with pytest.raises(wire.WireError):
        wire.decode(payload)


def test_size_cap_on_encode_and_decode() -> None:
    big = "x" * 2000
    with pytest.raises(wire.WireError, match="exceeds the cap"):
        wire.encode(big, max_bytes=1000)
    with pytest.raises(wire.WireError, match="exceeds the cap"):
        wire.decode(wire.encode(big), max_bytes=1000)
    assert wire.DEFAULT_MAX_BYTES == 256 * 1024 * 1024


def test_framing_round_trip_and_caps_over_a_socket() -> None:
    a, b = socket.socketpair()
    with a, b:
        value = {"ids": list(range(1000)), "t": torch.arange(200_000)}  # larger than a socket buffer
        import threading

        sender = threading.Thread(target=wire.send, args=(a.fileno(), value))
        sender.start()
        got = wire.recv(b.fileno(), deadline=time.monotonic() + 10)
        sender.join()
        assert got["ids"] == value["ids"] and torch.equal(got["t"], value["t"])
        # a header announcing too much is refused before anything is read or allocated
        a.sendall(wire._HEADER.pack(10**12))
        with pytest.raises(wire.WireError, match="exceeds the cap"):
            wire.recv_frame(b.fileno(), max_bytes=1024, deadline=time.monotonic() + 5)


def test_recv_deadline_and_closed_peer() -> None:
    a, b = socket.socketpair()
    with b:
        t0 = time.monotonic()
        with pytest.raises(wire.WireTimeout):
            wire.recv(b.fileno(), deadline=time.monotonic() + 0.3)
        assert time.monotonic() - t0 < 2
        a.sendall(wire._HEADER.pack(10) + b"abc")  # truncated frame, then the peer goes away
        a.close()
        with pytest.raises(wire.WireClosed):
            wire.recv(b.fileno(), deadline=time.monotonic() + 5)


@pytest.mark.parametrize("inner", [[1, "x", None, True], [], {"k": 1}])
def test_nesting_limit_holds_for_lists_and_dicts_of_plain_values(inner: object) -> None:
    """Plain scalars in a list or dict are taken whole (no call per item), and the nesting limit
    still counts their level: a value MAX_DEPTH levels deep passes, one level more is refused."""
    def nested(levels: int) -> object:
        value = inner
        for _ in range(levels):
            value = [value]
        return value

    empty = inner in ([], {})
    deepest = wire.MAX_DEPTH if empty else wire.MAX_DEPTH - 1  # containers around the scalars
    ok, too_deep = nested(deepest), nested(deepest + 1)
    assert wire.decode(wire.encode(ok)) == ok
    with pytest.raises(wire.WireError, match="nested deeper"):
        wire.encode(too_deep)
    with pytest.raises(wire.WireError, match="nested deeper"):
        wire.decode(json.dumps(too_deep).encode())


def test_subclasses_of_plain_types_cross_as_the_plain_type() -> None:
    class Id(int):
        def __repr__(self) -> str:
            return "forged"

    value = wire.decode(wire.encode({"ids": [Id(3), 4], "n": Id(5)}))
    assert value == {"ids": [3, 4], "n": 5}
    assert [type(i) for i in value["ids"]] == [int, int] and type(value["n"]) is int
    with pytest.raises(wire.WireError, match="non-finite"):  # a float literal JSON reads as inf
        wire.decode(b'{"ids": [1, 1e400]}')


def test_a_sequence_subclass_is_read_once_item_by_item() -> None:
    """A list subclass may hand out other items each time it is iterated: what is sent is what was
    checked, and a non-wire item is a WireError (never json's TypeError)."""
    class Shifty(list):
        def __init__(self) -> None:
            super().__init__([1, 2])
            self.rounds = 0

        def __iter__(self):
            self.rounds += 1
            return iter([1, 2] if self.rounds == 1 else [object()])

    assert wire.decode(wire.encode(Shifty())) == [1, 2]  # iterated once: the items that were checked
    shifty = Shifty()
    shifty.rounds = 1  # from now on it hands out an object
    with pytest.raises(wire.WireError, match="not a wire value"):
        wire.encode(shifty)
