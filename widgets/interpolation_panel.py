"""The interpolation window: pick two faces, scrub t between them, export the walk.

Each end is taken from the explorer when its button is pressed (the current face, the denoised
face, a preset file or a history entry) and kept. While the t slider is dragged, a thumbnail in
this window follows it (one reused off-screen renderer, the latest t only); when the slider is
let go, or moved by the keyboard, the explorer's views show the face at t, as one history step.
"Denoise each step" denoises every face of the walk as the explorer's denoised view would, with
the method chosen in its Denoiser box (followed as it changes); it is enabled while there is a
method. The walk itself is ``app.explorer.interpolation``. Once the explorer's plausibility readout
is calibrated, the status line gives the verdict of the face at t and an export records each step's;
both are judged on a worker thread (the prior's likelihood takes a tenth of a second or more a face).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.errors import FaceExplorerError
from app.explorer.interpolation import (
    MAX_STEPS,
    MIN_STEPS,
    FaceEndpoint,
    Interpolation,
    current_face,
    denoised_face,
    history_face,
    prepare_walk_export,
    preset_face,
)
from app.explorer.plausibility_readout import FaceVerdict, PlausibilityReadout
from app.explorer.session import ExplorerSession
from widgets.background_loader import BackgroundLoader
from widgets.tool_window import ToolWindow, pixmap, show_tool_window

SLIDER_STEPS = 100  # t in hundredths
PREVIEW_SIZE = 200
ENDS = ("start", "end")


class InterpolationWindow(ToolWindow):
    """Two ends, a t slider, a preview, and the export of the walk as meshes, a strip and a GIF."""

    # The preview shows the face at t and the status line is final for it: judged when a readout was ready.
    previewed = Signal()
    exported = Signal(list)  # an export ended: the paths it wrote ([] when it was refused or failed)

    def __init__(
        self,
        owner: QWidget,
        session: ExplorerSession,
        show_error: Callable[[str], None],
        readout: Callable[[], PlausibilityReadout | None],
    ) -> None:
        super().__init__(owner, session, show_error, readout)
        self.setWindowTitle("Interpolation between two faces")
        self.ends: dict[str, FaceEndpoint] = {}
        self.end_labels = {end: QLabel() for end in ENDS}
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(0)
        self._preview_timer.timeout.connect(self._draw_preview)
        self._judge = BackgroundLoader(self)  # a later face's judgement voids the last one's
        self._previews = 0  # faces previewed so far: a judgement of an earlier one is skipped or dropped
        self._writer = BackgroundLoader(self)  # an export's files, judged and written off the GUI thread

        ends = QGridLayout()
        for row, end in enumerate(ENDS):
            ends.addWidget(QLabel(f"<b>{end}</b> (t = {row})"), row, 0)
            ends.addWidget(self.end_labels[end], row, 1)
            for column, (text, take) in enumerate(
                (
                    ("Current face", self._take_current),
                    ("Denoised face", self._take_denoised),
                    ("Preset…", self._take_preset),
                    ("History entry…", self._take_history),
                ),
                start=2,
            ):
                button = QPushButton(text)
                button.setToolTip(f"use this face as the {end} of the walk")
                button.clicked.connect(lambda _checked=False, end=end, take=take: self._guarded(take, end))
                ends.addWidget(button, row, column)
        ends.setColumnStretch(1, 1)

        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.setToolTip("drag to preview; let go (or use the keys) to show the face in the explorer")
        self.slider.valueChanged.connect(self._slider_moved)
        self.slider.sliderReleased.connect(lambda: self._guarded(self.show_in_explorer))
        self.t_label = QLabel()
        self.denoise_box = QCheckBox("Denoise each step")
        self.denoise_box.toggled.connect(lambda _on: self._update_preview())
        scrub = QHBoxLayout()
        scrub.addWidget(QLabel("t"))
        scrub.addWidget(self.slider, 1)
        scrub.addWidget(self.t_label)
        scrub.addWidget(self.denoise_box)

        self.preview = QLabel()
        self.preview.setFixedSize(PREVIEW_SIZE, PREVIEW_SIZE)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.steps_box = QSpinBox()
        self.steps_box.setRange(MIN_STEPS, MAX_STEPS)
        self.steps_box.setValue(9)
        self.steps_box.setToolTip("faces in the exported walk, both ends included")
        self.format_box = QComboBox()
        self.format_box.addItems([".ply", ".obj"])
        self.export_button = QPushButton("Export walk…")
        self.export_button.setToolTip(
            "one mesh and coefficient file per step, strip.png and interpolation.gif, into a new folder"
        )
        self.export_button.clicked.connect(self.choose_export)
        export = QHBoxLayout()
        for widget in (QLabel("steps"), self.steps_box, self.format_box, self.export_button):
            export.addWidget(widget)
        export.addStretch(1)
        self.status = QLabel()
        self.status.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addLayout(ends)
        layout.addLayout(scrub)
        layout.addWidget(self.preview, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addLayout(export)
        layout.addWidget(self.status)
        self._follow_denoising()
        unsubscribe = session.denoising.subscribe(lambda _method: self._denoising_chosen())
        self.destroyed.connect(lambda *_: unsubscribe())
        self._guarded(self._take_current, "start")
        denoises = session.live.denoising_method is not None
        self._guarded(self._take_denoised if denoises else self._take_current, "end")

    # ---- the ends ---------------------------------------------------------------------------------
    def set_end(self, end: str, face: FaceEndpoint) -> None:
        self.ends[end] = face
        self.end_labels[end].setText(face.label)
        self._update_preview()

    def _take_current(self, end: str) -> None:
        self.set_end(end, current_face(self.session.state))

    def _take_denoised(self, end: str) -> None:
        if self.session.live.denoising_method is None:
            raise FaceExplorerError(
                "no denoising networks or learned prior are loaded (File → Open checkpoints folder)"
            )
        self.set_end(end, denoised_face(self.session.live))  # of the face the views show

    def _take_preset(self, end: str) -> None:
        path, _ = QFileDialog.getOpenFileName(self, f"Face preset for the {end}", str(Path.home()), "presets (*.json)")
        if path:
            self.set_end(end, preset_face(path, self.session.workspace.model))

    def _take_history(self, end: str) -> None:
        history = self.session.history
        items = [f"{k}: {entry.action}" for k, entry in enumerate(history.entries)]
        item, chosen = QInputDialog.getItem(
            self, f"History entry for the {end}", "face:", items, history.position, False
        )
        if chosen:
            self.set_end(end, history_face(history, items.index(item)))

    # ---- scrubbing ----------------------------------------------------------------------------------
    @property
    def t(self) -> float:
        return self.slider.value() / SLIDER_STEPS

    def interpolation(self) -> Interpolation:
        """The walk between the two ends, its steps denoised (when asked) as the explorer's denoised view would."""
        live = self.session.live
        method = live.denoising_method
        return Interpolation(
            self.session.workspace.model,
            self.ends["start"],
            self.ends["end"],
            None if method is None else live.denoise_face,
            self.denoise_box.isChecked(),
            "" if method is None else method.describe(),
        )

    def _follow_denoising(self) -> None:
        """Offer "Denoise each step" while something denoises, and say with what."""
        method = self.session.live.denoising_method
        if method is None:
            self.denoise_box.setChecked(False)
        self.denoise_box.setEnabled(method is not None)
        self.denoise_box.setToolTip(
            "no denoising networks or learned prior are loaded (File → Open checkpoints folder)"
            if method is None
            else f"every face of the walk denoised as the explorer's denoised view: {method.describe()}"
        )

    def _denoising_chosen(self) -> None:
        self._follow_denoising()
        self._update_preview()  # denoised steps change with the method

    def _slider_moved(self, _value: int) -> None:
        self._update_preview()
        if not self.slider.isSliderDown():  # keys or a click on the groove: one step, shown at once
            self._guarded(self.show_in_explorer)

    def _update_preview(self) -> None:
        self.t_label.setText(f"{self.t:.2f}")
        if len(self.ends) == len(ENDS):
            self._preview_timer.start()  # coalesced: a drag draws only the latest t

    def show_in_explorer(self) -> None:
        """The explorer's face becomes the face at t (one history step)."""
        alpha_id, alpha_exp = self.interpolation().at(self.t)
        denoised = " (denoised)" if self.denoise_box.isChecked() else ""
        self.session.state.set_face(alpha_id, alpha_exp, f"interpolation t = {self.t:.2f}{denoised}")

    def _draw_preview(self) -> None:
        self._previews += 1  # a judgement still under way is of a face this one replaces
        try:
            walk = self.interpolation()
            face = walk.at(self.t)
            image = self.thumbnails(walk.model, PREVIEW_SIZE).thumbnail(*face)
        except FaceExplorerError as problem:
            self._show_status(str(problem))
            return
        self.preview.setPixmap(pixmap(image))
        caption = f"t = {self.t:.2f} between '{self.ends['start'].label}' and '{self.ends['end'].label}'" + (
            f", each step denoised ({walk.denoised_by})" if walk.denoise_steps else ""
        )
        readout = self._readout_for(walk)
        if readout is None:
            self._show_status(caption)
            return
        self.status.setText(f"{caption}\njudging its plausibility …")
        preview = self._previews
        self._judge.start(
            self._judgement(readout, face, preview),
            lambda judged: self._judged(preview, caption, judged),
            lambda problem: self._judged(preview, caption, problem),
        )

    def _judgement(
        self, readout: PlausibilityReadout, face: tuple[np.ndarray, np.ndarray], preview: int
    ) -> Callable[[], FaceVerdict | None]:
        """The work of judging ``face`` on a worker thread; none once another face was previewed."""

        def judge() -> FaceVerdict | None:
            # A drag previews faster than faces are judged: those queued behind a later one are skipped.
            return readout.judge_face(*face) if preview == self._previews else None

        return judge

    def _judged(self, preview: int, caption: str, judged: FaceVerdict | FaceExplorerError | None) -> None:
        """The verdict under the caption of preview number ``preview``, if the preview still shows its face."""
        if preview != self._previews or judged is None:
            return  # another face is shown by now (None: so its judgement was skipped)
        verdict = (
            f"{judged.headline()}\n{judged.details()}"
            if isinstance(judged, FaceVerdict)
            else f"its plausibility was not judged: {judged}"
        )
        self._show_status(f"{caption}\n{verdict}")

    def _show_status(self, status: str) -> None:
        self.status.setText(status)
        self.previewed.emit()

    def _readout_for(self, walk: Interpolation) -> PlausibilityReadout | None:
        """The explorer's readout if it is calibrated for the walk's model."""
        readout = self.readout()
        return readout if readout is not None and readout.model is walk.model else None

    # ---- export -------------------------------------------------------------------------------------
    def choose_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the walk into a new folder", str(Path.home() / "interpolation")
        )
        if path:
            self.export(path)

    def export(self, folder: str | Path) -> None:
        """Export the walk into ``folder``: checked, its faces and thumbnails computed here, then judged and
        written on a worker thread (the window keeps answering); ``exported`` reports the files."""
        try:
            self.session.check_output(folder)
            walk = self.interpolation()
            export = prepare_walk_export(
                folder,
                walk,
                self.steps_box.value(),
                self.thumbnails(walk.model, PREVIEW_SIZE),
                self.format_box.currentText(),
                self._readout_for(walk),
                **walk.model.provenance.to_record(),
            )
        except FaceExplorerError as problem:
            self._export_failed(problem)
            return
        self.export_button.setEnabled(False)  # one export at a time
        self.status.setText(f"writing the walk into {folder} …")
        self._writer.start(export.write, lambda written: self._exported(folder, written), self._export_failed)

    def _exported(self, folder: str | Path, written: list[Path]) -> None:
        self.export_button.setEnabled(True)
        self.status.setText(f"wrote {len(written)} files into {folder}")
        self.exported.emit(written)

    def _export_failed(self, problem: FaceExplorerError) -> None:
        self.export_button.setEnabled(True)
        self.show_error(str(problem))
        self.exported.emit([])

    # ---- plumbing -----------------------------------------------------------------------------------
    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        self._follow_denoising()  # networks opened or closed while the window was hidden
        super().showEvent(event)

    def _guarded(self, action: Callable[..., None], *args: object) -> None:
        try:
            action(*args)
        except FaceExplorerError as problem:
            self.show_error(str(problem))

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        self._preview_timer.stop()
        self._previews += 1  # a judgement under way is dropped
        self._judge.shut_down()
        self._writer.shut_down()  # an export under way finishes writing; nothing is reported back
        super().closeEvent(event)


def show_interpolation(
    owner: QWidget,
    session: ExplorerSession,
    show_error: Callable[[str], None],
    readout: Callable[[], PlausibilityReadout | None],
) -> InterpolationWindow:
    return show_tool_window(owner, InterpolationWindow, session, show_error, readout)[0]
