"""The mesh file formats the product writes, named as on the command line (``--meshes ply``).

Kept apart from the writer so that argument parsing can list them without importing numpy.
"""

from __future__ import annotations

from pathlib import Path

from app.errors import ExportError

MESH_FORMATS = ("ply", "obj")

# Length units a mesh can be written in: name on the command line -> (name in file headers, µm per unit).
# Coordinates are micrometres inside the product (``app.model.length_units``). Generated datasets keep
# micrometres (their meshes match the coefficients and coordinates stored in the shards); a single
# exported face defaults to millimetres, what Blender and MeshLab users expect and the unit the BFM
# 2017/2019 ship in.
MESH_UNITS = {"um": ("micrometres", 1.0), "mm": ("millimetres", 1e3), "m": ("metres", 1e6)}
DATASET_MESH_UNIT = "um"
EXPORT_MESH_UNIT = "mm"
UNIT_HELP = (
    "length unit of the written coordinates: um, mm or m (default mm, what Blender and MeshLab expect "
    "and the unit of the BFM 2017; the product works in micrometres, and generated datasets keep um)"
)


def mesh_format(path: str | Path) -> str:
    """The format ``path``'s suffix names ("ply" or "obj"); any other suffix is refused."""
    suffix = Path(path).suffix.lower().removeprefix(".")
    if suffix not in MESH_FORMATS:
        raise ExportError(f"{path}: unsupported mesh format (use {' or '.join('.' + name for name in MESH_FORMATS)})")
    return suffix


def mesh_unit(unit: str) -> str:
    """``unit`` as one of ``MESH_UNITS`` ("µm" is taken for "um"); any other unit is refused."""
    name = unit.strip().replace("µ", "u").replace("μ", "u")
    if name not in MESH_UNITS:
        raise ExportError(f"unsupported length unit '{unit}' (use {', '.join(MESH_UNITS)})")
    return name
