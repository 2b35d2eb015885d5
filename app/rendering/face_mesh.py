"""A face as VTK draws it: one PolyData whose points, normals and scalars are rewritten in place.

VTK reads the numpy arrays themselves, so showing a new face costs writing the arrays and
marking them modified: no new actors, no new VTK arrays, no copies. The normals are the
project's own (``VertexNormals``, one sparse product), never VTK's, which would recompute them
inside a render.
"""

from __future__ import annotations

import numpy as np
import pyvista

from app.model.vertex_normals import VertexNormals


def vtk_faces(triangles: np.ndarray) -> np.ndarray:
    """Triangles (T, 3) in VTK's flat cell layout [3, a, b, c, 3, …]."""
    return np.hstack([np.full((len(triangles), 1), 3, dtype=np.int64), triangles]).ravel()


class FaceMesh:
    """Vertices (N, 3) over fixed ``triangles`` (T, 3), with smooth-shading normals and optional scalars.

    Without ``normals`` the mesh owns a float32 copy of ``vertices`` and computes its normals;
    ``update()`` shows a new face. With ``normals``, ``vertices`` and ``normals`` are the
    caller's float32 (N, 3) arrays (such as ``LiveFace``'s), drawn without copies: the caller
    rewrites them in place and calls ``modified()``.
    """

    def __init__(self, triangles: np.ndarray, vertices: np.ndarray, normals: np.ndarray | None = None) -> None:
        self.triangles = triangles
        self._vertex_normals: VertexNormals | None = None
        self._scalar_names: list[str] = []
        if normals is None:
            self.vertices = np.array(vertices, dtype=np.float32)
            self.normals = self._normals_of().compute(self.vertices)
        else:
            self.vertices, self.normals = _drawable(vertices), _drawable(normals)
        self.polydata = pyvista.PolyData(self.vertices, vtk_faces(triangles))
        self.polydata.point_data.active_normals = self.normals

    def update(self, vertices: np.ndarray) -> None:
        """Show ``vertices`` (N, 3): write them and their normals into the arrays VTK draws."""
        self.vertices[...] = vertices
        self._normals_of().compute(self.vertices, out=self.normals)
        self.modified()

    def add_scalars(self, name: str, values: np.ndarray) -> None:
        """The caller's per-vertex float32 ``values`` (N,) under ``name``, drawn without a copy (e.g. a heat map)."""
        self.polydata.point_data[name] = _drawable(values)
        self._scalar_names.append(name)

    def modified(self) -> None:
        """The arrays were rewritten in place: VTK reads them again at the next render."""
        self.polydata.GetPoints().Modified()
        point_data = self.polydata.GetPointData()
        point_data.GetNormals().Modified()
        for name in self._scalar_names:
            point_data.GetArray(name).Modified()
        self.polydata.Modified()

    def _normals_of(self) -> VertexNormals:
        # Built on first use: a mesh whose caller keeps the normals never needs the incidence matrix.
        if self._vertex_normals is None:
            self._vertex_normals = VertexNormals(self.triangles, len(self.vertices))
        return self._vertex_normals


def _drawable(array: np.ndarray) -> np.ndarray:
    """``array`` itself, which VTK can only read without a copy when it is C-contiguous float32."""
    if array.dtype != np.float32 or not array.flags.c_contiguous:
        layout = "" if array.flags.c_contiguous else ", strided"
        raise TypeError(
            f"an array drawn without a copy must be C-contiguous float32 (this one is {array.dtype}{layout})"
        )
    return array
