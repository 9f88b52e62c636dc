"""`save` and `load`: checkpoints of tensors and containers of them, without pickle.

`torch.save` pickles, and unpickling can run any code the file asks for. Our files hold only
data: a JSON header that describes the saved object and its tensors, then the raw bytes of each
storage. `load` checks every field and every checksum before it builds a tensor, so a truncated,
corrupted or foreign file raises a `SerializationError` that says what is wrong.

What can be saved: Tensor, dict, OrderedDict, list, tuple, str, int, float, bool and None, nested
in any way (without cycles). Dict keys may be str, int, float, bool, None or tuples of these.
This covers `Module.state_dict()` and `Optimizer.state_dict()`. Anything else raises TypeError
naming the type and where it sits, e.g. "cannot save object of type set at obj['opt']['x']".

Tensors keep sharing memory: each storage is written once and each tensor is stored as
(storage, offset, shape, strides, requires_grad), so a view and its base, or one tensor saved
twice, share a storage again after `load` (book ch. 3.12).

The byte layout is documented in docs/file-format.md:

    offset 0   magic b"TGEDU\\x00" | version (u16) | header length N (u64) | sha256 of header (32 B)
    48         header: N bytes of JSON (ASCII)
               zero padding up to a multiple of 64
    D          storage 0 bytes (little-endian), zero padding to 64, storage 1 bytes, ...
"""
from __future__ import annotations

import collections
import contextlib
import hashlib
import io
import json
import math
import os
import secrets
import struct
from typing import Any, BinaryIO

import numpy as np

from tinygrad_edu import vector as V

MAGIC = b"TGEDU\x00"
VERSION = 1
ALIGN = 64               # storages start at multiples of this, counted from the record's start
_PREAMBLE = struct.Struct("<6sHQ32s")  # magic, version, header length, header sha256
MAX_DEPTH = 100          # containers nested deeper than this are refused (a guard for load)
MAX_DIMS = 64
_INT64_LIMIT = 2 ** 63   # sizes, strides and offsets must be valid int64 values, as in PyTorch
_CHUNK = 1 << 24         # read streams of unknown length 16 MiB at a time
_DTYPES = {d.name: d for d in V.ALL_DTYPES}


class SerializationError(RuntimeError):
    """The file is not one that `save` wrote, or it was truncated or corrupted."""


# ---------------------------------------------------------------------------------------- save


def save(obj: Any, f) -> None:
    """Write `obj` (tensors in nested dicts/lists/tuples) to `f`.

    `f` is a path (str or os.PathLike) or a binary file object opened for writing. A path is
    written atomically: to a temporary file in the same directory, flushed to disk, then renamed
    over the target, so a failure never leaves a half-written checkpoint (an existing file stays
    as it was). A file object is written sequentially from its current position.
    """
    # Encode everything first: an unsupported object raises before a byte is written.
    encoder = _Encoder()
    root = encoder.encode(obj, "obj", 0, set())
    arrays = [_little_endian(s._host(), s.dtype) for s in encoder.storages]
    header, offsets = _header(root, encoder, arrays)
    if isinstance(f, (str, os.PathLike)):
        atomic_write(os.fspath(f), lambda out: _write_record(out, header, arrays, offsets))
    else:
        _check_binary_file(f, "save", "write")
        _write_record(f, header, arrays, offsets)


class _Encoder:
    """Turns an object tree into JSON values, collecting its tensors and their storages.

    The JSON encoding of a value (see docs/file-format.md):
        None, True/False, int, str   themselves (JSON null, true/false, number, string)
        float                        {"float": repr(x)}   exact, and nan/inf/-0.0 survive
        Tensor                       {"tensor": i}        i indexes the header's "tensors"
        list, tuple                  {"list": [...]}, {"tuple": [...]}
        dict, OrderedDict            {"dict": [[k, v], ...]}, {"OrderedDict": [[k, v], ...]}
    """

    def __init__(self):
        self.storages: list[V.Storage] = []
        self.tensors: list[dict] = []
        self._storage_index: dict[int, int] = {}
        self._tensor_index: dict[int, int] = {}

    def encode(self, obj: Any, path: str, depth: int, active: set) -> Any:
        if obj is None or type(obj) in (bool, int, str):
            return obj
        if type(obj) is float:
            return {"float": repr(obj)}
        if isinstance(obj, V.Tensor):  # also subclasses such as nn.Parameter
            return {"tensor": self._tensor(obj)}
        kind = _CONTAINERS.get(type(obj))
        if kind is None:
            raise TypeError(f"cannot save object of type {_type_name(obj)} at {path}: "
                            "tinygrad_edu.save supports Tensor, dict, OrderedDict, list, tuple, "
                            "str, int, float, bool and None")
        if id(obj) in active:
            raise ValueError(f"cannot save {path}: it contains itself (a cycle)")
        if depth >= MAX_DEPTH:
            raise ValueError(f"cannot save {path}: containers nest more than {MAX_DEPTH} deep")
        active.add(id(obj))
        try:
            if kind in ("list", "tuple"):
                items = [self.encode(x, f"{path}[{i}]", depth + 1, active)
                         for i, x in enumerate(obj)]
            else:
                items = [[self._key(k, path, depth),
                          self.encode(v, f"{path}[{k!r}]", depth + 1, active)]
                         for k, v in obj.items()]
        finally:
            active.discard(id(obj))
        return {kind: items}

    def _key(self, key: Any, path: str, depth: int) -> Any:
        """A dict key: a str, int, float, bool, None or a tuple of these (nothing mutable)."""
        if key is None or type(key) in (bool, int, str):
            return key
        if type(key) is float:
            return {"float": repr(key)}
        if type(key) is tuple:
            if depth >= MAX_DEPTH:
                raise ValueError(f"cannot save a key of {path}: tuples nest more than "
                                 f"{MAX_DEPTH} deep")
            return {"tuple": [self._key(k, path, depth + 1) for k in key]}
        raise TypeError(f"cannot save a dict key of type {_type_name(key)} in {path}: keys must "
                        "be str, int, float, bool, None or tuples of these")

    def _tensor(self, t: V.Tensor) -> int:
        if id(t) in self._tensor_index:  # the same tensor twice loads as one tensor
            return self._tensor_index[id(t)]
        storage = t.untyped_storage()
        if id(storage) not in self._storage_index:
            self._storage_index[id(storage)] = len(self.storages)
            self.storages.append(storage)
        self._tensor_index[id(t)] = len(self.tensors)
        self.tensors.append({"storage": self._storage_index[id(storage)],
                             "offset": int(t.storage_offset()),
                             "shape": [int(n) for n in t.shape],
                             "strides": [int(n) for n in t.stride()],
                             "requires_grad": bool(t.requires_grad)})
        return self._tensor_index[id(t)]


_CONTAINERS = {list: "list", tuple: "tuple", dict: "dict",
               collections.OrderedDict: "OrderedDict"}


def _type_name(obj: Any) -> str:
    cls = type(obj)
    return cls.__name__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def _little_endian(host: np.ndarray, dt: V.dtype) -> np.ndarray:
    """The storage's elements as a contiguous little-endian array (the file's byte order)."""
    return np.ascontiguousarray(host, dtype=dt.np_dtype.newbyteorder("<"))


def _align(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


def _header(root: Any, encoder: _Encoder, arrays: list[np.ndarray]) -> tuple[bytes, list[int]]:
    """The JSON header and where each storage goes, counted from the start of the data."""
    offsets, end = [], 0
    for arr in arrays:
        offsets.append(_align(end))
        end = offsets[-1] + arr.nbytes
    storages = [{"dtype": s.dtype.name, "device": str(s.device), "size": arr.shape[0],
                 "offset": off, "sha256": hashlib.sha256(arr.view(np.uint8)).hexdigest()}
                for s, arr, off in zip(encoder.storages, arrays, offsets)]
    header = {"storages": storages, "tensors": encoder.tensors, "data_nbytes": end, "root": root}
    # ASCII JSON: non-ASCII text (even lone surrogates) is escaped, so the header always encodes.
    text = json.dumps(header, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return text.encode("ascii"), offsets


def _write_record(out: BinaryIO, header: bytes, arrays: list[np.ndarray],
                  offsets: list[int]) -> None:
    """Preamble, header, padding, then each storage at its aligned offset."""
    out.write(_PREAMBLE.pack(MAGIC, VERSION, len(header), hashlib.sha256(header).digest()))
    out.write(header)
    data_start = _align(_PREAMBLE.size + len(header))
    out.write(bytes(data_start - _PREAMBLE.size - len(header)))
    pos = 0
    for arr, off in zip(arrays, offsets):
        out.write(bytes(off - pos))
        out.write(memoryview(arr.view(np.uint8)))
        pos = off + arr.nbytes


def atomic_write(path, write) -> None:
    """Run `write(file)` on a temporary file beside `path`, then rename it over `path`.

    The rename (os.replace) is atomic: readers see the old file or the new one, never a mix.
    fsync before it makes sure the new bytes are on disk before the name points at them.
    """
    directory, name = os.path.split(os.path.abspath(path))
    if not os.path.isdir(directory):  # say so, rather than name the temporary file
        raise RuntimeError(f"Parent directory {directory} does not exist (saving to {path}).")
    tmp = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.tmp")
    try:
        with open(tmp, "xb") as out:  # "x": never clobber anything, and honour the umask
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:  # also KeyboardInterrupt: never leave the temporary file behind
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); not possible, nor needed, everywhere."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _check_binary_file(f: Any, fn: str, method: str) -> None:
    if isinstance(f, io.TextIOBase):
        raise TypeError(f"{fn}() needs a binary file object (opened with '{method[0]}b'), got a "
                        f"text file {type(f).__name__}")
    if not callable(getattr(f, method, None)):
        raise TypeError(f"{fn}() expects a path (str or os.PathLike) or a binary file object "
                        f"with a {method}() method, got {_type_name(f)}")


# ---------------------------------------------------------------------------------------- load


def load(f, map_location=None) -> Any:
    """Read an object written by `save` from a path or a binary file object.

    `map_location` puts the tensors on another device: None keeps each tensor's saved device,
    "cpu", "cuda", "cuda:0" or a `device` puts all of them there, and a dict such as
    {"cuda:0": "cpu"} maps saved devices to new ones. Never executes anything from the file.
    Raises SerializationError if the file is not a valid tinygrad_edu file.
    """
    relocate = _parse_map_location(map_location)
    if isinstance(f, (str, os.PathLike)):
        with open(os.fspath(f), "rb") as stream:
            return _Reader(stream).read(relocate)
    _check_binary_file(f, "load", "read")
    return _Reader(f).read(relocate)


def _parse_map_location(map_location):
    """A function from a saved device to the device to load onto."""
    if map_location is None:
        return lambda dev: dev
    if isinstance(map_location, (str, V.device)):
        target = V.device(map_location)
        return lambda dev: target
    if isinstance(map_location, dict):
        table = {V.device(k): V.device(v) for k, v in map_location.items()}
        return lambda dev: table.get(dev, dev)
    raise TypeError(f"map_location must be None, a device, a device string or a dict of them, "
                    f"got {_type_name(map_location)}")


class _Reader:
    """Reads one record from a stream, checking each part before trusting it."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream
        self.pos = 0  # bytes read so far, counted from the start of the record
        self.available = _remaining_bytes(stream)  # None for streams that cannot tell

    def read(self, relocate) -> Any:
        header = self._preamble_and_header()
        storages_meta, tensors_meta, data_nbytes, root = _check_header(header)
        self._skip_padding(_align(self.pos) - self.pos, "padding after the header")
        if self.available is not None and self.pos + data_nbytes > self.available:
            raise SerializationError(f"truncated: the data section needs {data_nbytes} bytes at "
                                     f"offset {self.pos}, file has {self.available}")
        data_start = self.pos
        storages = []
        for i, meta in enumerate(storages_meta):
            gap = data_start + meta["offset"] - self.pos
            self._skip_padding(gap, f"padding before storage {i}")
            storages.append(self._storage(i, meta, relocate))
        tensors = [_make_tensor(i, meta, storages) for i, meta in enumerate(tensors_meta)]
        return _decode(root, tensors, "obj", 0)

    # -- reading bytes -----------------------------------------------------------------------
    def _exact(self, n: int, what: str) -> bytearray:
        """Exactly `n` bytes. The size is checked against the file before memory is allocated;
        a stream that cannot tell its size is read in chunks, so a lying size costs nothing."""
        if self.available is not None and self.pos + n > self.available:
            raise SerializationError(f"truncated: {what} needs {n} bytes at offset {self.pos}, "
                                     f"file has {self.available}")
        buf = bytearray()
        while len(buf) < n:
            chunk = self.stream.read(min(n - len(buf), _CHUNK))
            if not chunk:
                raise SerializationError(f"truncated: {what} needs {n} bytes at offset "
                                         f"{self.pos}, file has {self.pos + len(buf)}")
            buf += chunk
        self.pos += n
        return buf

    def _upto(self, n: int) -> bytes:
        """Up to `n` bytes: fewer only at the end of the stream (raw streams may return less
        than asked before that)."""
        buf = b""
        while len(buf) < n:
            chunk = self.stream.read(n - len(buf))
            if not chunk:
                break
            buf += chunk
        return buf

    def _skip_padding(self, n: int, what: str) -> None:
        # Padding must be zeros: then every byte of the record is checked by something.
        if any(self._exact(n, what)):
            raise SerializationError(f"corrupted: {what} (at offset {self.pos - n}) is not zeros")

    # -- the parts -----------------------------------------------------------------------------
    def _preamble_and_header(self) -> dict:
        head = self._upto(_PREAMBLE.size)
        if not head:
            raise SerializationError("not a tinygrad_edu file (the file is empty)")
        if not head.startswith(MAGIC[:len(head)]):
            hint = ("; it looks like a torch.save zip archive, which tinygrad_edu cannot read "
                    "(it would have to unpickle it)") if head.startswith(b"PK\x03\x04") else ""
            raise SerializationError(f"not a tinygrad_edu file (bad magic {head[:6]!r}){hint}")
        if len(head) < _PREAMBLE.size:
            raise SerializationError(f"truncated: the preamble needs {_PREAMBLE.size} bytes, "
                                     f"file has {len(head)}")
        self.pos = len(head)
        _, version, header_len, digest = _PREAMBLE.unpack(head)
        if version != VERSION:
            raise SerializationError(f"unsupported tinygrad_edu file format version {version} "
                                     f"(this tinygrad_edu reads version {VERSION})")
        raw = self._exact(header_len, "the header")
        if hashlib.sha256(raw).digest() != digest:
            raise SerializationError("corrupted: the header's sha256 checksum does not match")
        try:
            return json.loads(raw.decode("ascii"), parse_constant=_reject_constant)
        except (UnicodeDecodeError, ValueError, RecursionError) as e:
            raise SerializationError(f"corrupted: the header is not valid JSON ({e})") from None

    def _storage(self, i: int, meta: dict, relocate) -> V.Storage:
        dt = _DTYPES[meta["dtype"]]
        raw = self._exact(meta["size"] * dt.itemsize, f"storage {i}")
        if hashlib.sha256(raw).hexdigest() != meta["sha256"]:
            raise SerializationError(f"corrupted: storage {i}'s sha256 checksum does not match")
        arr = np.frombuffer(raw, dtype=dt.np_dtype.newbyteorder("<"))
        arr = arr.astype(dt.np_dtype, copy=False)  # a no-op on little-endian machines
        if dt is V.bool_ and arr.view(np.uint8).max(initial=0) > 1:
            raise SerializationError(f"corrupted: storage {i} (bool) holds bytes other than 0 "
                                     "and 1")
        return _to_device(arr, dt, relocate(V.device(meta["device"])))


def _remaining_bytes(stream: BinaryIO) -> int | None:
    """How many bytes the stream holds from its position on, or None if it cannot say."""
    try:
        if not stream.seekable():
            return None
        here = stream.tell()
        end = stream.seek(0, os.SEEK_END)
        stream.seek(here)
        return end - here
    except (AttributeError, OSError, ValueError):
        return None


def _reject_constant(name: str):
    raise ValueError(f"{name} is not allowed")


def _to_device(arr: np.ndarray, dt: V.dtype, dev: V.device) -> V.Storage:
    if dev.type == "cpu":
        return V.Storage(arr, dt, dev)
    try:
        k = V.kernels(dev)
    except ImportError as e:
        raise RuntimeError(f"cannot load a tensor onto {dev}: CUDA support is not available "
                           f"({e}); pass map_location='cpu' to load it on the CPU") from None
    return V.Storage(k.from_numpy(arr), dt, dev)


# ---------------------------------------------------------------------------------------- checks


def _check_header(header: Any) -> tuple[list, list, int, Any]:
    """Validate the header's structure and every number in it; return its four parts."""
    _check_fields(header, "the header", {"storages": list, "tensors": list, "data_nbytes": int,
                                         "root": object})
    data_nbytes = _check_int(header["data_nbytes"], "data_nbytes", 0)
    end = 0
    for i, s in enumerate(header["storages"]):
        what = f"storage {i}"
        _check_fields(s, what, {"dtype": str, "device": str, "size": int, "offset": int,
                                "sha256": str})
        if s["dtype"] not in _DTYPES:
            raise SerializationError(f"corrupted: {what} has unknown dtype {s['dtype']!r} "
                                     f"(expected one of {', '.join(_DTYPES)})")
        try:
            V.device(s["device"])
        except RuntimeError:
            raise SerializationError(f"corrupted: {what} has unknown device "
                                     f"{s['device']!r}") from None
        _check_int(s["size"], f"{what} size", 0)
        offset = _check_int(s["offset"], f"{what} offset", 0)
        nbytes = s["size"] * _DTYPES[s["dtype"]].itemsize
        # Storages are read in order, one after the other: no going back, no overlap.
        if offset < end or offset % ALIGN:
            raise SerializationError(f"corrupted: {what} starts at data offset {offset}, expected "
                                     f"a multiple of {ALIGN} at or after {end}")
        end = offset + nbytes
        if end > data_nbytes:
            raise SerializationError(f"corrupted: {what} needs {nbytes} bytes at data offset "
                                     f"{offset}, but the data section has {data_nbytes}")
        if len(s["sha256"]) != 64 or any(c not in "0123456789abcdef" for c in s["sha256"]):
            raise SerializationError(f"corrupted: {what} has a malformed sha256 "
                                     f"{s['sha256'][:80]!r}")
    if end != data_nbytes:
        raise SerializationError(f"corrupted: data_nbytes is {data_nbytes} but the storages end "
                                 f"at {end}")
    for i, t in enumerate(header["tensors"]):
        _check_tensor(i, t, header["storages"])
    return header["storages"], header["tensors"], data_nbytes, header["root"]


def _check_fields(obj: Any, what: str, fields: dict) -> None:
    if not isinstance(obj, dict):
        raise SerializationError(f"corrupted: {what} should be a JSON object, got "
                                 f"{type(obj).__name__}")
    if set(obj) != set(fields):
        missing, extra = sorted(set(fields) - set(obj)), sorted(set(obj) - set(fields))
        raise SerializationError(f"corrupted: {what} has missing fields {missing} and "
                                 f"unexpected fields {extra}")
    for name, kind in fields.items():
        if kind is int:
            continue  # _check_int says more
        if not isinstance(obj[name], kind):
            raise SerializationError(f"corrupted: {what} field {name!r} should be a "
                                     f"{kind.__name__}, got {type(obj[name]).__name__}")


def _check_int(x: Any, what: str, low: int) -> int:
    if type(x) is not int:  # bool is an int subclass: refuse it too
        raise SerializationError(f"corrupted: {what} should be an integer, got "
                                 f"{type(x).__name__} {x!r:.80}")
    if not low <= x < _INT64_LIMIT:
        raise SerializationError(f"corrupted: {what} is {x}, expected {low} <= {what} < 2**63")
    return x


def _check_tensor(i: int, t: Any, storages: list) -> None:
    """A tensor's geometry must stay inside its storage: every element it can reach exists."""
    what = f"tensor {i}"
    _check_fields(t, what, {"storage": int, "offset": int, "shape": list, "strides": list,
                            "requires_grad": bool})
    s = _check_int(t["storage"], f"{what} storage index", 0)
    if s >= len(storages):
        raise SerializationError(f"corrupted: {what} refers to storage {s}, but the file has "
                                 f"{len(storages)}")
    if len(t["shape"]) != len(t["strides"]) or len(t["shape"]) > MAX_DIMS:
        raise SerializationError(f"corrupted: {what} has {len(t['shape'])} sizes and "
                                 f"{len(t['strides'])} strides (expected equal, at most "
                                 f"{MAX_DIMS})")
    shape = [_check_int(n, f"{what} size", 0) for n in t["shape"]]
    strides = [_check_int(n, f"{what} stride", 0) for n in t["strides"]]
    offset = _check_int(t["offset"], f"{what} offset", 0)
    size = storages[s]["size"]
    numel = math.prod(shape)
    if numel >= _INT64_LIMIT:
        raise SerializationError(f"corrupted: {what} has {numel} elements, more than 2**63")
    # An empty tensor reaches no element, so its offset may lie anywhere (t[1::2] of a (2, 0)
    # tensor has offset 1 in a storage of 0 elements, in PyTorch too).
    last = offset + sum((n - 1) * st for n, st in zip(shape, strides))
    if numel and last >= size:
        raise SerializationError(f"corrupted: {what} (offset {offset}, shape {shape}, strides "
                                 f"{strides}) reaches element {last} of storage {s}, which has "
                                 f"{size}")
    if t["requires_grad"] and not _DTYPES[storages[s]["dtype"]].is_floating_point:
        raise SerializationError(f"corrupted: {what} of dtype {storages[s]['dtype']} is marked "
                                 "requires_grad (only floating point tensors can be)")


def _make_tensor(i: int, meta: dict, storages: list[V.Storage]) -> V.Tensor:
    t = V.Tensor._make(storages[meta["storage"]], meta["offset"], tuple(meta["shape"]),
                       tuple(meta["strides"]))
    if meta["requires_grad"]:
        t.requires_grad_(True)
    return t


def _decode(x: Any, tensors: list[V.Tensor], path: str, depth: int) -> Any:
    """The inverse of _Encoder.encode, refusing anything it would not have written."""
    if x is None or type(x) in (bool, int, str):
        return x
    if not isinstance(x, dict) or len(x) != 1:
        raise SerializationError(f"corrupted: {path} is a JSON {type(x).__name__} that encodes "
                                 "no saved value")
    if depth >= MAX_DEPTH:
        raise SerializationError(f"corrupted: {path} nests more than {MAX_DEPTH} containers deep")
    (tag, body), = x.items()
    if tag == "float" and isinstance(body, str):
        try:
            return float(body)
        except ValueError:
            raise SerializationError(f"corrupted: {path} is not a float: {body[:80]!r}") from None
    if tag == "tensor" and type(body) is int:
        if not 0 <= body < len(tensors):
            raise SerializationError(f"corrupted: {path} refers to tensor {body}, but the file "
                                     f"has {len(tensors)}")
        return tensors[body]
    if tag in ("list", "tuple") and isinstance(body, list):
        items = [_decode(v, tensors, f"{path}[{i}]", depth + 1) for i, v in enumerate(body)]
        return items if tag == "list" else tuple(items)
    if tag in ("dict", "OrderedDict") and isinstance(body, list):
        out = {} if tag == "dict" else collections.OrderedDict()
        for item in body:
            if not isinstance(item, list) or len(item) != 2:
                raise SerializationError(f"corrupted: an item of {path} is not a [key, value] "
                                         "pair")
            key = _decode_key(item[0], path)
            if key in out:
                raise SerializationError(f"corrupted: {path} has the key {key!r} twice")
            out[key] = _decode(item[1], tensors, f"{path}[{key!r}]", depth + 1)
        return out
    raise SerializationError(f"corrupted: {path} has an unknown or malformed tag {tag!r:.80}")


def _decode_key(k: Any, path: str, depth: int = 0) -> Any:
    if k is None or type(k) in (bool, int, str):
        return k
    if isinstance(k, dict) and len(k) == 1 and depth < MAX_DEPTH:
        (tag, body), = k.items()
        if tag == "float" and isinstance(body, str):
            return _decode({"float": body}, [], path, 0)
        if tag == "tuple" and isinstance(body, list):
            return tuple(_decode_key(v, path, depth + 1) for v in body)
    raise SerializationError(f"corrupted: a key of {path} is not a str, int, float, bool, None "
                             f"or tuple: {json.dumps(k)[:80]}")
