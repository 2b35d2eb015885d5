"""The explorer's tool windows through the real window under Xvfb: gallery, interpolation, plausibility badges."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
from core_fixtures import bfm_fields, write_bfm
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from app.explorer.gallery import SHEET_GAP, THUMBNAIL_SIZE, judge_gallery_face
from app.explorer.image_captions import CAPTION_HEIGHT
from app.explorer.interpolation import Interpolation
from widgets import gallery_window
from widgets.explorer import ExplorerWindow
from widgets.gallery_window import GalleryWindow, show_gallery
from widgets.interpolation_panel import InterpolationWindow, show_interpolation


def open_gallery(window: ExplorerWindow) -> GalleryWindow:
    """As Tools ▸ Gallery does."""
    return show_gallery(window, window.session, window.show_error, lambda: window.plausibility.readout)


def open_interpolation(window: ExplorerWindow) -> InterpolationWindow:
    """As Tools ▸ Interpolation does."""
    return show_interpolation(window, window.session, window.show_error, lambda: window.plausibility.readout)


def settle(qtbot, window):
    qtbot.waitUntil(lambda: not window.live.stale, timeout=10000)


def test_a_gallery_click_opens_that_face_and_the_grid_exports_as_one_png(qtbot, window, tmp_path: Path) -> None:
    window.state.update_settings(seed=70)
    gallery = open_gallery(window)
    try:
        assert window.findChild(GalleryWindow) is gallery
        with qtbot.waitSignal(gallery.filled, timeout=120000):
            pass
        assert len(gallery.buttons) == 16 and len(gallery.pairs) == 16
        assert [face.seed for face in gallery.faces] == list(range(70, 86))
        assert not gallery.buttons[5].icon().isNull()
        qtbot.mouseClick(gallery.buttons[5], Qt.MouseButton.LeftButton)
        face = gallery.faces[5]
        np.testing.assert_array_equal(window.state.alpha_id, face.alpha_id)  # exactly, not approximately
        np.testing.assert_array_equal(window.state.alpha_exp, face.alpha_exp)
        assert window.state.origin.describe() == "seed 75 · uniform r = 10 / 15"
        settle(qtbot, window)
        np.testing.assert_allclose(
            window.live.denoised_id, face.denoised_id, rtol=1e-4, atol=1e-4 * np.abs(face.denoised_id).max()
        )
        written = gallery.export_png(tmp_path / "grid.png")
        with Image.open(written) as sheet:
            assert sheet.size == (
                4 * (2 * THUMBNAIL_SIZE + SHEET_GAP) + SHEET_GAP,
                CAPTION_HEIGHT + 4 * (THUMBNAIL_SIZE + CAPTION_HEIGHT + SHEET_GAP) + SHEET_GAP,  # a caption per face
            )
        assert open_gallery(window) is gallery  # one gallery per explorer
        qtbot.mouseClick(gallery.next_button, Qt.MouseButton.LeftButton)
        assert gallery.faces[0].seed == 86
        gallery.close()  # before its grid is drawn: showing it again draws a grid from the explorer's seed
        assert open_gallery(window) is gallery
        assert gallery.faces[0].seed == window.state.settings.seed == 70 and not gallery.complete
        qtbot.mouseClick(gallery.sample_button, Qt.MouseButton.LeftButton)
        assert gallery.faces[0].seed == 70 and gallery.faces[1].seed == 71
    finally:
        gallery.close()


def test_interpolation_scrubs_between_the_two_faces_and_exports_the_walk(qtbot, window, tmp_path: Path) -> None:
    window.state.sample("both")
    settle(qtbot, window)
    start_id, denoised_id = window.state.alpha_id, window.live.denoised_id
    panel = open_interpolation(window)
    try:
        assert panel.ends["start"].label.startswith("current face (seed 0")
        assert panel.ends["end"].label == "denoised face"
        panel.slider.setFocus()
        qtbot.keyClick(panel.slider, Qt.Key.Key_PageUp)  # one page: t = 0.10, shown in the explorer at once
        t = panel.t
        assert t == pytest.approx(0.10)
        np.testing.assert_allclose(window.state.alpha_id, (1 - t) * start_id + t * denoised_id)
        assert window.session.history.entries[-1].action == f"interpolation t = {t:.2f}"
        qtbot.waitUntil(
            lambda: panel.preview.pixmap() is not None and not panel.preview.pixmap().isNull(), timeout=20000
        )
        panel.denoise_box.setChecked(True)
        walked = Interpolation(
            window.workspace.model, panel.ends["start"], panel.ends["end"], window.live.denoise_face, True
        )
        panel.show_in_explorer()
        np.testing.assert_allclose(window.state.alpha_id, walked.at(t)[0])
        assert window.session.history.entries[-1].action == f"interpolation t = {t:.2f} (denoised)"
        qtbot.waitUntil(lambda: window.plausibility.readout is not None, timeout=60000)
        panel._update_preview()  # the status line now judges the face at t
        qtbot.waitUntil(lambda: "real faces" in panel.status.text(), timeout=20000)
        expected = window.plausibility.readout.judge_face(*walked.at(t))
        assert panel.status.text().endswith(f"{expected.headline()}\n{expected.details()}")
        panel.steps_box.setValue(3)
        with qtbot.waitSignal(panel.exported, timeout=60000) as export:
            panel.export(tmp_path / "walk")  # judged and written on a worker thread
        assert "plausibility" in json.loads((tmp_path / "walk" / "step_001.json").read_text())
        written = export.args[0]
        assert {path.name for path in written} >= {"strip.png", "interpolation.gif", "step_002.ply", "step_002.json"}
        assert panel.export_button.isEnabled()
        with qtbot.waitSignal(panel.exported, timeout=10000) as refused:
            panel.export(tmp_path / "walk")  # the folder holds files now: refused with a dialog
        assert refused.args == [[]]
        assert "already holds files" in window.last_error
        window.error_box.close()
    finally:
        panel.close()
    assert window.findChild(InterpolationWindow).isHidden()


def test_badges_under_the_views_judge_the_input_and_the_denoised_face(qtbot, window) -> None:
    badges = window.plausibility
    assert "calibrating" in badges.badges["input"].text()
    qtbot.waitUntil(lambda: badges.verdicts is not None, timeout=60000)  # the mean face
    assert badges.verdicts[0].plausible
    assert badges.badges["input"].text().startswith("<b>input: like real faces</b>")
    window.state.sample("shape")  # a raw uniform identity, r = 10
    qtbot.waitUntil(lambda: not badges.verdicts[0].plausible, timeout=10000)
    assert "input: unlike real faces: identity" in badges.badges["input"].text()
    assert "identity beyond 99 % of real faces" in badges.badges["input"].text()
    assert badges.badges["input"].toolTip().startswith("<p>")  # rich text: Qt wraps it
    assert badges.badges["denoised"].text().startswith("<b>denoised: ")


def test_a_model_without_fitted_data_says_why_it_has_no_badge(qtbot, window, tmp_path: Path) -> None:
    window.open_model(write_bfm(tmp_path / "BFM.mat", bfm_fields()))
    qtbot.waitUntil(lambda: not window.loading, timeout=60000)
    qtbot.waitUntil(lambda: "no plausibility readout" in window.plausibility.badges["input"].text(), timeout=60000)
    assert "--data" in window.plausibility.badges["input"].text()
    for box in window.findChildren(QMessageBox):  # the networks do not fit this model: a dialog said so
        box.close()


def test_closing_the_explorer_closes_its_tool_windows(qtbot, window) -> None:
    gallery = open_gallery(window)
    panel = open_interpolation(window)
    window.close()
    assert gallery.isHidden() and panel.isHidden()


def test_the_gallery_judges_its_faces_off_the_gui_thread_and_fills_once_they_are_judged(
    qtbot, window, monkeypatch
) -> None:
    qtbot.waitUntil(lambda: window.plausibility.readout is not None, timeout=60000)
    threads = []

    def judge(readout, face):
        threads.append(threading.current_thread())
        return judge_gallery_face(readout, face)

    monkeypatch.setattr(gallery_window, "judge_gallery_face", judge)
    gallery = open_gallery(window)
    try:
        gallery.rows_box.setValue(1)
        gallery.columns_box.setValue(2)
        with qtbot.waitSignal(gallery.filled, timeout=120000):
            qtbot.mouseClick(gallery.sample_button, Qt.MouseButton.LeftButton)
        assert len(gallery.verdicts) == 2 and gallery.status.text().endswith("of 2 denoised")
        assert len(threads) >= 2 and threading.main_thread() not in threads  # a slow likelihood never blocks the GUI
    finally:
        gallery.close()


def test_gallery_captions_mark_each_face_and_its_denoised_version_as_the_badges_would(qtbot, window) -> None:
    qtbot.waitUntil(lambda: window.plausibility.readout is not None, timeout=60000)
    readout = window.plausibility.readout
    gallery = open_gallery(window)
    try:
        gallery.rows_box.setValue(1)
        gallery.columns_box.setValue(3)
        with qtbot.waitSignal(gallery.filled, timeout=120000):
            qtbot.mouseClick(gallery.sample_button, Qt.MouseButton.LeftButton)
        model = window.workspace.model
        for face, button, (noisy, denoised) in zip(gallery.faces, gallery.buttons, gallery.verdicts, strict=True):
            expected = readout.judge(
                face.denoised_id, face.denoised_exp, model.synthesize(face.denoised_id, face.denoised_exp)
            )
            assert denoised == expected
            assert not noisy.plausible  # raw uniform faces, r = 10 / 15
            assert button.text() == f"seed {face.seed}   ✗ → {'✓' if expected.plausible else '✗'}"
            assert noisy.details() in button.toolTip()
        plausible = sum(denoised.plausible for _, denoised in gallery.verdicts)
        assert gallery.status.text().endswith(f"plausible: 0 of 3 faces, {plausible} of 3 denoised")
    finally:
        gallery.close()
