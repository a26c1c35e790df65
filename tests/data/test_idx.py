import gzip
import struct

import numpy as np
import pytest

from kernn.data import IdxFormatError, read_idx, write_idx


def idx_bytes(code, dims, payload):
    """An IDX file written by hand from the format description, independent of write_idx."""
    return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + payload


def test_reads_hand_written_uint8_file(tmp_path):
    images = np.arange(2 * 3 * 5, dtype=np.uint8).reshape(2, 3, 5)
    path = tmp_path / "images-idx3-ubyte"
    path.write_bytes(idx_bytes(0x08, images.shape, images.tobytes()))
    got = read_idx(path)
    assert got.dtype == np.uint8 and got.shape == (2, 3, 5)
    np.testing.assert_array_equal(got, images)
    assert got.flags.writeable and got.flags.c_contiguous


@pytest.mark.parametrize(
    "code, dtype",
    [(0x09, np.int8), (0x0B, np.int16), (0x0C, np.int32), (0x0D, np.float32), (0x0E, np.float64)],
)
def test_reads_big_endian_types_into_native_arrays(tmp_path, code, dtype):
    values = np.array([[-3, 7, 1], [2, 0, -1]], dtype=dtype)
    path = tmp_path / "values.idx"
    path.write_bytes(idx_bytes(code, values.shape, values.astype(values.dtype.newbyteorder(">")).tobytes()))
    got = read_idx(path)
    assert got.dtype == np.dtype(dtype) and got.dtype.isnative
    np.testing.assert_array_equal(got, values)


def test_reads_gzip_whatever_the_name(tmp_path):
    labels = np.array([5, 0, 4, 1, 9], dtype=np.uint8)
    raw = idx_bytes(0x08, labels.shape, labels.tobytes())
    for name in ("labels-idx1-ubyte.gz", "labels-without-suffix"):
        path = tmp_path / name
        path.write_bytes(gzip.compress(raw))
        np.testing.assert_array_equal(read_idx(path), labels)


def test_write_then_read_round_trip(tmp_path):
    array = np.random.default_rng(0).standard_normal((4, 1, 7)).astype(np.float32)
    for name in ("a.idx", "a.idx.gz"):
        write_idx(tmp_path / name, array)
        np.testing.assert_array_equal(read_idx(tmp_path / name), array)
    assert (tmp_path / "a.idx.gz").read_bytes()[:2] == b"\x1f\x8b"
    assert (tmp_path / "a.idx").read_bytes()[:4] == bytes([0, 0, 0x0D, 3])


def test_zero_sized_dimension(tmp_path):
    path = tmp_path / "empty.idx"
    path.write_bytes(idx_bytes(0x08, (0, 28, 28), b""))
    assert read_idx(path).shape == (0, 28, 28)


def test_bad_magic_names_the_file(tmp_path):
    path = tmp_path / "not-idx"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(20))
    with pytest.raises(IdxFormatError, match=r"not-idx.*not an IDX file"):
        read_idx(path)


def test_unknown_type_code(tmp_path):
    path = tmp_path / "odd-type"
    path.write_bytes(idx_bytes(0x0A, (2,), bytes(2)))
    with pytest.raises(IdxFormatError, match=r"odd-type.*unknown element type 0x0A"):
        read_idx(path)


def test_truncated_data(tmp_path):
    path = tmp_path / "short"
    path.write_bytes(idx_bytes(0x08, (10, 28, 28), bytes(10 * 28 * 28 - 1)))
    with pytest.raises(IdxFormatError, match=r"short.*\(10, 28, 28\).*need 7840 data bytes, the file has 7839"):
        read_idx(path)


def test_truncated_header(tmp_path):
    path = tmp_path / "header-only"
    path.write_bytes(bytes([0, 0, 0x08, 3]) + struct.pack(">I", 10))
    with pytest.raises(IdxFormatError, match=r"header-only.*ends inside the dimensions"):
        read_idx(path)
    path.write_bytes(b"\x00\x00")
    with pytest.raises(IdxFormatError, match="ends inside the magic number"):
        read_idx(path)


def test_trailing_bytes_are_a_wrong_length(tmp_path):
    path = tmp_path / "long"
    path.write_bytes(idx_bytes(0x08, (3,), bytes(4)))
    with pytest.raises(IdxFormatError, match=r"long.*more data than the dimensions \(3,\)"):
        read_idx(path)


def test_truncated_gzip_stream(tmp_path):
    compressed = gzip.compress(idx_bytes(0x08, (100, 10), bytes(range(250)) * 4))
    path = tmp_path / "cut.gz"
    path.write_bytes(compressed[: len(compressed) // 2])
    with pytest.raises(IdxFormatError, match=r"cut\.gz"):
        read_idx(path)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope.gz")


def test_write_rejects_types_without_code(tmp_path):
    with pytest.raises(TypeError, match="write_idx.*int64"):
        write_idx(tmp_path / "x.idx", np.arange(3, dtype=np.int64))


def test_header_claiming_more_than_the_file_holds_allocates_nothing(tmp_path):
    # Was numpy's unnamed "array is too big" (3 x 2**32 - 1) or a 32 GiB MemoryError (2**16 x
    # 2**16 float64) from a header of a few bytes.
    path = tmp_path / "bad-idx"
    path.write_bytes(bytes([0, 0, 0x08, 3]) + (2**32 - 1).to_bytes(4, "big") * 3 + b"abc")
    with pytest.raises(IdxFormatError, match=r"bad-idx: dimensions \(4294967295, 4294967295, 4294967295\)"):
        read_idx(path)
    path.write_bytes(bytes([0, 0, 0x0E, 2]) + (2**16).to_bytes(4, "big") * 2 + b"abc")
    with pytest.raises(IdxFormatError, match=r"need 34359738368 data bytes, the file has 3"):
        read_idx(path)
    gz = tmp_path / "bad-idx.gz"
    with gzip.open(gz, "wb") as stream:
        stream.write(bytes([0, 0, 0x08, 3]) + (2**32 - 1).to_bytes(4, "big") * 3)
    with pytest.raises(IdxFormatError, match="cannot be allocated"):
        read_idx(gz)
