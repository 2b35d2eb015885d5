"""Reading FLAME's pickles without running anything from the file and without chumpy.

``generic_model.pkl`` (FLAME 2020), ``flame2023.pkl`` and ``flame2023_no_jaw.pkl`` are Python 2
pickles of a dict holding numpy arrays, chumpy ``Ch`` arrays and a scipy sparse J_regressor;
"FLAME 2023 Open" and the landmark embeddings are newer pickles of numpy arrays (DECA's
``landmark_embedding.npy`` also holds torch tensors). ``find_class`` hands out only numpy's array
and dtype constructors and inert stand-ins for chumpy's Ch, scipy's CSC/CSR matrices and torch's
tensors; any other class or function is refused with one error, so no code from the file runs. A
Ch becomes its plain array (its ``x``), a sparse matrix a dense one, a torch tensor a marker that
the reader reports if it needs that entry.
"""

from __future__ import annotations

import collections
import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse

from app.errors import ModelFileError

_NPY_MAGIC = b"\x93NUMPY"


class _Refused(pickle.UnpicklingError):
    """A class, function or reference the file asked for that is not in the allowed list."""


class ChumpyArray:
    """A chumpy ``Ch`` as pickled: only its state is kept; ``x`` is the array it holds."""

    def __setstate__(self, state: Any) -> None:
        self.state = state


class SparseMatrix:
    """A scipy CSC/CSR matrix as pickled: its state (data, indices, indptr, _shape)."""

    layout = ""

    def __setstate__(self, state: Any) -> None:
        self.state = state


class _Csc(SparseMatrix):
    layout = "csc"


class _Csr(SparseMatrix):
    layout = "csr"


class TorchTensor:
    """Where the file held a torch tensor or storage: never rebuilt (that would run torch's loader)."""


def _torch_tensor(*_: Any) -> TorchTensor:
    return TorchTensor()


def _latin1_bytes(text: str, encoding: str) -> bytes:
    """``_codecs.encode`` as Python 3 pickles bytes at protocol 2 or less: latin-1 only."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise _Refused(f"_codecs.encode to {encoding!r}")
    return text.encode("latin-1")


def _reconstructor(cls: type, base: type, state: Any) -> Any:
    """Python 2's ``copy_reg._reconstructor``, for the stand-ins only."""
    if base is not object or not issubclass(cls, (ChumpyArray, SparseMatrix)):
        raise _Refused(f"a {cls.__name__} object built on {base.__name__}")
    return object.__new__(cls)


# numpy's own pickling functions, taken from what it pickles with (numpy.core in 1.x, numpy._core in 2.x).
_NUMPY = {"_reconstruct": np.zeros(1).__reduce__()[0], "scalar": np.float64(0).__reduce__()[0]}
_FROMBUFFER = np.zeros(1).__reduce_ex__(5)[0]
_ALLOWED: dict[tuple[str, str], Any] = {
    **{
        (module, name): value
        for module in ("numpy.core.multiarray", "numpy._core.multiarray")
        for name, value in _NUMPY.items()
    },
    **{(module, "_frombuffer"): _FROMBUFFER for module in ("numpy.core.numeric", "numpy._core.numeric")},
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("copy_reg", "_reconstructor"): _reconstructor,
    ("copyreg", "_reconstructor"): _reconstructor,
    ("__builtin__", "object"): object,
    ("builtins", "object"): object,
    ("__builtin__", "set"): set,  # in chumpy's pickled state
    ("builtins", "set"): set,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("_codecs", "encode"): _latin1_bytes,
    ("chumpy.ch", "Ch"): ChumpyArray,
    **{
        (f"scipy.sparse.{m}", f"{f}_{k}"): c
        for m, f, c in (("csc", "csc", _Csc), ("_csc", "csc", _Csc), ("csr", "csr", _Csr), ("_csr", "csr", _Csr))
        for k in ("matrix", "array")
    },
    ("torch._utils", "_rebuild_tensor_v2"): _torch_tensor,
    ("torch._utils", "_rebuild_tensor"): _torch_tensor,
    ("torch.storage", "_load_from_bytes"): _torch_tensor,
}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise _Refused(f"{module}.{name}") from None

    def persistent_load(self, pid: Any) -> Any:
        raise _Refused("a persistent reference")


def read_pickle(path: Path, content: bytes | None = None) -> Any:
    """What the pickle at ``path`` (or ``content``) holds, with chumpy and scipy objects made plain numpy."""
    try:
        data = path.read_bytes() if content is None else content
    except OSError as failure:
        raise ModelFileError(f"{path}: cannot read it ({failure.strerror or failure})") from failure
    try:
        loaded = _RestrictedUnpickler(io.BytesIO(data), encoding="latin1").load()
    except _Refused as failure:
        raise ModelFileError(
            f"{path} holds an object of an unexpected class ({failure}), which is never loaded: "
            "a FLAME file holds only numpy arrays, chumpy arrays and scipy sparse matrices"
        ) from None
    except Exception:  # EOF, struct, value and type errors all mean a damaged or foreign file
        raise ModelFileError(f"{path} is not a readable pickle (damaged, truncated or another format)") from None
    return plain(path, loaded)


def read_npy_object(path: Path) -> Any:
    """The object in a ``.npy`` file saved from a Python object (``np.save`` of a dict), read like ``read_pickle``."""
    try:
        with open(path, "rb") as handle:
            if handle.read(6) != _NPY_MAGIC:
                raise ModelFileError(f"{path} is not a .npy file")
            major, _ = np.lib.format.read_magic(io.BytesIO(_NPY_MAGIC + handle.read(2)))
            # Skips the header (descr, shape): the pickled object follows it.
            read_header = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
            read_header(handle)
            content = handle.read()
    except OSError as failure:
        raise ModelFileError(f"{path}: cannot read it ({failure.strerror or failure})") from failure
    except ValueError:
        raise ModelFileError(f"{path} is not a readable .npy file (damaged header)") from None
    value = read_pickle(path, content)
    if isinstance(value, np.ndarray) and value.dtype == object and value.shape == ():
        return value[()]
    return value


def plain(path: Path, value: Any) -> Any:
    """``value`` with every chumpy array and sparse matrix replaced by a numpy array, recursively."""
    if isinstance(value, dict):
        return {key: plain(path, item) for key, item in value.items()}
    if isinstance(value, ChumpyArray):
        state = value.state if isinstance(value.state, dict) else {}
        if not isinstance(state.get("x"), np.ndarray):
            raise ModelFileError(f"{path}: holds a chumpy expression that is not a plain array (no 'x')")
        return state["x"]
    if isinstance(value, SparseMatrix):
        return _dense(path, value)
    if isinstance(value, np.ndarray) and value.dtype == object:
        return np.array([plain(path, item) for item in value.reshape(-1)], dtype=object).reshape(value.shape)
    return value


def _dense(path: Path, matrix: SparseMatrix) -> np.ndarray:
    state = matrix.state if isinstance(matrix.state, dict) else {}
    try:
        parts = (np.asarray(state["data"]), np.asarray(state["indices"]), np.asarray(state["indptr"]))
        shape = tuple(int(n) for n in state["_shape"])
        build = scipy.sparse.csc_matrix if matrix.layout == "csc" else scipy.sparse.csr_matrix
        return np.asarray(build(parts, shape=shape).toarray())
    except (KeyError, TypeError, ValueError, IndexError):
        raise ModelFileError(f"{path}: holds a damaged sparse matrix ({matrix.layout})") from None
