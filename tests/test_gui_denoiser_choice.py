"""The explorer's denoiser control: paper networks or the learned prior at strength t (run under xvfb-run -a)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from app.denoising.checkpoint_folders import SHIPPED_CHECKPOINTS
from app.prior.learned_prior import DEFAULT_STRENGTH
from app.workspace import Workspace
from widgets.denoiser_panel import STRENGTH_STEPS
from widgets.explorer import ExplorerWindow


@pytest.fixture(scope="module")
def prior_checkpoints(tmp_path_factory: pytest.TempPathFactory, tiny_checkpoints: Path) -> Path:
    """The tiny networks beside the shipped learned prior."""
    folder = tmp_path_factory.mktemp("checkpoints-with-prior")
    for name in ("shape.pt", "expression.pt"):
        shutil.copy(tiny_checkpoints / name, folder / name)
    for name in ("prior-shape.pt", "prior-expression.pt"):
        shutil.copy(SHIPPED_CHECKPOINTS / name, folder / name)
    return folder


def open_window(qtbot, tmp_path: Path, checkpoints: Path) -> ExplorerWindow:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    explorer = ExplorerWindow(Workspace(checkpoints=checkpoints, device="cpu"), settings)
    qtbot.addWidget(explorer)
    explorer.resize(1400, 850)
    explorer.show()
    qtbot.waitExposed(explorer)
    qtbot.waitUntil(lambda: explorer.views.frames > 0, timeout=20000)
    return explorer


def settle(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.live.stale, timeout=10000)


def test_prior_changes_the_denoised_face_and_title(qtbot, tmp_path, prior_checkpoints):
    window = open_window(qtbot, tmp_path, prior_checkpoints)
    panel = window.denoiser_panel
    assert panel.method_box.isEnabled() and not panel.strength_slider.isEnabled()
    window.state.sample("both")
    window.refresh_now()
    networks = window.live.denoised_vertices.copy()
    assert window.views.denoised_label == "denoised (networks)"

    panel.method_box.setCurrentIndex(panel.method_box.findData("prior"))
    settle(qtbot, window)
    assert panel.strength_slider.isEnabled() and panel.strength_slider.value() == round(
        DEFAULT_STRENGTH * STRENGTH_STEPS
    )
    assert window.views.denoised_label == f"denoised (learned prior, t = {DEFAULT_STRENGTH:.2f})"
    prior_face = window.live.denoised_vertices.copy()
    assert not np.allclose(prior_face, networks)

    panel.strength_slider.setValue(0)
    settle(qtbot, window)
    assert window.views.denoised_label == "denoised (learned prior, t = 0.00)"
    assert np.allclose(window.live.denoised_vertices, window.live.input_vertices, rtol=1e-5, atol=1e-2)

    panel.strength_slider.setValue(round(DEFAULT_STRENGTH * STRENGTH_STEPS))
    settle(qtbot, window)
    assert np.array_equal(window.live.denoised_vertices, prior_face)  # the same strength: the same face

    panel.method_box.setCurrentIndex(panel.method_box.findData("networks"))
    settle(qtbot, window)
    assert window.views.denoised_label == "denoised (networks)"
    assert np.array_equal(window.live.denoised_vertices, networks)
    assert not panel.strength_slider.isEnabled()


def test_without_a_prior_the_choice_is_disabled_and_says_why(window):
    panel = window.denoiser_panel
    assert not panel.method_box.isEnabled() and not panel.strength_slider.isEnabled()
    assert "no learned prior" in panel.method_box.toolTip() and "\n" not in panel.method_box.toolTip()
    assert window.views.denoised_label == "denoised (networks)"
