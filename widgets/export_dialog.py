"""File → Export: which face, which mesh format and length unit, which coefficient format, where.

The suggested name is ``face_export.obj`` (its coefficients go to ``face_export.json``), not the
``face.json`` that Save face preset suggests, so the two never offer to replace each other's file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from app.dataset.face_export import ExportChoice
from app.dataset.mesh_formats import EXPORT_MESH_UNIT

MESH_CHOICES = {"OBJ": (".obj", True), "PLY (binary)": (".ply", True), "PLY (ASCII)": (".ply", False)}
COEFFICIENT_CHOICES = {"JSON": ".json", "npz": ".npz", "none": None}
WHICH_CHOICES: tuple[ExportChoice, ...] = ("input", "denoised", "both")
UNIT_CHOICES = {"mm": "mm", "µm": "um", "m": "m"}  # mm first: the default, what Blender and MeshLab expect
SUGGESTED_NAME = "face_export.obj"


@dataclass(frozen=True)
class ExportRequest:
    path: Path  # suffix matches the chosen mesh format
    which: ExportChoice
    binary: bool
    coefficient_format: str | None
    unit: str = EXPORT_MESH_UNIT  # "um", "mm" or "m" (app.dataset.mesh_formats.MESH_UNITS)


class ExportDialog(QDialog):
    def __init__(self, folder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export faces")
        self.which_box = QComboBox()
        self.which_box.addItems(list(WHICH_CHOICES))
        self.which_box.setToolTip("'both' writes NAME_input and NAME_denoised")
        self.format_box = QComboBox()
        self.format_box.addItems(list(MESH_CHOICES))
        self.coefficients_box = QComboBox()
        self.coefficients_box.addItems(list(COEFFICIENT_CHOICES))
        self.coefficients_box.setToolTip("coefficients are written next to each mesh, same name")
        self.unit_box = QComboBox()
        self.unit_box.addItems(list(UNIT_CHOICES))
        self.unit_box.setToolTip(
            "length unit of the mesh coordinates: mm is what Blender and MeshLab expect (and the BFM 2017's "
            "unit); the explorer works in µm"
        )
        self.path_field = QLineEdit(str(Path(folder) / SUGGESTED_NAME))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.format_box.currentTextChanged.connect(self._match_suffix)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_field, 1)
        path_row.addWidget(browse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("face", self.which_box)
        form.addRow("mesh format", self.format_box)
        form.addRow("unit", self.unit_box)
        form.addRow("coefficients", self.coefficients_box)
        form.addRow("file", path_row)
        form.addRow(buttons)
        self.resize(520, self.sizeHint().height())

    def request(self) -> ExportRequest:
        suffix, binary = MESH_CHOICES[self.format_box.currentText()]
        return ExportRequest(
            Path(self.path_field.text()).with_suffix(suffix),
            WHICH_CHOICES[self.which_box.currentIndex()],
            binary,
            COEFFICIENT_CHOICES[self.coefficients_box.currentText()],
            UNIT_CHOICES[self.unit_box.currentText()],
        )

    def _match_suffix(self) -> None:
        self.path_field.setText(str(self.request().path))

    def _browse(self) -> None:
        suffix, _ = MESH_CHOICES[self.format_box.currentText()]
        chosen, _ = QFileDialog.getSaveFileName(self, "Export faces", self.path_field.text(), f"mesh (*{suffix})")
        if chosen:
            self.path_field.setText(chosen)
            self._match_suffix()
