"""The mesh file formats the product writes, named as on the command line (``--meshes ply``).

Kept apart from the writer so that argument parsing can list them without importing numpy.
"""

from __future__ import annotations

from pathlib import Path

from app.errors import ExportError

MESH_FORMATS = ("ply", "obj")


def mesh_format(path: str | Path) -> str:
    """The format ``path``'s suffix names ("ply" or "obj"); any other suffix is refused."""
    suffix = Path(path).suffix.lower().removeprefix(".")
    if suffix not in MESH_FORMATS:
        raise ExportError(f"{path}: unsupported mesh format (use {' or '.join('.' + name for name in MESH_FORMATS)})")
    return suffix
