"""Exporting the explorer's faces: input, denoised or both, as meshes with their coefficients.

Every file goes through ``atomic_output`` (via ``export_mesh``/``save_coefficients``), so each
file is either complete or absent; with "both", a name gets ``_input`` / ``_denoised`` added.
The coefficients file sits next to its mesh with the same name and records the model identity,
which face it is, the sampling settings and the length unit the mesh was written in (``unit``:
"um", "mm" or "m"; the coefficients themselves do not depend on it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from app.dataset.export import COEFFICIENT_FORMATS, save_coefficients
from app.dataset.mesh_files import export_mesh, material_path
from app.dataset.mesh_formats import EXPORT_MESH_UNIT, MESH_UNITS, mesh_format, mesh_unit
from app.errors import ExportError
from app.model.uv_layout import UvLayout

ExportChoice = Literal["input", "denoised", "both"]


@dataclass(frozen=True)
class ExportedFace:
    """One face to write: which it is, its vertices (N, 3) and coefficients."""

    which: str  # "input" or "denoised"
    vertices: np.ndarray
    alpha_id: np.ndarray
    alpha_exp: np.ndarray


def export_faces(
    path: str | Path,
    faces: list[ExportedFace],
    triangles: np.ndarray,
    binary: bool = True,
    coefficient_format: str | None = ".json",
    uv_layout: UvLayout | None = None,
    unit: str = EXPORT_MESH_UNIT,
    triangle_parts: np.ndarray | None = None,
    **info: Any,
) -> list[Path]:
    """Write each face's mesh (format from ``path``'s suffix, coordinates in ``unit``) and, unless None, its
    coefficients; an OBJ with ``triangle_parts`` also gets its .mtl (see ``app.dataset.mesh_files``)."""
    path = Path(path)
    mesh_format(path)
    unit = mesh_unit(unit)
    if coefficient_format is not None and coefficient_format not in COEFFICIENT_FORMATS:
        raise ExportError(
            f"unsupported coefficient format '{coefficient_format}' (use {' or '.join(COEFFICIENT_FORMATS)})"
        )
    written = []
    for face in faces:
        mesh_path = path if len(faces) == 1 else path.with_name(f"{path.stem}_{face.which}{path.suffix}")
        written.append(
            export_mesh(
                mesh_path,
                face.vertices,
                triangles,
                binary=binary,
                uv_layout=uv_layout,
                unit=unit,
                triangle_parts=triangle_parts,
            )
        )
        if triangle_parts is not None and mesh_path.suffix.lower() == ".obj":
            written.append(material_path(mesh_path))
        if coefficient_format is not None:
            written.append(
                save_coefficients(
                    mesh_path.with_suffix(coefficient_format),
                    face.alpha_id,
                    face.alpha_exp,
                    face=face.which,
                    unit=unit,
                    unit_name=MESH_UNITS[unit][0],
                    **info,
                )
            )
    return written
