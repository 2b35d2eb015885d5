"""Rater mode: one face at a time in one large view, Accept / Reject (/ Unsure), undo, pause.

The window is a thin shell around ``app.study.session.RatingSession``: it asks for the rater
ID, draws the face the session says is next and forwards votes; the session commits each vote
to the study database before the next face is drawn. The rater never sees the condition or the
face id (the study is blind), only "face k of N".

Keys: A or → accept, R or ← reject, U or ↓ unsure (if the study allows it), Ctrl+Z or
Backspace undo, P pause, F front view, S side view. The buttons and the 3D view never take the
keyboard focus, so Space/Enter cannot cast a vote by accident and VTK's own key bindings
(r, w, q …) never fire.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)
from pyvistaqt import QtInteractor

from app.errors import FaceExplorerError
from app.model.morphable_model import MorphableModel
from app.rendering.face_mesh import FaceMesh
from app.rendering.look import BACKGROUND, LIGHTING, add_face, framing_bounds, look_at_bounds
from app.study.database import RatingsDatabase
from app.study.definition import StudyFace
from app.study.session import RatingSession
from app.workspace import Workspace
from widgets.application import application
from widgets.screen_fit import fit_to_screen, place_over_owner

ROTATION_DEGREES = 40.0  # the face swings left and right; its back is not part of the mask
ROTATION_PERIOD_S = 8.0
ROTATION_TICK_MS = 80
PREFERRED_SIZE = QSize(1100, 900)  # less on a smaller screen: the face view shrinks, the vote buttons stay


class RaterWindow(QMainWindow):
    """Start page (rater ID) → rating page (the face, votes, progress) → finished page."""

    def __init__(self, database: RatingsDatabase, model: MorphableModel, rater: str | None = None) -> None:
        super().__init__()
        self.database = database
        self.model = model
        self.session: RatingSession | None = None
        definition = database.definition
        self.setWindowTitle(f"Rater mode — {definition.name}")

        self.pages = QStackedWidget()
        self.setCentralWidget(self.pages)
        self.pages.addWidget(self._build_start_page())
        self.pages.addWidget(self._build_rating_page())
        self.pages.addWidget(self._build_finished_page())
        # Made now, not by its first message: appearing then, it would push the vote buttons up.
        self.statusBar().setSizeGripEnabled(False)

        self._shortcuts: list[QShortcut] = []
        for keys, slot in (
            (("A", "Right"), lambda: self.vote("accept")),
            (("R", "Left"), lambda: self.vote("reject")),
            (("U", "Down"), lambda: self.vote("unsure")),
            (("Ctrl+Z", "Backspace"), self.undo),
            (("P",), self.toggle_pause),
            (("F",), self.view_front),
            (("S",), self.view_side),
        ):
            for key in keys:
                shortcut = QShortcut(QKeySequence(key), self)
                shortcut.activated.connect(slot)
                self._shortcuts.append(shortcut)
        self._enable_shortcuts(False)

        self._rotation_timer = QTimer(self)
        self._rotation_timer.setInterval(ROTATION_TICK_MS)
        self._rotation_timer.timeout.connect(self._rotate_step)
        self._rotation_start = time.monotonic()
        self.rotate_box.setChecked(definition.view == "rotating")
        if rater:
            self.rater_field.setText(rater)
            self.start()
        elif database.package is not None:  # a rater package is made for one rater slot: suggest its name
            self.rater_field.setText(database.package.slot)

    # ---- pages --------------------------------------------------------------------------------------
    def _build_start_page(self) -> QWidget:
        definition = self.database.definition
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addStretch(1)
        title = QLabel(f"<h2>{definition.name}</h2>")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(title)
        unsure = ", U or ↓ if unsure" if definition.allow_unsure else ""
        instructions = QLabel(
            f"<p>{definition.instructions}</p>"
            f"<p>You will see {len(self.database.faces())} faces, one at a time. "
            f"Press A or → to accept, R or ← to reject{unsure}. Ctrl+Z undoes your last vote, P pauses. "
            "Every vote is saved at once: you can stop at any time and continue later with the same ID.</p>"
        )
        instructions.setWordWrap(True)
        instructions.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(instructions)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(QLabel("Rater ID:"))
        self.rater_field = QLineEdit()
        self.rater_field.setPlaceholderText("your name or number")
        self.rater_field.setMaximumWidth(260)
        self.rater_field.returnPressed.connect(self.start)
        row.addWidget(self.rater_field)
        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(self.start)
        row.addWidget(self.start_button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(2)
        return page

    def _build_rating_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        top = QHBoxLayout()
        self.progress_label = QLabel()
        self.progress_label.setStyleSheet("font-size: 15px; font-weight: bold;")
        top.addWidget(self.progress_label)
        self.progress_bar = QProgressBar()
        self.progress_bar.setTextVisible(False)
        top.addWidget(self.progress_bar, 1)
        self.rater_label = QLabel()
        top.addWidget(self.rater_label)
        layout.addLayout(top)

        # No multisampling: under software GL it makes every frame several times slower.
        self.plotter = QtInteractor(page, auto_update=False, multi_samples=0, lighting=LIGHTING)
        self.plotter.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        # ignore: pyvista wraps Renderers.set_background with functools.wraps, so its type still asks for `self`
        self.plotter.set_background(BACKGROUND)  # type: ignore[arg-type]
        mean_face = self.model.mean.reshape(-1, 3)
        # Every face is framed like the mean face (with a margin), not fitted to the view: raters
        # must see a face's true size, and one that leaves the frame is itself implausible.
        self._frame_bounds = framing_bounds(mean_face)
        self._mesh = FaceMesh(self.model.triangles, mean_face)
        assert self.model.triangle_parts is not None  # MorphableModel.__post_init__ fills it in
        self._actor = add_face(self.plotter, self._mesh, self.model.triangle_parts)
        self._pause_text = self.plotter.add_text(
            "Paused — press P to continue", position="upper_edge", font_size=14, color="white"
        )
        self._pause_text.SetVisibility(False)
        layout.addWidget(self.plotter, 1)

        views = QHBoxLayout()
        for text, slot in (("Front (F)", self.view_front), ("Side (S)", self.view_side)):
            views.addWidget(self._button(text, slot))
        self.rotate_box = QCheckBox("Rotate slowly")
        self.rotate_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.rotate_box.toggled.connect(self.set_rotating)
        views.addWidget(self.rotate_box)
        views.addStretch(1)
        self.undo_button = self._button("Undo last vote (Ctrl+Z)", self.undo)
        self.pause_button = self._button("Pause (P)", self.toggle_pause)
        views.addWidget(self.undo_button)
        views.addWidget(self.pause_button)
        layout.addLayout(views)

        votes = QHBoxLayout()
        self.reject_button = self._button("←  Reject (R)", lambda: self.vote("reject"), "#b03a2e")
        self.unsure_button = self._button("Unsure (U)  ↓", lambda: self.vote("unsure"), "#6c6c6c")
        self.accept_button = self._button("Accept (A)  →", lambda: self.vote("accept"), "#1e8449")
        self.unsure_button.setVisible(self.database.definition.allow_unsure)
        for button in (self.reject_button, self.unsure_button, self.accept_button):
            button.setMinimumHeight(48)
            votes.addWidget(button, 1)
        layout.addLayout(votes)
        return page

    def _build_finished_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.finished_label = QLabel()
        self.finished_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.finished_label.setWordWrap(True)
        layout.addWidget(self.finished_label, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self._button("Undo last vote (Ctrl+Z)", self.undo))
        row.addWidget(self._button("Close", self.close))
        row.addStretch(1)
        layout.addLayout(row)
        return page

    def _button(self, text: str, slot: Callable[[], object], colour: str | None = None) -> QPushButton:
        button = QPushButton(text)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space/Enter must never cast a vote
        if colour:
            button.setStyleSheet(
                f"QPushButton {{ background: {colour}; color: white; font-size: 16px; font-weight: bold; }}"
                "QPushButton:disabled { background: #444; color: #999; }"
            )
        button.clicked.connect(slot)
        return button

    # ---- actions --------------------------------------------------------------------------------------
    def start(self) -> None:
        """Begin (or resume) the session of the rater named in the ID field."""
        try:
            self.session = RatingSession(self.database, self.rater_field.text(), self.model.provenance)
        except FaceExplorerError as problem:
            self.show_error(str(problem))
            return
        self.rater_label.setText(f"rater: {self.session.rater}")
        self._show_current()

    def vote(self, choice: str) -> None:
        if self.session is None or self.session.finished or self.session.paused:
            return
        if choice == "unsure" and not self.database.definition.allow_unsure:
            return
        try:
            self.session.vote(choice)
        except FaceExplorerError as problem:
            self.show_error(str(problem))
            self.session.advance()  # e.g. voted in another window: carry on with what is on disk
        self._show_current()

    def undo(self) -> None:
        if self.session is None or self.session.paused:
            return
        try:
            undone = self.session.undo()
        except FaceExplorerError as problem:
            self.show_error(str(problem))
            return
        if undone is None:
            self.statusBar().showMessage("nothing to undo", 3000)
            return
        self.statusBar().showMessage(f"took back your '{undone.vote}' vote: judge this face again", 4000)
        self._show_current()

    def toggle_pause(self) -> None:
        if self.session is None or self.session.finished:
            return
        if self.session.paused:
            self.session.resume()
        else:
            self.session.pause()
        paused = self.session.paused
        self._actor.SetVisibility(not paused)  # the face is hidden so the pause is not thinking time
        self._pause_text.SetVisibility(paused)
        for button in (self.accept_button, self.reject_button, self.unsure_button, self.undo_button):
            button.setEnabled(not paused)
        self.pause_button.setText("Continue (P)" if paused else "Pause (P)")
        self.plotter.update()

    def set_rotating(self, rotating: bool) -> None:
        if rotating and self.pages.currentIndex() == 1:
            self._rotation_start = time.monotonic()
            self._rotation_timer.start()
        else:
            self._rotation_timer.stop()
            self.view_front()

    def view_front(self) -> None:
        self._look_from_yaw(0.0)

    def view_side(self) -> None:
        self.rotate_box.setChecked(False)
        self._look_from_yaw(90.0)

    def show_error(self, message: str) -> None:
        QMessageBox.warning(self, "Rater mode", message)

    # ---- drawing --------------------------------------------------------------------------------------
    def _show_current(self) -> None:
        session = self.session
        assert session is not None  # faces are shown only once a rater has started a session
        face = session.current
        if face is None:  # session.finished: every face has a vote
            self._rotation_timer.stop()
            self._enable_shortcuts(False)
            self._undo_shortcuts_only()
            self.finished_label.setText(
                f"<h2>All {session.total} faces judged — thank you, {session.rater}!</h2>"
                "<p>Your votes are saved. You can close this window.</p>"
            )
            self.pages.setCurrentIndex(2)
            return
        self._enable_shortcuts(True)
        self.pages.setCurrentIndex(1)
        self._draw(face)
        self.progress_label.setText(f"Face {session.done + 1} of {session.total}")
        self.progress_bar.setRange(0, session.total)
        self.progress_bar.setValue(session.done)
        if self.rotate_box.isChecked():
            self.set_rotating(True)

    def _draw(self, face: StudyFace) -> None:
        self._mesh.update(self.model.synthesize(face.alpha_id, face.alpha_exp))
        self._look_from_yaw(0.0)

    def _look_from_yaw(self, yaw_degrees: float) -> None:
        """Camera around the face's vertical axis, framing the mean face's box."""
        look_at_bounds(self.plotter.renderer, self._frame_bounds, yaw_degrees)
        self.plotter.update()

    def _rotate_step(self) -> None:
        if self.session is not None and self.session.paused:
            return
        phase = 2 * math.pi * (time.monotonic() - self._rotation_start) / ROTATION_PERIOD_S
        self._look_from_yaw(ROTATION_DEGREES * math.sin(phase))

    def _enable_shortcuts(self, enabled: bool) -> None:
        for shortcut in self._shortcuts:
            shortcut.setEnabled(enabled)

    def _undo_shortcuts_only(self) -> None:
        """On the finished page the last vote can still be taken back."""
        for shortcut in self._shortcuts:
            if shortcut.key().toString() in ("Ctrl+Z", "Backspace"):
                shortcut.setEnabled(True)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        self._rotation_timer.stop()
        self.plotter.close()
        self.database.close()  # the window owns its database; every vote is already committed
        super().closeEvent(event)


def run_rater(args: argparse.Namespace) -> int:
    """``python main.py rate STUDY``: open the rater window on a study and run until it is closed."""
    database = RatingsDatabase.open(args.study)  # a bad file fails here, before any window opens
    workspace = Workspace(args.model, args.data, args.checkpoints, args.device)
    try:
        database.require_model(workspace.model.provenance)
    except FaceExplorerError:
        database.close()
        raise
    return run_rater_window(database, workspace.model, args.rater)


def run_rater_window(database: RatingsDatabase, model: MorphableModel, rater: str | None = None) -> int:
    """Open the rater window for ``database`` and run until it is closed."""
    app = application()
    window = RaterWindow(database, model, rater)
    fit_to_screen(window, PREFERRED_SIZE)
    window.show()
    return app.exec()


_open_windows: set[RaterWindow] = set()  # rater windows opened from the explorer live on their own


def open_rater_mode(parent: QWidget, model: MorphableModel) -> RaterWindow | None:
    """Ask for a study database and open a rater window on it (the explorer's Tools ▸ Rater mode…)."""
    path, _ = QFileDialog.getOpenFileName(
        parent, "Open a study for rater mode", "", "Study databases (*.db);;All files (*)"
    )
    if not path:
        return None
    try:
        database = RatingsDatabase.open(path)
    except FaceExplorerError as problem:
        QMessageBox.warning(parent, "Rater mode", str(problem))
        return None
    try:
        database.require_model(model.provenance)
    except FaceExplorerError as problem:
        database.close()
        QMessageBox.warning(parent, "Rater mode", str(problem))
        return None
    window = RaterWindow(database, model)
    window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    _open_windows.add(window)
    window.destroyed.connect(lambda: _open_windows.discard(window))
    place_over_owner(window, parent, PREFERRED_SIZE)
    window.show()
    return window
