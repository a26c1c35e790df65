"""``kernn.save`` / ``kernn.load``: checkpoints in a documented, pickle-free file format.

Format (version 1)
------------------
A checkpoint is a zip archive laid out as numpy's ``.npz`` (members stored uncompressed, zip64
allowed), so ``numpy.load(path, allow_pickle=False)`` can open it. Its members:

``kernn.json``
    UTF-8 JSON object ``{"format": "kernn.save", "version": 1, "root": NODE}`` describing the
    saved object.
``<n>.npy`` (n = 0, 1, ...)
    One array each, in numpy's ``.npy`` format (never an object array, so no pickles).

A NODE is one of:

* JSON ``null``, ``true``/``false``, a number (an int stays an int, a finite float a float) or a
  string: Python ``None``, ``bool``, ``int``, ``float``, ``str``;
* a JSON array of NODEs: a ``list``;
* an object with a ``"type"`` key:

  - ``{"type": "tuple", "items": [NODE, ...]}``
  - ``{"type": "dict", "ordered": bool, "items": [[KEY, NODE], ...]}`` where KEY is a NODE of
    ``None``/bool/int/float/str or a tuple of those (so the integer keys of optimizer state
    dicts stay integers); ``ordered`` marks a ``collections.OrderedDict``;
  - ``{"type": "float", "value": "nan" | "inf" | "-inf"}``: a non-finite float;
  - ``{"type": "tensor", "entry": "n.npy", "dtype": "<f4", "shape": [...],
    "requires_grad": bool, "parameter": bool}``: a ``kernn.Tensor`` (``parameter`` marks a
    ``kernn.nn.Parameter``);
  - ``{"type": "ndarray", "entry": ..., "dtype": ..., "shape": [...]}``: a numpy array;
  - ``{"type": "scalar", "entry": ..., "dtype": ...}``: a numpy scalar (a 0-d entry).

An object that appears several times (a tied weight) is stored once; every reference names the
same entry and loads as the same object. ``dtype`` is numpy's ``dtype.str`` and ``shape`` the
array's shape; ``load`` checks both against the entry.

Writing is atomic: ``save`` writes a temporary file in the target's directory, flushes and
fsyncs it, then renames it over the target (``os.replace``). If anything fails, the
temporary file is removed and a file already at the path is left untouched. A path naming a
device or a FIFO (``/dev/null``) is written into, as ``open(path, "wb")`` would, never replaced.
``load`` reads regular files only, and every damaged archive raises ValueError naming the file.
"""

from __future__ import annotations

import collections
import errno
import io
import json
import math
import os
import stat
import tempfile
import zipfile
from typing import Any, BinaryIO, Union

import numpy as np

from ._device import is_cpu
from .nn.parameter import Parameter
from .tensor import Tensor

__all__ = ["save", "load", "FORMAT_NAME", "FORMAT_VERSION"]

FORMAT_NAME = "kernn.save"
FORMAT_VERSION = 1
_HEADER_ENTRY = "kernn.json"
# Array dtype kinds written: bool, signed/unsigned int, float, complex. Object arrays would need
# pickles; strings, datetimes and structured dtypes are not tensor data.
_ARRAY_KINDS = frozenset("biufc")

PathOrFile = Union[str, "os.PathLike[str]", BinaryIO]


def _is_file_object(f) -> bool:
    return not isinstance(f, (str, bytes, os.PathLike)) and (hasattr(f, "write") or hasattr(f, "read"))


def _describe(f) -> str:
    return repr(os.fsdecode(f)) if isinstance(f, (str, bytes, os.PathLike)) else repr(getattr(f, "name", f))


# ---------------------------------------------------------------------------------------- encoding


class _Encoder:
    """Turns an object tree into a JSON node tree plus the list of arrays to store."""

    def __init__(self) -> None:
        self.arrays: list[np.ndarray] = []
        self.entry_of: dict[int, str] = {}  # id(tensor or array) -> entry name
        self.keep_alive: list[Any] = []  # objects whose ids are in entry_of
        self.open_containers: set[int] = set()

    def _entry(self, obj, array: np.ndarray, where: str) -> str:
        entry = self.entry_of.get(id(obj))
        if entry is not None:
            return entry
        if array.dtype.kind not in _ARRAY_KINDS or array.dtype.hasobject:
            raise TypeError(f"kernn.save: {where} is an array of dtype {array.dtype}; "
                            "only bool, integer, float and complex arrays can be saved")
        entry = f"{len(self.arrays)}.npy"
        self.arrays.append(array)
        self.entry_of[id(obj)] = entry
        self.keep_alive.append(obj)
        return entry

    def encode(self, obj, where: str):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int) and not isinstance(obj, np.generic):
            return int(obj)
        if isinstance(obj, float) and not isinstance(obj, np.generic):
            if math.isfinite(obj):
                return float(obj)
            return {"type": "float", "value": "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")}
        if isinstance(obj, Tensor):
            array = np.asarray(obj.detach().numpy())
            return {"type": "tensor", "entry": self._entry(obj, array, where), "dtype": array.dtype.str,
                    "shape": list(array.shape), "requires_grad": bool(getattr(obj, "requires_grad", False)),
                    "parameter": isinstance(obj, Parameter)}
        if isinstance(obj, np.ndarray):
            array = np.asarray(obj)
            return {"type": "ndarray", "entry": self._entry(obj, array, where), "dtype": array.dtype.str,
                    "shape": list(array.shape)}
        if isinstance(obj, np.generic):
            array = np.asarray(obj)
            return {"type": "scalar", "entry": self._entry(obj, array, where), "dtype": array.dtype.str}
        if isinstance(obj, (list, tuple, dict)):
            if id(obj) in self.open_containers:
                raise ValueError(f"kernn.save: {where} contains itself; cyclic structures cannot be saved")
            self.open_containers.add(id(obj))
            try:
                if isinstance(obj, list):
                    return [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
                if isinstance(obj, tuple):
                    return {"type": "tuple", "items": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
                items = [[self.encode_key(k, where), self.encode(v, f"{where}[{k!r}]")] for k, v in obj.items()]
                return {"type": "dict", "ordered": isinstance(obj, collections.OrderedDict), "items": items}
            finally:
                self.open_containers.discard(id(obj))
        raise TypeError(f"kernn.save: cannot save {where} of type {type(obj).__name__}; supported: Tensors, "
                        "numpy arrays and scalars, None, bool, int, float, str, and lists, tuples and "
                        "dicts of those")

    def encode_key(self, key, where: str):
        if key is None or isinstance(key, (bool, int, float, str)) and not isinstance(key, np.generic):
            return self.encode(key, where)
        if isinstance(key, tuple):
            return {"type": "tuple", "items": [self.encode_key(k, where) for k in key]}
        raise TypeError(f"kernn.save: {where} has a key of type {type(key).__name__}; dict keys must be "
                        "None, bool, int, float, str or tuples of those")


def _write_archive(fileobj: BinaryIO, header: bytes, arrays: list[np.ndarray]) -> None:
    with zipfile.ZipFile(fileobj, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        archive.writestr(_HEADER_ENTRY, header)
        for index, array in enumerate(arrays):
            with archive.open(f"{index}.npy", mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def _current_umask() -> int:
    try:  # Linux: read it without changing it
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere the only portable way is to set it and put it back
    os.umask(mask)
    return mask


def _save_atomically(path: str, header: bytes, arrays: list[np.ndarray]) -> None:
    # Write through a symlink to its target, as open(path, "wb") would.
    target = os.path.realpath(path)
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        raise FileNotFoundError(errno.ENOENT, f"kernn.save: directory of {path!r} does not exist", directory)
    if os.path.isdir(target):
        raise IsADirectoryError(errno.EISDIR, "kernn.save: is a directory", path)
    try:
        info = os.stat(target)
    except FileNotFoundError:
        mode = 0o666 & ~_current_umask()  # a new file gets what open() would give it
    else:
        if not stat.S_ISREG(info.st_mode):
            # A device (/dev/null) or a FIFO is written to, as open(path, "wb") would; renaming a
            # temporary file over it replaced the device node with a regular file. The archive
            # is built in memory: zipfile seeks back into what it wrote, which these cannot do.
            buffer = io.BytesIO()
            _write_archive(buffer, header, arrays)
            with open(target, "wb") as stream:
                stream.write(buffer.getbuffer())
            return
        mode = stat.S_IMODE(info.st_mode)  # replacing a file keeps its permissions
    # A short prefix of the name keeps the temporary name within the file-name length limit.
    fd, temp_path = tempfile.mkstemp(prefix=f".{os.path.basename(target)[:64]}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as temp_file:
            _write_archive(temp_file, header, arrays)
            temp_file.flush()
            os.fsync(temp_file.fileno())
        os.chmod(temp_path, mode)
        os.replace(temp_path, target)
    except BaseException:
        try:
            os.unlink(temp_path)
        except FileNotFoundError:
            pass
        raise
    # Make the rename itself durable; not every platform can fsync a directory.
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def save(obj: Any, f: PathOrFile) -> None:
    """Save ``obj`` to a file in kernn's pickle-free checkpoint format (see the module docstring).

    Args:
        obj: a Tensor, numpy array, or nested dicts/lists/tuples of Tensors, numpy arrays and
            scalars, None, bool, int, float and str (a model's or an optimizer's state dict, or a
            dict holding several of them).
        f (str, os.PathLike or binary file object): where to write. A path is written atomically
            (temporary file in the same directory, fsync, rename); a file object is written as is.

    Raises:
        TypeError: ``obj`` holds something else (the message names where in ``obj``).
        ValueError: ``obj`` contains itself.
        FileNotFoundError: the directory does not exist.

    Example:
        >>> kernn.save({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3}, "ckpt.kn")
        >>> ckpt = kernn.load("ckpt.kn"); model.load_state_dict(ckpt["model"])
    """
    encoder = _Encoder()
    root = encoder.encode(obj, "obj")
    header = json.dumps({"format": FORMAT_NAME, "version": FORMAT_VERSION, "root": root},
                        allow_nan=False, separators=(",", ":")).encode("utf-8")
    if _is_file_object(f):
        _write_archive(f, header, encoder.arrays)
        return
    _save_atomically(os.fsdecode(os.fspath(f)), header, encoder.arrays)


# ---------------------------------------------------------------------------------------- decoding


class _CorruptCheckpoint(Exception):
    """Raised inside the decoder; load() turns it into a ValueError naming the file."""


class _Decoder:
    def __init__(self, archive) -> None:
        self.archive = archive
        self.loaded: dict[tuple, Any] = {}  # (entry, kind) -> object: shared entries load once

    def array(self, node: dict, where: str) -> np.ndarray:
        entry = node.get("entry")
        if not isinstance(entry, str):
            raise _CorruptCheckpoint(f"{where}: array node without an entry name")
        name = entry[:-4] if entry.endswith(".npy") else entry
        if name not in self.archive.files:
            raise _CorruptCheckpoint(f"{where}: entry {entry!r} is referenced but missing from the archive")
        self._check_declared_size(name, entry, where)
        try:
            array = self.archive[name]
        except (ValueError, KeyError, EOFError, OSError, zipfile.BadZipFile) as exc:
            raise _CorruptCheckpoint(f"{where}: entry {entry!r} cannot be read ({exc})") from exc
        if not isinstance(array, np.ndarray):
            raise _CorruptCheckpoint(f"{where}: entry {entry!r} is not a .npy array")
        if node.get("dtype") != array.dtype.str:
            raise _CorruptCheckpoint(f"{where}: entry {entry!r} has dtype {array.dtype.str}, "
                                     f"the header says {node.get('dtype')}")
        if "shape" in node and list(array.shape) != node["shape"]:
            raise _CorruptCheckpoint(f"{where}: entry {entry!r} has shape {list(array.shape)}, "
                                     f"the header says {node['shape']}")
        return array

    def _check_declared_size(self, name: str, entry: str, where: str) -> None:
        """A .npy header whose shape needs more bytes than its member holds is damaged: reading
        it would first allocate what the header claims (8 TiB from a 200-byte file)."""
        member = name + ".npy"
        try:
            size = self.archive.zip.getinfo(member).file_size
            with self.archive.zip.open(member) as stream:
                version = np.lib.format.read_magic(stream)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
                elif version == (2, 0):
                    shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
                else:
                    return  # np.load reports the version
                header_end = stream.tell()
        except KeyError:
            return  # stored without the suffix: np.load finds it and checks it
        except (ValueError, OSError, EOFError, zipfile.BadZipFile, NotImplementedError) as exc:
            raise _CorruptCheckpoint(f"{where}: entry {entry!r} has a damaged .npy header ({exc})") from exc
        needed = math.prod(shape) * dtype.itemsize
        if needed > size - header_end:
            raise _CorruptCheckpoint(f"{where}: entry {entry!r} declares shape {tuple(shape)} of {dtype} "
                                     f"({needed} bytes) but holds {size - header_end} bytes of data")

    def decode(self, node, where: str):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(v, f"{where}[{i}]") for i, v in enumerate(node)]
        if not isinstance(node, dict) or not isinstance(node.get("type"), str):
            raise _CorruptCheckpoint(f"{where}: malformed node {str(node)[:80]}")
        kind = node["type"]
        if kind == "tuple":
            return tuple(self.decode(v, f"{where}[{i}]") for i, v in enumerate(self._items(node, where)))
        if kind == "dict":
            result = collections.OrderedDict() if node.get("ordered") else {}
            for pair in self._items(node, where):
                if not isinstance(pair, list) or len(pair) != 2:
                    raise _CorruptCheckpoint(f"{where}: malformed dict item {str(pair)[:80]}")
                key = self.decode(pair[0], where)
                try:
                    hash(key)
                except TypeError:
                    raise _CorruptCheckpoint(f"{where}: unhashable dict key {key!r}") from None
                result[key] = self.decode(pair[1], f"{where}[{key!r}]")
            return result
        if kind == "float":
            values = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
            if node.get("value") not in values:
                raise _CorruptCheckpoint(f"{where}: malformed float node {node}")
            return values[node["value"]]
        if kind in ("tensor", "ndarray", "scalar"):
            cache_key = (node.get("entry"), kind)
            if cache_key not in self.loaded:
                self.loaded[cache_key] = self._make(kind, node, where)
            return self.loaded[cache_key]
        raise _CorruptCheckpoint(f"{where}: unknown node type {kind!r}")

    def _make(self, kind: str, node: dict, where: str):
        array = self.array(node, where)
        if kind == "ndarray":
            return array
        if kind == "scalar":
            return array[()]
        try:
            tensor_class = Parameter if node.get("parameter") else Tensor
            return tensor_class(array, requires_grad=bool(node.get("requires_grad", False)))
        except (TypeError, RuntimeError) as exc:  # a dtype kernn Tensors do not support
            raise _CorruptCheckpoint(f"{where}: entry {node.get('entry')!r} cannot be a Tensor ({exc})") from exc

    @staticmethod
    def _items(node: dict, where: str) -> list:
        items = node.get("items")
        if not isinstance(items, list):
            raise _CorruptCheckpoint(f"{where}: {node['type']} node without an items list")
        return items


def _check_map_location(map_location):
    """ValueError unless map_location (of torch.load) leaves everything on the CPU."""
    targets = map_location.values() if isinstance(map_location, dict) else [map_location]
    for target in targets:
        if target is not None and not is_cpu(target):
            raise ValueError(f"kernn.load: map_location {map_location!r} names a device other "
                             "than the CPU; kernn runs on the CPU only (use 'cpu' or None)")


def load(f: PathOrFile, map_location=None, *, weights_only=None) -> Any:
    """Load an object saved by :func:`save`.

    Tensors come back as ``kernn.Tensor`` (dtype and shape preserved, ``requires_grad`` kept,
    Parameters as ``kernn.nn.Parameter``), numpy arrays as numpy arrays, containers and scalars
    as themselves, so ``model.load_state_dict(kernn.load(path))`` and
    ``optimizer.load_state_dict(kernn.load(path))`` work. Nothing is unpickled.

    Args:
        f (str, os.PathLike or binary file object): the file.
        map_location: accepted for torch scripts: None, or the CPU (``"cpu"``,
            ``kernn.device("cpu")``, a dict mapping device names to the CPU); another device
            raises ValueError, since everything kernn loads lives on the CPU.
        weights_only (bool, optional): accepted for torch scripts; kernn loads only tensors,
            arrays and plain containers whatever its value (nothing is unpickled).

    Raises:
        FileNotFoundError: no file at the path.
        ValueError: the file is not a kernn checkpoint or is damaged (not a zip/npz archive,
            truncated, no ``kernn.json`` entry, another format version, entries referenced but
            missing, arrays that do not match the header); the message names the file and the
            problem.

    Example:
        >>> model.load_state_dict(kernn.load("model.kn"))
    """
    _check_map_location(map_location)
    what = _describe(f)
    if _is_file_object(f):
        source = f
    else:
        source = os.fsdecode(os.fspath(f))
        if not os.path.exists(source):
            raise FileNotFoundError(errno.ENOENT, "kernn.load: no such file", source)
        if os.path.isdir(source):
            raise IsADirectoryError(errno.EISDIR, "kernn.load: is a directory", source)
        if not stat.S_ISREG(os.stat(source).st_mode):
            # A FIFO blocked until a writer came; /dev/zero was read forever.
            raise ValueError(f"kernn.load: {what} is not a regular file (a device, FIFO or socket); "
                             "a checkpoint is a zip archive on disk")
    if not zipfile.is_zipfile(source):
        raise ValueError(f"kernn.load: {what} is not a kernn checkpoint: not a zip/npz archive "
                         "(the file is truncated or in another format)")
    if hasattr(source, "seek"):
        source.seek(0)
    try:
        with np.load(source, allow_pickle=False) as archive:
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise _CorruptCheckpoint("not an npz archive")
            if _HEADER_ENTRY not in archive.files:
                if any(name.endswith("data.pkl") for name in archive.files):
                    raise _CorruptCheckpoint(f"it has no {_HEADER_ENTRY!r} entry; it looks like a torch.save "
                                             "file (torch.load reads it, then pass the tensors' .numpy())")
                raise _CorruptCheckpoint(f"it has no {_HEADER_ENTRY!r} entry (a plain .npz archive? "
                                         "numpy.load reads those)")
            raw = archive[_HEADER_ENTRY]
            if not isinstance(raw, bytes):
                raise _CorruptCheckpoint(f"its {_HEADER_ENTRY!r} entry is not a JSON text")
            try:
                header = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as exc:
                raise _CorruptCheckpoint(f"its {_HEADER_ENTRY!r} entry is not valid JSON ({exc})") from exc
            if not isinstance(header, dict) or header.get("format") != FORMAT_NAME or "root" not in header:
                raise _CorruptCheckpoint(f"its {_HEADER_ENTRY!r} entry does not describe a {FORMAT_NAME} file")
            version = header.get("version")
            if type(version) is not int or version != FORMAT_VERSION:
                raise _CorruptCheckpoint(f"format version {header.get('version')!r}; this kernn reads "
                                         f"version {FORMAT_VERSION}")
            return _Decoder(archive).decode(header["root"], "root")
    except _CorruptCheckpoint as exc:
        raise ValueError(f"kernn.load: {what} is not a valid kernn checkpoint: {exc}") from None
    except (PermissionError, FileNotFoundError, IsADirectoryError):
        raise
    # A damaged archive also shows as zipfile's NotImplementedError (a corrupt version or
    # compression field), an OSError (a seek before the start) or a RecursionError (a header
    # nested too deeply for the JSON parser).
    except (zipfile.BadZipFile, EOFError, ValueError, KeyError, NotImplementedError, OSError,
            RecursionError) as exc:
        raise ValueError(f"kernn.load: {what} is damaged or not a kernn checkpoint: "
                         f"{type(exc).__name__}: {exc}") from exc
