"""Off-screen images of faces for image-to-3D training sets.

One pyvista plotter is kept per renderer and only its vertex positions change between faces, so
a batch costs one render per image, not one scene per image. Views other than the frontal one
turn the face itself (yaw about the vertical axis, pitch about the horizontal one, around the
mean face's centre) while the camera stays fixed, so every image has the same framing and the
pose of each image is exactly the recorded angles.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.atomic_files import atomic_output
from app.dataset.export import vtk_faces
from app.errors import ExportError
from app.model.vertex_normals import VertexNormals


def rotation(yaw_degrees: float, pitch_degrees: float) -> np.ndarray:
    """3×3 rotation: pitch about x, then yaw about y (y is up, the face looks along +z)."""
    yaw, pitch = np.radians(yaw_degrees), np.radians(pitch_degrees)
    about_y = np.array([[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]])
    about_x = np.array([[1, 0, 0], [0, np.cos(pitch), -np.sin(pitch)], [0, np.sin(pitch), np.cos(pitch)]])
    return about_y @ about_x


class FaceRenderer:
    """Renders (N, 3) vertex arrays of one mesh topology to square PNG images."""

    def __init__(self, mean_vertices: np.ndarray, triangles: np.ndarray, size: int = 256) -> None:
        import pyvista  # VTK is only loaded by code that renders

        if size < 16:
            raise ExportError(f"image size {size} is too small (at least 16 pixels)")
        self.centre = np.asarray(mean_vertices, dtype=np.float64).mean(axis=0)
        self.mesh = pyvista.PolyData(np.asarray(mean_vertices, dtype=np.float32).copy(), vtk_faces(triangles))
        self._normals = VertexNormals(triangles, len(self.mesh.points))
        try:
            self.plotter = pyvista.Plotter(off_screen=True, window_size=(size, size))
        except Exception as failure:  # VTK raises plain RuntimeErrors when no GL context can be made
            raise ExportError(f"cannot render images off-screen here ({failure})") from failure
        self.plotter.set_background("white")
        self._update_normals()
        # No smooth_shading here: pyvista would shade a private copy; the point normals we keep
        # up to date on our own mesh give the same smooth look and follow every new face.
        self.plotter.add_mesh(self.mesh, color="#d9b59c", specular=0.2)
        self.plotter.camera_position = "xy"  # look down -z at the face, y up
        self.plotter.reset_camera()
        # A margin so turned faces stay inside the frame.
        self.plotter.camera.zoom(0.85)

    def render(self, path: str | Path, vertices: np.ndarray, yaw: float = 0.0, pitch: float = 0.0) -> Path:
        """Write one PNG of the face turned by (yaw, pitch) degrees."""
        posed = (np.asarray(vertices, dtype=np.float64) - self.centre) @ rotation(yaw, pitch).T + self.centre
        self.mesh.points = posed.astype(np.float32)  # the setter marks the data modified for VTK
        self._update_normals()
        path = Path(path)
        self.plotter.render()  # screenshot() alone may return the previous frame
        with atomic_output(path) as temp:
            self.plotter.screenshot(str(temp))
        return path

    def _update_normals(self) -> None:
        self.mesh.point_data.active_normals = self._normals.compute(self.mesh.points)

    def close(self) -> None:
        self.plotter.close()
