"""The rater window with real rendering: run under ``xvfb-run -a`` (VTK needs a GL context).

Keys and buttons cast votes that are on disk at once (read back through a second connection),
undo and pause work, the drawn face is the one the session shows, and a rater resumes.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from app.model.embedded_model import embedded_model
from app.study.database import RatingsDatabase
from app.study.definition import StudyDefinition, generate_study_faces, rater_order
from app.study.packages import export_packages, merge_package
from widgets.rater_window import RaterWindow


@pytest.fixture(scope="module")
def model():
    return embedded_model()


def make_study(path, model, allow_unsure=True):
    definition = StudyDefinition(
        name="window test",
        faces_per_condition=3,
        conditions=("normal", "uniform-raw"),
        seed=2,
        allow_unsure=allow_unsure,
    )
    database = RatingsDatabase.create(path, definition, generate_study_faces(definition, model), model.provenance)
    return database


def open_window(qtbot, database, model, rater=None):
    window = RaterWindow(database, model, rater)
    qtbot.addWidget(window)
    window.errors = []
    window.show_error = window.errors.append  # no modal dialog in tests
    window.resize(900, 800)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    return window


def on_disk(path, include_undone=False):
    with RatingsDatabase.open(path) as other:
        return [(v.rater, v.face_id, v.vote) for v in other.votes(include_undone=include_undone)]


def test_keys_buttons_undo_and_pause_record_votes_on_disk(qtbot, tmp_path, model):
    path = tmp_path / "study.db"
    database = make_study(path, model)
    window = open_window(qtbot, database, model)
    assert window.pages.currentIndex() == 0

    window.start()  # no ID yet
    assert window.errors and "rater ID" in window.errors[0] and window.pages.currentIndex() == 0
    qtbot.keyClicks(window.rater_field, "alice")  # letters A and R must not vote while typing the ID
    qtbot.keyClick(window.rater_field, Qt.Key.Key_Return)
    assert window.pages.currentIndex() == 1 and window.progress_label.text() == "Face 1 of 6"
    assert on_disk(path) == []
    order = rater_order(list(range(1, 7)), 2, "alice")
    face = database.face(order[0])
    assert np.allclose(window._mesh.polydata.points, model.synthesize(face.alpha_id, face.alpha_exp))

    qtbot.keyClick(window, Qt.Key.Key_A)
    assert on_disk(path) == [("alice", order[0], "accept")]
    assert window.progress_label.text() == "Face 2 of 6"
    face = database.face(order[1])
    assert np.allclose(window._mesh.polydata.points, model.synthesize(face.alpha_id, face.alpha_exp))
    qtbot.mouseClick(window.reject_button, Qt.MouseButton.LeftButton)
    qtbot.keyClick(window, Qt.Key.Key_Right)
    qtbot.keyClick(window, Qt.Key.Key_Left)
    qtbot.keyClick(window, Qt.Key.Key_Down)
    assert on_disk(path) == [
        ("alice", order[0], "accept"),
        ("alice", order[1], "reject"),
        ("alice", order[2], "accept"),
        ("alice", order[3], "reject"),
        ("alice", order[4], "unsure"),
    ]

    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.progress_label.text() == "Face 5 of 6" and window.session.current.face_id == order[4]
    assert len(on_disk(path)) == 4 and on_disk(path, include_undone=True)[-1] == ("alice", order[4], "unsure")

    qtbot.keyClick(window, Qt.Key.Key_P)
    assert window.session.paused and not window.accept_button.isEnabled()
    qtbot.keyClick(window, Qt.Key.Key_A)
    assert len(on_disk(path)) == 4  # no voting while paused
    qtbot.mouseClick(window.pause_button, Qt.MouseButton.LeftButton)
    assert not window.session.paused and window.accept_button.isEnabled()

    qtbot.keyClick(window, Qt.Key.Key_R)
    qtbot.mouseClick(window.accept_button, Qt.MouseButton.LeftButton)
    assert window.pages.currentIndex() == 2 and "All 6 faces judged" in window.finished_label.text()
    votes = on_disk(path)
    assert votes[-2:] == [("alice", order[4], "reject"), ("alice", order[5], "accept")]
    assert sorted(face for _, face, _ in votes) == list(range(1, 7))
    assert not window.errors[1:]


def test_a_rater_resumes_where_they_left_off(qtbot, tmp_path, model):
    path = tmp_path / "study.db"
    database = make_study(path, model)
    order = rater_order(list(range(1, 7)), 2, "bob")
    database.record_vote("bob", order[0], "accept", "t0", "t1", 5, model.digest)
    database.record_vote("bob", order[1], "reject", "t2", "t3", 5, model.digest)
    window = open_window(qtbot, database, model, rater="bob")
    assert window.pages.currentIndex() == 1 and window.progress_label.text() == "Face 3 of 6"
    assert window.session.current.face_id == order[2]
    qtbot.mouseClick(window.unsure_button, Qt.MouseButton.LeftButton)
    assert on_disk(path)[-1] == ("bob", order[2], "unsure")


def test_no_unsure_when_the_study_forbids_it(qtbot, tmp_path, model):
    path = tmp_path / "study.db"
    window = open_window(qtbot, make_study(path, model, allow_unsure=False), model, rater="carol")
    assert not window.unsure_button.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_Down)
    qtbot.keyClick(window, Qt.Key.Key_U)
    assert on_disk(path) == [] and window.errors == []
    qtbot.keyClick(window, Qt.Key.Key_F)  # view keys do not vote either
    qtbot.keyClick(window, Qt.Key.Key_S)
    assert on_disk(path) == []


def test_open_rater_mode_asks_for_a_study_and_refuses_bad_files(qtbot, tmp_path, model, monkeypatch):
    from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

    from widgets import rater_window

    path = tmp_path / "study.db"
    make_study(path, model).close()
    (tmp_path / "notes.db").write_text("not a study")
    parent = QWidget()
    qtbot.addWidget(parent)
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _parent, _title, text: warnings.append(text))
    chosen = iter([str(tmp_path / "notes.db"), "", str(path)])
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (next(chosen), ""))
    assert rater_window.open_rater_mode(parent, model) is None
    assert len(warnings) == 1 and "not a study database" in warnings[0]
    assert rater_window.open_rater_mode(parent, model) is None and len(warnings) == 1  # cancelled
    window = rater_window.open_rater_mode(parent, model)
    assert window.isVisible() and window.pages.currentIndex() == 0 and window.database.path == path
    window.close()


def test_every_face_is_framed_alike_so_sizes_are_comparable(qtbot, tmp_path, model):
    database = make_study(tmp_path / "study.db", model)
    window = open_window(qtbot, database, model, rater="carol")
    window.start()
    cameras = []
    for _ in range(3):
        camera = window.plotter.renderer.camera
        cameras.append((camera.position, camera.focal_point, camera.parallel_scale, camera.view_angle))
        window.vote("accept")
    assert cameras[0] == cameras[1] == cameras[2]
    # The frame is the mean face's, not the last face's.
    mean = model.mean.reshape(-1, 3)
    np.testing.assert_allclose(cameras[0][1], (mean.min(axis=0) + mean.max(axis=0)) / 2, rtol=1e-6, atol=1e-3)


def test_the_window_draws_a_face_as_a_dataset_image_does(qtbot, tmp_path, model):
    """Same background, and the same lit skin: both cameras see the same side of the face, so the
    face's mean colour over its pixels is the same whatever the size of the picture."""
    from matplotlib.image import imread

    from app.rendering.face_renderer import FaceRenderer

    window = open_window(qtbot, make_study(tmp_path / "study.db", model), model, rater="erin")
    face = window.session.current
    window.plotter.render()
    shown = window.plotter.screenshot(return_img=True).astype(int)
    renderer = FaceRenderer(model.mean.reshape(-1, 3), model.triangles, size=128)
    try:
        path = renderer.render(tmp_path / "face.png", model.synthesize(face.alpha_id, face.alpha_exp))
    finally:
        renderer.close()
    image = np.round(imread(path)[..., :3] * 255).astype(int)

    background = image[0, 0]
    assert np.array_equal(shown[0, 0], background) and np.array_equal(shown[-1, -1], image[-1, -1])

    def skin(picture: np.ndarray) -> np.ndarray:
        return picture[np.abs(picture - background).sum(axis=2) > 60].mean(axis=0)

    in_window, in_image = skin(shown), skin(image)
    np.testing.assert_allclose(in_window / in_window.sum(), in_image / in_image.sum(), atol=0.002)  # hue
    assert in_window.sum() == pytest.approx(in_image.sum(), rel=0.03)  # brightness


def test_a_rater_package_suggests_its_slot_and_its_votes_reach_the_study(qtbot, tmp_path, model):
    with make_study(tmp_path / "study.db", model) as study:
        _, package = export_packages(study, tmp_path / "packages", 2)
    window = open_window(qtbot, RatingsDatabase.open(package), model)
    assert window.rater_field.text() == "rater-02" and window.pages.currentIndex() == 0  # suggested, not started
    qtbot.keyClick(window.rater_field, Qt.Key.Key_Return)
    first = window.session.current.face_id
    qtbot.keyClick(window, Qt.Key.Key_A)
    window.close()
    with RatingsDatabase.open(tmp_path / "study.db") as study:
        assert merge_package(study, package).added == {"rater-02": 1}
        assert [(v.rater, v.face_id, v.vote) for v in study.votes()] == [("rater-02", first, "accept")]
