"""The book's data loaders: shapes and values the book prints, file finding, IDX validation.

The data files come from $TINYGRAD_EDU_DATA (tests/conftest.py points it at ../shared/data);
tests that need them skip when it is missing.
"""
import gzip
import hashlib
import os
import struct
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import datasets

DATA = Path(os.environ.get("TINYGRAD_EDU_DATA", "/nonexistent"))
needs = lambda name: pytest.mark.skipif(not (DATA / name).is_file(),  # noqa: E731
                                        reason=f"{name} not in $TINYGRAD_EDU_DATA")


@pytest.fixture
def no_data_anywhere(tmp_path, monkeypatch):
    """No $TINYGRAD_EDU_DATA, an empty cache, and no network."""
    monkeypatch.delenv("TINYGRAD_EDU_DATA", raising=False)
    monkeypatch.setenv("TINYGRAD_EDU_CACHE", str(tmp_path / "cache"))

    def offline(*args, **kwargs):
        raise OSError("no network in this test")
    monkeypatch.setattr(datasets.urllib.request, "urlopen", offline)
    return tmp_path


# ---------------------------------------------------------------------------------------- thermometer


def test_thermometer_readings():
    t_c, t_u = datasets.load_thermometer()
    assert t_c.shape == t_u.shape == (11,) and t_c.dtype == t_u.dtype == tg.float32
    assert t_u[0].item() == pytest.approx(35.7) and t_c[7].item() == -4.0
    loss = ((t_u - t_c) ** 2).mean()             # the book's loss for w=1, b=0
    assert loss.item() == pytest.approx(1763.8846, abs=1e-3)


# ---------------------------------------------------------------------------------------- wine


@needs("winequality-white.csv")
def test_wine_shapes_and_the_books_statistics():
    data, target, columns = datasets.load_wine()
    assert data.shape == (4898, 11) and data.dtype == tg.float32
    assert target.shape == (4898,) and target.dtype == tg.int64
    assert columns[-1] == "quality" and columns[6] == "total sulfur dioxide"
    assert data[0, :3].tolist() == pytest.approx([7.0, 0.27, 0.36])
    # book ch. 3.1 prints these column means and variances
    np.testing.assert_allclose(data.mean(0).numpy()[[0, 6, 10]], [6.8548, 138.36, 10.514],
                               rtol=1e-4)
    np.testing.assert_allclose(data.var(0).numpy()[[0, 5, 6]], [0.71211, 289.24, 1806.1],
                               rtol=1e-3)
    assert (target <= 3).sum().item() == 20          # "only 20 of the bad_indexes entries"
    assert (target > 5).sum().item() == 3258
    assert (data[:, 6] < 141.83).sum().item() == 2727


@needs("winequality-white.csv")
def test_wine_equals_numpys_reading_of_the_file():
    table = np.loadtxt(DATA / "winequality-white.csv", delimiter=";", skiprows=1,
                       dtype=np.float32)
    data, target, _ = datasets.load_wine()
    np.testing.assert_array_equal(data.numpy(), table[:, :-1])
    np.testing.assert_array_equal(target.numpy(), table[:, -1].astype(np.int64))


def test_wine_with_a_wrong_header_is_rejected(tmp_path):
    bad = tmp_path / "winequality-white.csv"
    bad.write_text("a;b;c\n1;2;3\n")
    with pytest.raises(ValueError, match="expected the wine-quality header"):
        datasets.load_wine(bad)


# ---------------------------------------------------------------------------------------- bikes


@needs("bike-sharing-hour-fixed.csv")
def test_bikes_hourly_table_with_day_of_month():
    bikes = datasets.load_bikes()
    assert bikes.shape == (17520, 17) and bikes.dtype == tg.float32
    assert bikes.stride() == (17, 1)
    assert bikes[0].tolist() == pytest.approx([1, 1, 1, 0, 1, 0, 0, 6, 0, 1, 0.24, 0.2879, 0.81,
                                               0, 3, 13, 16])
    assert bikes[-1, :2].tolist() == [17379.0, 31.0]     # 2012-12-31 -> day 31
    days = bikes[:, 1]
    assert days.min().item() == 1.0 and days.max().item() == 31.0
    assert datasets.BIKE_COLUMNS[9] == "weathersit"


@needs("bike-sharing-hour-fixed.csv")
def test_bikes_daily_view_and_weather_one_hot():
    daily = datasets.load_bikes(daily=True)
    assert daily.shape == (730, 24, 17) and daily.stride() == (408, 17, 1)
    assert daily.transpose(1, 2).shape == (730, 17, 24)       # the book's N x C x L
    first_day_weather = daily[0, :, 9].long().tolist()
    assert first_day_weather == [1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 2,
                                 2, 2, 2]                     # as printed in book ch. 3.2
    hot = datasets.load_bikes(weather_onehot=True)
    assert hot.shape == (17520, 21)
    assert hot[0, 17:].tolist() == [1.0, 0.0, 0.0, 0.0]
    assert (hot[:, 17:].sum(1) == 1).all().item()
    codes = hot[:, 17:].argmax(1) + 1
    assert (codes == hot[:, 9].long()).all().item()
    assert datasets.load_bikes(daily=True, weather_onehot=True).shape == (730, 24, 21)


# ---------------------------------------------------------------------------------------- text


@needs("pride-and-prejudice-1342-0.txt")
def test_text_encodings_have_the_books_sizes():
    text = datasets.load_text()
    line = text.split("\n")[200]
    assert line.startswith("“Impossible, Mr. Bennet")
    letters = datasets.char_one_hot(line)
    assert letters.shape == (70, 128)
    assert letters.sum(1).tolist() == [1.0] * 70
    assert letters[0, 0].item() == 1.0                    # the curly quote goes to column 0
    assert letters[1].argmax().item() == ord("i")         # lower-cased
    vocabulary = datasets.word_index(text)
    assert len(vocabulary) == 7261 and vocabulary["impossible"] == 3394
    words = datasets.word_one_hot(line, vocabulary)
    assert words.shape == (11, 7261)
    assert words.argmax(1).tolist() == [3394, 4305, 813, 3394, 7078, 3315, 415, 4436, 239, 7148,
                                        3215]


def test_clean_words_and_unknown_words():
    assert datasets.clean_words("“Hello,” said Mr. Darcy--\nquite_ calmly!") == \
        ["hello", "said", "mr", "darcy", "quite", "calmly"]
    vocabulary = datasets.word_index("b a c a")
    assert vocabulary == {"a": 0, "b": 1, "c": 2}
    with pytest.raises(KeyError, match="'zebra' is not in the vocabulary"):
        datasets.word_one_hot("a zebra", vocabulary)
    padded = datasets.char_one_hot("  Ab  ")
    assert padded.shape == (6, 128) and padded.sum().item() == 2.0


# ---------------------------------------------------------------------------------------- MNIST


def write_idx(path: Path, array: np.ndarray, compress: bool, magic: bytes | None = None):
    code = {np.uint8: 0x08, np.int32: 0x0C}[array.dtype.type]
    header = magic if magic is not None else bytes([0, 0, code, array.ndim])
    header += b"".join(struct.pack(">i", n) for n in array.shape)
    body = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    path.write_bytes(gzip.compress(body) if compress else body)


@pytest.mark.parametrize("compress", [True, False])
def test_read_idx_round_trip(tmp_path, compress):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "x", images, compress)
    np.testing.assert_array_equal(datasets.read_idx(tmp_path / "x"), images)
    ints = np.array([1, -2, 300000], dtype=np.int32)
    write_idx(tmp_path / "y", ints, compress)
    np.testing.assert_array_equal(datasets.read_idx(tmp_path / "y"), ints)


def test_read_idx_rejects_bad_files(tmp_path):
    bad = tmp_path / "bad"
    write_idx(bad, np.zeros((2, 2), np.uint8), False, magic=b"\x01\x00\x08\x02")
    with pytest.raises(ValueError, match="not an IDX file"):
        datasets.read_idx(bad)
    bad.write_bytes(bytes([0, 0, 8, 2]) + struct.pack(">ii", 3, 3) + bytes(8))   # 1 byte short
    with pytest.raises(ValueError, match=r"shape \(3, 3\) needs 21 bytes, the file has 20"):
        datasets.read_idx(bad)
    bad.write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">i", 3))
    with pytest.raises(ValueError, match="IDX header cut short"):
        datasets.read_idx(bad)
    bad.write_bytes(gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 2, 1, 2]))[:-6])
    with pytest.raises(ValueError, match="damaged gzip file"):
        datasets.read_idx(bad)


@needs("t10k-images-idx3-ubyte.gz")
def test_mnist_t10k_split_is_the_first_8000_and_the_last_2000():
    mnist = datasets.load_mnist()
    assert mnist.split == "t10k"
    assert mnist.train_images.shape == (8000, 28, 28) and mnist.val_images.shape == (2000, 28, 28)
    assert mnist.train_images.dtype == tg.float32
    assert mnist.train_labels.shape == (8000,) and mnist.train_labels.dtype == tg.int64
    assert mnist.train_labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert 0.0 <= mnist.train_images.min().item() and mnist.train_images.max().item() == 1.0
    raw = datasets.read_idx(DATA / "t10k-images-idx3-ubyte.gz")
    np.testing.assert_array_equal(mnist.val_images.numpy(), raw[8000:] / np.float32(255))
    counts = np.bincount(mnist.train_labels.numpy(), minlength=10)
    assert counts.min() > 600                              # every digit is well represented
    flat = datasets.load_mnist(flatten=True, scale=False)
    assert flat.train_images.shape == (8000, 784) and flat.train_images.dtype == tg.uint8


def test_mnist_standard_layout_when_train_files_exist(tmp_path, monkeypatch):
    monkeypatch.delenv("TINYGRAD_EDU_DATA", raising=False)
    rng = np.random.default_rng(0)
    for stem, n, compress in [("train", 30, True), ("t10k", 12, False)]:
        write_idx(tmp_path / (f"{stem}-images-idx3-ubyte" + (".gz" if compress else "")),
                  rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), compress)
        write_idx(tmp_path / (f"{stem}-labels-idx1-ubyte" + (".gz" if compress else "")),
                  rng.integers(0, 10, n, dtype=np.uint8), compress)
    mnist = datasets.load_mnist(tmp_path)
    assert mnist.split == "standard"
    assert mnist.train_images.shape == (30, 28, 28) and mnist.val_labels.shape == (12,)
    with pytest.raises(ValueError, match="needs the 10000-image MNIST test file"):
        datasets.load_mnist(tmp_path, split="t10k")


def test_mnist_files_that_do_not_fit_together(tmp_path, monkeypatch):
    monkeypatch.delenv("TINYGRAD_EDU_DATA", raising=False)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((5, 28, 28), np.uint8), False)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(4, np.uint8), False)
    with pytest.raises(ValueError, match="4 labels for 5 images"):
        datasets.load_mnist(tmp_path)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((5, 14, 14), np.uint8), False)
    with pytest.raises(ValueError, match=r"expected MNIST images, uint8 of shape \(N, 28, 28\)"):
        datasets.load_mnist(tmp_path)
    with pytest.raises(ValueError, match="split must be"):
        datasets.load_mnist(tmp_path, split="train")


# ---------------------------------------------------------------------------------------- finding files


def test_find_data_file_order(tmp_path, monkeypatch, no_data_anywhere):
    explicit, env, cache = tmp_path / "explicit", tmp_path / "env", tmp_path / "cache"
    for folder in (explicit, env, cache):
        folder.mkdir(exist_ok=True)
        (folder / "x.csv").write_text(folder.name)
    monkeypatch.setenv("TINYGRAD_EDU_DATA", str(env))
    assert datasets.find_data_file("x.csv", explicit) == explicit / "x.csv"
    assert datasets.find_data_file("x.csv", explicit / "x.csv") == explicit / "x.csv"
    assert datasets.find_data_file("x.csv") == env / "x.csv"
    (env / "x.csv").unlink()
    assert datasets.find_data_file("x.csv") == cache / "x.csv"


def test_missing_file_says_where_it_looked_and_how_to_get_it(no_data_anywhere):
    with pytest.raises(FileNotFoundError) as info:
        datasets.load_wine()
    message = str(info.value)
    assert "winequality-white.csv" in message and "$TINYGRAD_EDU_DATA (not set)" in message
    assert str(no_data_anywhere / "cache") in message and "no network in this test" in message
    assert "download it from https://" in message
    with pytest.raises(FileNotFoundError, match="the path given"):
        datasets.load_bikes(no_data_anywhere / "elsewhere.csv", download=False)
    with pytest.raises(FileNotFoundError, match="no download source"):
        datasets.find_data_file("unknown.bin")


def test_download_keeps_a_file_only_if_its_checksum_matches(no_data_anywhere, monkeypatch):
    source = no_data_anywhere / "served.txt"
    source.write_bytes(b"hello data")
    digest = hashlib.sha256(b"hello data").hexdigest()
    monkeypatch.setattr(datasets.urllib.request, "urlopen",
                        lambda url, timeout: open(url.removeprefix("file://"), "rb"))
    monkeypatch.setitem(datasets.SOURCES, "served.txt", (f"file://{source}", "0" * 64))
    with pytest.raises(FileNotFoundError, match="checksum mismatch"):
        datasets.find_data_file("served.txt")
    cache = no_data_anywhere / "cache"
    assert not any(cache.iterdir())                # no half-written or wrong file left behind
    monkeypatch.setitem(datasets.SOURCES, "served.txt", (f"file://{source}", digest))
    path = datasets.find_data_file("served.txt")
    assert path == cache / "served.txt" and path.read_bytes() == b"hello data"


# ---------------------------------------------------------------------------------------- moons


def test_make_moons_still_works():
    X, y = datasets.make_moons(50, noise=0.0, seed=1)
    assert X.shape == (50, 2) and sorted(set(y.tolist())) == [0, 1]
