"""The explorer as a person meets it on a desktop: keys, small screens, a steady layout, clear text.

Every window test runs twice: at the size the window takes on this screen and at the size it takes
on a 1366×768 laptop (``fit_to_screen`` given that screen's area). Run under ``xvfb-run -a``.
"""

from __future__ import annotations

import re

import pytest
from explorer_window import type_into
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QApplication, QWidget
from vtkmodules.vtkRenderingAnnotation import vtkCornerAnnotation

from widgets.explorer import PREFERRED_SIZE
from widgets.face_views import ORIGIN_CHARACTER_PX, ORIGIN_MIN_COLUMNS
from widgets.gallery_window import show_gallery
from widgets.screen_fit import FRAME, fit_to_screen

LAPTOP = QRect(0, 0, 1366, 768)


@pytest.fixture(params=["this screen", "1366x768"])
def screen_area(request) -> QRect:
    """The free area of the screen the window is sized for."""
    if request.param == "1366x768":
        return LAPTOP
    return QApplication.primaryScreen().availableGeometry()


@pytest.fixture
def desktop(qtbot, window, screen_area):
    """The explorer sized for ``screen_area`` and active, as after a click on it."""
    fit_to_screen(window, PREFERRED_SIZE, screen_area)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)
    QApplication.processEvents()
    return window


def inside(widget: QWidget, window: QWidget) -> bool:
    """``widget`` is shown and lies wholly inside ``window``."""
    corner = widget.mapTo(window, QPoint(0, 0))
    return widget.isVisible() and window.rect().contains(QRect(corner, widget.size()))


# ---- 1. undo everywhere ------------------------------------------------------------------------
def test_undo_and_redo_work_while_the_cursor_is_still_in_the_field(qtbot, desktop):
    row = desktop.coefficient_panel.row("shape", 1)
    type_into(qtbot, row.field, "1.5")  # in σ, the unit shown
    assert desktop.history.position == 1 and desktop.state.coefficient("shape", 1) == pytest.approx(1.5 * row.scale)
    assert row.field.hasFocus()
    qtbot.keyClick(row.field, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert desktop.history.position == 0 and desktop.state.coefficient("shape", 1) == 0.0
    qtbot.keyClick(row.field, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert desktop.history.position == 1
    qtbot.keyClick(row.field, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(row.field, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert desktop.history.position == 1
    type_into(qtbot, desktop.sampling_panel.seed_box.lineEdit(), "7")  # a spin box claims the keys too
    desktop.state.sample("both")
    qtbot.keyClick(desktop.sampling_panel.seed_box, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert desktop.history.position == 1


def test_undo_works_in_a_tool_window(qtbot, desktop):
    desktop.state.sample("both")
    gallery = show_gallery(desktop, desktop.session, desktop.show_error, lambda: None)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is gallery, timeout=5000)
    type_into(qtbot, gallery.rows_box.lineEdit(), "2")
    qtbot.keyClick(gallery.rows_box, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert desktop.history.position == 0
    qtbot.waitUntil(lambda: gallery.complete, timeout=60000)
    gallery.close()


# ---- 2. small screens ----------------------------------------------------------------------------
def test_the_explorer_fits_the_screen_with_every_part_in_view(qtbot, desktop, screen_area):
    limit = screen_area.size() - FRAME
    assert desktop.width() <= limit.width() and desktop.height() <= limit.height()
    assert desktop.minimumSizeHint().width() <= LAPTOP.width() - FRAME.width()
    assert desktop.minimumSizeHint().height() <= LAPTOP.height() - FRAME.height()
    for part in (desktop.history_dock, desktop.plausibility, desktop.statusBar(), desktop.views, desktop.side):
        assert inside(part, desktop), part
    # The side panel folds away (F9) and comes back, giving the views the width.
    width = desktop.views.width()
    qtbot.keyClick(desktop, Qt.Key.Key_F9)
    qtbot.waitUntil(lambda: desktop.views.width() > width + 200, timeout=5000)
    qtbot.keyClick(desktop, Qt.Key.Key_F9)
    qtbot.waitUntil(lambda: desktop.side.isVisible(), timeout=5000)


def test_tool_windows_open_whole_on_the_screen_of_the_explorer(qtbot, desktop):
    gallery = show_gallery(desktop, desktop.session, desktop.show_error, lambda: None)
    qtbot.waitExposed(gallery)
    area = desktop.screen().availableGeometry()
    assert area.contains(QRect(gallery.pos(), gallery.size() + FRAME))
    assert gallery.width() <= desktop.screen().availableGeometry().width()
    qtbot.waitUntil(lambda: gallery.complete, timeout=60000)
    gallery.close()


# ---- 3. a steady layout --------------------------------------------------------------------------
def test_where_the_face_came_from_never_moves_the_slider_list(qtbot, desktop):
    field = desktop.coefficient_panel.row("expression", 0).field
    desktop.coefficient_panel.tabs.setCurrentIndex(1)
    QApplication.processEvents()
    top = field.mapTo(desktop, QPoint(0, 0)).y()
    desktop.state.sample("shape")
    desktop.state.sample("expression")  # two draws: the longest description there is
    desktop.state.set_coefficient("expression", 0, 0.5)
    QApplication.processEvents()
    label = desktop.sampling_panel.origin_label
    assert label.text().endswith(", edited") and label.text() in label.toolTip()
    assert field.mapTo(desktop, QPoint(0, 0)).y() == top
    assert label.fontMetrics().horizontalAdvance(label.shown_text()) <= label.width()


def test_status_bar_messages_cut_short_are_whole_in_its_tooltip(qtbot, desktop):
    message = "identity PC 3: " + "a long explanation of why this value was not taken " * 4
    desktop.show_notice(message)
    assert message in desktop.statusBar().toolTip()
    assert desktop.model_label.width() <= 400 and desktop.workspace.describe_model() in desktop.model_label.toolTip()


def rater_window(qtbot, tmp_path, area: QRect):
    from test_rater_window import make_study

    from app.model.embedded_model import embedded_model
    from widgets.rater_window import PREFERRED_SIZE as RATER_SIZE
    from widgets.rater_window import RaterWindow

    model = embedded_model()
    window = RaterWindow(make_study(tmp_path / "study.db", model), model, "alice")
    qtbot.addWidget(window)
    fit_to_screen(window, RATER_SIZE, area)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    return window


def test_the_rater_votes_are_on_screen_and_stay_put(qtbot, tmp_path, screen_area):
    window = rater_window(qtbot, tmp_path, screen_area)
    assert window.height() <= screen_area.height() - FRAME.height()
    buttons = (window.reject_button, window.unsure_button, window.accept_button)
    assert all(inside(button, window) for button in buttons)
    qtbot.keyClick(window, Qt.Key.Key_A)
    place = [button.mapTo(window, QPoint(0, 0)) for button in buttons]
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    QApplication.processEvents()
    assert "took back" in window.statusBar().currentMessage()
    assert [button.mapTo(window, QPoint(0, 0)) for button in buttons] == place


# ---- 5. one numbering ----------------------------------------------------------------------------
def test_a_row_its_history_line_and_its_refusal_use_one_number_and_name(qtbot, desktop):
    row = desktop.coefficient_panel.row("shape", 1)
    assert row.label.text().split() == ["1", "identity", "PC", "1"]
    type_into(qtbot, row.field, "1")
    desktop.history_panel.sync()
    line = desktop.history_panel.list.item(1).text()
    assert line == "2. identity PC 1 = 1.00σ" and line in desktop.history_panel.list.item(1).toolTip()
    type_into(qtbot, row.field, "1e9")  # typed in σ: refused in σ, naming the coefficient once
    assert re.fullmatch(r"identity PC 1: 1e\+09σ is outside ±[\d.e+]+σ, the most it may take", desktop.last_error)


# ---- 4. text that fits and says what it means ------------------------------------------------------
def test_the_caption_under_the_input_face_wraps_inside_the_view(qtbot, desktop):
    desktop.state.sample("shape")
    desktop.state.sample("expression")
    desktop.state.set_coefficient("expression", 0, 0.5)
    desktop.refresh_now()
    caption = desktop.views._origin_annotation.GetText(vtkCornerAnnotation.LowerEdge)
    columns = max(ORIGIN_MIN_COLUMNS, desktop.views.canvas.width() // 2 // ORIGIN_CHARACTER_PX)
    assert caption.count("\n") >= 1 and all(len(line) <= columns for line in caption.split("\n"))
    assert caption.replace("\n", " ").replace("  ", " ") == desktop.state.origin.describe().replace("; ", " ")


def test_sampling_names_its_seed_in_the_history(qtbot, desktop):
    desktop.sampling_panel.seed_box.setValue(11)
    qtbot.mouseClick(desktop.sampling_panel.buttons["both"], Qt.MouseButton.LeftButton)
    assert desktop.history.entries[-1].action == "sample both (seed 11)"
