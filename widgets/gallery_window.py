"""The gallery window: a grid of sampled faces beside their denoised versions; a click opens one.

Faces are drawn with the explorer's current sampling settings from its current seed on, and
denoised as its denoised view would show them with the method chosen in its Denoiser box when
the grid is drawn (``app.explorer.gallery``); the status line and the exported sheet name that
method. The thumbnails are rendered one picture per turn of the event loop (a face, then its
denoised version) by one reused off-screen renderer, so the window fills in while the explorer
keeps answering: a turn costs one thumbnail's render. Once the explorer's plausibility readout
is calibrated, each caption marks the face and its denoised version plausible (✓) or not (✗),
as the badges under the explorer's views would; the grid is judged on a worker thread (the
prior's likelihood takes a tenth of a second per face), and ``filled`` waits for both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import FaceExplorerError
from app.explorer.gallery import (
    THUMBNAIL_SIZE,
    GalleryFace,
    judge_gallery_face,
    open_gallery_face,
    plausible_counts,
    sample_gallery,
    save_gallery_png,
)
from app.explorer.plausibility_readout import FaceVerdict, PlausibilityReadout
from app.explorer.session import ExplorerSession
from app.model.morphable_model import MorphableModel
from widgets.background_loader import BackgroundLoader
from widgets.tool_window import ToolWindow, pixmap, show_tool_window

DEFAULT_COLUMNS = 4
DEFAULT_ROWS = 4


class GalleryWindow(ToolWindow):
    """A top-level window of ``rows × columns`` faces of the session's model."""

    PREFERRED_SIZE = QSize(1400, 940)  # a 4 × 4 grid without scrolling, where the screen has room

    filled = Signal()  # every thumbnail of the current gallery is drawn, and judged when a readout was ready

    def __init__(
        self,
        owner: QWidget,
        session: ExplorerSession,
        show_error: Callable[[str], None],
        readout: Callable[[], PlausibilityReadout | None],
    ) -> None:
        super().__init__(owner, session, show_error, readout)
        self.setWindowTitle("Gallery — click a face to open it")
        self.faces: list[GalleryFace] = []
        self.model: MorphableModel | None = None  # the model the faces were drawn on
        self.denoised_by = ""  # what denoised them ("learned prior, t = 0.08")
        self.columns = DEFAULT_COLUMNS  # of the grid shown
        self.pairs: list[tuple[np.ndarray, np.ndarray]] = []
        self.verdicts: list[tuple[FaceVerdict, FaceVerdict]] = []  # per face, once judged (a readout was ready)
        self.buttons: list[QToolButton] = []
        self._next = 0  # the face to draw next
        self._half: np.ndarray | None = None  # its input face, drawn on the previous turn
        self._fill_timer = QTimer(self)
        self._fill_timer.setInterval(0)
        self._fill_timer.timeout.connect(self._draw_next)
        self._judge = BackgroundLoader(self)  # a new grid's judgement voids the last one's
        self._judging: list[GalleryFace] | None = None  # the faces being judged now
        self._generation = 0  # of the grid; a judgement of an earlier one stops at its next face

        self.rows_box, self.columns_box = QSpinBox(), QSpinBox()
        for box, value, tip in (
            (self.rows_box, DEFAULT_ROWS, "rows of faces"),
            (self.columns_box, DEFAULT_COLUMNS, "faces per row"),
        ):
            box.setRange(1, 8)
            box.setValue(value)
            box.setToolTip(tip)
        self.sample_button = QPushButton("Sample from the current seed")
        self.sample_button.setToolTip("faces drawn like 'Sample both', seed by seed, with the explorer's settings")
        self.sample_button.clicked.connect(lambda _checked=False: self.sample())
        self.next_button = QPushButton("Next faces")
        self.next_button.setToolTip("the faces after the last one shown (the seeds that follow)")
        self.next_button.clicked.connect(self.sample_next)
        self.export_button = QPushButton("Export PNG…")
        self.export_button.clicked.connect(self.choose_export)
        self.status = QLabel()
        controls = QHBoxLayout()
        for widget in (
            QLabel("rows"),
            self.rows_box,
            QLabel("columns"),
            self.columns_box,
            self.sample_button,
            self.next_button,
            self.export_button,
        ):
            controls.addWidget(widget)
        controls.addStretch(1)
        grid_body = QWidget()
        self.grid = QGridLayout(grid_body)
        self.grid.setSpacing(4)
        grid_area = QScrollArea()  # a grid larger than a small screen scrolls
        grid_area.setWidgetResizable(True)
        grid_area.setWidget(grid_body)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(grid_area, 1)
        layout.addWidget(self.status)

    def sample(self, first_seed: int | None = None) -> None:
        """A new grid from ``first_seed`` (the explorer's next seed when None) with its sampling settings."""
        settings = self.session.state.settings
        if first_seed is not None:
            settings = replace(settings, seed=first_seed)
        model, live = self.session.workspace.model, self.session.live
        method = live.denoising_method
        try:
            faces = sample_gallery(
                model,
                None if method is None else live.denoise_face,
                settings,
                self.rows_box.value() * self.columns_box.value(),
            )
        except FaceExplorerError as problem:
            self.show_error(str(problem))
            return
        self._start(faces, model, "not denoised" if method is None else method.describe())

    def sample_next(self) -> None:
        self.sample(self.faces[-1].seed + 1 if self.faces else None)

    def _start(self, faces: list[GalleryFace], model: MorphableModel, denoised_by: str) -> None:
        self._fill_timer.stop()
        for button in self.buttons:
            button.deleteLater()
        self.faces, self.pairs, self.buttons, self._next, self._half = faces, [], [], 0, None
        self.verdicts = []
        self.model, self.columns, self.denoised_by = model, self.columns_box.value(), denoised_by
        for k, face in enumerate(faces):
            button = QToolButton()
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            button.setText(f"seed {face.seed}")
            button.setToolTip(f"seed {face.seed}: the face (left) and its denoised version (right); click to open it")
            button.clicked.connect(lambda _checked=False, k=k: self.open_face(k))
            self.grid.addWidget(button, k // self.columns, k % self.columns)
            self.buttons.append(button)
        settings = self.session.state.settings
        self.status.setText(
            f"drawing {len(faces)} faces ({settings.distribution}, seeds {faces[0].seed}–{faces[-1].seed}) …"
        )
        self._generation += 1
        readout = self.readout()
        if readout is not None and readout.model is not model:
            readout = None  # calibrated for a model opened since
        self._judging = None if readout is None else faces  # None too while the readout is calibrating
        if readout is not None:
            self._judge.start(
                self._judgement(readout, faces, self._generation),
                lambda verdicts: self._judged(faces, verdicts),
                lambda problem: self._judged(faces, [], problem),
            )
        self._fill_timer.start()

    def _judgement(
        self, readout: PlausibilityReadout, faces: list[GalleryFace], generation: int
    ) -> Callable[[], list[tuple[FaceVerdict, FaceVerdict]]]:
        """The work of judging ``faces`` on a worker thread; it stops once another grid is drawn."""

        def judge() -> list[tuple[FaceVerdict, FaceVerdict]]:
            verdicts = []
            for face in faces:
                if self._generation != generation:
                    raise JudgementAbandoned
                verdicts.append(judge_gallery_face(readout, face))
            return verdicts

        return judge

    def _draw_next(self) -> None:
        """One thumbnail per turn of the event loop: a face's input, then its denoised version."""
        assert self.model is not None  # _start sets it before the timer runs
        try:
            renderer = self.thumbnails(self.model, THUMBNAIL_SIZE)
        except FaceExplorerError as problem:
            self._fill_timer.stop()
            self.show_error(str(problem))
            return
        face, button = self.faces[self._next], self.buttons[self._next]
        if self._half is None:
            self._half = renderer.thumbnail(face.alpha_id, face.alpha_exp)
            return
        pair = (self._half, renderer.thumbnail(face.denoised_id, face.denoised_exp))
        self._half = None
        self.pairs.append(pair)
        button.setIcon(QIcon(pixmap(np.hstack(pair))))
        button.setIconSize(QSize(2 * THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        self._next += 1
        if self._next == len(self.faces):
            self._fill_timer.stop()
            self.release_thumbnails()
            self._finish()

    def _judged(
        self,
        faces: list[GalleryFace],
        verdicts: list[tuple[FaceVerdict, FaceVerdict]],
        problem: FaceExplorerError | None = None,
    ) -> None:
        """✓/✗ for each face and its denoised version in the captions, the numbers in the tooltips."""
        if faces is not self._judging:  # a later grid replaced it meanwhile
            return
        self._judging = None
        if problem is not None:
            self.show_error(f"the gallery's faces were not judged: {problem}")
        self.verdicts = verdicts
        for face, button, (noisy, denoised) in zip(faces, self.buttons, verdicts, strict=True):
            button.setText(f"seed {face.seed}   {_sign(noisy)} → {_sign(denoised)}")
            button.setToolTip(
                f"seed {face.seed}; click to open it\nface: {noisy.headline()}, {noisy.details()}\n"
                f"denoised: {denoised.headline()}, {denoised.details()}"
            )
        self._finish()

    def _finish(self) -> None:
        """Once every face is drawn and the judgement (if one runs) is in: the status line, then ``filled``."""
        if not self.complete or self._judging is not None:
            return
        summary = (
            plausible_counts(self.verdicts)
            if len(self.verdicts) == len(self.faces)
            else "plausibility: not calibrated yet when drawn"
        )
        self.status.setText(
            f"{len(self.faces)} faces, seeds {self.faces[0].seed}–{self.faces[-1].seed}: "
            f"each face (left) beside its denoised version (right: {self.denoised_by}); {summary}"
        )
        self.filled.emit()

    def open_face(self, index: int) -> None:
        """Show gallery face ``index`` in the explorer's views, exactly."""
        face = self.faces[index]
        assert self.model is not None  # set with the faces, by _start
        try:
            open_gallery_face(self.session.state, face, self.model)
        except FaceExplorerError as problem:
            self.show_error(str(problem))

    def choose_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export gallery", str(Path.home() / "gallery.png"), "PNG (*.png)")
        if path:
            self.export_png(path)

    @property
    def complete(self) -> bool:
        """Every face of the grid is drawn."""
        return bool(self.faces) and len(self.pairs) == len(self.faces)

    def export_png(self, path: str | Path) -> Path | None:
        if not self.complete:
            self.show_error("the gallery is still being drawn; export it when every face is shown")
            return None
        try:
            self.session.check_output(Path(path).with_suffix(".png"))
            written = save_gallery_png(path, self.faces, self.pairs, self.columns, self.denoised_by)
        except FaceExplorerError as problem:
            self.show_error(str(problem))
            return None
        self.status.setText(f"wrote {written}")
        return written

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        self._fill_timer.stop()
        self._generation += 1  # a judgement under way stops at its next face, and its result is dropped
        self._judge.shut_down()
        self._judging = None
        super().closeEvent(event)


class JudgementAbandoned(Exception):  # noqa: N818 - not an error: a judgement nobody waits for any more
    """Raised on the worker to stop judging a grid another one replaced; the loader drops its result."""


def _sign(verdict: FaceVerdict) -> str:
    return "✓" if verdict.plausible else "✗"


def show_gallery(
    owner: QWidget,
    session: ExplorerSession,
    show_error: Callable[[str], None],
    readout: Callable[[], PlausibilityReadout | None],
) -> GalleryWindow:
    """The owner's gallery window; a new one (or one closed before its grid was drawn) draws from the current seed."""
    window, made = show_tool_window(owner, GalleryWindow, session, show_error, readout)
    if made or not window.complete:
        window.sample()
    return window
