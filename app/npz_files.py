"""Reading ``.npz`` archives safely, with one clear message when a file is not one.

Every ``.npz`` the product reads (models, fitted parameters, coefficient tables, presets,
dataset shards) goes through ``read_npz``: the file is opened and closed here, pickled objects
are never loaded, and numpy's own messages (which suggest the unsafe ``allow_pickle=True``)
never reach the user. The sizes the arrays' headers declare are checked first: numpy allocates
what a header says, so a tiny file declaring 10^12 values, or a zip bomb, would exhaust memory.
"""

from __future__ import annotations

import hashlib
import math
import zipfile
from pathlib import Path
from typing import BinaryIO

import numpy as np

from app.errors import FaceExplorerError

MAX_NPZ_BYTES = 4 << 30  # far more than any model or table of ours holds (a BFM .npz is 0.3 GB)


def read_npz(path: str | Path, error: type[FaceExplorerError] = FaceExplorerError) -> dict[str, np.ndarray]:
    """All arrays of the archive at ``path``, read into memory; ``error`` is raised for a bad file."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            _check_declared_sizes(path, handle, error)
            content = np.load(handle, allow_pickle=False)
            if not isinstance(content, np.lib.npyio.NpzFile):
                raise error(f"{path} is a single .npy array, not an .npz archive")
            with content:
                return {name: content[name] for name in content.files}
    except FileNotFoundError as failure:
        raise error(f"{path}: no such file") from failure
    except IsADirectoryError as failure:
        raise error(f"{path} is a folder, not an .npz file") from failure
    except OSError as failure:
        raise error(f"{path}: cannot read it ({failure.strerror or failure})") from failure
    except ValueError as failure:
        # numpy says "pickled data" both for text files and for archives holding Python objects.
        reason = (
            "it holds Python objects, which are never loaded"
            if "Object arrays" in str(failure)
            else "not a zip of numpy arrays"
        )
        raise error(f"{path} is not a valid .npz file ({reason})") from failure
    except (zipfile.BadZipFile, EOFError) as failure:
        raise error(f"{path} is not a valid .npz file (damaged or truncated)") from failure


def _check_declared_sizes(path: Path, handle: BinaryIO, error: type[FaceExplorerError]) -> None:
    """Refuse an archive whose arrays declare more bytes than their members hold, or more than MAX_NPZ_BYTES."""
    if not zipfile.is_zipfile(handle):
        handle.seek(0)
        return  # np.load says what it is
    total = 0
    with zipfile.ZipFile(handle) as archive:
        for member in archive.infolist():
            if not member.filename.endswith(".npy"):
                continue
            with archive.open(member) as stream:
                if np.lib.format.read_magic(stream) == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
                else:
                    shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
                if dtype.hasobject:
                    continue  # never loaded: np.load refuses it below
                declared = math.prod(shape) * dtype.itemsize
                if declared > member.file_size - stream.tell():
                    raise error(f"{path}: '{member.filename}' declares {shape} values but holds fewer (damaged)")
            total += declared
    if total > MAX_NPZ_BYTES:
        raise error(f"{path}: its arrays hold {total:,} bytes, more than any file of ours ({MAX_NPZ_BYTES:,})")
    handle.seek(0)


def checksum_of_arrays(arrays: dict[str, np.ndarray]) -> str:
    """sha256 over the names, types, shapes and bytes of ``arrays``: what a shipped data file is checked against."""
    sha = hashlib.sha256()
    for key in sorted(arrays):
        value = np.ascontiguousarray(arrays[key])
        sha.update(f"{key} {value.dtype.str} {value.shape}\n".encode())
        sha.update(value.tobytes())
    return sha.hexdigest()
