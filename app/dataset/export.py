"""Writing faces out: meshes as OBJ or PLY (binary or ASCII), coefficients as JSON or .npz.

Meshes are written by VTK through pyvista (a well-kept writer, and what the views already
use); every file goes through ``atomic_output`` so a failed export leaves nothing behind.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from app.atomic_files import atomic_output
from app.errors import ExportError, FaceExplorerError
from app.npz_files import read_npz

MESH_FORMATS = (".obj", ".ply")
COEFFICIENT_FORMATS = (".json", ".npz")


def vtk_faces(triangles: np.ndarray) -> np.ndarray:
    """Triangles (T, 3) in VTK's flat cell layout [3, a, b, c, 3, …]."""
    return np.hstack([np.full((len(triangles), 1), 3, dtype=np.int64), triangles]).ravel()


def export_mesh(path: str | Path, vertices: np.ndarray, triangles: np.ndarray, binary: bool = True) -> Path:
    """Write one face; the format comes from the suffix (``binary`` applies to PLY only)."""
    import pyvista  # VTK takes a second to import; only exporting code pays for it

    path = Path(path)
    if path.suffix.lower() not in MESH_FORMATS:
        raise ExportError(f"{path}: unsupported mesh format (use {' or '.join(MESH_FORMATS)})")
    vertices = np.asarray(vertices, dtype=np.float32)
    if vertices.ndim != 2 or vertices.shape[1] != 3 or not np.all(np.isfinite(vertices)):
        raise ExportError(f"{path}: vertices must be a finite (N, 3) array, got shape {vertices.shape}")
    mesh = pyvista.PolyData(vertices, vtk_faces(np.asarray(triangles)))
    with atomic_output(path) as temp:
        if path.suffix.lower() == ".ply":
            mesh.save(temp, binary=binary)
        else:
            mesh.save(temp)
        if not temp.stat().st_size:
            raise ExportError(f"{path}: the mesh writer produced an empty file")
    return path


def save_coefficients(path: str | Path, alpha_id: np.ndarray, alpha_exp: np.ndarray, **info: Any) -> Path:
    """Coefficients plus JSON-able ``info`` (model identity, sampling settings …)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in COEFFICIENT_FORMATS:
        raise ExportError(f"{path}: unsupported coefficient format (use {' or '.join(COEFFICIENT_FORMATS)})")
    alpha_id = np.asarray(alpha_id, dtype=np.float64)
    alpha_exp = np.asarray(alpha_exp, dtype=np.float64)
    with atomic_output(path) as temp:
        if suffix == ".json":
            document = {"alpha_id": alpha_id.tolist(), "alpha_exp": alpha_exp.tolist(), **info}
            temp.write_text(json.dumps(document, indent=1))
        else:
            with open(temp, "wb") as handle:
                np.savez(handle, alpha_id=alpha_id, alpha_exp=alpha_exp, info=np.array(json.dumps(info)))
    return path


def load_coefficients(path: str | Path) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Read what ``save_coefficients`` wrote: (alpha_id, alpha_exp, info)."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".json":
            document = json.loads(path.read_text())
            if not isinstance(document, dict):
                raise ValueError("top level is not an object")
            alpha_id, alpha_exp = document.pop("alpha_id"), document.pop("alpha_exp")
            info = document
        else:
            data = read_npz(path)
            alpha_id, alpha_exp = data["alpha_id"], data["alpha_exp"]
            info = json.loads(str(data["info"])) if "info" in data else {}
        alpha_id = np.asarray(alpha_id, dtype=np.float64)
        alpha_exp = np.asarray(alpha_exp, dtype=np.float64)
    except (OSError, ValueError, KeyError, TypeError) as failure:
        raise FaceExplorerError(f"{path}: not a readable coefficient file ({failure})") from failure
    if not (np.all(np.isfinite(alpha_id)) and np.all(np.isfinite(alpha_exp))):
        raise FaceExplorerError(f"{path}: coefficients contain NaN or infinite values")
    return alpha_id, alpha_exp, info
