"""Off-screen images of faces (dataset images, gallery thumbnails), with their exact camera.

One pyvista plotter (one off-screen GL window) is kept per renderer, and a process keeps one
renderer, so a batch costs one render per image, not one window or scene per image. Faces look
as they do in the explorer and the rater window (``app.rendering.look``). The face itself is
placed by the image's ``Camera`` (3DDFA's scaled orthographic projection, or a pinhole with a
focal length, ``app.rendering.camera``) and drawn by a VTK camera of the same kind that shows
exactly the pixel box the formulas name, so a vertex the camera projects to (u, v) is drawn on
pixel (u, v). A view (``draw``) can also vary the key light, show a background colour or picture,
colour the face per vertex (albedo) and return per-pixel ground truth (``RenderedView``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyvista
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkCommonCore import vtkFloatArray
from vtkmodules.vtkRenderingCore import vtkRenderWindow

from app.errors import ExportError
from app.model.face_parts import all_skin
from app.png_files import write_png
from app.rendering.camera import Camera, framing_camera
from app.rendering.face_mesh import FaceMesh
from app.rendering.key_light import DEFAULT_KEY_LIGHT, KeyLight
from app.rendering.look import BACKGROUND, LIGHTING, PART_COLOUR_ARRAY, add_face, colour_by, framing_bounds

# Tighter than the rater window's frame: an image spends its pixels on the face, and faces
# turned by the default ranges (yaw ±45°, pitch ±20°) still stay inside it.
IMAGE_FRAME_MARGIN = 1.18
MIN_IMAGE_SIZE = 16
KEY_LIGHT = 1  # the light kit's key light among the renderer's lights (0 is its headlight)
_NORMAL_COLOURS = "normal colours"


@dataclass
class RenderedView:
    """One image and the per-pixel ground truth asked for (None when not asked for)."""

    rgb: np.ndarray  # (H, W, 3) uint8
    mask: np.ndarray | None = None  # (H, W) bool: pixels the face covers
    depth: np.ndarray | None = None  # (H, W) float32: image-space z of the surface in pixels, NaN off the face
    normals: np.ndarray | None = None  # (H, W, 3) uint8: image-space unit normal n as (n + 1) / 2 · 255, 0 off the face

    def ground_truth(self, kind: str) -> np.ndarray:
        """The per-pixel map ``kind`` ("mask", "depth" or "normals"), which ``draw`` must have been asked for."""
        values = {"mask": self.mask, "depth": self.depth, "normals": self.normals}[kind]
        if values is None:
            raise ValueError(f"the {kind} of this view was not drawn")
        return values


class FaceRenderer:
    """Renders (N, 3) vertex arrays of one mesh topology to square images of ``size`` pixels."""

    def __init__(
        self,
        mean_vertices: np.ndarray,
        triangles: np.ndarray,
        size: int = 256,
        triangle_parts: np.ndarray | None = None,
    ) -> None:
        """``triangle_parts`` (the model's) colours eyes, teeth and mouth; without them the face is all skin."""
        if size < MIN_IMAGE_SIZE:
            raise ExportError(f"image size {size} is too small (at least {MIN_IMAGE_SIZE} pixels)")
        self.size = size
        self.frame = framing_bounds(mean_vertices, IMAGE_FRAME_MARGIN)
        self.mesh = FaceMesh(triangles, mean_vertices)
        try:
            self.plotter = pyvista.Plotter(off_screen=True, window_size=[size, size], lighting=LIGHTING)
        except Exception as failure:  # VTK raises plain RuntimeErrors when no GL context can be made
            raise ExportError(f"cannot render images off-screen here ({failure})") from failure
        # No multisampling: it blends the colours of edge pixels that the depth buffer (the mask)
        # leaves out, and costs several times the render on software GL.
        self._window().SetMultiSamples(0)
        self._set_background(BACKGROUND)
        self.actor = add_face(
            self.plotter, self.mesh, all_skin(len(triangles)) if triangle_parts is None else triangle_parts
        )
        # The parts' colours as add_face set them, and the arrays VTK draws, rewritten in place per view.
        self._part_colours = np.array(self.mesh.polydata.point_data[PART_COLOUR_ARRAY], dtype=np.float32)
        self._shown_colours = self._part_colours.copy()
        self._normal_colours = np.zeros_like(self._part_colours)
        self.mesh.add_scalars(PART_COLOUR_ARRAY, self._shown_colours)
        self.mesh.add_scalars(_NORMAL_COLOURS, self._normal_colours)
        self._place_camera(None)
        self._check_size(mean_vertices)

    def _place_camera(self, focal: float | None) -> None:
        """VTK's camera for ``Camera``s of this focal length: it shows the pixel box [0.5, size + 0.5]² of plane z = 0.

        Orthographic (None): a parallel projection looking down -z. Pinhole: the eye at
        (c_x, c_y, f) looking at the image centre with the vertical view angle that makes that
        box fill the image.
        """
        camera = self.plotter.camera
        centre = self.size / 2.0 + 0.5
        self._focal = focal
        self._eye = 8.0 * self.size if focal is None else focal  # a parallel view's eye: far in front of any face
        camera.parallel_projection = focal is None
        camera.SetFocalPoint(centre, centre, 0.0)
        camera.SetPosition(centre, centre, self._eye)
        camera.SetViewUp(0.0, 1.0, 0.0)
        if focal is None:
            camera.SetParallelScale(self.size / 2.0)
        else:
            camera.SetViewAngle(2.0 * np.degrees(np.arctan(self.size / 2.0 / focal)))
        # A face's depth in pixels is about its width, so ±2 sizes about the plane z = 0 hold it.
        camera.SetClippingRange(max(self._eye - 2.0 * self.size, 1e-3 * self._eye), self._eye + 2.0 * self.size)
        self.plotter.renderer.camera_set = True  # pyvista would otherwise reset it at the first render

    def _check_size(self, mean_vertices: np.ndarray) -> None:
        """Refuse a size this GL cannot draw: beyond its limit it returns a blank frame, not an error.

        The limit depends on the driver and the display (Mesa's llvmpipe under Xvfb drew 8192
        but not 12000 pixels), so it is found by drawing the mean face once.
        """
        self.draw(mean_vertices, self.camera())
        covered = np.isfinite(self._surface_depth())
        if covered.all() or not covered.any():
            self.close()
            raise ExportError(
                f"image size {self.size} is beyond what this OpenGL can render "
                "(it drew a blank frame); choose a smaller --image-size"
            )

    def camera(self, pitch: float = 0.0, yaw: float = 0.0, roll: float = 0.0, focal: float | None = None) -> Camera:
        """The camera of a view turned by (pitch, yaw, roll) radians, framing the mean face like every view.

        ``focal`` (pixels) makes it a pinhole camera; None, 3DDFA's weak perspective.
        """
        return framing_camera(self.frame, self.size, self.size, pitch, yaw, roll, focal)

    def draw(
        self,
        vertices: np.ndarray,
        camera: Camera,
        light: KeyLight | None = None,
        colours: np.ndarray | None = None,
        background: tuple[float, float, float] | np.ndarray = BACKGROUND,
        mask: bool = False,
        depth: bool = False,
        normals: bool = False,
    ) -> RenderedView:
        """Render one view of the face ``vertices`` (N, 3).

        ``colours`` (N, 3) in [0, 1] replace the parts' colours; ``background`` is an RGB colour
        in [0, 1] or an (H, W, 3) uint8 picture shown wherever the face is not.
        """
        if camera.focal != self._focal:
            self._place_camera(camera.focal)
        self.mesh.update(camera.to_image_space(vertices))
        self._shown_colours[...] = self._part_colours if colours is None else colours
        light = light or DEFAULT_KEY_LIGHT
        key = self.plotter.renderer.lights[KEY_LIGHT]
        key.position, key.intensity = light.direction, light.intensity
        picture, colour = (background, BACKGROUND) if isinstance(background, np.ndarray) else (None, background)
        self._set_background(colour)
        self.mesh.modified()
        view = RenderedView(self._frame())
        if mask or depth or picture is not None:
            z = self._surface_depth()
            covered = np.isfinite(z)
            view.mask = covered if mask else None
            view.depth = z if depth else None
            if picture is not None:
                view.rgb = np.where(covered[..., None], view.rgb, picture)
        if normals:
            view.normals = self._normal_map()
        return view

    def render(self, path: str | Path, vertices: np.ndarray, yaw: float = 0.0, pitch: float = 0.0) -> Path:
        """Write one PNG of the face turned by (yaw, pitch) degrees in the default light."""
        camera = self.camera(np.radians(pitch), np.radians(yaw))
        return write_png(path, self.draw(vertices, camera).rgb)

    def _surface_depth(self) -> np.ndarray:
        """(H, W) image-space z of the drawn surface (float32), NaN where no face is drawn.

        The z-buffer is read directly: pyvista's get_image_depth goes through an image filter
        that costs more than the render itself. It holds 0 at the near and 1 at the far clipping plane.
        """
        buffer = vtkFloatArray()
        self._window().GetZbufferData(0, 0, self.size - 1, self.size - 1, buffer)
        z = vtk_to_numpy(buffer).reshape(self.size, self.size)[::-1]  # GL's rows start at the bottom
        near, far = self.plotter.camera.clipping_range
        # A parallel projection's z-buffer is linear between the clipping planes, a perspective one is not.
        distance = near + z * (far - near) if self._focal is None else near * far / (far - z * (far - near))
        surface = (self._eye - distance).astype(np.float32)
        surface[z >= 1.0] = np.nan
        return surface

    def _normal_map(self) -> np.ndarray:
        """The mesh's image-space normals drawn as colours, unlit, in a second pass."""
        self._normal_colours[...] = (self.mesh.normals + 1.0) / 2.0
        self.mesh.modified()
        colour_by(self.actor, _NORMAL_COLOURS, rgb=True)
        self.actor.prop.lighting = False
        self._set_background((0.0, 0.0, 0.0))
        try:
            return self._frame()
        finally:
            colour_by(self.actor, None)
            self.actor.prop.lighting = True

    def _frame(self) -> np.ndarray:
        """Render and read back the frame as (H, W, 3) uint8 (a screenshot alone may return the previous frame)."""
        self.plotter.render()
        image = self.plotter.screenshot(return_img=True)
        if image is None:  # pyvista's type allows it, for screenshots written to a file only
            raise ExportError("the off-screen renderer returned no image")
        return image[..., :3].copy()

    def _window(self) -> vtkRenderWindow:
        """The plotter's render window (pyvista types it as optional: a closed plotter has none)."""
        window = self.plotter.render_window
        if window is None:
            raise ExportError("this face renderer was closed; make a new one")
        return window

    def _set_background(self, colour: tuple[float, float, float]) -> None:
        # ignore: pyvista wraps Renderers.set_background with functools.wraps, so its type still asks for `self`
        self.plotter.set_background(colour)  # type: ignore[arg-type]

    def close(self) -> None:
        self.plotter.close()
