"""A model's texture layout: where each triangle corner lies in a texture image (UV coordinates).

A vertex on a texture seam has one UV per side of the seam, so the corners index a UV table of
their own (as OBJ's ``f v/vt`` does), not the vertices. The layout changes no face's shape: it
is left out of a model's digest, and the embedded model keeps it in a file beside its asset
(``embedded_face_uv.npz``) so that adding it left the model's identity, and every checkpoint,
dataset and study recorded against it, as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np

from app.atomic_files import atomic_output
from app.errors import FaceExplorerError, ModelFileError
from app.npz_files import checksum_of_arrays, read_npz

EMBEDDED_UV_PATH = Path(str(files("app.model") / "data" / "embedded_face_uv.npz"))


@dataclass(frozen=True)
class UvLayout:
    """Texture coordinates and, per triangle, its corners' rows of them.

    ``uv`` is (M, 2) with v up, as in OBJ; ICT's span four unit tiles side by side, one per texture.
    """

    uv: np.ndarray  # (M, 2) float64
    triangles: np.ndarray  # (T, 3) int64 rows of uv, corner for corner with the model's triangles

    def check(self, n_triangles: int, owner: str, error: type[FaceExplorerError] = FaceExplorerError) -> None:
        """One ``error`` naming ``owner`` when the layout does not fit a mesh of ``n_triangles`` triangles."""
        if self.uv.ndim != 2 or self.uv.shape[1] != 2 or not np.all(np.isfinite(self.uv)):
            raise error(f"{owner}: texture coordinates must be a finite (M, 2) array, got shape {self.uv.shape}")
        if self.triangles.ndim != 2 or self.triangles.shape != (n_triangles, 3):
            raise error(
                f"{owner}: the texture layout has corners of shape {self.triangles.shape}, "
                f"the mesh has {n_triangles} triangles"
            )
        if self.triangles.size and (self.triangles.min() < 0 or self.triangles.max() >= len(self.uv)):
            raise error(f"{owner}: texture corners must index its {len(self.uv)} texture coordinates")


def compact_layout(uv: np.ndarray, corner_uv: np.ndarray) -> UvLayout:
    """The layout keeping only the UV rows that ``corner_uv`` (T, 3) uses, in their first-use order."""
    used, first = np.unique(corner_uv.ravel(), return_index=True)
    order = used[np.argsort(first)]
    new_row = np.empty(len(uv), dtype=np.int64)
    new_row[order] = np.arange(len(order))
    return UvLayout(uv=np.asarray(uv, dtype=np.float64)[order], triangles=new_row[corner_uv])


def save_uv_layout(layout: UvLayout, path: str | Path, source_digest: str) -> None:
    """Write the layout with the digest of the files it came from and a checksum over both."""
    # Any: mypy checks the values of a **dict against savez_compressed's ``allow_pickle: bool`` as well
    arrays: dict[str, Any] = {
        "uv": layout.uv.astype(np.float32),
        "triangles": layout.triangles.astype(np.int32),
        "source_digest": np.array(source_digest),
    }
    with atomic_output(path) as temp, open(temp, "wb") as handle:
        np.savez_compressed(handle, checksum=np.array(checksum_of_arrays(arrays)), **arrays)


def load_uv_layout(path: str | Path, source_digest: str) -> UvLayout:
    """The layout at ``path``, which must come from the same source files as the asset it goes with."""
    data = read_npz(path, ModelFileError)
    if any(key not in data for key in ("uv", "triangles", "source_digest", "checksum")):
        raise ModelFileError(f"{path}: not a texture layout file (it needs uv, triangles, source_digest and checksum)")
    if checksum_of_arrays({key: data[key] for key in ("uv", "triangles", "source_digest")}) != str(data["checksum"]):
        raise ModelFileError(f"{path}: damaged (its contents do not match its checksum); reinstall the package")
    if str(data["source_digest"]) != source_digest:
        raise ModelFileError(
            f"{path}: made from other ICT-FaceKit files than the face asset beside it; reinstall the package"
        )
    return UvLayout(uv=data["uv"].astype(np.float64), triangles=data["triangles"].astype(np.int64))
