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
from app.json_files import parse_json
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
    """Read what ``save_coefficients`` wrote: (alpha_id, alpha_exp, info).

    Each is a list of finite numbers (or a list of such lists, for several faces); anything else is one
    error naming the file and the field.
    """
    path = Path(path)
    if path.suffix.lower() == ".json":
        try:
            text = path.read_bytes()
        except OSError as failure:
            raise FaceExplorerError(f"{path}: cannot read it ({failure.strerror or failure})") from None
        document = parse_json(text, str(path))
        if not isinstance(document, dict):
            raise FaceExplorerError(f"{path}: not a coefficient file (the top level is not an object)")
        tables = {name: document.pop(name, None) for name in ("alpha_id", "alpha_exp")}
        info = document
    else:
        data = read_npz(path)
        tables = {name: data.get(name) for name in ("alpha_id", "alpha_exp")}
        info = parse_json(str(data["info"]), f"{path} (info)") if "info" in data else {}
        if not isinstance(info, dict):
            raise FaceExplorerError(f"{path}: its 'info' is not a JSON object")
    alpha_id, alpha_exp = (_coefficient_table(path, name, value) for name, value in tables.items())
    return alpha_id, alpha_exp, info


def _coefficient_table(path: Path, name: str, value: Any) -> np.ndarray:
    """``value`` as float64 if it is a flat list of finite real numbers (one face) or a list of equal such
    lists (several faces), or an array of that shape; anything else is one error naming the file and field."""
    if value is None:
        raise FaceExplorerError(f"{path}: not a coefficient file (no '{name}')")
    rows = value if isinstance(value, list) and value and all(isinstance(row, list) for row in value) else [value]
    for row in rows:
        if isinstance(row, list):
            bad = next((v for v in row if not isinstance(v, int | float) or isinstance(v, bool)), None)
            if bad is not None:
                what = "a nested list" if isinstance(bad, list) else f"a {type(bad).__name__}"
                raise FaceExplorerError(f"{path}: '{name}' must be a list of numbers (it holds {what})")
        elif not (isinstance(row, np.ndarray) and row.ndim in (1, 2) and row.dtype.kind in "iuf"):
            found = f"an array of shape {row.shape}, {row.dtype}" if isinstance(row, np.ndarray) else type(row).__name__
            raise FaceExplorerError(f"{path}: '{name}' must be a list of numbers (found {found})")
    if len({len(row) for row in rows}) > 1:
        raise FaceExplorerError(f"{path}: '{name}' holds rows of different lengths")
    table = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(table)):
        raise FaceExplorerError(f"{path}: '{name}' contains NaN or infinite values")
    return table
