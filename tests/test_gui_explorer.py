"""The explorer window with real rendering: run under ``xvfb-run -a`` (VTK needs a GL context).

The networks are tiny ones trained here in seconds, so the tests do not depend on the shipped
weights; QSettings go to an .ini file in a temporary folder, never the user's settings.
"""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
import pyvista
from core_fixtures import bfm_fields, corner_points, write_bfm
from PySide6.QtCore import QCoreApplication, QEvent, QSettings, Qt
from PySide6.QtGui import QImage, QKeyEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from app.dataset.face_preset_file import PRESET_FORMAT
from app.errors import FaceExplorerError
from app.rendering.look import BACKGROUND
from app.workspace import Workspace
from widgets.explorer import ExplorerWindow
from widgets.export_dialog import ExportDialog, ExportRequest


def finish_loading(qtbot, window):
    """Wait until the files the window reads on its worker thread are read and adopted (or refused)."""
    qtbot.waitUntil(lambda: not window.loading, timeout=60000)


def settle(qtbot, window):
    """Wait for the coalesced refresh and the frame it asked for."""
    frames = window.views.frames
    qtbot.waitUntil(lambda: not window.live.stale, timeout=10000)
    qtbot.waitUntil(lambda: window.views.frames > frames, timeout=20000)


def test_opens_on_the_embedded_model_with_all_sliders(window):
    model = window.workspace.model
    assert model.is_embedded and "embedded" in window.model_label.text()
    panel = window.coefficient_panel
    assert len(panel.rows["shape"]) == model.n_id == 199
    assert panel.row("expression", 28) is panel.rows["expression"][28]
    assert panel.row("shape", 0).label.text().strip() == f"0  {model.names_id[0]}"
    assert "device: cpu" in window.device_label.text()


def test_slider_changes_input_then_denoised_mesh(qtbot, window):
    live, views = window.live, window.views
    input_mesh, denoised_mesh = (mesh.polydata for mesh in views._meshes)
    actors = len(views.plotter.renderers[0].actors) + len(views.plotter.renderers[1].actors)
    before_input, before_denoised = live.input_vertices.copy(), live.denoised_vertices.copy()
    slider = window.coefficient_panel.row("shape", 0).slider
    slider.setPageStep(200)
    slider.setFocus()
    qtbot.keyClick(slider, Qt.Key.Key_PageUp)
    assert window.state.alpha_id[0] > 0
    # The input face follows the event at once (incremental update), in the mesh VTK draws.
    assert np.shares_memory(input_mesh.points, live.input_vertices)
    assert not np.allclose(input_mesh.points, before_input)
    settle(qtbot, window)
    assert not np.allclose(denoised_mesh.points, before_denoised)
    expected = window.workspace.model.synthesize(window.state.alpha_id, window.state.alpha_exp)
    assert np.allclose(input_mesh.points, expected, atol=1.0)
    # Same meshes, same actors: nothing is rebuilt per change.
    assert views._meshes[0].polydata is input_mesh
    assert len(views.plotter.renderers[0].actors) + len(views.plotter.renderers[1].actors) == actors


def test_uniform_sample_input_and_denoised_differ(qtbot, window):
    sampling = window.sampling_panel
    assert (sampling.r_shape_box.value(), sampling.r_exp_box.value()) == (10.0, 15.0)
    assert sampling.distribution_box.currentText() == "uniform"
    qtbot.mouseClick(sampling.buttons["both"], Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    live = window.live
    assert not np.allclose(live.denoised_id, window.state.alpha_id)
    assert float(live.displacement_mm.max()) > 1.0  # the networks moved the face by millimetres
    row = window.coefficient_panel.row("shape", 3)
    assert row.field.text() == f"{window.state.alpha_id[3] / row.scale:.3f}σ"


def test_sampling_with_a_seed_is_reproducible_and_reset_restores_the_mean(qtbot, window):
    sampling = window.sampling_panel
    faces = []
    for _ in range(2):
        sampling.seed_box.setValue(1234)
        qtbot.mouseClick(sampling.buttons["both"], Qt.MouseButton.LeftButton)
        faces.append((window.state.alpha_id, window.state.alpha_exp))
        assert sampling.seed_box.value() == 1235
    assert np.array_equal(faces[0][0], faces[1][0]) and np.array_equal(faces[0][1], faces[1][1])
    qtbot.mouseClick(window.coefficient_panel.reset_all_button, Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    mean = window.workspace.model.mean.reshape(-1, 3)
    assert np.allclose(window.live.input_vertices, mean)
    assert window.coefficient_panel.row("shape", 0).slider.value() == 0


def test_numeric_field_filter_and_denoised_toggle(qtbot, window):
    panel = window.coefficient_panel
    row = panel.row("expression", 1)
    row.field.setText("0.75")
    row.field.editingFinished.emit()
    assert window.state.alpha_exp[1] == 0.75  # an action unit's activation, the unit its row shows
    panel.filter_box.setText("smile")
    visible = [r.index for r in panel.rows["expression"] if not r.isHidden()]
    assert visible and all("smile" in r.name.lower() for r in panel.rows["expression"] if not r.isHidden())
    assert "/" in panel.tabs.tabText(1)
    panel.filter_box.setText("")
    settle(qtbot, window)
    panel.denoised_box.setChecked(True)
    assert row.field.text() == f"{window.live.denoised_exp[1]:.3f}"
    assert not row.slider.isEnabled()
    window.apply_denoised()
    assert np.allclose(window.state.alpha_exp, window.live.denoised_exp)


def test_export_obj_and_ply_read_back_and_preset_round_trips(qtbot, window, tmp_path):
    window.state.sample("both")
    n_vertices = window.workspace.model.n_vertices
    written = window.export_faces(ExportRequest(tmp_path / "face.obj", "both", True, ".json"))
    assert sorted(p.name for p in written) == [
        "face_denoised.json",
        "face_denoised.mtl",
        "face_denoised.obj",
        "face_input.json",
        "face_input.mtl",
        "face_input.obj",
    ]
    for binary in (True, False):
        name = f"face_{'bin' if binary else 'ascii'}.ply"
        window.export_faces(ExportRequest(tmp_path / name, "denoised", binary, ".npz"))
        assert pyvista.read(tmp_path / name).n_points == n_vertices
    obj = pyvista.read(tmp_path / "face_input.obj")
    assert obj.active_texture_coordinates is not None  # the embedded model's texture layout
    input_corners = window.live.input_vertices[window.workspace.model.triangles]
    assert np.allclose(corner_points(obj), input_corners / 1e3, atol=1e-3)  # File ▸ Export writes mm by default
    assert not window.last_error

    saved = (window.state.alpha_id, window.state.alpha_exp, window.state.settings)
    window.save_preset(tmp_path / "preset.json")
    window.state.reset()
    window.sampling_panel.r_shape_box.setValue(3.0)
    window.load_preset(tmp_path / "preset.json")
    assert np.array_equal(window.state.alpha_id, saved[0]) and np.array_equal(window.state.alpha_exp, saved[1])
    assert window.state.settings == saved[2] and window.sampling_panel.r_shape_box.value() == 10.0


def test_every_range_the_sampling_rule_accepts_is_shown_unclamped(window):
    """A preset's r = 500 (allowed up to 2000) must not be cut to the box's maximum, nor change the state."""
    window.state.update_settings(r_shape=500.0, r_exp=0.05)
    assert (window.sampling_panel.r_shape_box.value(), window.sampling_panel.r_exp_box.value()) == (500.0, 0.05)
    assert (window.state.settings.r_shape, window.state.settings.r_exp) == (500.0, 0.05)


def test_export_dialog_builds_the_request(qtbot, tmp_path):
    dialog = ExportDialog(str(tmp_path))
    qtbot.addWidget(dialog)
    dialog.which_box.setCurrentText("both")
    dialog.format_box.setCurrentText("PLY (ASCII)")
    dialog.coefficients_box.setCurrentText("none")
    request = dialog.request()
    # not face.*: its coefficients would be face.json, the name Save face preset suggests
    assert request == ExportRequest(tmp_path / "face_export.ply", "both", False, None, "mm")
    assert dialog.path_field.text().endswith("face_export.ply")
    dialog.unit_box.setCurrentText("µm")
    assert dialog.request().unit == "um"


def test_screenshot_shows_both_faces(qtbot, window, tmp_path):
    window.state.sample("both")
    settle(qtbot, window)
    path = window.save_screenshot(tmp_path / "views.png")
    image = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB888)
    assert not image.isNull()
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    pixels = pixels[:, : image.width() * 3].reshape(image.height(), image.width(), 3).astype(int)
    background = np.round(np.array(BACKGROUND) * 255).astype(int)
    width = image.width()
    for half in (pixels[:, : width // 2], pixels[:, width // 2 :]):
        face = np.abs(half - background).sum(axis=2) > 30
        assert face.mean() > 0.1, "a view shows (almost) only background"
        assert half[face].std() > 5  # shaded, not a flat silhouette


def test_unwritable_export_shows_an_error_and_the_app_keeps_running(qtbot, window, tmp_path):
    target = tmp_path / "no such folder" / "face.obj"
    assert window.export_faces(ExportRequest(target, "input", True, ".json")) is None
    assert "does not exist" in window.last_error
    assert window.error_box is not None and window.error_box.isVisible()
    assert not target.parent.exists()
    window.error_box.close()
    (tmp_path / "bad.json").write_text('{"alpha_id": [1, 2]}')
    window.load_preset(tmp_path / "bad.json")
    assert "bad.json" in window.last_error
    window.state.sample("shape")
    settle(qtbot, window)
    assert window.isVisible() and window.live.last_compute_ms > 0


def test_bad_checkpoints_folder_keeps_the_current_networks(qtbot, window, tmp_path):
    denoiser = window.live.denoiser
    window.open_checkpoints(tmp_path)
    finish_loading(qtbot, window)
    assert "no such checkpoint" in window.last_error
    assert window.live.denoiser is denoiser


def test_folders_and_geometry_go_to_the_given_settings(qtbot, window, tmp_path):
    window.state.sample("expression")
    window.save_preset(tmp_path / "presets" / "face.json")  # folder missing: an error, nothing remembered
    assert window.settings.value("folders/preset") is None
    (tmp_path / "presets").mkdir()
    window.save_preset(tmp_path / "presets" / "face.json")
    assert window.settings.value("folders/preset") == str(tmp_path / "presets")
    window.close()
    reread = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    assert reread.value("window/geometry") is not None


def test_run_explorer_reports_a_bad_model_and_opens_the_embedded_one(qtbot, tmp_path, tiny_checkpoints, request):
    import argparse

    from PySide6.QtCore import QTimer

    from widgets import explorer

    # The application's own QSettings must land in tmp_path, never in the user's configuration
    # (the path stays redirected for the rest of the session, which only protects the user more).
    previous_format = QSettings.defaultFormat()
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path))
    request.addfinalizer(lambda: QSettings.setDefaultFormat(previous_format))
    opened = []  # what each window showed; no references to the windows, which Qt deletes on close

    def inspect_and_close() -> None:
        for w in QApplication.topLevelWidgets():
            if isinstance(w, explorer.ExplorerWindow) and w.isVisible():
                opened.append((w.workspace.model.is_embedded, w.last_error))
                if w.error_box is not None:
                    w.error_box.close()
                w.close()

    QTimer.singleShot(3000, inspect_and_close)
    bad_model = tmp_path / "model.mat"
    bad_model.write_text("not a mat file")
    args = argparse.Namespace(model=str(bad_model), data=None, checkpoints=str(tiny_checkpoints), device="cpu")
    assert explorer.run_explorer(args) == 0
    assert len(opened) == 1
    is_embedded, error = opened[0]
    assert is_embedded
    assert "model.mat" in error and "embedded face model was opened instead" in error
    assert list(tmp_path.rglob("*.ini")), "the window's settings were written under tmp_path"


def test_wheel_over_an_unfocused_slider_scrolls_instead_of_changing_it(qtbot, window):
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QWheelEvent

    slider = window.coefficient_panel.row("shape", 5).slider
    window.activateWindow()
    window.coefficient_panel.filter_box.setFocus()
    qtbot.waitUntil(window.coefficient_panel.filter_box.hasFocus, timeout=5000)
    event = QWheelEvent(
        QPointF(5, 5),
        QPointF(slider.mapToGlobal(QPoint(5, 5))),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(slider, event)
    assert window.state.alpha_id[5] == 0.0
    slider.setFocus()
    qtbot.waitUntil(slider.hasFocus, timeout=5000)
    QApplication.sendEvent(slider, QWheelEvent(event))
    assert window.state.alpha_id[5] != 0.0


def test_window_without_usable_checkpoints_still_opens(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    explorer = ExplorerWindow(Workspace(checkpoints=tmp_path, device="cpu"), settings)
    qtbot.addWidget(explorer)
    explorer.show()
    assert "no such checkpoint" in explorer.last_error
    assert explorer.live.denoiser is None and explorer.device_label.text() == "device: none"
    explorer.state.sample("both")
    explorer.refresh_now()
    assert np.array_equal(explorer.live.denoised_vertices, explorer.live.input_vertices)
    explorer.apply_denoised()
    assert "no denoising networks" in explorer.last_error


def test_switching_checkpoints_and_model_rebuilds_the_scene_once(qtbot, window, tiny_checkpoints):
    def scene() -> tuple[int, int, int]:
        plotter = window.views.plotter
        return len(plotter.renderers[0].actors), len(plotter.renderers[1].actors), len(plotter.scalar_bars)

    window.state.sample("both")
    before = scene()
    face = window.state.alpha_id
    frames = window.views.frames
    window.open_checkpoints(tiny_checkpoints)
    finish_loading(qtbot, window)
    assert not window.last_error and scene() == before
    assert np.array_equal(window.state.alpha_id, face)  # new networks, same face
    qtbot.waitUntil(lambda: window.views.frames > frames, timeout=20000)
    frames = window.views.frames
    window.open_model(None)
    finish_loading(qtbot, window)
    assert not window.last_error and scene() == before
    assert np.all(window.state.alpha_id == 0)
    assert len(window.side.findChildren(type(window.coefficient_panel))) == 1
    qtbot.waitUntil(lambda: window.views.frames > frames, timeout=20000)


def test_vtk_letter_keys_do_not_change_the_views(qtbot, window):
    plotter = window.views.plotter

    def representations() -> list[str]:
        return [
            actor.prop.style
            for renderer in plotter.renderers
            for actor in renderer.actors.values()
            if hasattr(actor, "prop") and hasattr(actor.prop, "style")
        ]

    before = representations()
    assert before.count("Surface") == 4  # the two faces and their drafts (landmark markers are points)
    for key in (Qt.Key.Key_W, Qt.Key.Key_Q, Qt.Key.Key_E, Qt.Key.Key_3):
        qtbot.keyClick(window.views.canvas, key)
    assert representations() == before
    window.state.sample("both")
    settle(qtbot, window)
    assert window.isVisible() and not getattr(plotter, "_closed", False)


def test_dragging_in_a_view_turns_both_linked_cameras(qtbot, window):
    plotter = window.views.plotter
    assert plotter.renderers[0].camera is plotter.renderers[1].camera
    window.views.view_front()
    position = np.array(plotter.renderers[1].camera.position)
    assert np.allclose(np.array(plotter.renderers[1].camera.up), (0, 1, 0))
    canvas = window.views.canvas
    start = canvas.rect().center()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    for step in range(1, 6):
        qtbot.mouseMove(canvas, start + type(start)(20 * step, 0))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=start + type(start)(100, 0))
    assert not np.allclose(np.array(plotter.renderers[1].camera.position), position)
    window.views.view_side()
    camera = plotter.renderers[0].camera
    direction = np.array(camera.position) - np.array(camera.focal_point)
    assert abs(direction[0]) > 0.99 * np.linalg.norm(direction)


def test_a_fitted_face_from_the_data_is_picked_by_the_seed(qtbot, window):
    window.sampling_panel.seed_box.setValue(3)
    window.load_fitted_face()  # the data is read on the worker thread first
    finish_loading(qtbot, window)
    assert window.workspace.data_loaded
    data = window.workspace.data
    matches = np.flatnonzero(np.all(data.shape == window.state.alpha_id, axis=1))
    assert len(matches) >= 1 and np.array_equal(data.expression[matches[0]], window.state.alpha_exp)
    assert window.sampling_panel.seed_box.value() == 4 and not window.last_error


def test_a_study_face_opens_by_id_and_a_wrong_id_is_reported(qtbot, window, tmp_path):
    from app.study.database import RatingsDatabase
    from app.study.definition import StudyDefinition, generate_study_faces

    model = window.workspace.model
    definition = StudyDefinition(name="inspect", faces_per_condition=2, conditions=("normal",), seed=4)
    path = tmp_path / "study.db"
    RatingsDatabase.create(path, definition, generate_study_faces(definition, model), model.provenance).close()
    with RatingsDatabase.open(path) as database:
        face = database.face(2)
    window.open_study_face(path, 2)
    np.testing.assert_allclose(window.state.alpha_id, face.alpha_id)
    np.testing.assert_allclose(window.state.alpha_exp, face.alpha_exp)
    window.open_study_face(path, 99)
    assert "99" in window.last_error
    np.testing.assert_allclose(window.state.alpha_id, face.alpha_id)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("1,5", "use a point for decimals"),
        ("abc", "is not a number"),
        ("nan", "is not a number"),
        ("1e400", "too large"),
        ("1e30", "outside"),
    ],
)
def test_typed_text_that_is_not_taken_restores_the_field_and_says_why(qtbot, window, typed, says):
    row = window.coefficient_panel.row("shape", 2)
    window.state.set_coefficient("shape", 2, 1234.5)
    qtbot.keyClicks(row.field, "")  # focus the field as a user would
    row.field.setText(typed)
    row.field.editingFinished.emit()
    assert window.state.coefficient("shape", 2) == 1234.5
    assert row.field.text() == f"{1234.5 / row.scale:.3f}σ"
    assert says in window.last_error and says in window.statusBar().currentMessage()


def test_a_typed_number_with_a_point_is_taken(qtbot, window):
    panel = window.coefficient_panel
    panel.unit_buttons["raw"].click()
    row = panel.row("expression", 1)
    row.field.setText("0.75")
    row.field.editingFinished.emit()
    assert window.state.coefficient("expression", 1) == 0.75


def test_a_preset_beyond_the_limits_is_refused_and_the_face_stays(qtbot, window, tmp_path):
    window.state.sample("both")
    settle(qtbot, window)
    face, shown = (window.state.alpha_id, window.state.alpha_exp), window.live.input_vertices.copy()
    model = window.workspace.model
    preset = tmp_path / "huge.json"
    preset.write_text(
        json.dumps(
            {
                "preset": PRESET_FORMAT,
                "alpha_id": [1e300] * model.n_id,
                "alpha_exp": [0.0] * model.n_exp,
                "sampling": {},
                **model.provenance.to_record(),
            }
        )
    )
    window.load_preset(preset)
    assert "huge.json" in window.last_error and "outside" in window.last_error
    assert not window.statusBar().currentMessage().startswith("loaded")
    assert np.array_equal(window.state.alpha_id, face[0]) and np.array_equal(window.state.alpha_exp, face[1])
    np.testing.assert_array_equal(window.live.input_vertices, shown)


def test_a_refresh_that_fails_shows_a_dialog_and_keeps_the_last_good_face(qtbot, window, monkeypatch):
    settle_face = window.live.input_vertices.copy(), window.live.denoised_vertices.copy()
    good = window.state.alpha_id
    denoiser = window.live.denoiser

    def failing(alpha_id, alpha_exp):
        raise FaceExplorerError("the shape network's output is not finite for these coefficients")

    monkeypatch.setattr(denoiser, "denoise_face", failing)
    window.coefficient_panel.row("shape", 0).slider.setValue(400)
    window.refresh_now()
    assert "cannot be shown" in window.last_error and window.error_box.isVisible()
    np.testing.assert_array_equal(window.state.alpha_id, good)  # the sliders show the face on screen
    np.testing.assert_allclose(window.live.input_vertices, settle_face[0], atol=1e-3)
    np.testing.assert_array_equal(window.live.denoised_vertices, settle_face[1])
    window.error_box.close()


@pytest.fixture
def gated_model_reading(monkeypatch):
    """Reading a model file named in ``gates`` waits until the test sets its event.

    Returns (gates, threads, returned): the events by file name, the thread that read each
    file, and the files whose reading has finished.
    """
    from app import workspace as workspace_module

    real = workspace_module.load_model
    gates: dict[str, threading.Event] = {}
    threads: dict[str, str] = {}
    returned: list[str] = []

    def gated(path):
        threads[path.name] = threading.current_thread().name
        if path.name in gates:
            gates[path.name].wait(60)  # bounded: a failing test must not hang the worker forever
        model = real(path)
        returned.append(path.name)
        return model

    monkeypatch.setattr(workspace_module, "load_model", gated)
    return gates, threads, returned


def open_and_hold(qtbot, window, gated_model_reading, path) -> None:
    """Start loading ``path`` and wait until the worker is reading it, held at its gate."""
    gates, threads, _ = gated_model_reading
    gates[path.name] = threading.Event()
    window.open_model(path)
    qtbot.waitUntil(lambda: path.name in threads)


def test_a_model_is_read_off_the_gui_thread_while_the_window_keeps_working(
    qtbot, window, tmp_path, gated_model_reading
):
    gates, threads, _ = gated_model_reading
    open_and_hold(qtbot, window, gated_model_reading, write_bfm(tmp_path / "BFM.mat", bfm_fields()))
    assert window.loading and window.loading_bar.isVisible() and "BFM.mat" in window.loading_label.text()
    assert QApplication.overrideCursor().shape() == Qt.CursorShape.BusyCursor
    qtbot.mouseClick(window.sampling_panel.buttons["both"], Qt.MouseButton.LeftButton)  # still answering
    settle(qtbot, window)
    assert window.workspace.model.is_embedded and np.any(window.state.alpha_id != 0)
    gates["BFM.mat"].set()
    finish_loading(qtbot, window)
    assert threads["BFM.mat"] != threading.current_thread().name
    assert window.workspace.model.n_vertices == 20 and window.vertices_label.text() == "20 vertices"
    assert np.all(window.state.alpha_id == 0) and len(window.coefficient_panel.rows["shape"]) == 199
    assert not window.loading_bar.isVisible() and QApplication.overrideCursor() is None
    assert not window.last_error


def test_a_later_load_supersedes_an_earlier_one(qtbot, window, tmp_path, gated_model_reading):
    gates, _, returned = gated_model_reading
    open_and_hold(qtbot, window, gated_model_reading, write_bfm(tmp_path / "first.mat", bfm_fields(rows=4, columns=5)))
    window.open_model(write_bfm(tmp_path / "second.mat", bfm_fields(rows=3, columns=4)))
    finish_loading(qtbot, window)
    assert window.workspace.model.n_vertices == 12
    gates["first.mat"].set()
    qtbot.waitUntil(lambda: "first.mat" in returned)
    qtbot.wait(200)  # room for the superseded result to arrive: it must be dropped
    assert window.workspace.model.n_vertices == 12 and not window.loading and not window.last_error


def test_files_that_cannot_be_read_are_one_dialog_each_and_nothing_changes(qtbot, window, tmp_path):
    bad = tmp_path / "broken.mat"
    bad.write_text("not a mat file")
    window.open_model(bad)
    finish_loading(qtbot, window)
    assert "broken.mat" in window.last_error
    assert [box for box in window.findChildren(QMessageBox) if box.isVisible()] == [window.error_box]
    assert window.workspace.model.is_embedded and QApplication.overrideCursor() is None
    window.open_data(tmp_path / "no such folder")
    finish_loading(qtbot, window)
    assert "no such folder" in window.last_error and window.workspace.data_path is None
    assert len([box for box in window.findChildren(QMessageBox) if box.isVisible()]) == 1
    window.error_box.close()


def test_closing_during_a_load_waits_for_it_and_drops_it(qtbot, window, tmp_path, gated_model_reading):
    gates, _, returned = gated_model_reading
    open_and_hold(qtbot, window, gated_model_reading, write_bfm(tmp_path / "BFM.mat", bfm_fields()))
    threading.Timer(0.2, gates["BFM.mat"].set).start()
    window.close()
    assert returned == ["BFM.mat"] and not window.loading and QApplication.overrideCursor() is None
    assert window.workspace.model.is_embedded


def test_landmarks_overlay_follows_both_faces(qtbot, window):
    views, live = window.views, window.live
    landmarks = window.workspace.model.landmarks
    assert len(landmarks) == 68 and len(views._landmarks) == 2
    assert not any(marker.GetVisibility() for _, _, marker in views._landmarks)  # off by default
    views.toggle_landmarks()
    assert all(marker.GetVisibility() for _, _, marker in views._landmarks)
    window.state.sample("both")
    settle(qtbot, window)
    (input_points, _, _), (denoised_points, _, _) = views._landmarks
    np.testing.assert_allclose(input_points.points, live.input_vertices[landmarks])
    np.testing.assert_allclose(denoised_points.points, live.denoised_vertices[landmarks])
    assert not np.allclose(input_points.points, denoised_points.points)
    views.toggle_landmarks()
    assert not any(marker.GetVisibility() for _, _, marker in views._landmarks)


def test_undo_after_a_sample_restores_the_exact_coefficients_and_the_history_list_returns_to_any_face(qtbot, window):
    first = (window.state.alpha_id, window.state.alpha_exp)
    qtbot.mouseClick(window.sampling_panel.buttons["both"], Qt.MouseButton.LeftButton)
    sampled = (window.state.alpha_id, window.state.alpha_exp)
    qtbot.mouseClick(window.sampling_panel.buttons["shape"], Qt.MouseButton.LeftButton)
    assert not np.array_equal(window.state.alpha_id, sampled[0])
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)  # window shortcuts need the active window
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_array_equal(window.state.alpha_id, sampled[0])
    np.testing.assert_array_equal(window.state.alpha_exp, sampled[1])
    assert window.redo_action.isEnabled()
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert not np.array_equal(window.state.alpha_id, sampled[0]) and not window.redo_action.isEnabled()
    panel = window.history_panel
    qtbot.waitUntil(lambda: panel.list.count() == 3)
    assert [panel.list.item(row).text() for row in range(3)] == [
        "1. start",
        "2. sample both (seed 0)",
        "3. sample shape (seed 1)",
    ]
    item = panel.list.item(0)
    qtbot.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=panel.list.visualItemRect(item).center())
    np.testing.assert_array_equal(window.state.alpha_id, first[0])
    settle(qtbot, window)
    np.testing.assert_allclose(window.live.input_vertices, window.workspace.model.mean.reshape(-1, 3))


def test_a_slider_drag_draws_drafts_is_one_undo_step_and_ends_on_the_full_faces(qtbot, window):
    views, live = window.views, window.live
    slider = window.coefficient_panel.row("shape", 1).slider
    entries = len(window.history.entries)
    handle = slider.rect().center()
    qtbot.mousePress(slider, Qt.MouseButton.LeftButton, pos=handle)
    assert window.state.in_gesture
    for step in range(1, 5):
        qtbot.mouseMove(slider, handle + type(handle)(8 * step, 0))
        qtbot.waitUntil(lambda: not live._draft_stale, timeout=10000)
    assert window.state.alpha_id[1] > 0
    qtbot.waitUntil(lambda: views._draft_actors[0].GetVisibility() and not views._face_actors[0].GetVisibility())
    np.testing.assert_allclose(live.input_draft_vertices, live.input_vertices[live.draft.vertex_indices])
    qtbot.mouseRelease(slider, Qt.MouseButton.LeftButton, pos=handle + type(handle)(32, 0))
    settle(qtbot, window)
    assert views._face_actors[1].GetVisibility() and not views._draft_actors[1].GetVisibility()
    assert len(window.history.entries) == entries + 1
    expected = window.workspace.model.synthesize(*window.live.good_coefficients)
    np.testing.assert_allclose(live.input_vertices, expected, atol=1.0)
    window.undo()
    assert window.state.alpha_id[1] == 0.0


def test_a_burst_of_key_steps_is_one_draft_frame_then_one_full_frame(qtbot, window):
    qtbot.waitUntil(lambda: not window.live.stale, timeout=10000)
    slider = window.coefficient_panel.row("shape", 2).slider
    refreshes: list[int] = []  # the frames drawn when each refresh had computed its face
    window.refreshed.connect(lambda _ms: refreshes.append(window.views.frames))
    frames = window.views.frames
    for _ in range(10):  # queued together, as the window system delivers input that came during a frame
        step = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Up, Qt.KeyboardModifier.NoModifier)
        QCoreApplication.postEvent(slider, step)
    qtbot.waitUntil(lambda: not window.live._draft_stale, timeout=10000)
    # One refresh for the ten steps, whose frame was drawn before the window went back to its events.
    assert refreshes == [frames] and window.views.frames == frames + 1 and window.live.showing_draft
    qtbot.waitUntil(lambda: not window.state.in_gesture and not window.live.stale, timeout=10000)
    assert refreshes == [frames, frames + 1] and window.views.frames == frames + 2  # the full faces, once
    assert not window.live.showing_draft


def test_a_refresh_draws_its_frame_before_it_returns(qtbot, window):
    qtbot.waitUntil(lambda: not window.live.stale, timeout=10000)
    for step in range(1, 6):
        window.state.set_coefficient("shape", 0, float(step))
    frames = window.views.frames
    window.refresh_now()  # no events are processed in here: no paint event can draw the frame
    assert window.views.frames == frames + 1


def test_rows_show_sigma_accept_typed_sigma_and_name_every_mode(qtbot, window):
    panel, model = window.coefficient_panel, window.workspace.model
    sigma = float(model.ev_id[4])
    row = panel.row("shape", 4)
    row.field.setText("2.5σ")
    row.field.editingFinished.emit()
    assert window.state.coefficient("shape", 4) == pytest.approx(2.5 * sigma)
    assert row.field.text() == "2.500σ" and f"{2.5 * sigma:.7g}" in row.field.toolTip()  # raw units in the tooltip
    row.field.setText("-1")  # a plain number in the unit shown: σ
    row.field.editingFinished.emit()
    assert window.state.coefficient("shape", 4) == pytest.approx(-sigma)
    panel.unit_buttons["raw"].click()
    assert row.field.text() == f"{-sigma:.7g}" and "-1.000σ" in row.field.toolTip()
    row.field.setText("1,5")
    row.field.editingFinished.emit()
    assert "use a point" in window.last_error and window.state.coefficient("shape", 4) == pytest.approx(-sigma)
    assert all(len(r.label.text().split()) >= 2 for r in panel.rows["shape"])  # no row without a name
    assert panel.span_box.suffix() == " σ"


def test_the_face_on_screen_says_its_seed_and_distribution_or_edited(qtbot, window, tmp_path):
    sampling = window.sampling_panel
    sampling.seed_box.setValue(41)
    qtbot.mouseClick(sampling.buttons["both"], Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    assert sampling.origin_label.text() == "seed 41 · uniform r = 10 / 15" == window.views.origin_text
    assert sampling.seed_box.value() == 42  # the next seed
    window.save_preset(tmp_path / "face.json")
    window.coefficient_panel.row("expression", 0).field.setText("1σ")
    window.coefficient_panel.row("expression", 0).field.editingFinished.emit()
    settle(qtbot, window)
    assert "expression: seed 41 · uniform r = 15, edited" in sampling.origin_label.text()
    assert "edited" in window.views.origin_text
    window.load_preset(tmp_path / "face.json")
    assert sampling.origin_label.text() == "seed 41 · uniform r = 10 / 15"


def test_per_tab_random_and_reset_and_the_neutral_expression(qtbot, window):
    panel = window.coefficient_panel
    qtbot.mouseClick(panel.random_buttons["expression"], Qt.MouseButton.LeftButton)
    assert np.any(window.state.alpha_exp != 0) and np.all(window.state.alpha_id == 0)
    qtbot.mouseClick(panel.random_buttons["shape"], Qt.MouseButton.LeftButton)
    expression = window.state.alpha_exp
    assert np.any(window.state.alpha_id != 0)
    qtbot.mouseClick(panel.reset_buttons["shape"], Qt.MouseButton.LeftButton)
    assert np.all(window.state.alpha_id == 0)
    np.testing.assert_array_equal(window.state.alpha_exp, expression)
    qtbot.mouseClick(panel.random_buttons["shape"], Qt.MouseButton.LeftButton)
    assert panel.reset_buttons["expression"].text() == "Neutral expression"
    qtbot.mouseClick(panel.reset_buttons["expression"], Qt.MouseButton.LeftButton)
    assert np.all(window.state.alpha_exp == 0) and np.any(window.state.alpha_id != 0)
    assert window.state.origin.expression.source == "mean"


def test_fit_wireframe_and_a_fixed_heat_map_range(qtbot, window):
    views = window.views
    camera = views.plotter.renderers[0].camera
    assert views.fit_box.isChecked()
    before = camera.position
    window.state.set_face(window.state.alpha_id * 0 + window.workspace.model.ev_id * 4, None, "wide face")
    settle(qtbot, window)
    assert camera.position != before  # reframed for the larger face
    views.fit_box.setChecked(False)
    kept = camera.position
    window.state.reset()
    settle(qtbot, window)
    assert camera.position == kept
    views.wireframe_box.setChecked(True)
    assert {actor.prop.style for actor in views._face_actors + views._draft_actors} == {"Wireframe"}
    views.wireframe_box.setChecked(False)
    assert {actor.prop.style for actor in views._face_actors} == {"Surface"}
    window.state.sample("both")
    settle(qtbot, window)
    views.heat_map_box.setChecked(True)
    assert views._denoised_actor.mapper.scalar_range[1] == pytest.approx(
        float(window.live.displacement_mm.max()), rel=1e-4
    )
    views.heat_map_range_box.setCurrentText("0–10 mm")
    assert tuple(views._denoised_actor.mapper.scalar_range) == (0.0, 10.0)
    window.state.sample("both")
    settle(qtbot, window)
    assert tuple(views._denoised_actor.mapper.scalar_range) == (0.0, 10.0)  # comparable between faces


def test_key_steps_are_one_step_and_a_press_right_after_them_keeps_its_gesture(qtbot, window):
    slider = window.coefficient_panel.row("shape", 2).slider
    slider.setFocus()
    entries = len(window.history.entries)
    for _ in range(3):
        qtbot.keyClick(slider, Qt.Key.Key_PageUp)
    assert window.state.in_gesture
    qtbot.mousePress(slider, Qt.MouseButton.LeftButton, pos=slider.rect().center())
    qtbot.wait(700)  # longer than the pause that ends a gesture of key steps
    assert window.state.in_gesture  # the held slider's drag goes on
    qtbot.mouseRelease(slider, Qt.MouseButton.LeftButton, pos=slider.rect().center())
    assert not window.state.in_gesture
    assert len(window.history.entries) == entries + 1


def test_the_unit_picked_in_the_export_dialog_reaches_the_file(window, tmp_path):
    written = window.export_faces(ExportRequest(tmp_path / "face.obj", "input", True, ".json", unit="m"))
    obj = next(path for path in written if path.suffix == ".obj")
    assert "# unit: metres" in obj.read_text().splitlines()[:5]


def test_a_screenshot_into_the_checkpoints_folder_is_refused_and_the_window_keeps_running(window):
    folder = window.workspace.checkpoints
    before = sorted(path.name for path in folder.iterdir())
    window.save_screenshot(folder / "shot.png")
    assert "lies inside" in window.last_error and "--checkpoints folder" in window.last_error
    assert sorted(path.name for path in folder.iterdir()) == before
    window.state.sample("both")  # still working
    assert window.isVisible()
