"""Writing and reading a face's coefficients as JSON or .npz (meshes: ``mesh_files``).

Every file goes through ``atomic_output``, so a failed write leaves nothing behind and keeps
the previous version.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from app.atomic_files import atomic_output
from app.errors import ExportError, FaceExplorerError
from app.npz_files import read_npz

COEFFICIENT_FORMATS = (".json", ".npz")


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
