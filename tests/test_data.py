"""The grader's data: Circles (compared with the course's file), CIFAR-10 I/O, synthetic images."""

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from grader.labs.rdfia.data.cifar import (
    CLASSES,
    TRAIN_FILES,
    load_cifar10,
    make_synthetic,
    write_cifar10,
)
from grader.labs.rdfia.data.circles import make_circles, make_grid

COURSE_CIRCLES = Path(__file__).parents[2] / "shared" / "data" / "circles.mat"


# --- Circles ------------------------------------------------------------------------


def test_circles_shapes_and_types():
    data = make_circles()
    for X, Y in ((data.Xtrain, data.Ytrain), (data.Xtest, data.Ytest)):
        assert X.shape == (200, 2) and Y.shape == (200, 2)
        assert X.dtype == torch.float32 and Y.dtype == torch.float32
        assert torch.equal(Y.sum(1), torch.ones(200))
        assert set(Y.unique().tolist()) == {0.0, 1.0}


def test_circles_sizes():
    data = make_circles(n_train=50, n_test=31)
    assert data.Xtrain.shape == (50, 2) and data.Xtest.shape == (31, 2)
    assert data.Ytest.sum(0).tolist() == [15, 16]


def test_circles_deterministic_in_seed():
    assert all(torch.equal(a, b) for a, b in zip(make_circles(0), make_circles(0), strict=False))
    assert not torch.equal(make_circles(0).Xtrain, make_circles(1).Xtrain)
    assert not torch.equal(make_circles(0).Xtrain, make_circles(0).Xtest)


def test_circles_geometry():
    # Class 0 is the outer ring (radius about 1), class 1 the inner disc (about 0.3).
    data = make_circles()
    radius = data.Xtrain.norm(dim=1)
    labels = data.Ytrain.argmax(1)
    assert 0.9 < radius[labels == 0].median() < 1.1
    assert 0.25 < radius[labels == 1].median() < 0.5
    assert (radius[labels == 0] > 0.3).all() and (radius[labels == 1] < 1.1).all()


def test_grid_matches_the_course_meshgrid():
    axis = np.arange(-2, 2, 0.1)
    x1, x2 = np.meshgrid(axis, axis)
    expected = np.array([x1.flatten(), x2.flatten()]).T.astype("float32")
    grid = make_grid()
    assert grid.shape == (1600, 2) and grid.dtype == torch.float32
    assert np.array_equal(grid.numpy(), expected)


@pytest.fixture(scope="module")
def course_circles():
    if not COURSE_CIRCLES.is_file():
        pytest.skip(f"the course's data is not at {COURSE_CIRCLES}")
    scipy_io = pytest.importorskip("scipy.io")
    mat = scipy_io.loadmat(str(COURSE_CIRCLES))
    return {key: mat[key].astype("float64") for key in ("Xtrain", "Ytrain", "Xtest", "Ytest")}


def _ks_distance(a, b):
    """The two-sample Kolmogorov-Smirnov statistic: the largest gap between the CDFs."""
    points = np.concatenate([a, b])
    cdf_a = np.searchsorted(np.sort(a), points, side="right") / len(a)
    cdf_b = np.searchsorted(np.sort(b), points, side="right") / len(b)
    return np.abs(cdf_a - cdf_b).max()


def _per_class(X, Y):
    X, Y = np.asarray(X, dtype="float64"), np.asarray(Y)
    labels = Y.argmax(1)
    return [X[labels == k] for k in (0, 1)], labels


@pytest.mark.parametrize("split", ["train", "test"])
def test_circles_look_like_the_course_data(course_circles, split):
    ours = make_circles()._asdict()
    mine, my_labels = _per_class(ours[f"X{split}"], ours[f"Y{split}"])
    theirs, their_labels = _per_class(course_circles[f"X{split}"], course_circles[f"Y{split}"])
    # Same balance and the same row order: all of class 0, then all of class 1.
    assert np.array_equal(my_labels, their_labels)
    for k in (0, 1):
        r_mine = np.linalg.norm(mine[k], axis=1)
        r_theirs = np.linalg.norm(theirs[k], axis=1)
        assert abs(np.median(r_mine) - np.median(r_theirs)) < 0.1
        assert abs(r_mine.std() - r_theirs.std()) < 0.06
        assert abs(r_mine.min() - r_theirs.min()) < 0.2
        assert abs(r_mine.max() - r_theirs.max()) < 0.4
        # The same radius distribution: 0.23 is the KS test's 1 % critical value for
        # two samples of 100 points.
        assert _ks_distance(r_mine, r_theirs) < 0.23
        assert np.abs(mine[k].mean(0)).max() < 0.1 and np.abs(theirs[k].mean(0)).max() < 0.1


def test_circles_rows_go_round_like_the_course_data(course_circles):
    # Within a class, row i sits near angle 2*pi*i/n (the course's points are not shuffled).
    def median_angle_error(X):
        angles = np.arctan2(X[:, 1], X[:, 0])
        expected = 2 * np.pi * np.arange(len(X)) / len(X)
        return np.median(np.abs(np.angle(np.exp(1j * (angles - expected)))))

    mine, _ = _per_class(make_circles().Xtrain, make_circles().Ytrain)
    theirs, _ = _per_class(course_circles["Xtrain"], course_circles["Ytrain"])
    assert median_angle_error(theirs[0]) < 0.3 and median_angle_error(mine[0]) < 0.3


# --- CIFAR-10 files -----------------------------------------------------------------


@pytest.fixture()
def small_cifar():
    generator = torch.Generator().manual_seed(0)
    train_x = torch.rand(23, 3, 32, 32, generator=generator)
    train_y = torch.randint(0, 10, (23,), generator=generator)
    test_x = torch.rand(7, 3, 32, 32, generator=generator)
    test_y = torch.randint(0, 10, (7,), generator=generator)
    return train_x, train_y, test_x, test_y


def test_cifar_roundtrip(tmp_path, small_cifar):
    write_cifar10(tmp_path, *small_cifar)
    data = load_cifar10(tmp_path)
    train_x, train_y, test_x, test_y = small_cifar
    assert data.train_x.shape == (23, 3, 32, 32) and data.train_x.dtype == torch.float32
    assert data.train_y.dtype == torch.int64 and data.test_x.shape == (7, 3, 32, 32)
    # Stored as bytes: each value within half a grey level.
    assert (data.train_x - train_x).abs().max() <= 0.5 / 255 + 1e-6
    assert (data.test_x - test_x).abs().max() <= 0.5 / 255 + 1e-6
    assert torch.equal(data.train_y, train_y) and torch.equal(data.test_y, test_y)
    assert data.classes == CLASSES


def test_cifar_files_are_in_the_official_format(tmp_path, small_cifar):
    write_cifar10(tmp_path, *small_cifar)
    with open(tmp_path / "data_batch_1", "rb") as f:
        batch = pickle.load(f, encoding="bytes")  # the official files' recipe
    assert set(batch) == {b"batch_label", b"labels", b"data", b"filenames"}
    assert batch[b"data"].dtype == np.uint8 and batch[b"data"].shape[1] == 3072
    # Channel planes one after the other: the first 1024 bytes are the red plane.
    red = (small_cifar[0][0, 0] * 255).round().to(torch.uint8).reshape(-1).numpy()
    assert np.array_equal(batch[b"data"][0, :1024], red)
    sizes = []
    for name in TRAIN_FILES:
        with open(tmp_path / name, "rb") as f:
            sizes.append(len(pickle.load(f, encoding="bytes")[b"labels"]))
    assert sum(sizes) == 23 and max(sizes) - min(sizes) <= 1


def test_cifar_meta_is_optional(tmp_path, small_cifar):
    write_cifar10(tmp_path, *small_cifar)
    (tmp_path / "batches.meta").unlink()
    assert load_cifar10(tmp_path).classes == CLASSES


@pytest.mark.parametrize("name", ["data_batch_3", "test_batch"])
def test_cifar_missing_file_is_named(tmp_path, small_cifar, name):
    write_cifar10(tmp_path, *small_cifar)
    (tmp_path / name).unlink()
    with pytest.raises(FileNotFoundError, match=name):
        load_cifar10(tmp_path)


def test_cifar_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_cifar10(tmp_path / "nowhere")


class _RunsShell:
    def __reduce__(self):
        return (os.system, ("echo pwned > pwned.txt",))


@pytest.mark.parametrize(
    "payload",
    [
        {b"data": _RunsShell(), b"labels": [0]},
        b"not a pickle at all",
        [1, 2, 3],
        {b"data": np.zeros((2, 10), np.uint8), b"labels": [0, 1]},
        {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]},
        {b"data": np.zeros((1, 3072), np.uint8), b"labels": [10]},
    ],
)
def test_cifar_malformed_batch_is_refused(tmp_path, small_cifar, monkeypatch, payload):
    monkeypatch.chdir(tmp_path)
    write_cifar10(tmp_path, *small_cifar)
    raw = payload if isinstance(payload, bytes) else pickle.dumps(payload, protocol=2)
    (tmp_path / "data_batch_2").write_bytes(raw)
    with pytest.raises(ValueError, match="data_batch_2"):
        load_cifar10(tmp_path)
    assert not (tmp_path / "pwned.txt").exists()


# --- synthetic images ----------------------------------------------------------------


@pytest.fixture()
def one_thread():
    """Small tensors gain nothing from threads, and on a busy machine OpenMP's waiting
    threads make them many times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_synthetic_shapes_and_determinism():
    x, y = make_synthetic(5, seed=3, size=24)
    assert x.shape == (50, 3, 24, 24) and x.dtype == torch.float32
    assert y.dtype == torch.int64 and torch.equal(torch.bincount(y), torch.full((10,), 5))
    assert 0 <= x.min() and x.max() <= 1
    x2, y2 = make_synthetic(5, seed=3, size=24)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    assert not torch.equal(y, torch.arange(10).repeat_interleave(5))  # shuffled
    assert not torch.equal(x, make_synthetic(5, seed=4, size=24)[0])


def test_synthetic_is_learnable(one_thread):
    # The classes differ by colour: a nearest-class-mean classifier on the mean colour
    # of the image is far above chance (10 %) on images of another seed.
    x, y = make_synthetic(50, seed=0)
    x_test, y_test = make_synthetic(20, seed=1)
    means = torch.stack([x[y == k].mean((0, 2, 3)) for k in range(10)])
    predicted = torch.cdist(x_test.mean((2, 3)), means).argmin(1)
    assert (predicted == y_test).float().mean() > 0.4


def test_synthetic_trains_a_tiny_cnn(one_thread):
    x, y = make_synthetic(50, seed=0)
    x_test, y_test = make_synthetic(20, seed=1)
    with torch.random.fork_rng():  # fixed initial weights, the global seed left alone
        torch.manual_seed(0)
        model = torch.nn.Sequential(
            torch.nn.Conv2d(3, 16, 5, padding=2),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(16, 32, 5, padding=2),
            torch.nn.ReLU(),
            torch.nn.AdaptiveMaxPool2d(1),
            torch.nn.Flatten(),
            torch.nn.Linear(32, 10),
        )
    order = torch.Generator().manual_seed(0)
    for _ in range(2):
        for batch in torch.randperm(len(x), generator=order).split(32):
            model.zero_grad()
            torch.nn.functional.cross_entropy(model(x[batch]), y[batch]).backward()
            with torch.no_grad():  # plain SGD, lr 0.1 (torch.optim's first use costs seconds)
                for param in model.parameters():
                    param -= 0.1 * param.grad
    with torch.no_grad():
        accuracy = (model(x_test).argmax(1) == y_test).float().mean()
    # Chance is 10 %; two epochs of 16 batches reach about 60 %.
    assert accuracy > 0.3
