"""The two 3D views: the input ("noisy") face on the left, the denoised face on the right.

Both views are viewports of one pyvistaqt ``QtInteractor`` with a shared (linked) camera: one
OpenGL context and one render per frame instead of two, which halves the cost of a frame under
software GL. The meshes wrap the ``LiveFace`` arrays without copying, so an update is "mark
modified, schedule a paint": no new actors, no new arrays, and no model work in the paint path.
Repaints go through ``QWidget.update()``, which Qt merges, rather than ``render()``, which
would render once immediately and once more in the paint that follows.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pyvista
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QPushButton, QVBoxLayout, QWidget
from pyvistaqt import QtInteractor

from app.explorer.live_face import LiveFace
from app.png_files import write_png
from app.rendering.face_mesh import FaceMesh
from app.rendering.look import BACKGROUND, LANDMARK_COLOUR, LIGHTING, add_face, colour_by, look_at_bounds

INPUT_LABEL = "input (noisy)"
DENOISED_LABEL = "denoised (networks)"
HEAT_MAP_TITLE = "mm"  # the check box says what is shown


class FaceViews(QWidget):
    """Side-by-side input/denoised views with camera buttons and the displacement heat map."""

    frame_rendered = Signal(float)  # perf_counter() time at the end of each rendered frame

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # auto_update off: pyvistaqt would otherwise re-render five times a second, for nothing.
        # No multisampling: pyvista's default 8× MSAA makes a software-GL (llvmpipe) frame about
        # 2.5× slower. On a real GPU, FXAA smooths the edges almost for free; in software it
        # still costs ~40 % of a frame, so there the edges stay as they are.
        self.plotter = QtInteractor(self, shape=(1, 2), border=False, auto_update=False, multi_samples=0,
                                    lighting=LIGHTING)
        self.software_gl = _is_software_renderer(self.plotter.render_window.ReportCapabilities())
        if not self.software_gl:
            self.plotter.enable_anti_aliasing("fxaa", all_renderers=True)
        self.plotter.set_background(BACKGROUND)
        self.plotter.link_views()
        # VTK's and pyvista's one-letter keys (w: wireframe, q: close the plotter, 3: stereo …)
        # would fight the window's shortcuts and can leave the views in odd states: keep the
        # mouse interaction, drop the keys.
        self.plotter.iren.interactor.RemoveObservers("CharEvent")
        self.plotter.clear_events_for_key("q")
        self.plotter.render_window.AddObserver("EndEvent", self._on_render_end)
        self.frames = 0
        self._live: LiveFace | None = None
        self._meshes: list[FaceMesh] = []
        self._denoised_actor = None
        self._scalar_bar = None
        self._landmarks: list[tuple[pyvista.PolyData, np.ndarray, object]] = []  # (points, source vertices, actor)
        self._labels = []

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
        self.heat_map_box = QCheckBox("Colour the denoised face by its distance from the input (mm)")
        self.heat_map_box.setToolTip("per-vertex distance between the denoised and the input face, in mm")
        self.heat_map_box.toggled.connect(self.set_heat_map)
        buttons.addWidget(self.heat_map_box)
        self.landmarks_box = QCheckBox("Landmarks")
        self.landmarks_box.setToolTip("the model's 68 landmarks on both faces (L); models without them show none")
        self.landmarks_box.toggled.connect(self.set_landmarks)
        buttons.addWidget(self.landmarks_box)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.plotter, 1)

    # ---- scene -----------------------------------------------------------------------------
    def show_face(self, live: LiveFace, denoiser_note: str = "") -> None:
        """Build the two meshes around ``live``'s arrays (once per model)."""
        for title in list(self.plotter.scalar_bars.keys()):
            self.plotter.remove_scalar_bar(title, render=False)
        self.plotter.clear_actors()
        self._live = live
        self._meshes = []
        self._landmarks = []
        for column, (vertices, normals, label) in enumerate(
            (
                (live.input_vertices, live.input_normals, INPUT_LABEL),
                (live.denoised_vertices, live.denoised_normals, DENOISED_LABEL + denoiser_note),
            )
        ):
            self.plotter.subplot(0, column)
            mesh = FaceMesh(live.model.triangles, vertices, normals)  # LiveFace keeps both arrays current
            if column == 1:
                mesh.add_scalars("displacement", live.displacement_mm)
            actor = add_face(self.plotter, mesh, live.model.triangle_parts, scalars="displacement" if column == 1 else None)
            self.plotter.add_text(label, position="upper_edge", font_size=9, color="white")
            self._meshes.append(mesh)
            if live.model.landmarks is not None and len(live.model.landmarks):
                points = pyvista.PolyData(vertices[live.model.landmarks].astype(np.float32))
                marker = self.plotter.add_points(points, color=LANDMARK_COLOUR, point_size=7,
                                                 render_points_as_spheres=True, reset_camera=False)
                self._landmarks.append((points, vertices, marker))
            if column == 1:
                self._denoised_actor = actor
                self._scalar_bar = self.plotter.add_scalar_bar(
                    title=HEAT_MAP_TITLE, mapper=actor.mapper, vertical=True, position_x=0.86,
                    position_y=0.15, height=0.6, width=0.07, title_font_size=12, label_font_size=10,
                    fmt="%.1f", n_labels=5, color="white",
                )
        self.set_heat_map(self.heat_map_box.isChecked())
        self.set_landmarks(self.landmarks_box.isChecked())
        self.reset_view()

    def refresh(self) -> None:
        """The live arrays were rewritten: tell VTK and schedule one paint."""
        for mesh in self._meshes:
            mesh.modified()
        if self.landmarks_box.isChecked():
            self._move_landmarks()
        if self._meshes:
            self._update_heat_map_range()
        self.plotter.update()

    def set_heat_map(self, enabled: bool) -> None:
        if self._denoised_actor is None:
            return
        colour_by(self._denoised_actor, "displacement" if enabled else None)
        self._scalar_bar.SetVisibility(bool(enabled))
        self._update_heat_map_range()
        self.plotter.update()

    def toggle_heat_map(self) -> None:
        self.heat_map_box.toggle()

    def set_landmarks(self, visible: bool) -> None:
        if visible:
            self._move_landmarks()
        for _, _, marker in self._landmarks:
            marker.SetVisibility(bool(visible))
        self.plotter.update()

    def toggle_landmarks(self) -> None:
        self.landmarks_box.toggle()

    def _move_landmarks(self) -> None:
        """Put each face's landmark markers on its current vertices (68 points: cheaper than a flag)."""
        indices = self._live.model.landmarks if self._live is not None else None
        for points, vertices, _ in self._landmarks:
            points.points[...] = vertices[indices]
            points.Modified()

    def _update_heat_map_range(self) -> None:
        if self._live is not None and self._denoised_actor is not None:
            largest = float(self._live.displacement_mm.max())
            self._denoised_actor.mapper.scalar_range = (0.0, max(largest, 1e-3))

    # ---- camera ------------------------------------------------------------------------------
    def _look_from(self, yaw_degrees: float) -> None:
        """The cameras are linked, so one renderer's camera moves both views."""
        if not self._meshes:
            return
        renderer = self.plotter.renderers[0]
        # Fit both faces: the denoised one can be larger than the input.
        bounds = np.array([mesh.polydata.bounds for mesh in self._meshes], dtype=float).reshape(-1, 3, 2)
        bounds = np.stack([bounds[:, :, 0].min(axis=0), bounds[:, :, 1].max(axis=0)], axis=1)
        look_at_bounds(renderer, bounds, yaw_degrees)
        self.plotter.update()

    def view_front(self) -> None:
        self._look_from(0.0)

    def view_side(self) -> None:
        self._look_from(90.0)

    def reset_view(self) -> None:
        self.view_front()

    # ---- output -------------------------------------------------------------------------------
    def grab_image(self) -> np.ndarray:
        """The views as an (H, W, 3) uint8 array, freshly rendered."""
        return self.plotter.screenshot(return_img=True)

    def save_screenshot(self, path: str | Path) -> Path:
        """Both views to a PNG, written atomically."""
        return write_png(path, self.grab_image())

    def close_views(self) -> None:
        self.plotter.close()

    def _on_render_end(self, _caller: object, _event: str) -> None:
        self.frames += 1
        self.frame_rendered.emit(time.perf_counter())


def _is_software_renderer(capabilities: str) -> bool:
    """True for Mesa's CPU rasterizers (llvmpipe, softpipe) and similar software GL."""
    renderer = next((line for line in capabilities.splitlines() if "renderer string" in line.lower()), "")
    return any(name in renderer.lower() for name in ("llvmpipe", "softpipe", "software", "swrast"))
