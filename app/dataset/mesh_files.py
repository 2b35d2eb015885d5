"""Writing faces as mesh files: binary PLY, ASCII PLY or OBJ, with smooth-shading normals.

Given ``triangle_parts``, an OBJ gets ``g``/``usemtl`` per face part and a ``.mtl`` beside it
(a ``.mtl`` this product did not write is never replaced). The bytes are built with numpy and
written by ``write_atomically``, which reports every failure (a full disk as a full disk), checks
the size that reached the disk and keeps the previous file when anything goes wrong. VTK's
writers do none of that: on a full disk they leave a short file and report success, and they
cannot open non-UTF-8 file names. The normals are the project's own (``VertexNormals``).
"""

from __future__ import annotations

import itertools
from functools import cached_property
from pathlib import Path

import numpy as np

from app.atomic_files import write_atomically
from app.dataset.mesh_formats import DATASET_MESH_UNIT, MESH_UNITS, mesh_format, mesh_unit
from app.errors import ExportError
from app.model.face_parts import FacePart
from app.model.uv_layout import UvLayout
from app.model.vertex_normals import VertexNormals

# 9 significant digits give back every float32 exactly; normals are unit vectors.
_POSITION = "%.9g"
_NORMAL = "%.6g"
_MATERIAL_MARKER = "# face-manifold-explorer materials"
_BINARY_FACE = np.dtype([("count", "u1"), ("corners", "<i4", (3,))])  # packed: 13 bytes per triangle


class MeshWriter:
    """Writes faces that share one triangle list (T, 3) over ``n_vertices`` vertices.

    The triangle part of each format and the normals' incidence matrix are built once, so a
    dataset of thousands of faces pays only for the vertices of each. With a ``uv_layout`` OBJ
    files carry its texture coordinates (``vt`` lines, ``f v/vt/vn`` corners); PLY has no
    standard place for UVs per corner and carries none.
    """

    def __init__(
        self,
        triangles: np.ndarray,
        n_vertices: int,
        uv_layout: UvLayout | None = None,
        triangle_parts: np.ndarray | None = None,
    ) -> None:
        triangles = np.asarray(triangles)
        if (
            triangles.ndim != 2
            or triangles.shape[1] != 3
            or not np.issubdtype(triangles.dtype, np.integer)
            or (triangles.size and (triangles.min() < 0 or triangles.max() >= n_vertices))
        ):
            raise ExportError(f"triangles must be an integer (T, 3) array of indices below {n_vertices:,}")
        self.triangles = triangles.astype(np.int64)
        self.n_vertices = n_vertices
        if uv_layout is not None:
            uv_layout.check(len(self.triangles), "mesh writer", ExportError)
        self.uv_layout = uv_layout
        if triangle_parts is not None:
            triangle_parts = np.asarray(triangle_parts)
            if triangle_parts.shape != (len(self.triangles),) or not np.isin(triangle_parts, list(FacePart)).all():
                raise ExportError(f"triangle_parts must hold one FacePart code per triangle ({len(self.triangles):,})")
        self.triangle_parts = triangle_parts
        self._normals = VertexNormals(self.triangles, n_vertices)

    def write(
        self,
        path: str | Path,
        vertices: np.ndarray,
        binary: bool = True,
        colours: np.ndarray | None = None,
        unit: str = DATASET_MESH_UNIT,
    ) -> Path:
        """Write one face; the format comes from ``path``'s suffix (``binary`` applies to PLY only).

        ``vertices`` are in micrometres (the product's unit); the file holds them in ``unit`` ("um",
        "mm" or "m", see ``MESH_UNITS``), named in a header comment (PLY ``comment unit``, OBJ ``# unit:``).

        ``colours`` (N, 3) RGB in [0, 1] become PLY's uchar red/green/blue vertex properties, or
        the r g b after each OBJ vertex (the extension MeshLab, Blender and trimesh read).
        """
        path = Path(path)
        kind = mesh_format(path)
        unit_name, micrometres = MESH_UNITS[mesh_unit(unit)]
        vertices = np.asarray(vertices, dtype=np.float64)
        if vertices.shape == (self.n_vertices, 3):
            vertices = vertices / micrometres
        vertices = vertices.astype(np.float32)
        if vertices.shape != (self.n_vertices, 3) or not np.all(np.isfinite(vertices)):
            raise ExportError(
                f"{path}: vertices must be a finite ({self.n_vertices:,}, 3) array, got shape {vertices.shape}"
            )
        if colours is not None:
            colours = np.asarray(colours, dtype=np.float64)
            if colours.shape != (self.n_vertices, 3) or not np.all((colours >= 0) & (colours <= 1)):
                raise ExportError(
                    f"{path}: colours must be a ({self.n_vertices:,}, 3) array in [0, 1], got shape {colours.shape}"
                )
        normals = self._normals.compute(vertices)
        parts: list[bytes | memoryview]
        if kind == "obj":
            positions = _lines("v", _POSITION, vertices) if colours is None else _coloured_positions(vertices, colours)
            header = f"# face-manifold-explorer\n# unit: {unit_name}\n"
            if self.triangle_parts is not None:
                _refuse_foreign_materials(material_path(path))
                header += f"mtllib {material_path(path).name}\n"
            parts = [
                header.encode("utf-8", "surrogateescape"),
                positions,
                self._obj_texture_coordinates,
                _lines("vn", _NORMAL, normals),
                self._obj_faces,
            ]
        elif binary:
            table = np.empty(self.n_vertices, dtype=_binary_vertex(colours is not None))
            table["position"], table["normal"] = vertices, normals
            if colours is not None:
                table["colour"] = _bytes(colours)
            parts = [
                self._ply_header("binary_little_endian", unit_name, colours is not None),
                table.view(np.uint8).data,
                self._binary_faces,
            ]
        else:
            row = f"{_POSITION} {_POSITION} {_POSITION} {_NORMAL} {_NORMAL} {_NORMAL}"
            values = [vertices, normals]
            if colours is not None:
                row += " %d %d %d"
                values.append(_bytes(colours))
            rows = (row + "\n") * self.n_vertices
            parts = [
                self._ply_header("ascii", unit_name, colours is not None),
                (rows % tuple(np.hstack(values).ravel().tolist())).encode(),
                self._ascii_faces,
            ]
        written = write_atomically(path, parts)
        if kind == "obj" and self.triangle_parts is not None:
            _write_materials(material_path(path), self.triangle_parts)
        return written

    def _ply_header(self, encoding: str, unit_name: str, coloured: bool = False) -> bytes:
        return (
            f"ply\nformat {encoding} 1.0\ncomment face-manifold-explorer\ncomment unit {unit_name}\n"
            f"element vertex {self.n_vertices}\n"
            + "".join(f"property float {axis}\n" for axis in ("x", "y", "z", "nx", "ny", "nz"))
            + ("".join(f"property uchar {channel}\n" for channel in ("red", "green", "blue")) if coloured else "")
            + f"element face {len(self.triangles)}\nproperty list uchar int vertex_indices\nend_header\n"
        ).encode("ascii")

    @cached_property
    def _binary_faces(self) -> memoryview:
        faces = np.empty(len(self.triangles), dtype=_BINARY_FACE)
        faces["count"] = 3
        faces["corners"] = self.triangles
        return faces.view(np.uint8).data

    @cached_property
    def _ascii_faces(self) -> bytes:
        return (("3 %d %d %d\n" * len(self.triangles)) % tuple(self.triangles.ravel().tolist())).encode()

    @cached_property
    def _obj_texture_coordinates(self) -> bytes:
        return b"" if self.uv_layout is None else _lines("vt", _NORMAL, self.uv_layout.uv)

    @cached_property
    def _obj_faces(self) -> bytes:
        # OBJ counts from 1; "a//a" pairs each corner with the normal of the same index, "a/t/a"
        # adds the corner's texture coordinate.
        vertices = self.triangles + 1
        if self.uv_layout is None:
            corners, corner = np.stack([vertices, vertices], axis=2), "%d//%d"
        else:
            corners, corner = np.stack([vertices, self.uv_layout.triangles + 1, vertices], axis=2), "%d/%d/%d"
        row = f"f {corner} {corner} {corner}\n"
        if self.triangle_parts is None:
            return ((row * len(self.triangles)) % tuple(corners.ravel().tolist())).encode()
        # The triangles keep their order: a group and material line starts each run of one part.
        starts = [*np.flatnonzero(np.diff(self.triangle_parts, prepend=-1) != 0).tolist(), len(self.triangles)]
        runs = []
        for start, end in itertools.pairwise(starts):
            name = FacePart(int(self.triangle_parts[start])).name.lower()
            chosen = corners[start:end]
            runs.append(f"g {name}\nusemtl {name}\n" + (row * len(chosen)) % tuple(chosen.ravel().tolist()))
        return "".join(runs).encode()


def export_mesh(
    path: str | Path,
    vertices: np.ndarray,
    triangles: np.ndarray,
    binary: bool = True,
    uv_layout: UvLayout | None = None,
    unit: str = DATASET_MESH_UNIT,
    triangle_parts: np.ndarray | None = None,
) -> Path:
    """Write one face (N, 3, micrometres) over ``triangles`` in ``unit``; see ``MeshWriter``.

    With ``triangle_parts`` an OBJ gets a group and material per face part and ``material_path(path)``.
    """
    mesh_format(path)  # an unsupported suffix is named before anything else is checked
    mesh_unit(unit)
    writer = MeshWriter(triangles, len(np.asarray(vertices)), uv_layout, triangle_parts)
    return writer.write(path, vertices, binary, unit=unit)


def material_path(mesh_path: str | Path) -> Path:
    """The .mtl file written beside an OBJ with face parts: ``face.obj`` → ``face.mtl``."""
    return Path(mesh_path).with_suffix(".mtl")


def _refuse_foreign_materials(path: Path) -> None:
    """An existing .mtl that this product did not write is the user's: never replaced."""
    if path.exists():
        try:
            ours = path.read_text(encoding="utf-8", errors="replace").startswith(_MATERIAL_MARKER)
        except OSError:
            ours = False
        if not ours:
            raise ExportError(f"{path} exists and was not written by this program: refusing to replace it")


def _write_materials(path: Path, triangle_parts: np.ndarray) -> None:
    """One material per part present, coloured as the views draw it; a .mtl this product did not write is kept."""
    from app.rendering.look import PART_COLOURS

    _refuse_foreign_materials(path)
    lines = [_MATERIAL_MARKER]
    for part in np.unique(triangle_parts):
        red, green, blue = PART_COLOURS[FacePart(int(part))]
        name = FacePart(int(part)).name.lower()
        lines += [f"newmtl {name}", f"Kd {red:.4g} {green:.4g} {blue:.4g}", "Ks 0 0 0", "d 1"]
    write_atomically(path, ["\n".join(lines).encode("ascii") + b"\n"])


def _binary_vertex(coloured: bool) -> np.dtype:
    """One packed binary PLY vertex: position and normal (float32), then RGB (uchar) when coloured."""
    fields = [("position", "<f4", (3,)), ("normal", "<f4", (3,))]
    return np.dtype([*fields, ("colour", "u1", (3,))] if coloured else fields)


def _bytes(colours: np.ndarray) -> np.ndarray:
    """RGB in [0, 1] as 0-255 integers."""
    return np.round(colours * 255.0).astype(np.uint8)


def _coloured_positions(vertices: np.ndarray, colours: np.ndarray) -> bytes:
    row = f"v {_POSITION} {_POSITION} {_POSITION} %.4g %.4g %.4g\n"
    return ((row * len(vertices)) % tuple(np.hstack([vertices, colours]).ravel().tolist())).encode()


def _lines(tag: str, number: str, table: np.ndarray) -> bytes:
    row = f"{tag} {' '.join([number] * table.shape[1])}\n"
    return ((row * len(table)) % tuple(table.ravel().tolist())).encode()
