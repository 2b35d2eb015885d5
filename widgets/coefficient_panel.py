"""A slider for every identity and expression coefficient, in two tabs, with a filter box.

Each row (``CoefficientRow``) has a slider, the exact value and a reset button; each tab has its
own random and reset buttons. Values show as action-unit activation (the embedded model's
expressions, by default), in σ or in model units: one click on the unit buttons switches.

The panel writes to the ``FaceState`` and redraws from its announcements. A slider's changes
from pressing it to letting go are one gesture of the state (one undo step, a draft face in
the views); key and wheel steps are one gesture until the slider rests for a moment. The rows
live in a scroll area and are only created when their tab is first shown, so the window opens
quickly and scrolling moves plain widgets.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import FaceExplorerError
from app.explorer.coefficient_display import (
    ACTIVATION_REACH,
    DEFAULT_SPAN,
    Unit,
    default_unit,
    describe_activation,
    format_in_unit,
    full_activation,
    mode_label,
    mode_name,
    slider_reach,
    unit_of_row,
)
from app.explorer.face_state import FaceChange, FaceState
from app.explorer.number_entry import read_coefficient
from app.model.morphable_model import CoefficientKind
from app.model.sampling import sampling_scale
from widgets.elided_label import ElidedLabel

SLIDER_STEPS = 1000  # slider positions on each side of zero
KIND_TITLES = {"shape": "Identity", "expression": "Expression"}
UNIT_BUTTONS: dict[Unit, tuple[str, str]] = {  # the button's text and tooltip
    "activation": ("activation", "expressions as action-unit activation: 0 neutral, 3 full; identity in σ"),
    "sigma": ("σ", "standard deviations"),
    "raw": ("model units", "the model's own units"),
}
UNIT_LEGENDS: dict[Unit, str] = {
    "sigma": "σ: EV (identity), EV/max (expr.)",
    "raw": "as files record them",
}
STEP_GESTURE_MS = 400  # key or wheel steps this close together are one gesture (one undo step)


class ScrollFriendlySlider(QSlider):
    """A slider that lets the mouse wheel scroll the list unless it was clicked first.

    Without this, wheeling through the list changes every coefficient the pointer passes over.
    """

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt's name
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()


class CoefficientRow(QWidget):
    """One coefficient: label, slider, exact value, reset.

    The label is the index and mode name ("identity mode k" when the model has none). The slider
    spans ±R σ (σ_i the coefficient's standard deviation: EV_i for identity, EV_i/max(EV) for
    expression; R adjustable, default 8 so the paper's uniform ranges ±5 and ±7.5 fit), or for an
    action unit shown as activation ±2 × full activation, with tick marks at neutral and full. The
    field shows the value in the chosen unit (σ or model units in its tooltip) and accepts "2.5σ"
    or a plain number in that unit.
    """

    def __init__(
        self,
        state: FaceState,
        kind: CoefficientKind,
        index: int,
        scale: float,
        refuse: Callable[[str], None],
        moved: Callable[[bool], None],
    ) -> None:
        super().__init__()
        self.state, self.kind, self.index, self.scale = state, kind, index, float(scale)
        self._refuse = refuse  # tells the user why typed text was not taken
        self._moved = moved  # told whether the slider is held: the panel ends a gesture of key steps once they pause
        self.name = mode_name(state.model, kind, index)
        self.span = DEFAULT_SPAN
        self.full = full_activation(state.model, kind)  # None unless the mode is an action unit
        self.unit: Unit = "sigma"
        full = "" if self.full is None else f"; full activation at {self.full:g}"
        # A long name ends in "…" where the panel is narrow, whole in the tooltip.
        self.label = ElidedLabel(
            f"{index:3d}  {self.name}",
            f"{mode_label(state.model, kind, index)}; σ = {self.scale:.6g} model units{full}",
        )
        self.label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.label.setMinimumWidth(110)
        self.slider = ScrollFriendlySlider(Qt.Orientation.Horizontal)
        self.slider.setRange(-SLIDER_STEPS, SLIDER_STEPS)
        self.slider.setMinimumWidth(60)
        self.slider.setTickInterval(round(SLIDER_STEPS / ACTIVATION_REACH))  # at 0 and ±full activation
        self.slider.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.slider.valueChanged.connect(self._slider_moved)
        self.slider.sliderPressed.connect(self._pressed)
        self.slider.sliderReleased.connect(state.end_gesture)
        self.field = QLineEdit()  # no QValidator: it would block or silently reinterpret "1,5"
        self.field.setFixedWidth(96)
        self.field.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.field.editingFinished.connect(self._field_edited)
        self.reset_button = QPushButton("↺")
        self.reset_button.setFixedWidth(28)
        self.reset_button.setToolTip("reset this coefficient to 0 (the mean)")
        self.reset_button.clicked.connect(lambda: state.reset_coefficient(kind, index))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 1, 2, 1)
        layout.addWidget(self.label)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.field)
        layout.addWidget(self.reset_button)
        self.show_value(state.coefficient(kind, index))

    def matches(self, text: str) -> bool:
        """Filter: an index (exact or its digits) or part of the mode name."""
        text = text.strip().lower()
        return not text or text in str(self.index) or text in self.name.lower()

    def shown_text(self, value: float) -> str:
        return format_in_unit(value, self.scale, self.unit)

    def set_unit(self, unit: Unit) -> None:
        """Show the value in the panel's ``unit`` (σ instead of activation for a mode that is no action unit)."""
        self.unit = unit_of_row(self.state.model, self.kind, unit)
        ticks = QSlider.TickPosition.TicksBelow if self.unit == "activation" else QSlider.TickPosition.NoTicks
        self.slider.setTickPosition(ticks)

    @property
    def reach(self) -> float:
        """The coefficient (model units) at the slider's right end."""
        return slider_reach(self.unit, self.scale, self.span, self.full)

    def show_value(self, value: float) -> None:
        """Display ``value`` without feeding it back into the state."""
        position = int(np.clip(round(value / self.reach * SLIDER_STEPS), -SLIDER_STEPS, SLIDER_STEPS))
        self.slider.blockSignals(True)
        self.slider.setValue(position)
        self.slider.blockSignals(False)
        self.field.setText(self.shown_text(value))
        self.field.setToolTip(self._tip(value))

    def _tip(self, value: float) -> str:
        """The value in the other units, and what may be typed."""
        sigma = format_in_unit(value, self.scale, "sigma")
        if self.unit == "activation":
            assert self.full is not None  # unit_of_row shows activation only for action units
            return (
                f"= {describe_activation(value, self.full)}, {sigma}; type the activation "
                f"(0 neutral, {self.full:g} full) or a value with σ after it (2.5σ), with a point for decimals"
            )
        other = format_in_unit(value, self.scale, "raw") if self.unit == "sigma" else sigma
        return (
            f"= {other}; type a value in {'σ' if self.unit == 'sigma' else 'model units'} "
            "or with σ after it (2.5σ), with a point for decimals"
        )

    def set_editable(self, editable: bool) -> None:
        for widget in (self.slider, self.field, self.reset_button):
            widget.setEnabled(editable)

    def _pressed(self) -> None:
        self.state.begin_gesture()
        self._moved(True)

    def _slider_moved(self, position: int) -> None:
        self.state.begin_gesture()  # nothing new when the slider is held: its press began one
        self._moved(self.slider.isSliderDown())
        self.state.set_coefficient(self.kind, self.index, position / SLIDER_STEPS * self.reach)

    def _field_edited(self) -> None:
        """Take the typed value, or restore the field and say why not; the face stays as it was."""
        text = self.field.text()
        if text == self.shown_text(self.state.coefficient(self.kind, self.index)):
            return
        try:
            value = read_coefficient(self.state.model, self.kind, self.index, text, self.unit)
            self.state.set_coefficient(self.kind, self.index, value)
        except FaceExplorerError as problem:
            self._refuse(f"{mode_label(self.state.model, self.kind, self.index)}: {problem}")
        self.show_value(self.state.coefficient(self.kind, self.index))


class CoefficientPanel(QWidget):
    """Two tabs of coefficient rows plus filter, slider range, reset-all and the denoised toggle."""

    entry_refused = Signal(str)  # typed text that was not taken, and why

    def __init__(self, state: FaceState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        model = state.model
        self.rows: dict[CoefficientKind, list[CoefficientRow]] = {"shape": [], "expression": []}
        self._denoised = {"shape": state.alpha_id, "expression": state.alpha_exp}
        self._pending_kinds: list[CoefficientKind] = []

        self.filter_box = QLineEdit()
        self.filter_box.setPlaceholderText("filter: index or name (e.g. 12, nose, smile)")
        self.filter_box.setClearButtonEnabled(True)
        self.filter_box.textChanged.connect(self._apply_filter)
        self.span_box = QDoubleSpinBox()
        self.span_box.setRange(0.5, 100.0)
        self.span_box.setSingleStep(0.5)
        self.span_box.setValue(DEFAULT_SPAN)
        self.span_box.setPrefix("slider range ±")
        self.span_box.setSuffix(" σ")
        self.span_box.setToolTip(
            "each slider spans ±R σ (σ = EV for identity, EV/max(EV) for expression); "
            "activation sliders span ±2 × full activation"
        )
        self.span_box.valueChanged.connect(self._set_span)
        # Show and type values as activation (where the expressions are action units), σ or model units.
        self.unit = default_unit(model)
        self.unit_buttons: dict[Unit, QToolButton] = {}
        self._unit_group = QButtonGroup(self)  # exclusive: one unit at a time
        for unit, (text, tip) in UNIT_BUTTONS.items():
            if unit == "activation" and full_activation(model, "expression") is None:
                continue  # PCA expression modes (BFM, FLAME) have no activation
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.setCheckable(True)
            button.setChecked(unit == self.unit)
            button.clicked.connect(lambda _checked=False, u=unit: self._set_unit(u))
            self._unit_group.addButton(button)
            self.unit_buttons[unit] = button
        # What the unit shown means, on one line whatever it says.
        self.unit_legend = ElidedLabel(
            tip="activation: an action unit's coefficient, 0 neutral, 3 full, sliders to twice that; identity in σ\n"
            "σ: standard deviations, EV for identity, EV / max(EV) for expression\nmodel units: as files record them"
        )
        self._step_timer = QTimer(self)
        self._step_timer.setSingleShot(True)
        self._step_timer.setInterval(STEP_GESTURE_MS)
        self._step_timer.timeout.connect(state.end_gesture)
        self.reset_all_button = QPushButton("Reset all")
        self.reset_all_button.setToolTip("back to the mean face (Ctrl+R)")
        self.reset_all_button.clicked.connect(state.reset)
        self.denoised_box = QCheckBox("Show denoised coefficients (read-only)")
        self.denoised_box.setToolTip("sliders show what the networks made of the current face")
        self.denoised_box.toggled.connect(self._show_mode_changed)

        self.tabs = QTabWidget()
        self._scroll_bodies: dict[CoefficientKind, QVBoxLayout] = {}
        self.random_buttons: dict[CoefficientKind, QPushButton] = {}
        self.reset_buttons: dict[CoefficientKind, QPushButton] = {}
        for kind in ("shape", "expression"):
            word = KIND_TITLES[kind].lower()
            self.random_buttons[kind] = QPushButton(f"Random {word}")
            self.random_buttons[kind].setToolTip(f"sample the {word} with the sampling settings; keep the other part")
            self.random_buttons[kind].clicked.connect(lambda _=False, k=kind: state.sample(k))
            self.reset_buttons[kind] = QPushButton("Mean identity" if kind == "shape" else "Neutral expression")
            self.reset_buttons[kind].setToolTip(f"all {word} coefficients to 0; keep the other part")
            self.reset_buttons[kind].clicked.connect(lambda _=False, k=kind: state.reset_part(k))
            tab_buttons = QHBoxLayout()
            tab_buttons.addWidget(self.random_buttons[kind])
            tab_buttons.addWidget(self.reset_buttons[kind])
            body = QWidget()
            body_layout = QVBoxLayout(body)
            body_layout.setContentsMargins(0, 0, 0, 0)
            body_layout.setSpacing(0)
            body_layout.addStretch(1)
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setWidget(body)
            scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            self._scroll_bodies[kind] = body_layout
            page = QWidget()
            page_layout = QVBoxLayout(page)
            page_layout.setContentsMargins(0, 2, 0, 0)
            page_layout.addLayout(tab_buttons)
            page_layout.addWidget(scroll, 1)
            self.tabs.addTab(page, f"{KIND_TITLES[kind]} ({model.n_coefficients(kind)})")
        self._scales = {kind: sampling_scale(model, kind) for kind in ("shape", "expression")}

        top = QHBoxLayout()
        top.addWidget(self.filter_box, 1)
        top.addWidget(self.span_box)
        units = QHBoxLayout()
        units.addWidget(QLabel("values in"))
        for button in self.unit_buttons.values():
            units.addWidget(button)
        units.addWidget(self.unit_legend, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.denoised_box, 1)
        bottom.addWidget(self.reset_all_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(units)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(bottom)

        state.subscribe(self._on_face_change)
        # The visible tab gets its rows now; the other one right after the window is up.
        self._ensure_rows(self.current_kind())
        self.tabs.currentChanged.connect(lambda _: self._ensure_rows(self.current_kind()))
        self.tabs.currentChanged.connect(lambda _: self._show_unit_controls())
        self._show_unit_controls()
        QTimer.singleShot(0, lambda: self._ensure_rows("expression"))

    def current_kind(self) -> CoefficientKind:
        return "shape" if self.tabs.currentIndex() == 0 else "expression"

    def row(self, kind: CoefficientKind, index: int) -> CoefficientRow:
        self._ensure_rows(kind)
        return self.rows[kind][index]

    def set_denoised(self, alpha_id: np.ndarray, alpha_exp: np.ndarray) -> None:
        """The latest network output; shown when the denoised toggle is on."""
        self._denoised = {"shape": alpha_id, "expression": alpha_exp}
        if self.denoised_box.isChecked():
            self._show_all()

    def toggle_denoised(self) -> None:
        self.denoised_box.toggle()

    def focus_filter(self) -> None:
        self.filter_box.setFocus()
        self.filter_box.selectAll()

    # ---- internals ------------------------------------------------------------------------
    def _ensure_rows(self, kind: CoefficientKind) -> None:
        if self.rows[kind]:
            return
        model = self.state.model
        body = self._scroll_bodies[kind]
        text = self.filter_box.text()
        editable = not self.denoised_box.isChecked()
        for index in range(model.n_coefficients(kind)):
            row = CoefficientRow(
                self.state, kind, index, self._scales[kind][index], self.entry_refused.emit, self._slider_moved
            )
            row.span = self.span_box.value()
            row.set_unit(self.unit)
            row.set_editable(editable)
            row.setVisible(row.matches(text))
            body.insertWidget(body.count() - 1, row)
            self.rows[kind].append(row)
        self._show_all()

    def _values(self, kind: CoefficientKind) -> np.ndarray:
        return self._denoised[kind] if self.denoised_box.isChecked() else self.state.coefficients(kind)

    def _show_all(self) -> None:
        for kind, rows in self.rows.items():
            # strict=False: a kind's rows are only built when its tab is first shown (_ensure_rows)
            for row, value in zip(rows, self._values(kind), strict=False):
                row.show_value(float(value))

    def _on_face_change(self, change: FaceChange) -> None:
        if self.denoised_box.isChecked():
            return  # the denoised values arrive through set_denoised
        if change.is_single:
            assert change.kind is not None and change.index is not None  # a single change names its coefficient
            rows = self.rows[change.kind]
            if rows:
                rows[change.index].show_value(change.new)
        else:
            self._show_all()

    def _show_mode_changed(self, show_denoised: bool) -> None:
        for rows in self.rows.values():
            for row in rows:
                row.set_editable(not show_denoised)
        self._show_all()

    def _set_span(self, span: float) -> None:
        for rows in self.rows.values():
            for row in rows:
                row.span = span
        self._show_all()

    def _slider_moved(self, held: bool) -> None:
        """A held slider's gesture ends when it is let go; key and wheel steps end theirs when they pause."""
        if held:
            self._step_timer.stop()
        else:
            self._step_timer.start()

    def _set_unit(self, unit: Unit) -> None:
        self.unit = unit
        self.unit_buttons[unit].setChecked(True)
        for rows in self.rows.values():
            for row in rows:
                row.set_unit(unit)
        self._show_unit_controls()
        self._show_all()

    def _show_unit_controls(self) -> None:
        """The legend says what the unit means; the ±R σ range box is idle while the tab shows activation sliders."""
        full = full_activation(self.state.model, "expression")
        self.unit_legend.setText(
            f"0 neutral, {full:g} full (ticks)"
            if self.unit == "activation" and full is not None
            else UNIT_LEGENDS[self.unit]
        )
        self.span_box.setEnabled(unit_of_row(self.state.model, self.current_kind(), self.unit) != "activation")

    def _apply_filter(self, text: str) -> None:
        for kind in ("shape", "expression"):
            self._ensure_rows(kind)
            shown = 0
            for row in self.rows[kind]:
                visible = row.matches(text)
                row.setVisible(visible)
                shown += visible
            total = len(self.rows[kind])
            count = f"{shown}/{total}" if shown != total else f"{total}"
            self.tabs.setTabText(0 if kind == "shape" else 1, f"{KIND_TITLES[kind]} ({count})")
