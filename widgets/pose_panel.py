"""The pose group: one slider per joint rotation (jaw open, jaw sideways, neck, eyes) of a model with joints.

Shown only for a model that has them (FLAME). The pose is outside the two denoised vectors: a
slider sets the live face's pose and asks for a redraw; sampling, undo and exports ignore it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFormLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

from app.explorer.face_pose import PoseControl, pose_controls
from app.explorer.live_face import LiveFace


class PosePanel(QGroupBox):
    """Degrees per control; ``changed`` fires after the live face took a new pose."""

    changed = Signal()

    def __init__(self, live: LiveFace, parent: QWidget | None = None) -> None:
        super().__init__("Pose (joints; not denoised)", parent)
        self.live = live
        self.sliders: dict[str, QSlider] = {}
        self._labels: dict[str, QLabel] = {}
        form = QFormLayout(self)
        for control in pose_controls(live.model.skinning):
            form.addRow(control.name, self._row(control))
        reset = QPushButton("Rest pose")
        reset.clicked.connect(self.reset)
        form.addRow(reset)

    def _row(self, control: PoseControl) -> QWidget:
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setRange(int(control.low), int(control.high))
        slider.setValue(0)
        slider.setToolTip(f"{', '.join(control.joints)}: {control.low:g}° to {control.high:g}°")
        label = QLabel("0°")
        label.setMinimumWidth(36)
        slider.valueChanged.connect(lambda value, name=control.name: self._turn(name, value))
        self.sliders[control.name], self._labels[control.name] = slider, label
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(slider, 1)
        layout.addWidget(label)
        return row

    def _turn(self, name: str, degrees: int) -> None:
        self._labels[name].setText(f"{degrees}°")
        self.live.set_pose(name, degrees)
        self.changed.emit()

    def reset(self) -> None:
        for slider in self.sliders.values():
            slider.setValue(0)
