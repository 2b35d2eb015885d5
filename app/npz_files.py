"""Reading ``.npz`` archives safely, with one clear message when a file is not one.

Every ``.npz`` the product reads (models, fitted parameters, coefficient tables, presets,
dataset shards) goes through ``read_npz``: the file is opened and closed here, pickled objects
are never loaded, and numpy's own messages (which suggest the unsafe ``allow_pickle=True``)
never reach the user.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np

from app.errors import FaceExplorerError


def read_npz(path: str | Path, error: type[FaceExplorerError] = FaceExplorerError) -> dict[str, np.ndarray]:
    """All arrays of the archive at ``path``, read into memory; ``error`` is raised for a bad file."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
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


def checksum_of_arrays(arrays: dict[str, np.ndarray]) -> str:
    """sha256 over the names, types, shapes and bytes of ``arrays``: what a shipped data file is checked against."""
    sha = hashlib.sha256()
    for key in sorted(arrays):
        value = np.ascontiguousarray(arrays[key])
        sha.update(f"{key} {value.dtype.str} {value.shape}\n".encode())
        sha.update(value.tobytes())
    return sha.hexdigest()
