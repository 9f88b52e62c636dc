"""save/load: exact round trips, shared storage, atomic writes, and clear errors on bad files."""
import collections
import hashlib
import io
import json
import math
import os
import pickle
import struct

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import serialization as S
from tinygrad_edu import vector as V
from tinygrad_edu.serialization import SerializationError
from oracle import fake_cuda_kernels

DTYPES = ["float32", "float64", "int64", "int32", "int16", "uint8", "bool"]
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def roundtrip(obj, **load_kwargs):
    buf = io.BytesIO()
    tg.save(obj, buf)
    buf.seek(0)
    return tg.load(buf, **load_kwargs)


def saved_bytes(obj) -> bytes:
    buf = io.BytesIO()
    tg.save(obj, buf)
    return buf.getvalue()


def host_bytes(t) -> bytes:
    return np.ascontiguousarray(t._host()).tobytes()


def assert_same_tensor(a, b) -> None:
    """Same dtype, geometry, autograd flag and bit-identical elements (nan and -0. included)."""
    assert type(b) is V.Tensor and b.is_leaf
    assert (a.dtype, a.shape, a.stride(), a.storage_offset(), a.requires_grad, a.device) == \
        (b.dtype, b.shape, b.stride(), b.storage_offset(), b.requires_grad, b.device)
    if a.numel():  # (an empty view may lie past its storage's end: nothing to read)
        assert host_bytes(a) == host_bytes(b)
    assert a.storage()._host().tobytes() == b.storage()._host().tobytes()  # the whole storage


def assert_same(a, b) -> None:
    """Same structure, same types (tuple stays tuple, OrderedDict stays OrderedDict), same order."""
    assert type(a) is type(b) or (isinstance(a, V.Tensor) and isinstance(b, V.Tensor))
    if isinstance(a, V.Tensor):
        assert_same_tensor(a, b)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, dict):
        assert list(map(repr, a)) == list(map(repr, b))
        for (ka, va), (kb, vb) in zip(a.items(), b.items()):
            assert type(ka) is type(kb)
            assert_same(va, vb)
    elif isinstance(a, float):
        assert repr(a) == repr(b)  # exact, and nan == nan, -0.0 != 0.0
    else:
        assert a == b


def some_tensor(dtype: str, shape=(2, 3), seed: int = 0):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return tg.tensor(rng.random(shape) < 0.5)
    vals = rng.standard_normal(shape) * 100
    return tg.tensor(vals.astype(dtype))


# ----------------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_dtype_round_trips(dtype):
    t = some_tensor(dtype, (3, 4))
    assert_same(t, roundtrip(t))


def test_special_float_values_are_bit_exact():
    t = tg.tensor(np.array([np.nan, np.inf, -np.inf, -0.0, 5e-324, 1.7976931348623157e308]))
    assert_same(t, roundtrip(t))


def test_requires_grad_survives_and_loaded_tensors_are_leaves():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    y = w * 2  # a non-leaf: loads as a leaf that requires grad, as in PyTorch
    a, b = roundtrip([w, y])
    assert a.requires_grad and a.is_leaf and b.requires_grad and b.is_leaf
    assert b.tolist() == [2.0, 4.0]


@pytest.mark.parametrize("make", [
    lambda t: t.t(), lambda t: t[:, 1::2], lambda t: t[1], lambda t: t[1:, 2:],
    lambda t: t[0].unsqueeze(0).expand(5, 4), lambda t: t.permute(1, 0)[::2],
])
def test_non_contiguous_views_keep_their_geometry(make):
    v = make(tg.arange(12.0).view(3, 4))
    assert_same(v, roundtrip(v))


@pytest.mark.parametrize("shape", [(), (0,), (0, 3), (2, 0, 4)])
def test_zero_d_and_empty_tensors(shape):
    for dtype in DTYPES:
        t = tg.zeros(shape, dtype=getattr(tg, "bool" if dtype == "bool" else dtype))
        assert_same(t, roundtrip(t))


def test_views_share_storage_after_load():
    base = tg.arange(12.0).view(3, 4)
    obj = {"base": base, "t": base.t(), "row": base[1], "again": base}
    out = roundtrip(obj)
    assert out["base"] is out["again"]  # the same tensor twice is one tensor
    assert out["t"].storage() is out["base"].storage() is out["row"].storage()
    out["base"].numpy()[1, 2] = 99.0  # a write through one is seen through the others
    assert out["t"][2, 1].item() == 99.0 and out["row"][2].item() == 99.0


def test_each_storage_is_written_once():
    big = tg.zeros(10_000)
    once, twice = saved_bytes([big]), saved_bytes([big, big[5:], big.view(100, 100)])
    assert len(once) > 40_000 and len(twice) - len(once) < 1_000


def test_whole_storage_is_saved_for_a_view():
    # As PyTorch does: a slice keeps its storage (and offset), so saving it saves the storage.
    v = tg.arange(100.0)[10:12]
    out = roundtrip(v)
    assert out.storage_offset() == 10 and out.storage().size() == 100


def test_containers_keep_types_order_and_keys():
    obj = collections.OrderedDict([
        ("z", 1), ("a", [1, (2, 3.5), None, True, False, "text ✓ \ud800"]),
        (3, {"nested": {(1, "x", None): -0.0, 2.5: float("nan"), None: (), False: []}}),
        ("big", 2 ** 100), ("neg", -7), ("empty", {}), ("od", collections.OrderedDict()),
        ("tensor", tg.ones(2)),
    ])
    out = roundtrip(obj)
    assert type(out) is collections.OrderedDict
    assert_same(obj, out)


def test_optimizer_and_module_state_dicts():
    params = [tg.ones(3, 2), tg.zeros(2)]
    module_state = collections.OrderedDict([("fc.weight", params[0]), ("fc.bias", params[1])])
    optim_state = {
        "state": {0: {"step": tg.tensor(3.0), "exp_avg": tg.zeros(3, 2),
                      "exp_avg_sq": tg.zeros(3, 2)},
                  1: {"step": tg.tensor(3.0), "exp_avg": tg.zeros(2),
                      "exp_avg_sq": tg.zeros(2)}},
        "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-08, "weight_decay": 0,
                          "amsgrad": False, "maximize": False, "foreach": None,
                          "params": [0, 1]}],
    }
    checkpoint = {"epoch": 5, "model": module_state, "optimizer": optim_state, "loss": 0.25}
    assert_same(checkpoint, roundtrip(checkpoint))


def test_scalars_and_bare_values_at_the_top():
    for obj in (None, 3, 2.5, "s", True, [], (), {}):
        assert_same(obj, roundtrip(obj))


def test_parameters_save_as_tensors_that_require_grad():
    class Parameter(V.Tensor):  # what nn.Parameter is: a Tensor subclass
        pass

    p = Parameter._make(V.Storage(np.array([1.0, 2.0], np.float32), V.float32), 0, (2,), (1,))
    p.requires_grad_(True)
    out = roundtrip(p)
    assert type(out) is V.Tensor and out.requires_grad and out.tolist() == [1.0, 2.0]


# --------------------------------------------------------------------------------------- targets


def test_paths_str_and_pathlike(tmp_path):
    t = some_tensor("float32")
    tg.save(t, str(tmp_path / "a.pt"))
    tg.save(t, tmp_path / "b.pt")
    assert_same(t, tg.load(str(tmp_path / "b.pt")))
    assert_same(t, tg.load(tmp_path / "a.pt"))
    assert sorted(os.listdir(tmp_path)) == ["a.pt", "b.pt"]


def test_open_file_objects_and_several_records_in_one_stream(tmp_path):
    path = tmp_path / "multi.bin"
    with open(path, "wb") as f:
        tg.save({"first": tg.ones(2)}, f)
        tg.save([1, 2, 3], f)
    with open(path, "rb") as f:
        assert_same({"first": tg.ones(2)}, tg.load(f))
        assert tg.load(f) == [1, 2, 3]


class Unseekable(io.RawIOBase):
    """A pipe-like stream: no seek, no size, and short reads of at most 7 bytes."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        return self._data.readinto(memoryview(b)[:7])


def test_unseekable_streams():
    obj = {"w": some_tensor("float64", (5, 5)), "n": 3}
    data = saved_bytes(obj)
    assert_same(obj, tg.load(Unseekable(data)))
    with pytest.raises(SerializationError, match="truncated"):
        tg.load(Unseekable(data[:-3]))


def test_file_format_is_as_documented():
    """docs/file-format.md, checked byte by byte on a real file."""
    t = tg.arange(6, dtype=tg.int16).view(2, 3)
    data = saved_bytes({"x": t.t(), "k": [1.5]})
    magic, version, n, digest = struct.unpack_from("<6sHQ32s", data)
    assert (magic, version) == (b"TGEDU\x00", 1)
    header_bytes = data[48:48 + n]
    assert hashlib.sha256(header_bytes).digest() == digest
    header = json.loads(header_bytes)
    assert header["root"] == {"dict": [["x", {"tensor": 0}], ["k", {"list": [{"float": "1.5"}]}]]}
    assert header["tensors"] == [{"storage": 0, "offset": 0, "shape": [3, 2], "strides": [1, 3],
                                  "requires_grad": False}]
    (storage,) = header["storages"]
    start = -(-(48 + n) // 64) * 64 + storage["offset"]
    raw = data[start:start + 12]
    assert storage["dtype"] == "int16" and storage["size"] == 6 and header["data_nbytes"] == 12
    assert storage["sha256"] == hashlib.sha256(raw).hexdigest()
    assert np.frombuffer(raw, "<i2").tolist() == [0, 1, 2, 3, 4, 5]
    assert len(data) == start + 12


# ----------------------------------------------------------------------------------- save errors


@pytest.mark.parametrize("obj, message", [
    ({"opt": {"x": {1, 2}}}, r"cannot save object of type set at obj\['opt'\]\['x'\]"),
    ([1, [2, object()]], r"type object at obj\[1\]\[1\]"),
    ({"f": np.float64(1.0)}, r"type numpy.float64 at obj\['f'\]"),
    ({"d": collections.defaultdict(list)}, r"type collections.defaultdict at obj\['d'\]"),
    ({"a": np.ones(2)}, r"numpy.ndarray"),
    ({(1, b"x"): 3}, r"dict key of type bytes in obj"),
    ({"d": {frozenset([1]): 3}}, r"dict key of type frozenset in obj\['d'\]"),
    ({tg.ones(1): 3}, r"dict key of type .*Tensor in obj"),
    (b"bytes", r"type bytes at obj"),
])
def test_unsupported_objects_raise_type_error_naming_type_and_path(obj, message):
    with pytest.raises(TypeError, match=message):
        tg.save(obj, io.BytesIO())


def test_cycles_and_deep_nesting_raise_value_error():
    loop = [1]
    loop.append(loop)
    with pytest.raises(ValueError, match=r"obj\[1\]: it contains itself"):
        tg.save(loop, io.BytesIO())
    deep = []
    for _ in range(S.MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(ValueError, match="nest more than"):
        tg.save(deep, io.BytesIO())
    shared = [1, 2]  # the same list twice is not a cycle
    assert roundtrip([shared, shared]) == [[1, 2], [1, 2]]


def test_failed_save_leaves_existing_file_untouched_and_no_temp_file(tmp_path):
    path = tmp_path / "ckpt.pt"
    tg.save({"good": tg.ones(3)}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match=r"obj\['model'\]\['layers'\]\[2\]"):
        tg.save({"model": {"layers": [tg.ones(2), tg.ones(2), {1, 2}]}}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["ckpt.pt"]


def test_crash_in_the_middle_of_writing_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    tg.save([1], path)
    before = path.read_bytes()
    seen = []

    def write_half_then_fail(out, header, arrays, offsets):
        seen.append(out.name)
        out.write(b"TGEDU\x00 half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(S, "_write_record", write_half_then_fail)
    with pytest.raises(OSError, match="No space left"):
        tg.save({"x": tg.ones(1000)}, path)
    assert os.path.dirname(seen[0]) == str(tmp_path)  # the temporary file was beside the target
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["ckpt.pt"]
    with pytest.raises(OSError):
        tg.save([2], tmp_path / "new.pt")
    assert os.listdir(tmp_path) == ["ckpt.pt"]  # a new target is not created either


def test_save_to_a_directory_fails_cleanly(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(OSError):
        tg.save([1], tmp_path / "d")
    assert os.listdir(tmp_path) == ["d"] and os.listdir(tmp_path / "d") == []


def test_save_into_a_missing_directory_names_it(tmp_path):
    missing = tmp_path / "no" / "such"
    with pytest.raises(RuntimeError, match=f"Parent directory {missing} does not exist"):
        tg.save(tg.ones(2), missing / "x.pt")
    assert not (tmp_path / "no").exists()


def test_bad_targets_raise_type_error(tmp_path):
    with open(tmp_path / "t.txt", "w") as f:
        with pytest.raises(TypeError, match="binary file"):
            tg.save([1], f)
    with pytest.raises(TypeError, match="path .* or a binary file object"):
        tg.save([1], 42)
    with pytest.raises(TypeError, match="path .* or a binary file object"):
        tg.load(b"TGEDU\x00")


# ----------------------------------------------------------------------------------- load errors


def craft(header: dict, data: bytes = b"", version: int = 1) -> io.BytesIO:
    """A record with any header, correctly checksummed, as a hostile or buggy writer would make."""
    text = json.dumps(header).encode()
    record = struct.pack("<6sHQ32s", b"TGEDU\x00", version, len(text),
                         hashlib.sha256(text).digest()) + text
    record += bytes(-len(record) % 64) + data
    return io.BytesIO(record)


def good_header(data: bytes = bytes(16), dtype: str = "float32", size: int = 4) -> dict:
    return {"storages": [{"dtype": dtype, "device": "cpu", "size": size, "offset": 0,
                          "sha256": hashlib.sha256(data).hexdigest()}],
            "tensors": [{"storage": 0, "offset": 0, "shape": [size], "strides": [1],
                         "requires_grad": False}],
            "data_nbytes": len(data), "root": {"tensor": 0}}


def test_crafted_good_header_loads():
    assert tg.load(craft(good_header(), bytes(16))).tolist() == [0.0] * 4


def edit(path: str, value):
    header = good_header()
    *keys, last = path.split(".")
    node = header
    for k in keys:
        node = node[int(k)] if k.isdigit() else node[k]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value
    return header


@pytest.mark.parametrize("path, value, message", [
    ("storages.0.dtype", "float16", "unknown dtype 'float16'"),
    ("storages.0.device", "tpu", "unknown device 'tpu'"),
    ("storages.0.size", -1, "size is -1"),
    ("storages.0.size", 2 ** 62, "needs 18446744073709551616 bytes"),
    ("storages.0.size", True, "should be an integer, got bool"),
    ("storages.0.size", 4.0, "should be an integer, got float"),
    ("storages.0.offset", 8, "multiple of 64"),
    ("storages.0.sha256", "00", "malformed sha256"),
    ("storages.0.sha256", "0" * 64, "storage 0's sha256 checksum does not match"),
    ("storages.0.extra", 1, r"unexpected fields \['extra'\]"),
    ("storages.0.dtype", KeyError, r"missing fields \['dtype'\]"),
    ("data_nbytes", 32, "storages end at 16"),
    ("tensors.0.storage", 1, "refers to storage 1, but the file has 1"),
    ("tensors.0.offset", 1, "reaches element 4 of storage 0, which has 4"),
    ("tensors.0.strides", [2], "reaches element 6"),
    ("tensors.0.strides", [-1], "stride is -1"),
    ("tensors.0.shape", [2, 2], "2 sizes and 1 strides"),
    ("tensors.0.shape", [2 ** 63], "size is 9223372036854775808"),
    ("tensors.0.requires_grad", 1, "should be a bool"),
    ("root", {"tensor": 1}, "refers to tensor 1, but the file has 1"),
    ("root", {"tensor": True}, "unknown or malformed tag 'tensor'"),
    ("root", {"set": [1]}, "unknown or malformed tag 'set'"),
    ("root", {"list": [1], "tuple": []}, "encodes no saved value"),
    ("root", [1, 2], "JSON list that encodes no saved value"),
    ("root", 1.5, "JSON float"),
    ("root", {"float": "one"}, "is not a float"),
    ("root", {"dict": [[1, 2], [1, 3]]}, "has the key 1 twice"),
    ("root", {"dict": [[{"list": []}, 2]]}, "key of obj is not a str"),
    ("root", {"dict": [[1, 2, 3]]}, r"not a \[key, value\] pair"),
    ("storages", {}, "should be a list"),
])
def test_invalid_header_fields_are_named(path, value, message):
    with pytest.raises(SerializationError, match=message):
        tg.load(craft(edit(path, value), bytes(16)))


def test_requires_grad_on_an_int_tensor_is_refused():
    header = good_header(bytes(16), "int32")
    header["tensors"][0]["requires_grad"] = True
    with pytest.raises(SerializationError, match="int32 is marked requires_grad"):
        tg.load(craft(header, bytes(16)))


def test_bool_storage_must_hold_zeros_and_ones():
    data = bytes([0, 1, 2, 1])
    with pytest.raises(SerializationError, match="bytes other than 0 and 1"):
        tg.load(craft(good_header(data, "bool"), data))


def test_huge_sizes_fail_fast_without_allocating():
    header = good_header()
    header["storages"][0]["size"] = 2 ** 60
    header["tensors"][0]["shape"] = [2 ** 60]
    header["data_nbytes"] = 2 ** 62
    with pytest.raises(SerializationError, match=r"truncated: the data section needs "
                                                 r"4611686018427387904 bytes"):
        tg.load(craft(header, bytes(16)))
    buf = craft(header, bytes(16))
    with pytest.raises(SerializationError, match="truncated"):
        tg.load(Unseekable(buf.getvalue()))  # read in chunks until the data runs out
    lying = struct.pack("<6sHQ32s", b"TGEDU\x00", 1, 2 ** 63, bytes(32))
    with pytest.raises(SerializationError, match="truncated: the header needs 9223372036854775808"):
        tg.load(io.BytesIO(lying))


def test_hostile_json():
    for text in (b"[" * 100_000, b'{"root": NaN}', b"\xff\xfe", b'{"a": 1' + b"0" * 5000 + b"}"):
        buf = io.BytesIO(struct.pack("<6sHQ32s", b"TGEDU\x00", 1, len(text),
                                     hashlib.sha256(text).digest()) + text)
        with pytest.raises(SerializationError, match="header"):
            tg.load(buf)
    deep = {"list": []}
    for _ in range(S.MAX_DEPTH + 1):
        deep = {"list": [deep]}
    with pytest.raises(SerializationError, match="nests more than"):
        tg.load(craft(edit("root", deep), bytes(16)))


def test_unsupported_version():
    with pytest.raises(SerializationError, match="version 2 .* reads version 1"):
        tg.load(craft(good_header(), bytes(16), version=2))


@pytest.mark.parametrize("content, message", [
    (b"", r"not a tinygrad_edu file \(the file is empty\)"),
    (b"hello, world\n", r"bad magic b'hello,'"),
    (pickle.dumps({"a": 1}), r"bad magic b'\\x80"),
    (b"TGE", "truncated: the preamble needs 48 bytes, file has 3"),
])
def test_foreign_files(content, message, tmp_path):
    path = tmp_path / "foreign"
    path.write_bytes(content)
    with pytest.raises(SerializationError, match=message):
        tg.load(path)


def test_a_torch_save_file_is_refused_with_a_hint(tmp_path):
    path = tmp_path / "torch.pt"
    torch.save({"w": torch.ones(3)}, path)
    magic = r"bad magic b'PK\\x03\\x04\\x00\\x00'.*torch.save zip"
    with pytest.raises(SerializationError, match=magic):
        tg.load(path)


def sample_file() -> bytes:
    return saved_bytes({"w": tg.arange(6.0).view(2, 3), "b": [tg.ones(2, dtype=tg.bool), 3],
                        "od": collections.OrderedDict(lr=0.1)})


def test_truncation_at_every_cut_point_is_reported():
    data = sample_file()
    for cut in range(len(data)):
        with pytest.raises(SerializationError, match="truncated|empty|bad magic"):
            tg.load(io.BytesIO(data[:cut]))


def test_every_flipped_byte_is_detected():
    """Magic, version, lengths, checksums, header, padding and data: no byte goes unchecked."""
    data = sample_file()
    for i in range(len(data)):
        for flip in (0x01, 0xFF):
            bad = bytearray(data)
            bad[i] ^= flip
            with pytest.raises(SerializationError):
                tg.load(io.BytesIO(bytes(bad)))


@SETTINGS
@given(st.binary(max_size=300), st.integers(0, 300))
def test_random_garbage_after_a_valid_preamble_never_crashes(garbage, length):
    buf = io.BytesIO(struct.pack("<6sHQ32s", b"TGEDU\x00", 1, length, bytes(32)) + garbage)
    with pytest.raises(SerializationError):
        tg.load(buf)


# --------------------------------------------------------------------------------------- devices


def cuda_tensor(values):
    arr = np.array(values, np.float32)
    return V.Tensor._make(V.Storage(arr, V.float32, V.device("cuda:0")), 0, arr.shape, (1,))


def test_map_location(monkeypatch):
    monkeypatch.setitem(V._kernels_cache, "cuda", fake_cuda_kernels())
    obj = {"gpu": cuda_tensor([1.0, 2.0]), "cpu": tg.ones(2)}
    data = saved_bytes(obj)

    def load(map_location):
        return tg.load(io.BytesIO(data), map_location=map_location)

    assert load(None)["gpu"].device == V.device("cuda:0") and load(None)["cpu"].device == V.CPU
    for where in ("cpu", V.device("cpu"), {"cuda:0": "cpu"}):
        out = load(where)
        assert out["gpu"].device == V.CPU and out["gpu"].tolist() == [1.0, 2.0]
    out = load("cuda")
    assert out["cpu"].device == V.device("cuda:0") and out["cpu"].tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="map_location must be"):
        load(lambda storage, loc: storage)


def test_cuda_tensor_without_cuda_says_use_map_location(monkeypatch):
    monkeypatch.setitem(V._kernels_cache, "cuda", fake_cuda_kernels())
    data = saved_bytes(cuda_tensor([1.0]))

    def no_cuda(dev):
        raise ModuleNotFoundError("No module named 'numba.cuda'")

    monkeypatch.setattr(V, "kernels", no_cuda)
    with pytest.raises(RuntimeError, match="map_location='cpu'"):
        tg.load(io.BytesIO(data))


# ------------------------------------------------------------------------------------ hypothesis


@st.composite
def tensors(draw):
    dtype = draw(st.sampled_from(DTYPES))
    shape = tuple(draw(st.lists(st.integers(0, 5), max_size=4)))
    t = some_tensor(dtype, shape, draw(st.integers(0, 2 ** 16)))
    if t.dim() >= 2 and draw(st.booleans()):
        t = t.transpose(0, t.dim() - 1)
    if t.dim() >= 1 and t.shape[0] > 1 and draw(st.booleans()):
        t = t[1::2]
    if dtype.startswith("float") and draw(st.booleans()):
        t.requires_grad_(True)
    return t


keys = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5),
                 st.floats(allow_nan=False), st.tuples(st.integers(), st.text(max_size=3)))
leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10),
                   tensors())
trees = st.recursive(leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.tuples(inner, inner),
    st.dictionaries(keys, inner, max_size=4),
    st.dictionaries(keys, inner, max_size=4).map(collections.OrderedDict)), max_leaves=12)


@SETTINGS
@given(trees)
def test_random_trees_round_trip(obj):
    assert_same(obj, roundtrip(obj))


@SETTINGS
@given(trees, st.data())
def test_random_damage_is_always_detected(obj, data):
    raw = bytearray(saved_bytes(obj))
    i = data.draw(st.integers(0, len(raw) - 1))
    raw[i] ^= data.draw(st.integers(1, 255))
    with pytest.raises(SerializationError):
        tg.load(io.BytesIO(bytes(raw)))
    with pytest.raises(SerializationError):
        tg.load(io.BytesIO(bytes(raw[:i])))


def test_top_level_functions_use_this_module(tmp_path):
    t = tg.tensor([[1, 2], [3, 4]], dtype=tg.int32)
    tg.save({"t": t}, tmp_path / "x")
    assert_same({"t": t}, tg.load(tmp_path / "x", map_location="cpu"))
    assert math.isnan(roundtrip(float("nan")))
