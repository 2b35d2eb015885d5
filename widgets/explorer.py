"""The explorer window: two face views, the sampling and coefficient panels, menus and status bar.

The window turns user actions into calls on an ``ExplorerSession`` (app/explorer/session.py) and shows
their results; it holds no workspace logic of its own. Panels change the session's ``FaceState``; its
``LiveFace`` follows; a zero-delay single-shot timer coalesces any burst of changes into one refresh
for the latest state only, which draws its one frame at once. Slider events arriving during a slow
software-GL frame cost a few microseconds each and never queue stale work. While a gesture (a slider
drag) is under way the refresh draws the lighter draft faces; its end brings the full faces back.

Models, data and checkpoints are read on a worker thread (``BackgroundLoader``), a later load superseding
an earlier one. Every ``FaceExplorerError`` raised by an action is shown in a dialog; the window goes on.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.denoising.devices import describe
from app.errors import FaceExplorerError
from app.explorer.face_state import FaceChange, FaceState
from app.explorer.history import FaceHistory
from app.explorer.live_face import LiveFace
from app.explorer.opened_workspace import OpenedWorkspace, open_checkpoints, open_data, open_model
from app.explorer.session import ExplorerSession
from app.workspace import Workspace
from widgets.application import application
from widgets.background_loader import BackgroundLoader
from widgets.coefficient_panel import CoefficientPanel
from widgets.denoiser_panel import DenoiserPanel
from widgets.elided_label import ElidedLabel
from widgets.export_dialog import ExportDialog, ExportRequest
from widgets.face_views import FaceViews
from widgets.gallery_window import show_gallery
from widgets.history_keys import HistoryKeys
from widgets.history_panel import HistoryPanel
from widgets.interpolation_panel import show_interpolation
from widgets.plausibility_badge import PlausibilityBadges
from widgets.pose_panel import PosePanel
from widgets.rater_window import open_rater_mode
from widgets.sampling_panel import SamplingPanel
from widgets.screen_fit import fit_to_screen

ORGANISATION = "FaceManifoldExplorer"
PREFERRED_SIZE = QSize(1500, 900)  # less on a smaller screen (widgets/screen_fit.py)
MODEL_LABEL_WIDTH = 360
HISTORY_WIDTH = 200
APPLICATION = "Face Manifold Explorer"


def user_settings() -> QSettings:
    """The user's settings, in QSettings' default format (tests redirect it with setPath)."""
    return QSettings(QSettings.defaultFormat(), QSettings.Scope.UserScope, ORGANISATION, APPLICATION)


def reports_errors(action: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a FaceExplorerError raised by a menu or button action into an error dialog."""

    @functools.wraps(action)
    def guarded(self: ExplorerWindow, *args: Any, **kwargs: Any) -> Any:
        try:
            return action(self, *args, **kwargs)
        except FaceExplorerError as problem:
            self.show_error(str(problem))
            return None

    return guarded


class ExplorerWindow(QMainWindow):
    refreshed = Signal(float)  # the live face was recomputed (compute milliseconds); its frame is drawn next

    def __init__(self, workspace: Workspace, settings: QSettings | None = None) -> None:
        """Open on ``workspace``, whose model is already read (its networks are read here)."""
        super().__init__()
        self.settings = settings if settings is not None else user_settings()
        self.session = ExplorerSession(workspace)
        self.last_error = ""
        self._error_box: QMessageBox | None = None
        self.coefficient_panel: CoefficientPanel | None = None
        self.pose_panel: PosePanel | None = None  # for a model with joints (FLAME)
        self.sampling_panel: SamplingPanel | None = None
        self.history_panel: HistoryPanel | None = None
        self.loader = BackgroundLoader(self)
        self.loader.busy_changed.connect(self._show_busy)
        self._busy_cursor = False

        self.views = FaceViews()
        self.side = QWidget()
        self.side_layout = QVBoxLayout(self.side)
        self.side_layout.setContentsMargins(4, 0, 4, 0)
        self.denoiser_panel = DenoiserPanel(self.session.denoising)  # one choice for the whole session
        self.side_layout.addWidget(self.denoiser_panel)
        self.session.denoising.subscribe(lambda _: self._schedule_refresh())
        splitter = QSplitter(Qt.Orientation.Horizontal)
        self.plausibility = PlausibilityBadges()  # one badge under each view
        views_column = QWidget()
        views_layout = QVBoxLayout(views_column)
        views_layout.setContentsMargins(0, 0, 0, 0)
        views_layout.addWidget(self.views, 1)
        views_layout.addWidget(self.plausibility)
        splitter.addWidget(views_column)
        splitter.addWidget(self.side)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 0)
        splitter.setCollapsible(0, False)  # the side panel collapses (drag its edge, or View ▸ Side panel)
        splitter.setSizes([1000, 500])
        self.setCentralWidget(splitter)
        self.history_dock = QDockWidget("History", self)
        self.history_dock.setObjectName("history")
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.history_dock)
        self.resizeDocks([self.history_dock], [HISTORY_WIDTH], Qt.Orientation.Horizontal)

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(0)
        self._refresh_timer.timeout.connect(self._refresh)

        self.loading_label = QLabel()
        self.loading_bar = QProgressBar()
        self.loading_bar.setRange(0, 0)  # no known end: Qt animates it as "busy"
        self.loading_bar.setMaximumWidth(120)
        self.model_label = ElidedLabel()  # a model's description is long: it gives way to the status messages
        self.model_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.model_label.setMaximumWidth(MODEL_LABEL_WIDTH)
        self.vertices_label, self.device_label, self.compute_label = (QLabel() for _ in range(3))
        for widget in (
            self.loading_label,
            self.loading_bar,
            self.model_label,
            self.vertices_label,
            self.device_label,
            self.compute_label,
        ):
            self.statusBar().addPermanentWidget(widget)
        self._show_busy(False)
        self._build_menus()
        self._show_model()
        self._show_networks()
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            fit_to_screen(self, PREFERRED_SIZE)

    # ---- what the session holds ---------------------------------------------------------------
    @property
    def workspace(self) -> Workspace:
        return self.session.workspace

    @property
    def state(self) -> FaceState:
        return self.session.state

    @property
    def live(self) -> LiveFace:
        return self.session.live

    @property
    def history(self) -> FaceHistory:
        return self.session.history

    def _show_model(self) -> None:
        """(Re)build what depends on the model: the panels, the history list and the labels."""
        self.state.subscribe(self._face_changed)
        self.state.subscribe_gestures(self._gesture_changed)
        for panel in (self.sampling_panel, self.coefficient_panel, self.pose_panel, self.history_panel):
            if panel is not None:
                panel.setParent(None)
                panel.deleteLater()
        self.sampling_panel = SamplingPanel(self.state)
        self.coefficient_panel = CoefficientPanel(self.state)
        self.coefficient_panel.entry_refused.connect(self.show_notice)
        self.side_layout.addWidget(self.sampling_panel)
        self.side_layout.addWidget(self.coefficient_panel, 1)
        self.pose_panel = PosePanel(self.live) if self.workspace.model.skinning is not None else None
        if self.pose_panel is not None:
            self.pose_panel.changed.connect(self._schedule_refresh)
            self.side_layout.addWidget(self.pose_panel)
        self.history_panel = HistoryPanel(self.history)
        self.history_dock.setWidget(self.history_panel)
        self.history.subscribe(self._history_changed)
        self._history_changed()
        described = self.workspace.describe_model()
        self.setWindowTitle(f"{APPLICATION} — {described}")
        self.model_label.setText(f"model: {described}")
        self.vertices_label.setText(f"{self.workspace.model.n_vertices:,} vertices")

    def _coefficients(self) -> CoefficientPanel:
        assert self.coefficient_panel is not None  # _show_model makes it, in __init__
        return self.coefficient_panel

    def _show_networks(self) -> None:
        """Rebuild the views around a new live face (new networks only redraw it); say what is wrong with them."""
        networks = self.session.networks
        denoiser = networks.denoiser
        note = "" if denoiser is not None else ": no networks, showing the input"
        if not self.views.shows(self.live, note):
            self.views.show_face(self.live, note)
        self.device_label.setText(f"device: {describe(denoiser.device)}" if denoiser is not None else "device: none")
        self.denoiser_panel.set_prior_problem("" if networks.prior is not None else networks.prior_problem)
        self._after_refresh()
        if networks.problem:
            self.show_error(networks.problem)
        elif networks.warning:
            self.statusBar().showMessage(f"warning: {networks.warning}", 15000)

    # ---- the update loop ----------------------------------------------------------------------
    def _face_changed(self, _change: FaceChange) -> None:
        self._schedule_refresh()

    def _gesture_changed(self, active: bool) -> None:
        if not active:  # the drag is over: the full faces replace the drafts
            self._schedule_refresh()

    def _schedule_refresh(self) -> None:
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def _refresh(self) -> None:
        try:
            changed = self.session.refresh(draft=self.state.in_gesture)
        except FaceExplorerError as problem:
            self.show_error(str(problem))
            changed = True  # the live arrays were rebuilt for the last good face
        if changed:
            self._after_refresh()

    def _after_refresh(self) -> None:
        self.refreshed.emit(self.live.last_compute_ms)  # before the frame that shows it is drawn
        self.views.refresh(self.live.denoised_label, self.state.origin.describe())
        self._coefficients().set_denoised(self.live.denoised_id, self.live.denoised_exp)
        if not self.live.showing_draft:  # per-frame work waits for the end of a drag
            self.plausibility.face_changed(self.session)
            self.compute_label.setText(f"update: {self.live.last_compute_ms:.1f} ms")  # relayouts the status bar

    def refresh_now(self) -> None:
        """Run a pending refresh immediately (exports and 'apply denoised' need current results)."""
        self._refresh_timer.stop()
        self.state.end_gesture()
        self._refresh()

    def _history_changed(self) -> None:
        self.undo_action.setEnabled(self.history.can_undo)
        self.redo_action.setEnabled(self.history.can_redo)

    # ---- loading off the GUI thread -------------------------------------------------------------
    @property
    def loading(self) -> bool:
        return self.loader.busy

    def _load(self, what: str, work: Callable[[], OpenedWorkspace], then: Callable[[], Any] | None = None) -> None:
        """Read ``what`` on a worker thread, then adopt it (and run ``then``) here."""
        self.loading_label.setText(f"loading {what} …")
        self.loader.start(work, functools.partial(self._adopt, then=then), self._load_failed)

    @reports_errors
    def _adopt(self, opened: OpenedWorkspace, then: Callable[[], Any] | None = None) -> None:
        self.session.adopt(opened)
        self.plausibility.face_changed(self.session)  # new data changes the calibration, not the face
        if opened.part == "model":
            self._show_model()
        if opened.networks is not None:
            self._show_networks()
        if not self.session.networks.problem:
            self.statusBar().showMessage(opened.summary, 8000)
        if then is not None:
            then()

    def _load_failed(self, problem: FaceExplorerError) -> None:
        self.show_error(str(problem))

    def _show_busy(self, busy: bool) -> None:
        self.loading_label.setVisible(busy)
        self.loading_bar.setVisible(busy)
        if busy != self._busy_cursor:  # the override cursor is a stack: push and pop exactly once
            if busy:
                QApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
            else:
                QApplication.restoreOverrideCursor()
            self._busy_cursor = busy

    # ---- menus ------------------------------------------------------------------------------------
    def _action(
        self, menu: Any, text: str, slot: Callable[[], Any], shortcut: str | None = None, tip: str = ""
    ) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._action(
            file_menu, "Open &model…", self.choose_model, "Ctrl+O", "BFM .mat/.h5, Model_Shape.mat, FLAME .pkl or .npz"
        )
        self._action(
            file_menu, "Open &ICT-FaceKit folder…", self.choose_model_folder, tip="ICT-FaceKit's FaceXModel folder"
        )
        self._action(file_menu, "Open fitted data &folder…", lambda: self.choose_data(folder=True))
        self._action(file_menu, "Open fitted data .&npz…", lambda: self.choose_data(folder=False))
        self._action(
            file_menu,
            "Open &checkpoints folder…",
            self.choose_checkpoints,
            tip="a folder with shape.pt and expression.pt",
        )
        self._action(file_menu, "Use the &embedded model", lambda: self.open_model(None))
        file_menu.addSeparator()
        self._action(
            file_menu,
            "&Export faces…",
            self.choose_export,
            "Ctrl+E",
            "input, denoised or both as OBJ/PLY with coefficients",
        )
        self._action(file_menu, "Save &screenshot…", self.choose_screenshot, "Ctrl+P", "both views as a PNG")
        file_menu.addSeparator()
        self._action(file_menu, "Save face &preset…", self.choose_save_preset, "Ctrl+S")
        self._action(file_menu, "&Load face preset…", self.choose_load_preset, "Ctrl+L")
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, "Ctrl+Q")

        edit_menu = bar.addMenu("&Edit")
        self.undo_action = self._action(
            edit_menu, "&Undo", self.undo, "Ctrl+Z", "back to the face before the last change"
        )
        self.redo_action = self._action(edit_menu, "&Redo", self.redo, "Ctrl+Shift+Z", "forward again after an undo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        HistoryKeys(self, [self.undo_action, self.redo_action])  # also in a field, and in the tool windows
        edit_menu.addSeparator()
        edit_menu.addAction(self.history_dock.toggleViewAction())
        self.side_action = QAction("Sampling and coefficients &panel", self)
        self.side_action.setShortcut(QKeySequence("F9"))
        self.side_action.setCheckable(True)
        self.side_action.setChecked(True)
        self.side_action.toggled.connect(self.side.setVisible)  # gives the views the whole width on a small screen
        edit_menu.addAction(self.side_action)

        face_menu = bar.addMenu("F&ace")
        self._action(face_menu, "Sample &shape", lambda: self.state.sample("shape"), "Ctrl+1")
        self._action(face_menu, "Sample &expression", lambda: self.state.sample("expression"), "Ctrl+2")
        self._action(face_menu, "Sample &both", lambda: self.state.sample("both"), "Ctrl+3")
        self._action(face_menu, "&Mean face", lambda: self.state.reset(), "Ctrl+0")
        self._action(face_menu, "&Reset all coefficients", lambda: self.state.reset(), "Ctrl+R")
        self._action(
            face_menu,
            "Random &identity",
            lambda: self.state.sample("shape"),
            tip="sample the identity only, keeping the expression",
        )
        self._action(
            face_menu,
            "Random e&xpression",
            lambda: self.state.sample("expression"),
            tip="sample the expression only, keeping the identity",
        )
        self._action(face_menu, "Mean identi&ty", lambda: self.state.reset_part("shape"))
        self._action(face_menu, "&Neutral expression", lambda: self.state.reset_part("expression"), "Ctrl+N")
        face_menu.addSeparator()
        self._action(
            face_menu, "&Apply denoised", self.apply_denoised, "Ctrl+D", "copy the denoised coefficients into the input"
        )
        self._action(
            face_menu,
            "Random &fitted face from the data",
            self.load_fitted_face,
            "Ctrl+F",
            "a clean face from the fitted-parameter data (the seed picks it)",
        )
        self._action(
            face_menu,
            "Open study face by &id…",
            self.choose_study_face,
            tip="inspect a face of a rater study (ids as listed by rate-report)",
        )

        view_menu = bar.addMenu("&View")
        self._action(view_menu, "&Front", self.views.view_front, "F")
        self._action(view_menu, "&Side", self.views.view_side, "S")
        self._action(view_menu, "&Reset view", self.views.reset_view, "Home")
        self._action(view_menu, "Displacement &heat map", self.views.toggle_heat_map, "H")
        self._action(view_menu, "&Landmarks", self.views.toggle_landmarks, "L")
        self._action(view_menu, "Fi&t both faces", self.views.toggle_fit, tip="reframe after every change")
        self._action(view_menu, "&Wireframe", self.views.toggle_wireframe)
        self._action(view_menu, "Show &denoised coefficients", lambda: self._coefficients().toggle_denoised(), "D")
        self._action(view_menu, "Find &coefficient", lambda: self._coefficients().focus_filter(), "Ctrl+K")

        # Tools that open their own windows (rater mode, …) are added to this menu.
        self.tools_menu = bar.addMenu("&Tools")
        self._action(self.tools_menu, "Network &information", self.show_network_information)
        self._action(
            self.tools_menu,
            "&Gallery…",
            lambda: show_gallery(self, self.session, self.show_error, lambda: self.plausibility.readout),
            "Ctrl+G",
            "a grid of sampled faces beside their denoised versions; click one to open it",
        )
        self._action(
            self.tools_menu,
            "&Interpolation…",
            lambda: show_interpolation(self, self.session, self.show_error, lambda: self.plausibility.readout),
            "Ctrl+I",
            "walk between two faces and export the walk",
        )
        self._action(
            self.tools_menu,
            "&Rater mode…",
            lambda: open_rater_mode(self, self.workspace.model),
            tip="judge the faces of a reliability study (make one with `python main.py rate-study`)",
        )

    # ---- actions -------------------------------------------------------------------------------------
    def undo(self) -> None:
        if not self.history.undo():
            self.statusBar().showMessage("nothing to undo", 3000)

    def redo(self) -> None:
        if not self.history.redo():
            self.statusBar().showMessage("nothing to redo", 3000)

    def _folder(self, key: str) -> str:
        return str(self.settings.value(f"folders/{key}", str(Path.home())))

    def _remember_folder(self, key: str, path: str | Path) -> None:
        path = Path(path)
        self.settings.setValue(f"folders/{key}", str(path if path.is_dir() else path.parent))

    def choose_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open face model", self._folder("model"), "models (*.mat *.h5 *.hdf5 *.pkl *.npz)"
        )
        if path:
            self._remember_folder("model", path)
            self.open_model(path)

    def choose_model_folder(self) -> None:
        """A model that is a folder (ICT-FaceKit's FaceXModel), read as ``--model FOLDER`` reads it."""
        path = QFileDialog.getExistingDirectory(self, "Open ICT-FaceKit folder", self._folder("model"))
        if path:
            self._remember_folder("model", path)
            self.open_model(path)

    def open_model(self, path: str | Path | None) -> None:
        """Switch to the model in ``path`` (None: the embedded one) once it is read; a bad file changes nothing."""
        what = f"the model {Path(path).name}" if path else "the embedded model"
        self._load(what, functools.partial(open_model, self.workspace, path))

    def choose_data(self, folder: bool) -> None:
        if folder:
            path = QFileDialog.getExistingDirectory(self, "Open fitted-parameter folder", self._folder("data"))
        else:
            path, _ = QFileDialog.getOpenFileName(
                self, "Open fitted parameters", self._folder("data"), "tables (*.npz)"
            )
        if path:
            self._remember_folder("data", path)
            self.open_data(path)

    def open_data(self, path: str | Path) -> None:
        self._load(f"the fitted data {Path(path).name}", functools.partial(open_data, self.workspace, path))

    def choose_checkpoints(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open checkpoints folder", self._folder("checkpoints"))
        if path:
            self._remember_folder("checkpoints", path)
            self.open_checkpoints(path)

    def open_checkpoints(self, folder: str | Path) -> None:
        """Use the networks in ``folder`` once they are read; a folder that cannot be used keeps the current ones."""
        self._load(f"the networks in {Path(folder).name}", functools.partial(open_checkpoints, self.workspace, folder))

    def choose_export(self) -> None:
        dialog = ExportDialog(self._folder("export"), self)
        if dialog.exec():
            self.export_faces(dialog.request())

    @reports_errors
    def export_faces(self, request: ExportRequest) -> list[Path]:
        self.refresh_now()
        written = self.session.export_faces(
            request.path, request.which, request.binary, request.coefficient_format, request.unit
        )
        self._remember_folder("export", request.path)
        self.statusBar().showMessage("wrote " + ", ".join(p.name for p in written), 10000)
        return written

    def choose_screenshot(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save screenshot", str(Path(self._folder("screenshot")) / "faces.png"), "PNG (*.png)"
        )
        if path:
            self.save_screenshot(path)

    @reports_errors
    def save_screenshot(self, path: str | Path) -> Path:
        path = Path(path).with_suffix(".png")
        self.session.check_output(path)
        self.views.save_screenshot(path)
        self._remember_folder("screenshot", path)
        self.statusBar().showMessage(f"wrote {path}", 8000)
        return path

    def choose_save_preset(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save face preset", str(Path(self._folder("preset")) / "face.json"), "presets (*.json)"
        )
        if path:
            self.save_preset(path)

    @reports_errors
    def save_preset(self, path: str | Path) -> Path:
        written = self.session.save_preset(path)
        self._remember_folder("preset", written)
        self.statusBar().showMessage(f"wrote {written}", 8000)
        return written

    def choose_load_preset(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load face preset", self._folder("preset"), "presets (*.json)")
        if path:
            self.load_preset(path)

    @reports_errors
    def load_preset(self, path: str | Path) -> None:
        self.session.load_preset(path)
        self._remember_folder("preset", path)
        self.statusBar().showMessage(f"loaded {path}", 10000)

    @reports_errors
    def apply_denoised(self) -> None:
        self.refresh_now()
        self.session.apply_denoised()

    def load_fitted_face(self) -> None:
        """A face from the fitted data; data not read yet is read off the GUI thread first."""
        if self.workspace.data_loaded:
            self._show_fitted_face()
        else:
            self._load(
                "the fitted data",
                functools.partial(open_data, self.workspace, self.workspace.data_path),
                then=self._show_fitted_face,
            )

    @reports_errors
    def _show_fitted_face(self) -> None:
        self.statusBar().showMessage(self.session.load_fitted_face(), 8000)

    def choose_study_face(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open study", self._folder("study"), "studies (*.db)")
        if not path:
            return
        face_id, chosen = QInputDialog.getInt(self, "Open study face", "face id:", 1, 1)
        if chosen:
            self.open_study_face(path, face_id)

    @reports_errors
    def open_study_face(self, study: str | Path, face_id: int) -> None:
        face = self.session.open_study_face(study, face_id)
        self._remember_folder("study", study)
        self.statusBar().showMessage(f"study face {face.face_id} ({face.condition}, {face.source}) from {study}", 10000)

    def show_network_information(self) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Information, "Denoising networks", self.session.network_information(), parent=self
        )
        box.open()

    # ---- errors and lifetime ---------------------------------------------------------------------
    def show_error(self, message: str) -> None:
        """A non-blocking dialog: the window keeps running underneath."""
        self.last_error = message
        self._show_message(f"error: {message}", 15000)
        if self._error_box is not None:
            self._error_box.close()
        self._error_box = QMessageBox(QMessageBox.Icon.Critical, APPLICATION, message, parent=self)
        self._error_box.setWindowModality(Qt.WindowModality.WindowModal)
        self._error_box.open()

    def show_notice(self, message: str) -> None:
        """A refused entry (a typo): said in the status bar, without a dialog that steals the focus."""
        self.last_error = message
        self._show_message(f"not taken: {message}", 15000)

    def _show_message(self, message: str, milliseconds: int) -> None:
        """A status-bar message, whole in the bar's tooltip where the bar cuts it short."""
        self.statusBar().showMessage(message, milliseconds)
        self.statusBar().setToolTip(message)

    @property
    def error_box(self) -> QMessageBox | None:
        return self._error_box

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        self.loader.shut_down()  # a load still running is waited for; its result is dropped
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.sync()
        for dialog in self.findChildren(QMessageBox):  # an open error or information box goes with its window
            dialog.close()
        self.plausibility.shut_down()
        self.views.close_views()
        super().closeEvent(event)


def run_explorer(args: argparse.Namespace) -> int:
    """Open the explorer on --model/--data/--checkpoints/--device and run until it is closed."""
    app = application()
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    workspace = Workspace(args.model, args.data, args.checkpoints, args.device or "auto")
    problem = None
    try:
        workspace.model  # noqa: B018 - load now so a bad file is reported, not crashed on
    except FaceExplorerError as failure:
        problem = str(failure)
        workspace = Workspace(None, None, args.checkpoints, args.device or "auto")
    window = ExplorerWindow(workspace)
    # Deleted by Qt inside the event loop when closed; left to Python's garbage collector, the
    # OpenGL widget could be torn down at an arbitrary later moment, with no context current.
    window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    window.show()
    if problem:
        window.show_error(f"{problem}\nThe embedded face model was opened instead.")
    return app.exec()
