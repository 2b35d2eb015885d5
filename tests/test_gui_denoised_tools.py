"""The gallery and the interpolation denoise with what the Denoiser box chose: networks or learned prior.

Run under ``xvfb-run -a``. The explorer opens a checkpoints folder holding the shipped learned prior
beside the tiny networks (or, for the interpolation, the prior alone).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from explorer_window import PRIOR_FILES, open_explorer
from PySide6.QtCore import Qt

from app.denoising.checkpoint_folders import SHIPPED_CHECKPOINTS
from app.explorer.denoising_choice import PRIOR_SEED
from app.explorer.interpolation import Interpolation, denoised_face
from app.prior.learned_prior import DEFAULT_STRENGTH, seeded_generator
from widgets.explorer import ExplorerWindow
from widgets.gallery_window import GalleryWindow, show_gallery
from widgets.interpolation_panel import InterpolationWindow, show_interpolation


@pytest.fixture(scope="module")
def prior_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoints folder with the shipped learned prior and no networks."""
    folder = tmp_path_factory.mktemp("prior-only")
    for name in PRIOR_FILES:
        shutil.copy(SHIPPED_CHECKPOINTS / name, folder / name)
    return folder


def choose(qtbot, window: ExplorerWindow, method: str) -> None:
    """Pick ``method`` in the Denoiser box, as a user does, and wait for the denoised view."""
    box = window.denoiser_panel.method_box
    box.setCurrentIndex(box.findData(method))
    qtbot.waitUntil(lambda: not window.live.stale, timeout=10000)


def open_gallery(qtbot, window: ExplorerWindow) -> GalleryWindow:
    """As Tools ▸ Gallery does; returns once the grid is drawn."""
    gallery = show_gallery(window, window.session, window.show_error, lambda: window.plausibility.readout)
    qtbot.waitUntil(lambda: gallery.complete, timeout=120000)
    return gallery


def prior_projection(window: ExplorerWindow, alpha_id: np.ndarray, alpha_exp: np.ndarray) -> tuple:
    prior = window.session.networks.prior
    assert prior is not None
    return prior.project_face(alpha_id, alpha_exp, DEFAULT_STRENGTH, seeded_generator(PRIOR_SEED))


def test_choosing_the_prior_makes_the_gallery_s_denoised_faces_the_prior_s(qtbot, tmp_path, prior_checkpoints):
    window = open_explorer(qtbot, tmp_path, prior_checkpoints, (1366, 768))
    choose(qtbot, window, "prior")
    gallery = open_gallery(qtbot, window)
    try:
        for face in gallery.faces[:3]:
            projected = prior_projection(window, face.alpha_id, face.alpha_exp)
            np.testing.assert_array_equal(face.denoised_id, projected[0])
            np.testing.assert_array_equal(face.denoised_exp, projected[1])
        assert f"denoised version (right: learned prior, t = {DEFAULT_STRENGTH:.2f})" in gallery.status.text()
        qtbot.mouseClick(gallery.buttons[2], Qt.MouseButton.LeftButton)  # opened: the same denoised face
        qtbot.waitUntil(lambda: not window.live.stale, timeout=10000)
        np.testing.assert_array_equal(window.live.denoised_id, gallery.faces[2].denoised_id)
        np.testing.assert_array_equal(window.live.denoised_exp, gallery.faces[2].denoised_exp)

        choose(qtbot, window, "networks")
        qtbot.mouseClick(gallery.sample_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: gallery.complete, timeout=120000)
        denoiser = window.live.denoiser
        face = gallery.faces[0]
        np.testing.assert_array_equal(face.denoised_id, denoiser.denoise("shape", face.alpha_id))
        assert "denoised version (right: networks)" in gallery.status.text()
    finally:
        gallery.close()


def test_each_step_denoised_is_offered_with_the_prior_alone_and_names_it(qtbot, tmp_path, prior_only):
    window = open_explorer(qtbot, tmp_path, prior_only, (1366, 768))
    assert "networks are not available" in window.last_error  # said once, in a dialog
    window.error_box.close()
    panel = show_interpolation(window, window.session, window.show_error, lambda: window.plausibility.readout)
    try:
        assert isinstance(panel, InterpolationWindow)
        assert not panel.denoise_box.isEnabled()  # the paper networks are chosen, and there are none
        assert "no denoising networks or learned prior" in panel.denoise_box.toolTip()

        choose(qtbot, window, "prior")
        assert panel.denoise_box.isEnabled()
        assert panel.denoise_box.toolTip().endswith(f"learned prior, t = {DEFAULT_STRENGTH:.2f}")
        panel.set_end("end", denoised_face(window.live))  # the mean face's projection
        panel.denoise_box.setChecked(True)
        walk = panel.interpolation()
        raw = Interpolation(walk.model, walk.start, walk.end).at(0.4)
        projected = prior_projection(window, *raw)
        np.testing.assert_array_equal(walk.at(0.4)[0], projected[0])
        np.testing.assert_array_equal(walk.at(0.4)[1], projected[1])
        qtbot.waitUntil(
            lambda: f"each step denoised (learned prior, t = {DEFAULT_STRENGTH:.2f})" in panel.status.text(),
            timeout=20000,
        )

        choose(qtbot, window, "networks")
        assert not panel.denoise_box.isEnabled() and not panel.denoise_box.isChecked()
    finally:
        panel.close()
