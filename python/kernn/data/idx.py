"""Reader and writer for the IDX format of MNIST and Fashion-MNIST.

An IDX file is a 4-byte magic number followed by big-endian uint32 dimensions and the data,
row-major, big-endian::

    bytes 0-1   0x00 0x00
    byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32,
                0x0E float64
    byte  3     number of dimensions d
    4 * d       the dimensions, each a big-endian uint32
    ...         prod(dims) elements

Files may be gzip-compressed (recognised by their first two bytes, whatever their name).
"""

import gzip
import math
import os
import zlib

import numpy as np

__all__ = ["IdxFormatError", "read_idx", "write_idx"]

# element-type code -> big-endian numpy dtype
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


class IdxFormatError(ValueError):
    """An IDX file whose header or length does not describe a valid array."""


def _open(path):
    with open(path, "rb") as probe:
        head = probe.read(2)
    if head == _GZIP_MAGIC:
        return gzip.open(path, "rb")
    return open(path, "rb")


def _read_exact(stream, n, path, what):
    data = stream.read(n)
    if len(data) != n:
        raise IdxFormatError(
            f"read_idx: {path}: file ends inside the {what} (wanted {n} bytes, got {len(data)})"
        )
    return data


def read_idx(path):
    """Read an IDX file (raw or gzip-compressed) into a native-endian numpy array.

    Args:
        path: file name (str or os.PathLike).

    Returns:
        A writeable, C-contiguous numpy array with the file's dimensions and element type.

    Raises:
        FileNotFoundError: the file does not exist.
        IdxFormatError (a ValueError): bad magic number, unknown element type, or a data length
            that differs from the product of the dimensions; the message names the file.

    Example:
        >>> images = read_idx("mnist/t10k-images-idx3-ubyte.gz")   # doctest: +SKIP
        >>> images.shape, images.dtype                               # doctest: +SKIP
        ((10000, 28, 28), dtype('uint8'))
    """
    path = os.fspath(path)
    try:
        with _open(path) as stream:
            magic = _read_exact(stream, 4, path, "magic number")
            if magic[0] != 0 or magic[1] != 0:
                raise IdxFormatError(
                    f"read_idx: {path}: not an IDX file (magic bytes {magic.hex()}, "
                    "expected 0000 followed by a type code and a rank)"
                )
            code, ndim = magic[2], magic[3]
            if code not in _IDX_DTYPES:
                known = ", ".join(f"0x{c:02X}" for c in _IDX_DTYPES)
                raise IdxFormatError(
                    f"read_idx: {path}: unknown element type 0x{code:02X} (known: {known})"
                )
            dtype = _IDX_DTYPES[code]
            dims = np.frombuffer(_read_exact(stream, 4 * ndim, path, "dimensions"), ">u4")
            shape = tuple(int(d) for d in dims)
            needed = math.prod(shape) * dtype.itemsize
            if not isinstance(stream, gzip.GzipFile):
                # A damaged header must not allocate what it claims (32 GiB from a 3-byte file).
                have = os.fstat(stream.fileno()).st_size - stream.tell()
                if needed > have:
                    raise IdxFormatError(
                        f"read_idx: {path}: dimensions {shape} of {dtype.itemsize}-byte elements "
                        f"need {needed} data bytes, the file has {have}"
                    )
            try:
                array = np.empty(shape, dtype=dtype)
            except (ValueError, MemoryError) as err:
                raise IdxFormatError(
                    f"read_idx: {path}: dimensions {shape} of {dtype.itemsize}-byte elements "
                    f"({needed} bytes) cannot be allocated ({err})"
                ) from err
            # read straight into the array's buffer: no intermediate bytes object of the full size
            got = stream.readinto(memoryview(array).cast("B")) if array.nbytes else 0
            if got != array.nbytes:
                raise IdxFormatError(
                    f"read_idx: {path}: dimensions {shape} of {dtype.itemsize}-byte elements need "
                    f"{array.nbytes} data bytes, the file has {got}"
                )
            if stream.read(1):
                raise IdxFormatError(
                    f"read_idx: {path}: more data than the dimensions {shape} describe "
                    f"({array.nbytes} bytes expected)"
                )
    except (EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise IdxFormatError(f"read_idx: {path}: damaged or truncated file ({err})") from err
    if dtype.itemsize > 1:
        array = array.astype(dtype.newbyteorder("="))
    else:
        array = array.view(dtype.newbyteorder("="))
    return array


def write_idx(path, array, compress=None):
    """Write a numpy array as an IDX file (gzip-compressed when `compress`, or by default when
    the name ends in ``.gz``).

    Args:
        path: file name.
        array: array of dtype uint8, int8, int16, int32, float32 or float64; at most 255
            dimensions.
        compress: bool or None (None: decide from the ``.gz`` suffix).
    """
    path = os.fspath(path)
    array = np.asarray(array)
    codes = {dt.newbyteorder("="): code for code, dt in _IDX_DTYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise TypeError(
            f"write_idx: array dtype {array.dtype} has no IDX type code "
            "(uint8, int8, int16, int32, float32, float64)"
        )
    if array.ndim > 255:
        raise ValueError(f"write_idx: array has {array.ndim} dimensions, IDX allows at most 255")
    header = bytes([0, 0, codes[native], array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    payload = np.ascontiguousarray(array, dtype=native.newbyteorder(">")).tobytes()
    if compress is None:
        compress = path.endswith(".gz")
    opener = gzip.open if compress else open
    with opener(path, "wb") as stream:
        stream.write(header)
        stream.write(payload)
