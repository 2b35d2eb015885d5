"""The two 3D views: the input ("noisy") face on the left, the denoised face on the right.

Both views are viewports of one pyvista ``Plotter`` with a shared (linked) camera: one OpenGL context and
one render per frame instead of two, which halves the cost of a frame under software GL. Its render window
draws straight into a native window (VTK's own ``QVTKRenderWindowInteractor``, the canvas), not through
pyvistaqt's QOpenGLWidget, whose framebuffer Qt blits and composes with OpenGL at every repaint of any
widget. The meshes wrap the ``LiveFace`` arrays without copying, so an update is "mark modified, draw":
no new actors, no new arrays. A refresh draws its frame at once; a paint requested with
``QWidget.update()`` would wait behind every input event queued meanwhile (Qt posts it at low priority),
and a slider change delivered in that wait would reach the screen only a frame later.
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

import numpy as np
import pyvista
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QPushButton, QVBoxLayout, QWidget
from vtkmodules.qt.QVTKRenderWindowInteractor import QVTKRenderWindowInteractor
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkInteractionStyle import vtkInteractorStyleTrackballCamera
from vtkmodules.vtkRenderingCore import vtkWindowToImageFilter

from app.explorer.live_face import LiveFace
from app.png_files import write_png
from app.rendering.face_mesh import FaceMesh
from app.rendering.heat_map_legend import HeatMapLegend
from app.rendering.look import BACKGROUND, LANDMARK_COLOUR, LIGHTING, add_face, colour_by, look_at_bounds

INPUT_LABEL = "input (noisy)"
DENOISED_LABEL = "denoised (networks)"
HEAT_MAP_TITLE = "distance\n(mm)"
HEAT_MAP_RANGES = {
    "colour scale: this face": None,
    "0–1 mm": 1.0,
    "0–2 mm": 2.0,
    "0–5 mm": 5.0,
    "0–10 mm": 10.0,
    "0–20 mm": 20.0,
}
ORIGIN_POSITION: Final = "lower_edge"
ORIGIN_CHARACTER_PX = 11  # the width of one character of the caption under the input face, at most
ORIGIN_FONT_PX = 16  # VTK scales the caption with the view: no larger than this
ORIGIN_MIN_COLUMNS = 24
FIT_MARGIN = 0.8  # share of the view the fitted faces may fill, leaving room for the labels


class FaceViews(QWidget):
    """Side-by-side input/denoised views with camera buttons and the displacement heat map.

    Each view holds two faces: the full mesh and its draft (``app.rendering.draft_mesh``, 12 % of the
    triangles). While a slider is dragged the live face fills only the draft arrays and the views show the
    drafts; when the drag ends they switch back to the full meshes. Only the meshes a refresh rewrote are
    marked modified, so VTK re-uploads nothing else. "Fit" (on by default) reframes the one shared camera
    after every change so both faces stay in view, keeping the direction the user looks from. The heat
    map's colour range is either the current face's largest distance or a fixed 0–N mm, so colours of two
    faces can be compared.
    """

    frame_rendered = Signal(float)  # perf_counter() time at the end of each rendered frame

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # The plotter never shows a window of its own (no show()): the canvas hosts its render window.
        self.plotter = pyvista.Plotter(shape=(1, 2), border=False, lighting=LIGHTING, off_screen=False)
        # No multisampling: pyvista's default MSAA makes a software-GL (llvmpipe) frame about
        # 2.5× slower. On a real GPU, FXAA smooths the edges almost for free; in software it
        # still costs ~40 % of a frame, so there the edges stay as they are (see _on_render_end).
        render_window = self.plotter.render_window
        assert render_window is not None  # None only once the plotter is closed
        render_window.SetMultiSamples(0)
        # ignore: pyvista wraps Renderers.set_background with functools.wraps, so its type still asks for `self`
        self.plotter.set_background(BACKGROUND)  # type: ignore[arg-type]
        self.plotter.link_views()
        self.canvas = QVTKRenderWindowInteractor(self, rw=render_window)
        self.canvas.Initialize()  # an interactor renders (paintEvent) only once enabled
        # The canvas's own interactor gets the mouse: turn the camera as pyvista does.
        self.canvas.GetRenderWindow().GetInteractor().SetInteractorStyle(vtkInteractorStyleTrackballCamera())
        # VTK's one-letter keys (w: wireframe, q/e: quit, 3: stereo …) would fight the window's
        # shortcuts and can leave the views in odd states: keep the mouse interaction, drop the keys.
        self.canvas.GetRenderWindow().GetInteractor().RemoveObservers("CharEvent")
        self.software_gl: bool | None = None  # known once the first frame has a GL context
        render_window.AddObserver("EndEvent", self._on_render_end)
        self.legend = HeatMapLegend(render_window, HEAT_MAP_TITLE, BACKGROUND)
        # Before every frame, so that the viewports follow the window's size and the legend's visibility.
        render_window.AddObserver("StartEvent", self._lay_out)
        self.frames = 0
        self._live: LiveFace | None = None
        self._denoiser_note = ""
        self._meshes: list[FaceMesh] = []
        self._drafts: list[FaceMesh] = []
        self._face_actors: list[pyvista.Actor] = []  # input, denoised
        self._draft_actors: list[pyvista.Actor] = []
        self._showing_draft = False
        self._denoised_actor: pyvista.Actor | None = None
        self._denoised_draft_actor: pyvista.Actor | None = None
        self._origin_annotation: pyvista.CornerAnnotation | None = None
        self._denoised_annotation: pyvista.CornerAnnotation | None = None
        self._denoised_label = ""
        self._origin_text = ""
        # (points, source vertices, actor)
        self._landmarks: list[tuple[pyvista.PolyData, np.ndarray, pyvista.Actor]] = []

        buttons = QHBoxLayout()
        for text, slot, tip in (
            ("Front", self.view_front, "look at the face from the front (F)"),
            ("Side", self.view_side, "look at the face from its left side (S)"),
            ("Reset view", self.reset_view, "front view, zoomed to fit (R)"),
        ):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            buttons.addWidget(button)

        def check_box(text: str, tip: str, slot: Callable[[bool], None]) -> QCheckBox:
            box = QCheckBox(text)
            box.setToolTip(tip)
            box.toggled.connect(slot)
            buttons.addWidget(box)
            return box

        self.fit_box = check_box(
            "Fit", "reframe after every change so both faces stay in view (off: keep your zoom)", self._fit_toggled
        )
        self.fit_box.setChecked(True)
        self.wireframe_box = check_box(
            "Wireframe", "draw the faces' triangle edges instead of their surfaces", self.set_wireframe
        )
        self.landmarks_box = check_box(
            "Landmarks", "the model's 68 landmarks on both faces (L); models without them show none", self.set_landmarks
        )
        self.heat_map_box = check_box(
            "Heat map",
            "colour the denoised face by each vertex's distance from the input face, in mm (H)",
            self.set_heat_map,
        )
        self.heat_map_range_box = QComboBox()
        self.heat_map_range_box.addItems(list(HEAT_MAP_RANGES))
        self.heat_map_range_box.setToolTip("a fixed range keeps colours comparable between faces")
        # Its widest entry would set the toolbar's width, and with it the window's on a small screen.
        self.heat_map_range_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.heat_map_range_box.setMinimumContentsLength(10)
        self.heat_map_range_box.currentTextChanged.connect(lambda _: self.set_heat_map(self.heat_map_box.isChecked()))
        buttons.addWidget(self.heat_map_range_box)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.canvas, 1)

    # ---- scene -----------------------------------------------------------------------------
    def show_face(self, live: LiveFace, denoiser_note: str = "") -> None:
        """Build the two meshes around ``live``'s arrays (once per model)."""
        self.plotter.clear_actors()
        self._live, self._denoiser_note = live, denoiser_note
        self._meshes, self._drafts, self._face_actors, self._draft_actors = [], [], [], []
        self._landmarks = []
        self._showing_draft = False
        assert live.model.triangle_parts is not None  # MorphableModel.__post_init__ fills it in
        for column, (vertices, normals, draft_vertices, draft_normals, label) in enumerate(
            (
                (
                    live.input_vertices,
                    live.input_normals,
                    live.input_draft_vertices,
                    live.input_draft_normals,
                    INPUT_LABEL,
                ),
                (
                    live.denoised_vertices,
                    live.denoised_normals,
                    live.denoised_draft_vertices,
                    live.denoised_draft_normals,
                    DENOISED_LABEL + denoiser_note,
                ),
            )
        ):
            self.plotter.subplot(0, column)
            mesh = FaceMesh(live.model.triangles, vertices, normals)  # LiveFace keeps both arrays current
            draft = FaceMesh(live.draft.triangles, draft_vertices, draft_normals)
            if column == 1:
                mesh.add_scalars("displacement", live.displacement_mm)
                draft.add_scalars("displacement", live.draft_displacement_mm)
            scalars = "displacement" if column == 1 else None
            actor = add_face(self.plotter, mesh, live.model.triangle_parts, scalars=scalars)
            draft_actor = add_face(self.plotter, draft, live.draft.triangle_parts, scalars=scalars)
            draft_actor.SetVisibility(False)
            title = self.plotter.add_text(label, position="upper_edge", font_size=9, color="white")
            if column == 1:
                assert isinstance(title, pyvista.CornerAnnotation)  # what a named position gives
                self._denoised_annotation, self._denoised_label = title, label
            if column == 0:
                annotation = self.plotter.add_text("", position=ORIGIN_POSITION, font_size=8, color="white")
                assert isinstance(annotation, pyvista.CornerAnnotation)  # what a named position gives
                annotation.SetMaximumFontSize(ORIGIN_FONT_PX)
                self._origin_annotation = annotation
            self._meshes.append(mesh)
            self._drafts.append(draft)
            self._face_actors.append(actor)
            self._draft_actors.append(draft_actor)
            if live.model.landmarks is not None and len(live.model.landmarks):
                points = pyvista.PolyData(vertices[live.model.landmarks].astype(np.float32))
                marker = self.plotter.add_points(
                    points, color=LANDMARK_COLOUR, point_size=7, render_points_as_spheres=True, reset_camera=False
                )
                self._landmarks.append((points, vertices, marker))
            if column == 1:
                self._denoised_actor, self._denoised_draft_actor = actor, draft_actor
                self.legend.show_colours(actor.mapper.lookup_table)
        self._origin_text = ""
        self.set_heat_map(self.heat_map_box.isChecked())
        self.set_landmarks(self.landmarks_box.isChecked())
        self.set_wireframe(self.wireframe_box.isChecked())
        self.reset_view()

    def shows(self, live: LiveFace, denoiser_note: str) -> bool:
        """True when the scene is already built around ``live`` with this note on the denoised view."""
        return live is self._live and denoiser_note == self._denoiser_note

    def refresh(self, denoised_label: str = "", origin: str | None = None) -> None:
        """The live arrays were rewritten (the full faces or the drafts): tell VTK and draw the frame now.

        ``denoised_label`` titles the denoised view with the method that made its face, e.g. "denoised
        (learned prior, t = 0.08)"; ``origin`` says under the input face where it came from (seed and
        distribution, or "edited"). Empty or None: the caption stays as it is.
        """
        live = self._live
        if live is None:
            return
        self._set_denoised_label(denoised_label)
        if origin is not None:
            self._set_origin(origin)
        if live.showing_draft != self._showing_draft:
            self._showing_draft = live.showing_draft
            for actor, draft_actor in zip(self._face_actors, self._draft_actors, strict=True):
                actor.SetVisibility(not self._showing_draft)
                draft_actor.SetVisibility(self._showing_draft)
        for name, mesh, draft in zip(("input", "denoised"), self._meshes, self._drafts, strict=True):
            if name in live.changed:
                (draft if self._showing_draft else mesh).modified()
        if self.landmarks_box.isChecked():
            self._move_landmarks()
        self._update_heat_map_range()
        if self.fit_box.isChecked():
            self._fit()
        self._draw_now()

    def _draw_now(self) -> None:
        """Render the frame here, not in a paint event that input queued meanwhile would delay.

        A canvas that is not on screen (hidden, minimised) gets a paint request instead, which Qt
        delivers once it is shown.
        """
        window = self.canvas.windowHandle()  # the canvas is a native window
        render_window = self.plotter.render_window
        if window is None or not window.isExposed() or render_window is None:
            self.canvas.update()
            return
        render_window.Render()

    def _set_origin(self, origin: str) -> None:
        if origin != self._origin_text and self._origin_annotation is not None:
            self._origin_text = origin
            columns = max(ORIGIN_MIN_COLUMNS, self.canvas.width() // 2 // ORIGIN_CHARACTER_PX)
            self._origin_annotation.set_text(ORIGIN_POSITION, wrapped_origin(origin, columns))

    def _set_denoised_label(self, label: str) -> None:
        if label and label != self._denoised_label and self._denoised_annotation is not None:
            self._denoised_label = label
            self._denoised_annotation.set_text("upper_edge", label)

    @property
    def denoised_label(self) -> str:
        return self._denoised_label

    @property
    def origin_text(self) -> str:
        return self._origin_text

    def set_heat_map(self, enabled: bool) -> None:
        if self._denoised_actor is None:
            return
        assert self._denoised_draft_actor is not None  # show_face sets both denoised actors together
        for actor in (self._denoised_actor, self._denoised_draft_actor):
            colour_by(actor, "displacement" if enabled else None)
        self.legend.set_visible(enabled)
        self._update_heat_map_range()
        if self.fit_box.isChecked():
            self._lay_out()  # the faces' viewports narrow or widen: frame them in their new size
            self._fit()
        self.canvas.update()

    def toggle_heat_map(self) -> None:
        self.heat_map_box.toggle()

    def set_wireframe(self, wireframe: bool) -> None:
        for actor in self._face_actors + self._draft_actors:
            actor.prop.style = "wireframe" if wireframe else "surface"
        self.canvas.update()

    def toggle_wireframe(self) -> None:
        self.wireframe_box.toggle()

    def toggle_fit(self) -> None:
        self.fit_box.toggle()

    def set_landmarks(self, visible: bool) -> None:
        if visible:
            self._move_landmarks()
        for _, _, marker in self._landmarks:
            marker.SetVisibility(bool(visible))
        self.canvas.update()

    def toggle_landmarks(self) -> None:
        self.landmarks_box.toggle()

    def _move_landmarks(self) -> None:
        """Put each face's landmark markers on its current vertices (68 points: cheaper than a flag)."""
        indices = self._live.model.landmarks if self._live is not None else None
        for points, vertices, _ in self._landmarks:
            np.copyto(points.points, vertices[indices])  # in place: the array is VTK's own
            points.Modified()

    def heat_map_range(self) -> tuple[float, float]:
        """The colour range in mm: fixed when chosen, else 0 to this face's largest distance."""
        fixed = HEAT_MAP_RANGES[self.heat_map_range_box.currentText()]
        if fixed is not None or self._live is None:
            return 0.0, fixed or 1.0
        distances = self._live.draft_displacement_mm if self._showing_draft else self._live.displacement_mm
        return 0.0, max(float(distances.max()), 1e-3)

    def _update_heat_map_range(self) -> None:
        draft = self._denoised_draft_actor  # set together with the full face's actor
        if self._denoised_actor is not None and draft is not None and self.heat_map_box.isChecked():
            scalar_range = self.heat_map_range()
            for actor in (self._denoised_actor, draft):
                actor.mapper.scalar_range = scalar_range

    # ---- camera ------------------------------------------------------------------------------
    def _both_faces_bounds(self) -> np.ndarray:
        """(3, 2) box around both shown faces: the denoised one can be larger than the input."""
        meshes = self._drafts if self._showing_draft else self._meshes
        bounds = np.array([mesh.polydata.bounds for mesh in meshes], dtype=float).reshape(-1, 3, 2)
        return np.stack([bounds[:, :, 0].min(axis=0), bounds[:, :, 1].max(axis=0)], axis=1)

    def _look_from(self, yaw_degrees: float) -> None:
        """Look from ``yaw_degrees`` and frame both faces as Fit does (the cameras are linked: one moves both)."""
        if not self._meshes:
            return
        look_at_bounds(self.plotter.renderers[0], self._both_faces_bounds(), yaw_degrees)
        self._fit()
        self.canvas.update()

    def _fit(self) -> None:
        """Frame both faces from the direction the camera looks now (the user's rotation stays)."""
        if self._meshes:
            # the box as it appears on screen, not its bounding sphere: faces fill the view
            self.plotter.renderers[0].ResetCameraScreenSpace(*self._both_faces_bounds().ravel(), FIT_MARGIN)

    def _fit_toggled(self, fit: bool) -> None:
        if fit:
            self._fit()
            self.canvas.update()

    def view_front(self) -> None:
        self._look_from(0.0)

    def view_side(self) -> None:
        self._look_from(90.0)

    def reset_view(self) -> None:
        self.view_front()

    # ---- output -------------------------------------------------------------------------------
    def grab_image(self) -> np.ndarray:
        """The views as an (H, W, 3) uint8 array, freshly rendered."""
        render_window = self.plotter.render_window
        assert render_window is not None, "the views are closed"
        render_window.Render()
        grabber = vtkWindowToImageFilter()
        grabber.SetInput(render_window)
        grabber.SetInputBufferTypeToRGB()
        grabber.ReadFrontBufferOff()
        grabber.Update()
        image = grabber.GetOutput()
        width, height, _ = image.GetDimensions()
        pixels = vtk_to_numpy(image.GetPointData().GetScalars()).reshape(height, width, 3)
        return np.ascontiguousarray(pixels[::-1])  # VTK's rows run bottom to top

    def save_screenshot(self, path: str | Path) -> Path:
        """Both views to a PNG, written atomically."""
        return write_png(path, self.grab_image())

    def close_views(self) -> None:
        self.canvas.Finalize()
        self.plotter.close()

    def _lay_out(self, *_: object) -> None:
        """The faces' viewports side by side, and the legend's strip beside them while it is shown."""
        render_window = self.plotter.render_window
        if render_window is not None:
            self.legend.layout(render_window, [self.plotter.renderers[0], self.plotter.renderers[1]])

    def _on_render_end(self, _caller: object, _event: str) -> None:
        if self.software_gl is None:
            render_window = self.plotter.render_window
            assert render_window is not None  # it is the one that just rendered
            self.software_gl = _is_software_renderer(render_window.ReportCapabilities())
            if not self.software_gl:
                self.plotter.enable_anti_aliasing("fxaa", all_renderers=True)
        self.frames += 1
        self.frame_rendered.emit(time.perf_counter())


def _is_software_renderer(capabilities: str) -> bool:
    """True for Mesa's CPU rasterizers (llvmpipe, softpipe) and similar software GL."""
    renderer = next((line for line in capabilities.splitlines() if "renderer string" in line.lower()), "")
    return any(name in renderer.lower() for name in ("llvmpipe", "softpipe", "software", "swrast"))


def wrapped_origin(origin: str, columns: int) -> str:
    """The caption under the input face in lines of at most ``columns`` characters, one part per line."""
    kept = origin.replace(" = ", "\u00a0=\u00a0")  # "r = 10" is never cut in two
    lines = (line for part in kept.split("; ") for line in textwrap.wrap(part, columns) or [""])
    return "\n".join(lines).replace("\u00a0", " ")
