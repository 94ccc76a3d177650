"""Kokoro voice packs (`NAME.pt`) read as numpy arrays, without torch.

A voice pack is a torch zip archive: `NAME/data.pkl` (a pickle that rebuilds one float tensor
from a storage record), `NAME/data/0` (the raw little-endian floats) and a few small text
entries. A `.pt` file can come from anywhere, and a plain unpickler runs whatever the pickle
names, so this reader allows exactly the three names a voice pack uses, rebuilds the tensor from
the archive's bytes with numpy, and refuses everything else.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.core.errors import StudioError

STYLE_DIM = 256  # floats per style vector
MAX_ROWS = 4096  # a stock pack has 510 rows, one per phoneme count
_MAX_PICKLE = 64 * 1024
_MAX_STORAGE = MAX_ROWS * STYLE_DIM * 8
_DTYPES = {"FloatStorage": np.float32, "HalfStorage": np.float16, "DoubleStorage": np.float64}
_FIX = "use a Kokoro voice pack (.pt) as published with the model"


class _StorageType:
    def __init__(self, name: str) -> None:
        self.dtype = np.dtype(_DTYPES[name])


def _ordered_dict() -> OrderedDict[str, Any]:
    return OrderedDict()


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes, storages: dict[str, np.ndarray]) -> None:
        super().__init__(io.BytesIO(data))
        self._storages = storages

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in _DTYPES:
            return _StorageType(name)
        if (module, name) == ("collections", "OrderedDict"):
            return _ordered_dict
        raise pickle.UnpicklingError(f"a voice pack may not load {module}.{name}")

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError("unexpected persistent record in a voice pack")
        _, kind, key, _location, numel = pid
        if not isinstance(kind, _StorageType) or not isinstance(key, str):
            raise pickle.UnpicklingError("unexpected storage record in a voice pack")
        if not isinstance(numel, int) or not 0 < numel * kind.dtype.itemsize <= _MAX_STORAGE:
            raise pickle.UnpicklingError("a voice pack storage of an impossible size")
        raw = self._storages.get(key)
        if raw is None or raw.size < numel * kind.dtype.itemsize:
            raise pickle.UnpicklingError(f"the voice pack lacks the data of storage {key!r}")
        return np.frombuffer(raw[: numel * kind.dtype.itemsize].tobytes(), dtype=kind.dtype)


def _rebuild_tensor(storage: Any, offset: Any, size: Any, stride: Any, *_rest: Any) -> np.ndarray:
    """The tensor as a copy of its storage, checked to lie inside it."""
    if not isinstance(storage, np.ndarray):
        raise pickle.UnpicklingError("a tensor without storage in a voice pack")
    ok = isinstance(offset, int) and isinstance(size, tuple) and isinstance(stride, tuple)
    ok = ok and len(size) == len(stride) and 1 <= len(size) <= 4
    ok = ok and all(isinstance(n, int) and n > 0 for n in (*size, *stride))
    if not ok or offset < 0:
        raise pickle.UnpicklingError("a malformed tensor in a voice pack")
    last = offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
    if last >= storage.size:
        raise pickle.UnpicklingError("a tensor reaches past its storage in a voice pack")
    item = storage.itemsize
    view = np.lib.stride_tricks.as_strided(
        storage[offset:], shape=size, strides=tuple(s * item for s in stride), writeable=False
    )
    return np.array(view, copy=True)


def read_voice(path: Path) -> np.ndarray:
    """The style vectors of a voice pack: float32, shape (rows, 256)."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            pickle_bytes, storages, little = _entries(path, archive)
    except FileNotFoundError:
        raise StudioError(path, "the voice file is missing", _FIX) from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise StudioError(path, f"not a readable voice pack ({exc})", _FIX) from None
    if not little:
        raise StudioError(path, "the voice pack is big-endian, which is not supported", _FIX)
    try:
        tensor = _Unpickler(pickle_bytes, storages).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError) as exc:
        raise StudioError(path, f"refused: {exc}", _FIX) from None
    except Exception as exc:  # any other failure of hostile bytes is still a refusal
        raise StudioError(path, f"refused: the pickle is malformed ({exc})", _FIX) from None
    return _as_style_table(path, tensor)


def _entries(path: Path, archive: zipfile.ZipFile) -> tuple[bytes, dict[str, np.ndarray], bool]:
    infos = archive.infolist()
    pickles = [i for i in infos if i.filename.endswith("/data.pkl") or i.filename == "data.pkl"]
    if len(pickles) != 1:
        raise StudioError(path, "not a torch voice pack (no single data.pkl inside)", _FIX)
    prefix = pickles[0].filename[: -len("data.pkl")]
    if pickles[0].file_size > _MAX_PICKLE:
        raise StudioError(path, "the voice pack's pickle is too large to be a voice", _FIX)
    storages: dict[str, np.ndarray] = {}
    little = True
    for info in infos:
        name = info.filename[len(prefix) :] if info.filename.startswith(prefix) else ""
        if name.startswith("data/") and name.count("/") == 1:
            if info.file_size > _MAX_STORAGE:
                raise StudioError(
                    path, "the voice pack holds a storage too large for a voice", _FIX
                )
            storages[name[len("data/") :]] = np.frombuffer(archive.read(info), dtype=np.uint8)
        elif name == "byteorder" and info.file_size <= 16:
            little = archive.read(info).strip() == b"little"
    return archive.read(pickles[0]), storages, little


def _as_style_table(path: Path, tensor: Any) -> np.ndarray:
    if not isinstance(tensor, np.ndarray):
        raise StudioError(path, "the voice pack does not hold one tensor", _FIX)
    table = tensor.reshape(-1, tensor.shape[-1]) if tensor.ndim >= 2 else tensor
    rows = table.shape[0] if table.ndim == 2 else 0
    if table.ndim != 2 or table.shape[1] != STYLE_DIM or not 1 <= rows <= MAX_ROWS:
        raise StudioError(
            path, f"the voice pack holds a tensor of shape {tensor.shape}, not (N, 1, 256)", _FIX
        )
    if tensor.ndim == 3 and tensor.shape[1] != 1:
        raise StudioError(path, f"the voice pack's tensor has shape {tensor.shape}", _FIX)
    table = table.astype(np.float32)
    if not np.all(np.isfinite(table)):
        raise StudioError(path, "the voice pack holds values that are not finite", _FIX)
    return table
