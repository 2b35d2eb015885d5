"""The explorer's denoiser control: paper networks or the learned prior at strength t (run under xvfb-run -a)."""

from __future__ import annotations

import numpy as np
from explorer_window import open_explorer

from app.prior.learned_prior import DEFAULT_STRENGTH
from widgets.denoiser_panel import STRENGTH_STEPS


def settle(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.live.stale, timeout=10000)


def test_prior_changes_the_denoised_face_and_title(qtbot, tmp_path, prior_checkpoints):
    window = open_explorer(qtbot, tmp_path, prior_checkpoints)
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
