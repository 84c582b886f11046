"""CIFAR-10 in its standard "python version" format, and a small synthetic stand-in.

The grader never downloads anything: an instructor names a folder that holds the
extracted ``cifar-10-batches-py`` files. The batches are pickles, so they are read with
an unpickler that builds numpy arrays and nothing else.
"""

from __future__ import annotations

import codecs
import colorsys
import pickle
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
META_FILE = "batches.meta"
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
IMAGE_SHAPE = (3, 32, 32)
ROW_BYTES = 3 * 32 * 32

# What a pickled ndarray refers to; numpy 2 moved numpy.core to numpy._core and old
# pickles (the real CIFAR files are Python 2 ones) still name the former.
_ALLOWED_GLOBALS = {
    (module, name)
    for module in ("numpy.core.multiarray", "numpy._core.multiarray")
    for name in ("_reconstruct", "scalar")
} | {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
}


class CifarData(NamedTuple):
    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    classes: tuple[str, ...]


def _latin1_bytes(text: str, encoding: str = "latin1") -> bytes:
    """``_codecs.encode`` as Python 3 protocol-2 pickles use it for bytes, latin-1 only."""
    if codecs.lookup(encoding).name != "iso8859-1":
        raise pickle.UnpicklingError(f"refused _codecs.encode with encoding {encoding!r}")
    return text.encode("latin1")


class _NumpyOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) == ("_codecs", "encode"):
            return _latin1_bytes
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"refused global {module}.{name}")
        return super().find_class(module, name)


def _unpickle(path: Path) -> dict:
    if not path.is_file():
        raise FileNotFoundError(f"CIFAR-10 file not found: {path}")
    try:
        with path.open("rb") as f:
            # The official files come from Python 2: keys and strings stay bytes.
            obj = _NumpyOnlyUnpickler(f, encoding="bytes").load()
    except Exception as exc:
        raise ValueError(f"{path}: not a CIFAR-10 batch ({exc})") from exc
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: not a CIFAR-10 batch (a {type(obj).__name__}, not a dict)")
    return obj


def _get(batch: dict, key: str):
    """A key written as bytes (the official files) or as str (a Python 3 writer)."""
    if key.encode() in batch:
        return batch[key.encode()]
    return batch.get(key)


def _read_batch(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    batch = _unpickle(path)
    data = _get(batch, "data")
    labels = _get(batch, "labels")
    if (
        not isinstance(data, np.ndarray)
        or data.dtype != np.uint8
        or data.ndim != 2
        or data.shape[1] != ROW_BYTES
    ):
        raise ValueError(f"{path}: 'data' must be a uint8 array of rows of {ROW_BYTES} bytes")
    try:
        labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: 'labels' must be a list of integers") from exc
    if len(labels) != len(data):
        raise ValueError(f"{path}: {len(data)} images but {len(labels)} labels")
    if len(labels) and (labels.min() < 0 or labels.max() >= len(CLASSES)):
        raise ValueError(f"{path}: labels must be in 0..{len(CLASSES) - 1}")
    # Each row is the red plane, then green, then blue, each 32 x 32 row-major.
    images = torch.from_numpy(data.reshape(-1, *IMAGE_SHAPE).astype(np.float32) / 255.0)
    return images, torch.from_numpy(labels)


def _read_classes(folder: Path) -> tuple[str, ...]:
    path = folder / META_FILE
    if not path.is_file():
        return CLASSES
    names = _get(_unpickle(path), "label_names")
    if not isinstance(names, (list, tuple)) or len(names) != len(CLASSES):
        raise ValueError(f"{path}: 'label_names' must list {len(CLASSES)} names")
    return tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)


def load_cifar10(folder) -> CifarData:
    """Images float32 (N, 3, 32, 32) in [0, 1], labels int64 (N,), and the class names.

    All five training batches and the test batch are required; ``batches.meta`` is
    optional (the standard names are used without it).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"CIFAR-10 folder not found: {folder}")
    train = [_read_batch(folder / name) for name in TRAIN_FILES]
    test_x, test_y = _read_batch(folder / TEST_FILE)
    return CifarData(
        train_x=torch.cat([x for x, _ in train]),
        train_y=torch.cat([y for _, y in train]),
        test_x=test_x,
        test_y=test_y,
        classes=_read_classes(folder),
    )


def _to_rows(images) -> np.ndarray:
    images = torch.as_tensor(images)
    if tuple(images.shape[1:]) != IMAGE_SHAPE:
        raise ValueError(f"images must be (N, 3, 32, 32), got {tuple(images.shape)}")
    if images.dtype != torch.uint8:
        images = (images.float().clamp(0, 1) * 255).round().to(torch.uint8)
    return images.reshape(len(images), ROW_BYTES).numpy()


def _rows_and_labels(images, labels, what: str) -> tuple[np.ndarray, np.ndarray]:
    rows = _to_rows(images)
    labels = np.asarray(torch.as_tensor(labels).reshape(-1))
    if len(labels) != len(rows):
        raise ValueError(f"{len(rows)} {what} images but {len(labels)} labels")
    return rows, labels


def _write_batch(path: Path, label: str, rows: np.ndarray, labels, first_index: int) -> None:
    batch = {
        b"batch_label": label.encode(),
        b"labels": [int(y) for y in labels],
        b"data": rows,
        b"filenames": [f"image_{first_index + i:05d}.png".encode() for i in range(len(rows))],
    }
    with path.open("wb") as f:
        # Protocol 2, as the official files.
        pickle.dump(batch, f, protocol=2)


def write_cifar10(folder, train_x, train_y, test_x, test_y) -> None:
    """Write images (float in [0, 1] or uint8, (N, 3, 32, 32)) in the official format.

    The training set is split into five batches, as in the real data set.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    train_rows, train_y = _rows_and_labels(train_x, train_y, "training")
    start = 0
    for i, (rows, labels) in enumerate(
        zip(np.array_split(train_rows, 5), np.array_split(train_y, 5), strict=True)
    ):
        _write_batch(folder / TRAIN_FILES[i], f"training batch {i + 1} of 5", rows, labels, start)
        start += len(rows)
    test_rows, test_y = _rows_and_labels(test_x, test_y, "test")
    _write_batch(folder / TEST_FILE, "testing batch 1 of 1", test_rows, test_y, 0)
    meta = {
        b"label_names": [name.encode() for name in CLASSES],
        b"num_cases_per_batch": len(np.array_split(train_rows, 5)[0]),
        b"num_vis": ROW_BYTES,
    }
    with (folder / META_FILE).open("wb") as f:
        pickle.dump(meta, f, protocol=2)


def _class_masks(label: int, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Where class `label`'s shape is, in shape coordinates u, v (unit size)."""
    r = torch.sqrt(u**2 + v**2)
    box = torch.maximum(u.abs(), v.abs())
    shapes = [
        r < 1,  # disc
        box < 0.8,  # square
        (r > 0.55) & (r < 1),  # ring
        (v.abs() < 0.3) & (u.abs() < 1),  # horizontal bar
        (u.abs() < 0.3) & (v.abs() < 1),  # vertical bar
        ((u.abs() < 0.25) | (v.abs() < 0.25)) & (box < 1),  # plus
        (v.abs() < 0.8) & (u.abs() < 0.6 * (v + 0.8)),  # triangle
        u.abs() + v.abs() < 1,  # diamond
        (box > 0.55) & (box < 0.9),  # square frame
        ((u.abs() - v.abs()).abs() < 0.25) & (box < 1),  # X
    ]
    return shapes[label]


def make_synthetic(
    n_per_class: int, seed: int = 0, size: int = 32
) -> tuple[torch.Tensor, torch.Tensor]:
    """A small 10-class image set that a tiny CNN learns in an epoch or two.

    Class k is a shape of its own (disc, square, ring, ...) in a colour of its own
    (hues evenly spaced), at a random place and scale, on a random grey background, with
    pixel noise. Returns images float32 (N, 3, size, size) in [0, 1] and labels int64
    (N,), N = 10 * n_per_class, in a shuffled order that depends on seed only.
    """
    generator = torch.Generator().manual_seed(seed)
    n_classes = len(CLASSES)
    n = n_classes * n_per_class
    labels = torch.arange(n_classes).repeat_interleave(n_per_class)

    def uniform(low, high, *shape):
        return low + (high - low) * torch.rand(*shape, generator=generator)

    axis = torch.linspace(-1, 1, size)
    yy, xx = torch.meshgrid(axis, axis, indexing="ij")
    centres = uniform(-0.3, 0.3, n, 2, 1, 1)
    scales = uniform(0.5, 0.8, n, 1, 1)
    u = (xx - centres[:, 0]) / scales
    v = (yy - centres[:, 1]) / scales
    mask = torch.zeros(n, size, size, dtype=torch.bool)
    for k in range(n_classes):
        rows = labels == k
        mask[rows] = _class_masks(k, u[rows], v[rows])

    colours = torch.tensor(
        [colorsys.hsv_to_rgb(k / n_classes, 0.9, 0.95) for k in range(n_classes)]
    )
    foreground = (colours[labels] + uniform(-0.08, 0.08, n, 3)).view(n, 3, 1, 1)
    background = uniform(0.05, 0.35, n, 1, 1, 1).expand(n, 3, 1, 1)
    images = torch.where(mask.unsqueeze(1), foreground, background)
    images = images + 0.08 * torch.randn(images.shape, generator=generator)
    order = torch.randperm(n, generator=generator)
    return images.clamp(0, 1)[order].float(), labels[order]
