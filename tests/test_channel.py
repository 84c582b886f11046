"""The pickle-free wire: what crosses it comes back equal, what is malformed is refused."""

from __future__ import annotations

import io
import json
import math
import pickle
import struct
import subprocess
import sys

import numpy as np
import pytest
import torch

from grader.worker import wire
from grader.worker.wire import ChannelError, Handle, decode, encode, read_frame, write_frame


def round_trip(value, to_handle=None, from_handle=None):
    """Encode, send through a frame, read it back and decode."""
    blobs: list[bytes] = []
    data = encode(value, blobs, to_handle)
    stream = io.BytesIO()
    write_frame(stream, {"ok": data}, blobs)
    stream.seek(0)
    header, got = read_frame(stream)
    return decode(header["ok"], got, from_handle)


@pytest.fixture(autouse=True)
def no_pickle(monkeypatch):
    """Nothing on the wire is ever unpickled."""

    def refuse(*args, **kwargs):
        raise AssertionError("the channel must not unpickle")

    for name in ("loads", "load", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    monkeypatch.setattr(torch, "load", refuse)


@pytest.mark.parametrize(
    "dtype",
    [
        torch.float16,
        torch.float32,
        torch.float64,
        torch.int8,
        torch.int16,
        torch.int32,
        torch.int64,
        torch.uint8,
        torch.bool,
    ],
)
@pytest.mark.parametrize("shape", [(), (0,), (0, 3), (3,), (2, 3, 4)])
def test_tensor_round_trip(dtype, shape):
    tensor = (torch.arange(math.prod(shape)) % 7).reshape(shape).to(dtype)
    got = round_trip(tensor)
    assert got.dtype == dtype and got.shape == tensor.shape
    assert torch.equal(got, tensor)


def test_non_contiguous_and_strided_tensors():
    tensor = torch.arange(12.0).reshape(3, 4)
    assert torch.equal(round_trip(tensor.T), tensor.T)
    assert torch.equal(round_trip(tensor[:, ::2]), tensor[:, ::2])


def test_requires_grad_flag_kept_and_leaf():
    x = torch.randn(3, requires_grad=True)
    got = round_trip(x * 2)  # a non-leaf with requires_grad: arrives as a fresh leaf
    assert got.requires_grad and got.is_leaf
    assert not round_trip(torch.randn(3)).requires_grad


def test_decoded_tensor_is_writable_and_owns_its_memory():
    got = round_trip(torch.zeros(4))
    got += 1  # frombuffer alone would be read-only
    assert torch.equal(got, torch.ones(4))


def test_numpy_values():
    got = round_trip({"a": np.arange(3, dtype=np.int32), "b": np.float32(1.5), "c": np.int64(7)})
    assert torch.equal(got["a"], torch.arange(3, dtype=torch.int32))
    assert got["b"] == 1.5 and got["c"] == 7


def test_nested_containers():
    value = {"t": (1, [2.5, "x", None, True], {"inner": (torch.ones(2),)}), "e": [], "u": ()}
    got = round_trip(value)
    assert got["t"][0] == 1 and got["t"][1] == [2.5, "x", None, True]
    assert isinstance(got["t"], tuple) and isinstance(got["t"][1], list)
    assert torch.equal(got["t"][2]["inner"][0], torch.ones(2))
    assert got["e"] == [] and got["u"] == ()


def test_dict_with_marker_like_keys_is_plain_data():
    value = {"$tensor": 0, "$handle": 3, "$float": "nan"}
    assert round_trip(value) == value


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf, 0.1, -0.0, 1e308, 2**70])
def test_numbers(number):
    got = round_trip(number)
    assert math.isnan(got) if isinstance(number, float) and math.isnan(number) else got == number
    assert type(got) is type(number)


def test_header_is_strict_json():
    blobs: list[bytes] = []
    stream = io.BytesIO()
    write_frame(stream, {"ok": encode([math.nan, math.inf], blobs)}, blobs)
    head_len = struct.unpack("<Q", stream.getvalue()[:8])[0]
    json.loads(
        stream.getvalue()[8 : 8 + head_len], parse_constant=lambda c: pytest.fail(f"bare {c}")
    )


def test_torch_size_becomes_tuple():
    assert round_trip(torch.Size([2, 3])) == (2, 3)


def test_handles():
    model = torch.nn.Linear(2, 1)
    held = {}

    def to_handle(obj):
        held[id(obj)] = obj
        return id(obj)

    got = round_trip((model, 3), to_handle)
    assert isinstance(got[0], Handle) and got[0].type == "Linear" and got[1] == 3
    # the handle goes back to the side that holds the object
    back = round_trip(got[0], from_handle=lambda h: held[h.id])
    assert back is model


def test_opaque_object_without_to_handle_is_refused():
    with pytest.raises(TypeError):
        encode(object(), [])
    with pytest.raises(TypeError):
        encode({1: "non-string key"}, [])


@pytest.mark.parametrize(
    "tensor", [torch.zeros(2, dtype=torch.bfloat16), torch.zeros(2, dtype=torch.complex64)]
)
def test_refused_dtype_on_encode(tensor):
    with pytest.raises(TypeError, match="dtype"):
        encode(tensor, [])


def test_refused_dtype_on_decode():
    with pytest.raises(ChannelError, match="dtype"):
        decode({"$tensor": 0, "dtype": "object", "shape": [1]}, [b"\0" * 8])


def test_size_mismatch_refused():
    with pytest.raises(ChannelError):
        decode({"$tensor": 0, "dtype": "float32", "shape": [3]}, [b"\0" * 8])


def test_unknown_marker_refused():
    with pytest.raises(ChannelError):
        decode({"$code": "import os"}, [])


def frame(head: bytes, blobs: list[bytes] = (), count: int | None = None) -> io.BytesIO:
    parts = [
        struct.pack("<Q", len(head)),
        head,
        struct.pack("<Q", len(blobs) if count is None else count),
    ]
    for blob in blobs:
        parts += [struct.pack("<Q", len(blob)), blob]
    return io.BytesIO(b"".join(parts))


def test_well_formed_handmade_frame():
    assert read_frame(frame(b'{"a": 1}', [b"xy"])) == ({"a": 1}, [b"xy"])


@pytest.mark.parametrize("cut", [0, 3, 8, 12, 20, 29])
def test_truncated_frame(cut):
    data = frame(b'{"a": 1}', [b"abcdef"]).getvalue()
    with pytest.raises(EOFError):
        read_frame(io.BytesIO(data[:cut]))


def test_oversized_lengths_refused_before_reading():
    with pytest.raises(ChannelError):
        read_frame(io.BytesIO(struct.pack("<Q", wire.MAX_FRAME + 1)))
    stream = frame(b"{}", count=1)
    stream = io.BytesIO(stream.getvalue() + struct.pack("<Q", 2**63))
    with pytest.raises(ChannelError):
        read_frame(stream)
    with pytest.raises(ChannelError):
        read_frame(frame(b"{}", count=10**9))


@pytest.mark.parametrize("head", [b"not json", b"\xff\xfe\x00garbage", b"[1, 2]", b'"text"', b""])
def test_garbage_header(head):
    with pytest.raises(ChannelError):
        read_frame(frame(head))


def test_random_garbage_never_escapes_as_another_error():
    rng = np.random.default_rng(0)
    for _ in range(200):
        data = rng.integers(0, 256, size=int(rng.integers(0, 64)), dtype=np.uint8).tobytes()
        try:
            read_frame(io.BytesIO(data))
        except (ChannelError, EOFError):
            pass


@pytest.mark.parametrize(
    "data",
    [
        {"$tensor": 5, "dtype": "float32", "shape": [1]},  # no such blob
        {"$tensor": -1, "dtype": "float32", "shape": [1]},  # negative index picks the last blob
        {"$tensor": 0, "dtype": "float32", "shape": [-1, -1]},  # negative sizes
        {"$tensor": 0, "shape": [1]},  # no dtype
    ],
)
def test_malformed_value_is_a_channel_error(data):
    with pytest.raises(ChannelError):
        decode(data, [b"\0" * 4, b"\0" * 4])


def test_the_worker_imports_nothing_of_the_trusted_side():
    # The lab's packages above its worker folders are empty in the worker's root: so here.
    code = (
        "import os, sys, types, grader\n"
        "for name in ('grader.labs', 'grader.labs.rdfia'):\n"
        "    sys.modules[name] = stub = types.ModuleType(name)\n"
        "    stub.__path__ = [os.path.join(os.path.dirname(grader.__file__), *name.split('.')[1:])]\n"
        "import grader.worker.__main__, grader.labs.rdfia.worker\n"
        "import grader.labs.rdfia.worker.probes.tp1, grader.labs.rdfia.worker.probes.tp2_cnn\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('grader'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    inside = ("grader.worker", "grader.labs.rdfia.worker", "grader.labs.rdfia.data")
    assert [m for m in loaded if not m.startswith(inside)] == [
        "grader",
        "grader.labs",
        "grader.labs.rdfia",
    ]
