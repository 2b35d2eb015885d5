"""Off-screen images of faces for image-to-3D training sets.

One pyvista plotter is kept per renderer and only its vertex positions change between faces, so
a batch costs one render per image, not one scene per image. Faces look as they do in the
explorer and the rater window (``app.rendering.look``). Views other than the frontal one turn
the face itself (yaw about the vertical axis, pitch about the horizontal one, around the mean
face's centre) while the camera stays fixed on the mean face's frame, so every image has the
same framing and the pose of each image is exactly the recorded angles.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyvista

from app.errors import ExportError
from app.model.face_parts import all_skin
from app.png_files import write_png
from app.rendering.face_mesh import FaceMesh
from app.rendering.look import BACKGROUND, LIGHTING, add_face, framing_bounds, look_at_bounds

# Tighter than the rater window's frame: an image spends its pixels on the face, and faces
# turned by the default ranges (yaw ±45°, pitch ±20°) still stay inside it.
IMAGE_FRAME_MARGIN = 1.18


def rotation(yaw_degrees: float, pitch_degrees: float) -> np.ndarray:
    """3×3 rotation: pitch about x, then yaw about y (y is up, the face looks along +z)."""
    yaw, pitch = np.radians(yaw_degrees), np.radians(pitch_degrees)
    about_y = np.array([[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]])
    about_x = np.array([[1, 0, 0], [0, np.cos(pitch), -np.sin(pitch)], [0, np.sin(pitch), np.cos(pitch)]])
    return about_y @ about_x


class FaceRenderer:
    """Renders (N, 3) vertex arrays of one mesh topology to square PNG images."""

    def __init__(
        self, mean_vertices: np.ndarray, triangles: np.ndarray, size: int = 256, triangle_parts: np.ndarray | None = None
    ) -> None:
        """``triangle_parts`` (the model's) colours eyes, teeth and mouth; without them the face is all skin."""
        if size < 16:
            raise ExportError(f"image size {size} is too small (at least 16 pixels)")
        self.centre = np.asarray(mean_vertices, dtype=np.float64).mean(axis=0)
        self.mesh = FaceMesh(triangles, mean_vertices)
        try:
            self.plotter = pyvista.Plotter(off_screen=True, window_size=(size, size), lighting=LIGHTING)
        except Exception as failure:  # VTK raises plain RuntimeErrors when no GL context can be made
            raise ExportError(f"cannot render images off-screen here ({failure})") from failure
        self.plotter.set_background(BACKGROUND)
        add_face(self.plotter, self.mesh, all_skin(len(triangles)) if triangle_parts is None else triangle_parts)
        look_at_bounds(self.plotter.renderer, framing_bounds(mean_vertices, IMAGE_FRAME_MARGIN))

    def render(self, path: str | Path, vertices: np.ndarray, yaw: float = 0.0, pitch: float = 0.0) -> Path:
        """Write one PNG of the face turned by (yaw, pitch) degrees."""
        posed = (np.asarray(vertices, dtype=np.float64) - self.centre) @ rotation(yaw, pitch).T + self.centre
        self.mesh.update(posed)
        self.plotter.render()  # screenshot() alone may return the previous frame
        return write_png(path, self.plotter.screenshot(return_img=True))

    def close(self) -> None:
        self.plotter.close()
