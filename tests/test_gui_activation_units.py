"""Expressions in the units people think in: action units as activation (3 = full) by default, σ one click away.

Each test runs the explorer at the size it takes on this screen and at a 1366×768 laptop's. Run under
``xvfb-run -a``.
"""

from __future__ import annotations

import pytest
from explorer_window import type_into
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QApplication, QSlider

from app.model.action_units import ACTION_UNITS
from app.model.embedded_model import UNITS_PER_ACTIVATION
from widgets.coefficient_panel import SLIDER_STEPS
from widgets.explorer import PREFERRED_SIZE
from widgets.screen_fit import fit_to_screen

LAPTOP = QRect(0, 0, 1366, 768)


@pytest.fixture(params=["this screen", "1366x768"])
def panel(request, qtbot, window):
    """The explorer's coefficient panel on its expression tab, the window sized for the screen."""
    fit_to_screen(window, PREFERRED_SIZE, LAPTOP if request.param == "1366x768" else None)
    window.activateWindow()  # as after a click on it: typed keys reach its fields
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)
    panel = window.coefficient_panel
    panel.tabs.setCurrentIndex(1)
    QApplication.processEvents()
    return panel


def test_typing_3_into_an_action_unit_is_full_activation_a_coefficient_of_exactly_3(qtbot, panel):
    assert panel.unit == "activation" and panel.unit_buttons["activation"].isChecked()
    row = panel.row("expression", 1)  # AU12 lip corner puller, σ = 0.775
    type_into(qtbot, row.field, "3")
    assert panel.state.coefficient("expression", 1) == 3.0
    assert row.field.text() == "3.000" and "full activation" in row.field.toolTip()
    assert "0 neutral, 3 full" in panel.unit_legend.shown_text()


def test_every_action_unit_s_slider_reaches_full_activation_at_its_tick_mark(qtbot, panel):
    for index, unit in enumerate(ACTION_UNITS):
        row = panel.row("expression", index)
        assert row.slider.tickPosition() == QSlider.TickPosition.TicksBelow
        panel.state.set_coefficient("expression", index, UNITS_PER_ACTIVATION)
        assert row.slider.value() == SLIDER_STEPS // 2 < row.slider.maximum(), unit.code  # not pinned at the end
        row.slider.setValue(0)
        row.slider.setValue(SLIDER_STEPS // 2)  # dragged back to the tick mark: full activation again
        assert panel.state.coefficient("expression", index) == UNITS_PER_ACTIVATION, unit.code
    assert not panel.span_box.isEnabled()  # the ±R σ range applies to no slider shown


def test_one_click_shows_sigma_and_one_click_brings_activation_back(qtbot, panel):
    row = panel.row("expression", 4)  # AU2 outer brow raiser
    panel.state.set_coefficient("expression", 4, 3.0)
    qtbot.mouseClick(panel.unit_buttons["sigma"], Qt.MouseButton.LeftButton)
    assert panel.unit == "sigma" and row.field.text() == f"{3.0 / row.scale:.3f}σ"
    assert "full" not in panel.unit_legend.text() and panel.span_box.isEnabled()
    type_into(qtbot, row.field, "1")  # a plain number is now σ
    assert panel.state.coefficient("expression", 4) == pytest.approx(row.scale)
    qtbot.mouseClick(panel.unit_buttons["activation"], Qt.MouseButton.LeftButton)
    assert panel.unit == "activation" and row.field.text() == f"{row.scale:.3f}"
    assert panel.row("shape", 0).field.text().endswith("σ")  # identity has no activation: it stays in σ
