"""The book's data sets, as tensors (book ch. 3–5; files in ../shared/data, never in this repository).

| loader | what | shape |
|---|---|---|
| `load_thermometer()` | the 11 readings of ch. 4 (in code) | t_c, t_u: (11,) |
| `load_wine()` | white wines: 11 chemical features, quality score | (4898, 11), (4898,) |
| `load_bikes()` | hourly bike rentals, date column → day of month | (17520, 17) or (730, 24, 17) |
| `load_text()` + `char_one_hot`, `word_one_hot` | *Pride and Prejudice*, one-hot encoded | (len(line), 128), (n_words, 7261) |
| `load_mnist()` | handwritten digits from the IDX files | (N, 28, 28) images, (N,) labels |
| `make_moons()` | two interleaving half circles (generated) | X (n, 2), y (n,) |

A data file is found by `find_data_file(name, path)`: an explicit `path` first, then the folder in
`$TINYGRAD_EDU_DATA`, then a user cache (`$TINYGRAD_EDU_CACHE`, default ~/.cache/tinygrad_edu)
into which the file is downloaded from its original public source, its SHA-256 checked, when a
network is there. If all fail, FileNotFoundError says where it looked and how to get the file.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import urllib.request
from pathlib import Path
from typing import NamedTuple

import numpy as np

from tinygrad_edu.serialization import atomic_write

__all__ = ["find_data_file", "load_thermometer", "load_wine", "load_bikes", "load_text",
           "clean_words", "char_one_hot", "word_index", "word_one_hot", "read_idx",
           "load_mnist", "make_moons", "WINE_COLUMNS", "BIKE_COLUMNS"]

_BOOK_DATA = "https://raw.githubusercontent.com/deep-learning-with-pytorch/dlwpt-code/master/data"
_MNIST = "https://ossci-datasets.s3.amazonaws.com/mnist"

# name -> (where the original lives, its SHA-256): a download is kept only if the digest matches.
SOURCES = {
    "winequality-white.csv": (
        f"{_BOOK_DATA}/p1ch4/tabular-wine/winequality-white.csv",
        "76c3f809815c17c07212622f776311faeb31e87610d52c26d87d6e361b169836"),
    "bike-sharing-hour-fixed.csv": (
        f"{_BOOK_DATA}/p1ch4/bike-sharing-dataset/hour-fixed.csv",
        "ae5b1b828676fb7696ebfd838f105c71cda9c867aa752f75eed6fa6d0eacf991"),
    "pride-and-prejudice-1342-0.txt": (
        f"{_BOOK_DATA}/p1ch4/jane-austen/1342-0.txt",
        "c96e628c6f84bf45d3cee2c2da66166ccbeda328ecb76bb9b2ab1bc91961d0d1"),
    "t10k-images-idx3-ubyte.gz": (
        f"{_MNIST}/t10k-images-idx3-ubyte.gz",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
    "t10k-labels-idx1-ubyte.gz": (
        f"{_MNIST}/t10k-labels-idx1-ubyte.gz",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
    "train-images-idx3-ubyte.gz": (
        f"{_MNIST}/train-images-idx3-ubyte.gz",
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
    "train-labels-idx1-ubyte.gz": (
        f"{_MNIST}/train-labels-idx1-ubyte.gz",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
}


# ---------------------------------------------------------------------------------------- finding files


def cache_dir() -> Path:
    """Where downloads go: $TINYGRAD_EDU_CACHE, else ~/.cache/tinygrad_edu (or $XDG_CACHE_HOME)."""
    if os.environ.get("TINYGRAD_EDU_CACHE"):
        return Path(os.environ["TINYGRAD_EDU_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "tinygrad_edu"


def find_data_file(name: str, path: str | os.PathLike | None = None,
                   download: bool = True) -> Path:
    """The path of the data file `name`.

    Looks, in order, at `path` (the file itself, or a folder holding `name`), at the folder
    $TINYGRAD_EDU_DATA, and at the user cache; if the file is in none of them and `download` is
    true, fetches it from `SOURCES[name]` into the cache and checks its SHA-256.
    """
    looked: list[str] = []
    if path is not None:
        candidate = Path(path).expanduser()
        if candidate.is_dir():
            candidate = candidate / name
        if candidate.is_file():
            return candidate
        looked.append(f"{candidate} (the path given)")
    env = os.environ.get("TINYGRAD_EDU_DATA")
    if env:
        candidate = Path(env).expanduser() / name
        if candidate.is_file():
            return candidate
        looked.append(f"{candidate} ($TINYGRAD_EDU_DATA)")
    else:
        looked.append("$TINYGRAD_EDU_DATA (not set)")
    cached = cache_dir() / name
    if cached.is_file():
        return cached
    looked.append(f"{cached} (the user cache)")
    problem = "downloading is switched off (download=False)"
    if download and name in SOURCES:
        try:
            return _download(name, cached)
        except OSError as exc:  # no network, HTTP error, bad checksum, unwritable cache
            problem = f"downloading it failed: {exc}"
    elif name not in SOURCES:
        problem = "tinygrad_edu knows no download source for it"
    url = SOURCES[name][0] if name in SOURCES else None
    how = (f"download it from {url} " if url else "get the file ") + \
        "and put it in a folder named by $TINYGRAD_EDU_DATA, or pass its path"
    raise FileNotFoundError(f"data file {name!r} not found. Looked at: {'; '.join(looked)}; "
                            f"{problem}. To fix: {how}.")


def _download(name: str, target: Path) -> Path:
    """Fetch SOURCES[name] into `target`, keeping it only if its SHA-256 is the expected one."""
    url, expected = SOURCES[name]
    target.parent.mkdir(parents=True, exist_ok=True)

    def fetch(out) -> None:
        digest = hashlib.sha256()
        with urllib.request.urlopen(url, timeout=30) as response:
            while chunk := response.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != expected:  # raising here leaves no file behind
            raise OSError(f"checksum mismatch for {url}: got sha256 {digest.hexdigest()}, "
                          f"expected {expected}")

    atomic_write(target, fetch)  # a half-downloaded file never has the real name
    return target


def _tensor(array: np.ndarray):
    """`array` as a tensor, sharing its memory (copied first only if not contiguous)."""
    import tinygrad_edu as torch
    return torch.from_numpy(np.ascontiguousarray(array))


# ---------------------------------------------------------------------------------------- ch. 4: thermometer


def load_thermometer():
    """The thermometer calibration data of book ch. 4 (it is small enough to live in code).

    Returns `(t_c, t_u)`, float32 tensors of 11 readings each: temperatures in Celsius, and what
    the unlabelled thermometer showed at the same moments (they turn out to be Fahrenheit).
    """
    import tinygrad_edu as torch
    t_c = [0.5, 14.0, 15.0, 28.0, 11.0, 8.0, 3.0, -4.0, 6.0, 13.0, 21.0]
    t_u = [35.7, 55.9, 58.2, 81.9, 56.3, 48.9, 33.9, 21.8, 48.4, 60.4, 68.4]
    return torch.tensor(t_c), torch.tensor(t_u)


# ---------------------------------------------------------------------------------------- ch. 3: wine


WINE_COLUMNS = ["fixed acidity", "volatile acidity", "citric acid", "residual sugar",
                "chlorides", "free sulfur dioxide", "total sulfur dioxide", "density", "pH",
                "sulphates", "alcohol", "quality"]


class WineData(NamedTuple):
    data: object      # float32 (4898, 11): the chemical measurements
    target: object    # int64 (4898,): the quality score, 0 (worst) to 10 (best)
    columns: list     # the 12 column names, features first, "quality" last


def load_wine(path=None, download: bool = True) -> WineData:
    """The white-wine quality table of book ch. 3.1 (winequality-white.csv, `;`-separated).

    Returns `WineData(data, target, columns)`: data is float32 (4898, 11), target the int64
    quality scores (4898,) — use `target.float()` for regression, as is for classes.
    """
    file = find_data_file("winequality-white.csv", path, download)
    with open(file, encoding="utf-8") as f:
        header = [c.strip().strip('"') for c in f.readline().strip().split(";")]
        if header != WINE_COLUMNS:
            raise ValueError(f"{file}: expected the wine-quality header {WINE_COLUMNS}, got "
                             f"{header}")
        table = np.loadtxt(f, dtype=np.float32, delimiter=";", ndmin=2)
    if table.shape[1] != 12:
        raise ValueError(f"{file}: expected 12 columns, got {table.shape[1]}")
    return WineData(_tensor(table[:, :-1]), _tensor(table[:, -1].astype(np.int64)),
                    list(WINE_COLUMNS))


# ---------------------------------------------------------------------------------------- ch. 3: bikes


BIKE_COLUMNS = ["instant", "day", "season", "yr", "mnth", "hr", "holiday", "weekday",
                "workingday", "weathersit", "temp", "atemp", "hum", "windspeed", "casual",
                "registered", "cnt"]
_WEATHER_COLUMNS = ["weather_clear", "weather_mist", "weather_light_rain", "weather_heavy_rain"]


def load_bikes(path=None, daily: bool = False, weather_onehot: bool = False,
               download: bool = True):
    """The hourly bike-sharing table of book ch. 3.2 (bike-sharing-hour-fixed.csv), float32.

    Column 1 holds the date in the file ("2011-01-01"); as in the book it becomes the day of the
    month (1.0). The 17 columns are `BIKE_COLUMNS`; weathersit (column 9) is 1 (clear) to 4
    (heavy rain).

    - default: the (17520, 17) table, one row per hour (missing hours filled in by the book).
    - `daily=True`: the same storage viewed as (730, 24, 17): day, hour of day, column.
    - `weather_onehot=True`: 4 more columns at the end, the one-hot encoding of weathersit
      (1 → [1, 0, 0, 0], ..., 4 → [0, 0, 0, 1]), so 21 columns.
    """
    file = find_data_file("bike-sharing-hour-fixed.csv", path, download)
    with open(file, encoding="utf-8") as f:
        header = f.readline().strip().split(",")
        if len(header) != 17 or header[1] != "dteday":
            raise ValueError(f"{file}: expected the 17-column bike-sharing header with 'dteday' "
                             f"in column 1, got {header}")
        rows = [line.strip().split(",") for line in f if line.strip()]
    for i, row in enumerate(rows):
        if len(row) != 17:
            raise ValueError(f"{file}: line {i + 2} has {len(row)} fields, expected 17")
        row[1] = row[1][8:10]  # "2011-01-17" -> "17", the day of the month
    table = np.array(rows, dtype=np.float32)
    if weather_onehot:
        weather = table[:, 9].astype(np.int64)
        if weather.min() < 1 or weather.max() > 4:
            raise ValueError(f"{file}: weathersit must be 1..4, got values from {weather.min()} "
                             f"to {weather.max()}")
        table = np.concatenate([table, np.eye(4, dtype=np.float32)[weather - 1]], axis=1)
    bikes = _tensor(table)
    if daily:
        if bikes.shape[0] % 24:
            raise ValueError(f"{file}: {bikes.shape[0]} rows is not a whole number of days")
        bikes = bikes.view(-1, 24, bikes.shape[1])
    return bikes


# ---------------------------------------------------------------------------------------- ch. 3: text


def load_text(path=None, download: bool = True) -> str:
    """Jane Austen's *Pride and Prejudice* (Project Gutenberg #1342) as one string (book ch. 3.3).

    Split it with `text.split("\\n")` to get lines: line 200 is the "Impossible, Mr. Bennet" line
    the book encodes.
    """
    file = find_data_file("pride-and-prejudice-1342-0.txt", path, download)
    return Path(file).read_text(encoding="utf-8")


_PUNCTUATION = '.,;:"!?”“_-'


def clean_words(text: str) -> list[str]:
    """The words of `text`, lower-cased, with punctuation (.,;:"!?”“_-) stripped from their ends."""
    return [word.strip(_PUNCTUATION) for word in text.lower().replace("\n", " ").split()]


def char_one_hot(line: str):
    """One row per character of `line`, a 1 in the column of its ASCII code (128 columns).

    Characters are lower-cased and the line is stripped; characters outside ASCII (the book's
    curly quotes) go to column 0. The tensor has len(line) rows, as in the book, so the rows past
    the stripped line stay zero.
    """
    onehot = np.zeros((len(line), 128), dtype=np.float32)
    for i, ch in enumerate(line.lower().strip()):
        onehot[i, ord(ch) if ord(ch) < 128 else 0] = 1.0
    return _tensor(onehot)


def word_index(text: str) -> dict[str, int]:
    """The vocabulary of `text`: each distinct cleaned word → its position in sorted order.

    For the whole novel that is 7261 words, "impossible" at 3394.
    """
    return {word: i for i, word in enumerate(sorted(set(clean_words(text))))}


def word_one_hot(line: str, vocabulary: dict[str, int]):
    """One row per cleaned word of `line`, a 1 in the column `vocabulary[word]`.

    Shape (number of words, len(vocabulary)); a word missing from the vocabulary is a KeyError
    that names it.
    """
    words = clean_words(line)
    onehot = np.zeros((len(words), len(vocabulary)), dtype=np.float32)
    for i, word in enumerate(words):
        if word not in vocabulary:
            raise KeyError(f"word {word!r} is not in the vocabulary ({len(vocabulary)} words)")
        onehot[i, vocabulary[word]] = 1.0
    return _tensor(onehot)


# ---------------------------------------------------------------------------------------- MNIST


_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path) -> np.ndarray:
    """The array stored in an IDX file (MNIST's format), gzip-compressed or raw.

    An IDX file starts with 4 magic bytes — 0, 0, a type code (0x08 = unsigned byte), the number
    of dimensions — then each dimension's size as a big-endian int32, then the data, row-major.
    Anything that does not fit (wrong magic, truncated or overlong data) is a ValueError.
    """
    path = Path(path)
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":  # gzip's own magic number
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise ValueError(f"{path}: a damaged gzip file ({exc})") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"{path}: not an IDX file (magic bytes {raw[:4].hex() or 'missing'}; "
                         "expected 0000 followed by a type code 08-0e and the number of "
                         "dimensions)")
    dtype, ndim = np.dtype(_IDX_TYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: IDX header cut short ({len(raw)} bytes, {ndim} dimensions "
                         f"need {header})")
    shape = tuple(int.from_bytes(raw[4 + 4 * d: 8 + 4 * d], "big") for d in range(ndim))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"{path}: IDX data of shape {shape} needs {expected} bytes, the file has "
                         f"{len(raw)}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(
        dtype.newbyteorder("="))


class MNISTData(NamedTuple):
    train_images: object   # float32 (N, 28, 28) in [0, 1] (or uint8 0..255 with scale=False)
    train_labels: object   # int64 (N,), the digits 0..9
    val_images: object
    val_labels: object
    split: str             # "standard" (60000 / 10000) or "t10k" (8000 / 2000)


def load_mnist(path=None, split: str = "auto", scale: bool = True, flatten: bool = False,
               download: bool = True) -> MNISTData:
    """Handwritten digits from the standard MNIST IDX files (gzip-compressed or raw).

    - `split="standard"`: train on train-images/labels (60000), validate on t10k (10000).
    - `split="t10k"`: only the 10000-image test files: the **first 8000 train, the last 2000
      validate** — a fixed split, the one this project's examples and benchmark use (the 60000
      training images are not in ../shared/data). Say so when reporting results.
    - `split="auto"` (default): "standard" if the train files sit beside the t10k files (or in
      `path`), else "t10k".

    Images are float32 in [0, 1] (divided by 255; `scale=False` keeps uint8 0..255), shaped
    (N, 28, 28) or (N, 784) with `flatten=True`; labels are int64.
    """
    if split not in ("auto", "standard", "t10k"):
        raise ValueError(f"split must be 'auto', 'standard' or 't10k', got {split!r}")
    test_images_file = _find_idx("t10k-images-idx3-ubyte", path, download)
    folder = test_images_file.parent
    test_images = _mnist_images(test_images_file)
    test_labels = _mnist_labels(_find_idx("t10k-labels-idx1-ubyte", folder if path is None
                                          else path, download), len(test_images))
    if split == "auto":
        present = all(_exists(folder, n) or (path is not None and _exists(Path(path), n))
                      for n in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"))
        split = "standard" if present else "t10k"
    if split == "standard":
        where = path if path is not None else folder
        train_images = _mnist_images(_find_idx("train-images-idx3-ubyte", where, download))
        train_labels = _mnist_labels(_find_idx("train-labels-idx1-ubyte", where, download),
                                     len(train_images))
        parts = (train_images, train_labels, test_images, test_labels)
    else:
        if len(test_images) != 10000:
            raise ValueError(f"the t10k split needs the 10000-image MNIST test file, got "
                             f"{len(test_images)} images")
        parts = (test_images[:8000], test_labels[:8000], test_images[8000:], test_labels[8000:])
    images = [_image_tensor(a, scale, flatten) for a in parts[0::2]]
    labels = [_tensor(a.astype(np.int64)) for a in parts[1::2]]
    return MNISTData(images[0], labels[0], images[1], labels[1], split)


def _exists(folder: Path, stem: str) -> bool:
    return (folder / (stem + ".gz")).is_file() or (folder / stem).is_file()


def _find_idx(stem: str, where, download: bool) -> Path:
    """An IDX file as `stem.gz` or raw `stem`; only the .gz form is downloaded."""
    try:
        return find_data_file(stem, where, download=False)
    except FileNotFoundError:
        pass  # not raw: look for (or fetch) the compressed file, outside this handler
    return find_data_file(stem + ".gz", where, download)


def _mnist_images(file: Path) -> np.ndarray:
    images = read_idx(file)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"{file}: expected MNIST images, uint8 of shape (N, 28, 28), got "
                         f"{images.dtype} of shape {images.shape}")
    return images


def _mnist_labels(file: Path, n_images: int) -> np.ndarray:
    labels = read_idx(file)
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise ValueError(f"{file}: expected MNIST labels, uint8 of shape (N,), got {labels.dtype} "
                         f"of shape {labels.shape}")
    if len(labels) != n_images:
        raise ValueError(f"{file}: {len(labels)} labels for {n_images} images")
    if labels.size and labels.max() > 9:
        raise ValueError(f"{file}: labels must be digits 0..9, found {labels.max()}")
    return labels


def _image_tensor(images: np.ndarray, scale: bool, flatten: bool):
    if flatten:
        images = images.reshape(len(images), -1)
    if scale:
        images = images.astype(np.float32) / np.float32(255.0)
    return _tensor(images)


# ---------------------------------------------------------------------------------------- two moons


def make_moons(n_samples: int = 100, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles in the plane, a classic non-linearly-separable problem.

    Class 0 lies on the upper half of the unit circle, class 1 on a lower half circle shifted
    right by 1 and up by 0.5, so the two moons hook into each other::

        class 0:  (cos t,     sin t)           t in [0, π]
        class 1:  (1 - cos t, 0.5 - sin t)     t in [0, π]

    Class 0 gets ``n_samples // 2`` evenly spaced points and class 1 the rest. Gaussian noise
    with standard deviation ``noise`` is added to every coordinate, then the points are
    shuffled. The same ``seed`` always gives the same data.

    Returns ``X`` (float64, shape (n_samples, 2)) and ``y`` (int64, shape (n_samples,),
    labels 0 and 1).
    """
    if n_samples < 2:
        raise ValueError(f"make_moons: n_samples must be >= 2, got {n_samples}")
    if noise < 0:
        raise ValueError(f"make_moons: noise must be >= 0, got {noise}")
    rng = np.random.default_rng(seed)
    n_upper = n_samples // 2
    n_lower = n_samples - n_upper
    t_upper = np.linspace(0.0, np.pi, n_upper)
    t_lower = np.linspace(0.0, np.pi, n_lower)
    upper = np.stack([np.cos(t_upper), np.sin(t_upper)], axis=1)
    lower = np.stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)], axis=1)
    X = np.concatenate([upper, lower]) + rng.normal(0.0, noise, size=(n_samples, 2))
    y = np.concatenate([np.zeros(n_upper, dtype=np.int64), np.ones(n_lower, dtype=np.int64)])
    order = rng.permutation(n_samples)   # shuffled, so the first k points hold both classes
    return X[order].astype(np.float64), y[order]
