"""The 3D views as a person sees them: framing, the heat map's legend, and opening a model folder.

Each test runs at the size the window takes on this screen and at the size it takes on a 1366×768
laptop. Run under ``xvfb-run -a``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QFileDialog
from test_gui_explorer import finish_loading
from test_ict_model import NEUTRAL, write_ict_folder

from app.rendering.heat_map_legend import LABEL_FONT_PX
from widgets.explorer import PREFERRED_SIZE
from widgets.face_views import FIT_MARGIN
from widgets.screen_fit import fit_to_screen


@pytest.fixture(params=["this screen", "1366x768"])
def sized(request, qtbot, window):
    """The explorer sized for this screen or for a 1366×768 laptop, its views drawn."""
    area = QRect(0, 0, 1366, 768) if request.param == "1366x768" else QApplication.primaryScreen().availableGeometry()
    fit_to_screen(window, PREFERRED_SIZE, area)
    QApplication.processEvents()
    window.views.grab_image()
    return window


def camera_distance(window) -> float:
    return float(window.views.plotter.renderers[0].camera.GetDistance())


@pytest.mark.parametrize("button", ["view_front", "reset_view"])
def test_front_and_reset_frame_the_faces_as_fit_does(sized, button):
    views = sized.views
    views.view_side()
    getattr(views, button)()
    distance = camera_distance(sized)
    views.plotter.renderers[0].ResetCameraScreenSpace(*views._both_faces_bounds().ravel(), FIT_MARGIN)
    assert distance == pytest.approx(camera_distance(sized), rel=0.02)
    camera = views.plotter.renderers[0].camera
    direction = np.array(camera.position) - np.array(camera.focal_point)
    assert direction[2] > 0.99 * np.linalg.norm(direction)  # from the front


def screen_box(renderer, bounds: np.ndarray) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) display pixels of the corners of ``bounds`` (3, 2) seen by ``renderer``, in its viewport."""
    points = []
    for x in bounds[0]:
        for y in bounds[1]:
            for z in bounds[2]:
                renderer.SetWorldPoint(x, y, z, 1.0)
                renderer.WorldToDisplay()
                points.append(renderer.GetDisplayPoint()[:2])
    (x0, y0), (x1, y1) = np.min(points, axis=0), np.max(points, axis=0)
    width, height = renderer.GetRenderWindow().GetSize()
    vx0, vy0, vx1, vy1 = renderer.GetViewport()
    return max(x0, vx0 * width), max(y0, vy0 * height), min(x1, vx1 * width), min(y1, vy1 * height)


def overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_the_legend_title_clears_its_labels_and_the_bar_clears_the_faces(sized):
    views = sized.views
    views.heat_map_box.setChecked(True)
    views.view_front()
    image = views.grab_image()  # renders, laying the legend out for this size
    legend = views.legend
    title, bar = legend.title_rect(), legend.bar_rect()
    # The top label is centred on the bar's top end: it reaches half a label's height above the frame.
    top_label = (bar[0], bar[3] - LABEL_FONT_PX / 2 - 1, bar[2], bar[3] + LABEL_FONT_PX / 2 + 1)
    assert title[2] > title[0] and title[3] > title[1]
    assert not overlap(title, top_label) and not overlap(title, bar)
    # On screen too: a row of background only between the title's text and the top label's.
    height = image.shape[0]
    columns = slice(int(legend.renderer.GetViewport()[0] * image.shape[1]), image.shape[1])
    rows = image[height - int(title[1]) : height - int(bar[3]), columns].astype(int)
    background = rows[0, 0]
    assert (np.abs(rows - background).max(axis=2) < 20).all(axis=1).any()
    for renderer in (views.plotter.renderers[0], views.plotter.renderers[1]):
        face = screen_box(renderer, views._both_faces_bounds())
        assert not overlap(face, bar) and not overlap(face, title)


def test_the_legend_strip_is_only_taken_while_the_heat_map_shows(sized):
    views = sized.views
    views.heat_map_box.setChecked(False)
    views.grab_image()
    assert views.plotter.renderers[1].GetViewport()[2] == pytest.approx(1.0)
    views.heat_map_box.setChecked(True)
    views.grab_image()
    assert views.plotter.renderers[1].GetViewport()[2] < 1.0
    assert views.plotter.renderers[1].GetViewport()[2] == pytest.approx(views.legend.renderer.GetViewport()[0])


@pytest.fixture
def ict_folder(tmp_path: Path) -> Path:
    """A tiny ICT-FaceKit FaceXModel folder (the OBJs of tests/test_ict_model.py)."""
    return write_ict_folder(tmp_path / "FaceXModel")


def test_the_file_menu_opens_an_ict_facekit_folder_as_the_cli_does(qtbot, window, ict_folder, monkeypatch):
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args, **kwargs: str(ict_folder))
    action = next(a for a in window.findChildren(QAction) if "ICT-FaceKit folder" in a.text())
    action.trigger()
    finish_loading(qtbot, window)
    assert window.workspace.model_path == ict_folder
    assert window.workspace.model.n_vertices == len(NEUTRAL) - 4  # the eyelash quad is dropped, as --model drops it
    assert window.settings.value("folders/model") == str(ict_folder)
