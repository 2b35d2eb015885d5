"""Uniform-interval sampling controls: r_shape, r_exp, seed, distribution and the sample buttons.

The controls edit the ``FaceState``'s settings and follow them back (sampling advances the
seed, loading a preset replaces the settings); the buttons ask the state to sample. The seed
box holds the seed of the *next* sample; the line above it says where the face on screen came
from (its seed and distribution per part, or "edited").
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.explorer.face_state import FaceChange, FaceState
from app.model.sampling import DISTRIBUTIONS
from app.model.sampling_settings import MAX_RANGE, SamplingSettings
from widgets.elided_label import ElidedLabel

MAX_SEED = 2**31 - 1  # QSpinBox holds a C int


class SamplingPanel(QGroupBox):
    def __init__(self, state: FaceState, parent: QWidget | None = None) -> None:
        super().__init__("Sampling", parent)
        self.state = state
        self.r_shape_box = self._range_box("shape: α_i ~ U(−r·EV_i/2, r·EV_i/2); paper r = 10")
        self.r_exp_box = self._range_box("expression: scale EV_i/max(EV); paper r = 15")
        self.seed_box = QSpinBox()
        self.seed_box.setRange(0, MAX_SEED)
        self.seed_box.setToolTip("the next sample uses this seed, then advances it by one")
        self.origin_label = ElidedLabel(
            tip="where the face on screen came from; 'edited' once a coefficient was changed by hand"
        )
        self.distribution_box = QComboBox()
        self.distribution_box.addItems(list(DISTRIBUTIONS))
        self.distribution_box.setToolTip("uniform: the paper's wide intervals; normal: N(0, s_i²), near the mean")

        self.buttons = {}
        grid = QGridLayout()
        for position, (target, text, shortcut) in enumerate(
            (
                ("shape", "Sample shape", "Ctrl+1"),
                ("expression", "Sample expression", "Ctrl+2"),
                ("both", "Sample both", "Ctrl+3"),
                ("mean", "Mean face", "Ctrl+0"),
            )
        ):
            button = QPushButton(text)
            button.setToolTip(shortcut)
            button.clicked.connect(state.reset if target == "mean" else lambda _=False, t=target: state.sample(t))
            grid.addWidget(button, position // 2, position % 2)
            self.buttons[target] = button

        form = QFormLayout()
        form.addRow("on screen", self.origin_label)
        form.addRow("r shape", self.r_shape_box)
        form.addRow("r expression", self.r_exp_box)
        form.addRow("next seed", self.seed_box)
        form.addRow("distribution", self.distribution_box)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(grid)

        self._show_settings(state.settings)
        self._show_origin()
        state.subscribe_settings(self._show_settings)
        state.subscribe(self._show_origin)
        self.r_shape_box.valueChanged.connect(lambda value: state.update_settings(r_shape=value))
        self.r_exp_box.valueChanged.connect(lambda value: state.update_settings(r_exp=value))
        self.seed_box.valueChanged.connect(lambda value: state.update_settings(seed=value))
        self.distribution_box.currentTextChanged.connect(lambda text: state.update_settings(distribution=text))

    @staticmethod
    def _range_box(tip: str) -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        # Every range the sampling rule accepts, so a preset's range is shown as it is, never clamped.
        box.setRange(0.01, MAX_RANGE)
        box.setSingleStep(0.5)
        box.setDecimals(2)
        box.setToolTip(tip)
        return box

    def _show_origin(self, _change: FaceChange | None = None) -> None:
        self.origin_label.setText(self.state.origin.describe())

    def _show_settings(self, settings: SamplingSettings) -> None:
        boxes = (self.r_shape_box, self.r_exp_box, self.seed_box)
        for box in boxes:
            box.blockSignals(True)
        self.r_shape_box.setValue(settings.r_shape)
        self.r_exp_box.setValue(settings.r_exp)
        self.seed_box.setValue(min(settings.seed, MAX_SEED))
        for box in boxes:
            box.blockSignals(False)
        self.distribution_box.blockSignals(True)
        self.distribution_box.setCurrentText(settings.distribution)
        self.distribution_box.blockSignals(False)
