"""The explorer window: two face views, the sampling and coefficient panels, menus and status bar.

The window wires things together and nothing more: panels change the ``FaceState``; a
``LiveFace`` follows it (the input face incrementally, per event); a zero-delay single-shot
timer coalesces any burst of changes into one ``LiveFace.refresh()`` (networks, synthesis,
normals) for the latest state only, after which the views are marked modified and one paint
is scheduled. Slider events arriving during a slow software-GL frame therefore cost a few
microseconds each and never queue stale work.

Every ``FaceExplorerError`` raised by an action is shown in a dialog; the window keeps running.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.dataset.face_export import ExportedFace, export_faces
from app.denoising.checkpoint import describe_training
from app.denoising.devices import describe
from app.errors import FaceExplorerError
from app.explorer.face_preset import apply_preset, load_preset, save_preset
from app.explorer.face_state import FaceChange, FaceState
from app.explorer.live_face import LiveFace
from app.model.provenance import SHORT_DIGEST
from app.study.database import RatingsDatabase
from app.workspace import Workspace
from widgets.application import application
from widgets.coefficient_panel import CoefficientPanel
from widgets.export_dialog import ExportDialog, ExportRequest
from widgets.face_views import FaceViews
from widgets.rater_window import open_rater_mode
from widgets.sampling_panel import SamplingPanel

ORGANISATION = "FaceManifoldExplorer"
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
    refreshed = Signal(float)  # compute milliseconds of the refresh that just finished

    def __init__(self, workspace: Workspace, settings: QSettings | None = None) -> None:
        super().__init__()
        self.settings = settings if settings is not None else user_settings()
        self.workspace = workspace
        self.last_error = ""
        self._error_box: QMessageBox | None = None
        self.state: FaceState | None = None
        self.live: LiveFace | None = None
        self.coefficient_panel: CoefficientPanel | None = None
        self.sampling_panel: SamplingPanel | None = None

        self.views = FaceViews()
        self.side = QWidget()
        self.side_layout = QVBoxLayout(self.side)
        self.side_layout.setContentsMargins(4, 0, 4, 0)
        self.side.setMinimumWidth(490)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.views)
        splitter.addWidget(self.side)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 0)
        splitter.setSizes([1000, 500])
        self.setCentralWidget(splitter)

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(0)
        self._refresh_timer.timeout.connect(self._refresh)

        self.model_label, self.vertices_label, self.device_label, self.compute_label = (QLabel() for _ in range(4))
        for label in (self.model_label, self.vertices_label, self.device_label, self.compute_label):
            self.statusBar().addPermanentWidget(label)
        self._build_menus()
        self._install_model(workspace)
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1500, 900)

    # ---- setting up a model -------------------------------------------------------------------
    def _install_model(self, workspace: Workspace) -> None:
        """(Re)build everything that depends on the model: state, live face, panels, meshes."""
        self.workspace = workspace
        model = workspace.model
        old_state = self.state
        self.state = FaceState(model, old_state.settings if old_state is not None else None)
        self.state.subscribe(self._face_changed)
        for panel in (self.sampling_panel, self.coefficient_panel):
            if panel is not None:
                panel.setParent(None)
                panel.deleteLater()
        self.sampling_panel = SamplingPanel(self.state)
        self.coefficient_panel = CoefficientPanel(self.state)
        self.coefficient_panel.entry_refused.connect(self.show_notice)
        self.side_layout.addWidget(self.sampling_panel)
        self.side_layout.addWidget(self.coefficient_panel, 1)
        self.setWindowTitle(f"{APPLICATION} — {workspace.describe_model()}")
        self.model_label.setText(f"model: {workspace.describe_model()}")
        self.vertices_label.setText(f"{model.n_vertices:,} vertices")
        self._install_denoiser(self._load_denoiser(workspace))

    def _load_denoiser(self, workspace: Workspace) -> Any:
        """The workspace's denoiser, or None (with a dialog) when its checkpoints cannot be used."""
        try:
            denoiser = workspace.denoiser
        except FaceExplorerError as problem:
            self.show_error(f"The denoising networks are not available: {problem}")
            return None
        mismatch = denoiser.model_mismatch(workspace.model)
        if mismatch:
            self.statusBar().showMessage(f"warning: {mismatch}", 15000)
        return denoiser

    def _install_denoiser(self, denoiser: Any) -> None:
        if self.live is not None:
            self.live.close()
        self.live = LiveFace(self.state, denoiser)
        note = "" if denoiser is not None else ": no networks, showing the input"
        self.views.show_face(self.live, note)
        self.device_label.setText(f"device: {describe(denoiser.device)}" if denoiser is not None else "device: none")
        self._after_refresh()

    # ---- the update loop ----------------------------------------------------------------------
    def _face_changed(self, _change: FaceChange) -> None:
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def _refresh(self) -> None:
        if self.live is None:
            return
        try:
            changed = self.live.refresh()
        except FaceExplorerError as problem:
            # The live arrays still hold the last good face; its coefficients go back on the sliders.
            self.live.return_to_last_good_face()
            self.show_error(f"This face cannot be shown, the previous one is kept: {problem}")
            changed = True
        if changed:
            self._after_refresh()

    def _after_refresh(self) -> None:
        self.views.refresh()
        self.coefficient_panel.set_denoised(self.live.denoised_id, self.live.denoised_exp)
        self.compute_label.setText(f"update: {self.live.last_compute_ms:.1f} ms")
        self.refreshed.emit(self.live.last_compute_ms)

    def refresh_now(self) -> None:
        """Run a pending refresh immediately (exports and 'apply denoised' need current results)."""
        self._refresh_timer.stop()
        self._refresh()

    # ---- menus ------------------------------------------------------------------------------------
    def _action(self, menu: Any, text: str, slot: Callable[[], Any], shortcut: str | None = None, tip: str = "") -> QAction:
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
        self._action(file_menu, "Open &model…", self.choose_model, "Ctrl+O", "BFM.mat, Model_Shape.mat or model .npz")
        self._action(file_menu, "Open fitted data &folder…", lambda: self.choose_data(folder=True))
        self._action(file_menu, "Open fitted data .&npz…", lambda: self.choose_data(folder=False))
        self._action(file_menu, "Open &checkpoints folder…", self.choose_checkpoints, tip="a folder with shape.pt and expression.pt")
        self._action(file_menu, "Use the &embedded model", lambda: self.open_workspace(Workspace(device=self.workspace.device)))
        file_menu.addSeparator()
        self._action(file_menu, "&Export faces…", self.choose_export, "Ctrl+E", "input, denoised or both as OBJ/PLY with coefficients")
        self._action(file_menu, "Save &screenshot…", self.choose_screenshot, "Ctrl+P", "both views as a PNG")
        file_menu.addSeparator()
        self._action(file_menu, "Save face &preset…", self.choose_save_preset, "Ctrl+S")
        self._action(file_menu, "&Load face preset…", self.choose_load_preset, "Ctrl+L")
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, "Ctrl+Q")

        face_menu = bar.addMenu("F&ace")
        self._action(face_menu, "Sample &shape", lambda: self.state.sample("shape"), "Ctrl+1")
        self._action(face_menu, "Sample &expression", lambda: self.state.sample("expression"), "Ctrl+2")
        self._action(face_menu, "Sample &both", lambda: self.state.sample("both"), "Ctrl+3")
        self._action(face_menu, "&Mean face", lambda: self.state.reset(), "Ctrl+0")
        self._action(face_menu, "&Reset all coefficients", lambda: self.state.reset(), "Ctrl+R")
        face_menu.addSeparator()
        self._action(face_menu, "&Apply denoised", self.apply_denoised, "Ctrl+D", "copy the denoised coefficients into the input")
        self._action(face_menu, "Random &fitted face from the data", self.load_fitted_face, "Ctrl+F",
                     "a clean face from the fitted-parameter data (the seed picks it)")
        self._action(face_menu, "Open study face by &id…", self.choose_study_face,
                     tip="inspect a face of a rater study (ids as listed by rate-report)")

        view_menu = bar.addMenu("&View")
        self._action(view_menu, "&Front", self.views.view_front, "F")
        self._action(view_menu, "&Side", self.views.view_side, "S")
        self._action(view_menu, "&Reset view", self.views.reset_view, "Home")
        self._action(view_menu, "Displacement &heat map", self.views.toggle_heat_map, "H")
        self._action(view_menu, "Show &denoised coefficients", lambda: self.coefficient_panel.toggle_denoised(), "D")
        self._action(view_menu, "Find &coefficient", lambda: self.coefficient_panel.focus_filter(), "Ctrl+K")

        # Tools that open their own windows (rater mode, …) are added to this menu.
        self.tools_menu = bar.addMenu("&Tools")
        self._action(self.tools_menu, "Network &information", self.show_network_information)
        self._action(self.tools_menu, "&Rater mode…", lambda: open_rater_mode(self, self.workspace.model),
                     tip="judge the faces of a reliability study (make one with `python main.py rate-study`)")

    # ---- actions -------------------------------------------------------------------------------------
    def _folder(self, key: str) -> str:
        return str(self.settings.value(f"folders/{key}", str(Path.home())))

    def _remember_folder(self, key: str, path: str | Path) -> None:
        path = Path(path)
        self.settings.setValue(f"folders/{key}", str(path if path.is_dir() else path.parent))

    @reports_errors
    def open_workspace(self, workspace: Workspace) -> None:
        """Switch to another model (loaded here, so a bad file leaves the current one in place)."""
        workspace.model  # noqa: B018 - loading raises the user-facing error before anything changes
        self._install_model(workspace)
        self.statusBar().showMessage(f"opened {workspace.describe_model()}", 8000)

    def choose_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open face model", self._folder("model"), "models (*.mat *.npz)")
        if path:
            self._remember_folder("model", path)
            self.open_workspace(Workspace(path, None, self.workspace.checkpoints, self.workspace.device))

    def choose_data(self, folder: bool) -> None:
        if folder:
            path = QFileDialog.getExistingDirectory(self, "Open fitted-parameter folder", self._folder("data"))
        else:
            path, _ = QFileDialog.getOpenFileName(self, "Open fitted parameters", self._folder("data"), "tables (*.npz)")
        if path:
            self._remember_folder("data", path)
            self.open_data(path)

    @reports_errors
    def open_data(self, path: str | Path) -> None:
        workspace = self._workspace_with(data_path=path)
        data = workspace.data
        self.workspace = workspace
        self.statusBar().showMessage(f"data: {data.source}: {len(data):,} faces", 8000)

    def choose_checkpoints(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open checkpoints folder", self._folder("checkpoints"))
        if path:
            self._remember_folder("checkpoints", path)
            self.open_checkpoints(path)

    @reports_errors
    def open_checkpoints(self, folder: str | Path) -> None:
        workspace = self._workspace_with(checkpoints=folder)
        denoiser = workspace.denoiser  # raises before anything changes
        self.workspace = workspace
        self._install_denoiser(denoiser)
        self.statusBar().showMessage(f"checkpoints: {folder}", 8000)

    def _workspace_with(self, **changes: Any) -> Workspace:
        """A copy of the workspace with other data or checkpoints, keeping the loaded model."""
        current = self.workspace
        values = {"model_path": current.model_path, "data_path": current.data_path,
                  "checkpoints": current.checkpoints, "device": current.device, **changes}
        workspace = Workspace(**values)
        workspace.__dict__["model"] = current.model  # cached_property: reuse, do not reload
        return workspace

    def choose_export(self) -> None:
        dialog = ExportDialog(self._folder("export"), self)
        if dialog.exec():
            self.export_faces(dialog.request())

    @reports_errors
    def export_faces(self, request: ExportRequest) -> list[Path]:
        self.refresh_now()
        live = self.live
        faces = {
            "input": ExportedFace("input", live.input_vertices, self.state.alpha_id, self.state.alpha_exp),
            "denoised": ExportedFace("denoised", live.denoised_vertices, live.denoised_id, live.denoised_exp),
        }
        chosen = list(faces.values()) if request.which == "both" else [faces[request.which]]
        written = export_faces(
            request.path, chosen, self.workspace.model.triangles, binary=request.binary,
            coefficient_format=request.coefficient_format,
            **self.workspace.model.provenance.to_record(), sampling=self.state.settings.to_dict(),
        )
        self._remember_folder("export", request.path)
        self.statusBar().showMessage("wrote " + ", ".join(p.name for p in written), 10000)
        return written

    def choose_screenshot(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save screenshot", str(Path(self._folder("screenshot")) / "faces.png"), "PNG (*.png)")
        if path:
            self.save_screenshot(path)

    @reports_errors
    def save_screenshot(self, path: str | Path) -> Path:
        path = Path(path).with_suffix(".png")
        self.views.save_screenshot(path)
        self._remember_folder("screenshot", path)
        self.statusBar().showMessage(f"wrote {path}", 8000)
        return path

    def choose_save_preset(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save face preset", str(Path(self._folder("preset")) / "face.json"), "presets (*.json)")
        if path:
            self.save_preset(path)

    @reports_errors
    def save_preset(self, path: str | Path) -> Path:
        written = save_preset(path, self.state)
        self._remember_folder("preset", written)
        self.statusBar().showMessage(f"wrote {written}", 8000)
        return written

    def choose_load_preset(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load face preset", self._folder("preset"), "presets (*.json)")
        if path:
            self.load_preset(path)

    @reports_errors
    def load_preset(self, path: str | Path) -> None:
        model = self.workspace.model
        preset = load_preset(path, model.n_id, model.n_exp)
        apply_preset(self.state, preset, str(path))
        self._remember_folder("preset", path)
        self.statusBar().showMessage(f"loaded {path}", 10000)

    @reports_errors
    def apply_denoised(self) -> None:
        self.refresh_now()
        if self.live.denoiser is None:
            raise FaceExplorerError("no denoising networks are loaded (File → Open checkpoints folder)")
        self.state.set_face(self.live.denoised_id, self.live.denoised_exp)

    @reports_errors
    def load_fitted_face(self) -> None:
        data = self.workspace.data
        settings = self.state.settings
        row = int(np.random.default_rng(settings.seed).integers(len(data)))
        self.state.set_face(data.shape[row], data.expression[row])
        self.state.update_settings(seed=settings.seed + 1)
        self.statusBar().showMessage(f"fitted face {data.face_ids[row]} from {data.source}", 8000)

    def choose_study_face(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open study", self._folder("study"), "studies (*.db)")
        if not path:
            return
        face_id, chosen = QInputDialog.getInt(self, "Open study face", "face id:", 1, 1)
        if chosen:
            self.open_study_face(path, face_id)

    @reports_errors
    def open_study_face(self, study: str | Path, face_id: int) -> None:
        with RatingsDatabase.open(study) as database:
            database.require_model(self.workspace.model.provenance)
            face = database.face(face_id)
        self.state.set_face(face.alpha_id, face.alpha_exp, f"{study}: face {face.face_id}")
        self._remember_folder("study", study)
        self.statusBar().showMessage(f"study face {face.face_id} ({face.condition}, {face.source}) from {study}", 10000)

    def show_network_information(self) -> None:
        denoiser = self.live.denoiser
        if denoiser is None:
            text = "No denoising networks are loaded."
        else:
            lines = [f"checkpoints: {self.workspace.checkpoints}", f"device: {describe(denoiser.device)}"]
            for kind, meta in denoiser.metadata.items():
                lines.append(f"{kind}: {describe_training(meta)}; sha256 {denoiser.digests[kind][:SHORT_DIGEST]}")
            text = "\n".join(lines)
        box = QMessageBox(QMessageBox.Icon.Information, "Denoising networks", text, parent=self)
        box.open()

    # ---- errors and lifetime ---------------------------------------------------------------------
    def show_error(self, message: str) -> None:
        """A non-blocking dialog: the window keeps running underneath."""
        self.last_error = message
        self.statusBar().showMessage(f"error: {message}", 15000)
        if self._error_box is not None:
            self._error_box.close()
        self._error_box = QMessageBox(QMessageBox.Icon.Critical, APPLICATION, message, parent=self)
        self._error_box.setWindowModality(Qt.WindowModality.WindowModal)
        self._error_box.open()

    def show_notice(self, message: str) -> None:
        """A refused entry (a typo): said in the status bar, without a dialog that steals the focus."""
        self.last_error = message
        self.statusBar().showMessage(f"not taken: {message}", 15000)

    @property
    def error_box(self) -> QMessageBox | None:
        return self._error_box

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.sync()
        for dialog in self.findChildren(QMessageBox):  # an open error or information box goes with its window
            dialog.close()
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
