"""The denoiser control: paper networks or the learned prior, and the prior's strength t.

It edits the session's ``DenoisingChoice`` and follows it back; the live face subscribes to the
same choice, so this panel reads nothing from other widgets. Without a learned prior in the
checkpoints folder the control is disabled and its tooltip says why.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QGroupBox, QHBoxLayout, QLabel, QSlider, QWidget

from app.explorer.denoising_choice import METHODS, DenoisingChoice, DenoisingMethod

STRENGTH_STEPS = 100  # the slider's positions per unit of t
METHOD_TIP = "what makes the denoised face: the paper's networks or the learned prior's projection"
STRENGTH_TIP = "learned prior: t = 0 keeps the face, t = 1 draws a fresh one (always from the same seed)"


class DenoiserPanel(QGroupBox):
    def __init__(self, choice: DenoisingChoice, parent: QWidget | None = None) -> None:
        super().__init__("Denoiser", parent)
        self.choice = choice
        self.method_box = QComboBox()
        for method, text in METHODS.items():
            self.method_box.addItem(text, method)
        self.strength_slider = QSlider(Qt.Orientation.Horizontal)
        self.strength_slider.setRange(0, STRENGTH_STEPS)
        self.strength_label = QLabel()
        self.strength_label.setMinimumWidth(self.strength_label.fontMetrics().horizontalAdvance("t = 0.00"))
        layout = QHBoxLayout(self)
        layout.addWidget(self.method_box)
        layout.addWidget(self.strength_slider, 1)
        layout.addWidget(self.strength_label)
        self._prior_problem = ""
        self._show(choice.current)
        choice.subscribe(self._show)
        self.method_box.currentIndexChanged.connect(lambda _: choice.choose(method=self.method_box.currentData()))
        self.strength_slider.valueChanged.connect(lambda value: choice.choose(strength=value / STRENGTH_STEPS))

    def set_prior_problem(self, problem: str) -> None:
        """Why no learned prior can be used (one line), or "" when one is loaded."""
        self._prior_problem = problem
        self._show(self.choice.current)

    def _show(self, current: DenoisingMethod) -> None:
        available = not self._prior_problem
        for widget in (self.method_box, self.strength_slider):
            widget.blockSignals(True)
        self.method_box.setCurrentIndex(self.method_box.findData(current.method))
        self.strength_slider.setValue(round(current.strength * STRENGTH_STEPS))
        for widget in (self.method_box, self.strength_slider):
            widget.blockSignals(False)
        self.strength_label.setText(f"t = {current.strength:.2f}")
        self.method_box.setEnabled(available)
        self.strength_slider.setEnabled(available and current.method == "prior")
        self.method_box.setToolTip(METHOD_TIP if available else self._prior_problem)
        self.strength_slider.setToolTip(STRENGTH_TIP if available else self._prior_problem)
