"""The wire between the trusted grader and the student worker (both sides import it:
the worker imports nothing of the trusted side).

A message is one frame: a JSON header followed by the raw bytes of every array it
carries. Tensors travel as dtype, shape and bytes; the receiver rebuilds them with
`numpy.frombuffer` over an allow-listed dtype. Nothing is ever unpickled, so a
hostile worker can send wrong values but never code.

Objects that are neither data nor containers (a `torch.nn.Module`, an optimizer)
stay in the worker; the other side receives a handle (`{"$handle": id}`) that it
can pass back in later calls.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Callable, Sequence
from typing import Any, BinaryIO

import numpy as np

# torch is imported on first use, not here: the grader starts its worker before it loads
# torch itself, so that the two imports overlap.
torch = None


def _torch():
    global torch
    if torch is None:
        import torch as module

        torch = module
    return torch


# dtypes that cross the wire; anything else is refused.
DTYPES = {
    "float16": np.float16,
    "float32": np.float32,
    "float64": np.float64,
    "int8": np.int8,
    "int16": np.int16,
    "int32": np.int32,
    "int64": np.int64,
    "uint8": np.uint8,
    "bool": np.bool_,
}
# Written by the worker on its stdout after each call: the output before it is that call's.
END_OF_OUTPUT = b"\0\0grader:end-of-output\0\0"
MAX_FRAME = 1 << 30  # 1 GiB: a larger frame is a broken or hostile peer
_LEN = struct.Struct("<Q")


class ChannelError(Exception):
    """The peer sent something that is not a well-formed frame."""


def encode(value: Any, blobs: list[bytes], to_handle: Callable[[Any], int] | None = None) -> Any:
    """Turn `value` into JSON-able data, appending array bytes to `blobs`.

    `to_handle` registers an opaque object and returns its id; without it, an opaque
    object is an error (the trusted side never sends objects it cannot describe).
    """
    torch = _torch()
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, torch.Tensor):
        t = value.detach().cpu()
        if t.is_complex() or str(t.dtype).removeprefix("torch.") not in DTYPES:
            raise TypeError(f"cannot send a tensor of dtype {t.dtype}")
        blobs.append(t.contiguous().numpy().tobytes())
        return {
            "$tensor": len(blobs) - 1,
            "dtype": str(t.dtype).removeprefix("torch."),
            "shape": list(t.shape),
            "requires_grad": bool(value.requires_grad),
        }
    if isinstance(value, np.ndarray) and value.dtype.name in DTYPES:
        return encode(torch.from_numpy(np.ascontiguousarray(value)), blobs, to_handle)
    if isinstance(value, np.generic):
        return encode(value.item(), blobs, to_handle)
    if isinstance(value, torch.Size):
        return {"$tuple": list(value)}
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return {"$tuple": [encode(v, blobs, to_handle) for v in value]}
    if isinstance(value, list):
        return [encode(v, blobs, to_handle) for v in value]
    if type(value) is dict and all(isinstance(k, str) for k in value):
        return {"$dict": {k: encode(v, blobs, to_handle) for k, v in value.items()}}
    if isinstance(value, Handle):
        return {"$handle": value.id, "type": value.type}
    if to_handle is None:
        raise TypeError(f"cannot send an object of type {type(value).__name__}")
    return {"$handle": to_handle(value), "type": type(value).__name__}


class Handle:
    """An object that lives on the other side of the channel."""

    def __init__(self, id: int, type: str):
        self.id, self.type = id, type

    def __repr__(self):
        return f"<{self.type} in the worker>"


def decode(
    data: Any, blobs: list[bytes], from_handle: Callable[[Handle], Any] | None = None
) -> Any:
    """The inverse of `encode`; `from_handle` maps a handle back to its object.

    Anything malformed raises ChannelError: the peer is broken or hostile.
    """
    _torch()
    try:
        return _decode(data, blobs, from_handle)
    except ChannelError:
        raise
    except (
        KeyError,
        TypeError,
        ValueError,
        IndexError,
        AttributeError,
        RecursionError,
        OverflowError,
    ) as e:
        raise ChannelError(f"malformed value ({type(e).__name__}: {e})") from None


def _index(value, size: int) -> int:
    if type(value) is not int or not 0 <= value < size:
        raise ChannelError(f"bad blob index {value!r}")
    return value


def _decode(data, blobs, from_handle):
    if isinstance(data, list):
        return [_decode(v, blobs, from_handle) for v in data]
    if not isinstance(data, dict):
        return data
    if "$tensor" in data:
        dtype = DTYPES.get(data["dtype"])
        if dtype is None:
            raise ChannelError(f"refused dtype {data['dtype']!r}")
        shape = [int(n) for n in data["shape"]]
        if any(n < 0 for n in shape):
            raise ChannelError(f"bad shape {shape}")
        blob = blobs[_index(data["$tensor"], len(blobs))]
        if len(blob) != math.prod(shape) * np.dtype(dtype).itemsize:
            raise ChannelError("tensor size does not match its shape")
        tensor = torch.from_numpy(np.frombuffer(blob, dtype=dtype).reshape(shape).copy())
        return (
            tensor.requires_grad_()
            if data.get("requires_grad") and tensor.is_floating_point()
            else tensor
        )
    if "$tuple" in data:
        return tuple(_decode(v, blobs, from_handle) for v in data["$tuple"])
    if "$dict" in data:
        return {str(k): _decode(v, blobs, from_handle) for k, v in data["$dict"].items()}
    if "$float" in data:
        return float(data["$float"])
    if "$handle" in data:
        handle = Handle(int(data["$handle"]), str(data.get("type", "object")))
        return from_handle(handle) if from_handle else handle
    raise ChannelError(f"unknown value {sorted(data)!r}")


def write_frame(stream: BinaryIO, header: dict, blobs: Sequence[bytes] = ()) -> None:
    head = json.dumps(header).encode()
    parts = [_LEN.pack(len(head)), head, _LEN.pack(len(blobs))]
    for blob in blobs:
        parts += [_LEN.pack(len(blob)), blob]
    stream.write(b"".join(parts))
    stream.flush()


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    if n > MAX_FRAME:
        raise ChannelError(f"frame part of {n} bytes is too large")
    data = stream.read(n)
    if data is None or len(data) != n:
        raise EOFError("the channel closed")
    return data


def read_frame(stream: BinaryIO) -> tuple[dict, list[bytes]]:
    (n,) = _LEN.unpack(_read_exact(stream, _LEN.size))
    try:
        header = json.loads(_read_exact(stream, n))
    except (ValueError, RecursionError) as e:
        raise ChannelError(f"bad header: {e}") from None
    if not isinstance(header, dict):
        raise ChannelError("header is not an object")
    (count,) = _LEN.unpack(_read_exact(stream, _LEN.size))
    if count > 100_000:
        raise ChannelError("too many blobs")
    blobs = []
    for _ in range(count):
        (size,) = _LEN.unpack(_read_exact(stream, _LEN.size))
        blobs.append(_read_exact(stream, size))
    return header, blobs
