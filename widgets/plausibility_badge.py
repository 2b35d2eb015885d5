"""Two small badges under the views: how plausible the input face and the denoised face are.

The numbers come from ``app.explorer.plausibility_readout``. The calibration (held-out real
faces' distances and mesh limits, a few seconds of work) runs on a worker thread for each
workspace the session holds (a new model, data or networks folder is a new workspace); until it
is ready the badges say so. It starts a second after the workspace arrives, so opening the
explorer is not slowed by it, and a window closed at once has no calibration to wait for. A face
is judged once it has been still for a moment, on a worker thread (the prior's likelihood of an
identity takes a tenth of a second), so a slider drag never waits for it.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from app.errors import FaceExplorerError
from app.evaluation.plausibility import PlausibilityCalibration
from app.explorer.live_face import LiveFace
from app.explorer.plausibility_readout import FaceVerdict, PlausibilityReadout, live_faces
from app.explorer.session import ExplorerSession
from app.model.morphable_model import CoefficientKind
from app.workspace import Workspace
from widgets.background_loader import BackgroundLoader

SETTLE_MS = 150  # judge the face this long after the last change
CALIBRATION_DELAY_MS = 1000
PLAUSIBLE_STYLE = "background: #1f5130; color: #e8f5e9;"
IMPLAUSIBLE_STYLE = "background: #6b2323; color: #fdecea;"
WAITING_STYLE = "background: #33363c; color: #c8c8c8;"
# Rich text: Qt wraps a rich-text tooltip, a plain one is one line as wide as the screen.
MESH_EXPLANATION = (
    "<p>The mesh check measures how much the face's edges stretch against the mean face and how many "
    "triangles fold over, against the most that real faces reach.</p>"
)


def explanation(rankings: Mapping[CoefficientKind, str]) -> str:
    """What the badge measures, naming what ranks each part (the prior's likelihood or the corpus distance)."""
    by = "; ".join(f"the {'identity' if kind == 'shape' else kind} by {ranking}" for kind, ranking in rankings.items())
    return (
        "<p>How far this face is from real ones. Its identity and its expression are each ranked among "
        f"held-out real faces ({by}): a part farther out than 99 % of real faces is unlike them. A face "
        "can look realistic and still be unlike real ones: normal sampling draws every coefficient on its "
        f"own, while in real faces the coefficients move together.</p>{MESH_EXPLANATION}"
    )


class CalibrationAbandoned(Exception):  # noqa: N818 - not an error: a calibration nobody waits for any more
    """Raised on the worker to stop a superseded calibration; the loader drops its result."""


class PlausibilityBadges(QWidget):
    """One badge per view (input left, denoised right), following the live face."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.badges = {"input": QLabel(), "denoised": QLabel()}
        for badge in self.badges.values():
            badge.setWordWrap(True)
            badge.setContentsMargins(6, 2, 6, 2)
            # Room for a verdict's two lines from the start: a growing badge would move the views.
            badge.setFixedHeight(5 * badge.fontMetrics().lineSpacing() + 4)
            layout.addWidget(badge, 1)
        self.readout: PlausibilityReadout | None = None
        self.verdicts: tuple[FaceVerdict, FaceVerdict] | None = None
        self._workspace: Workspace | None = None  # the one calibrated (or being calibrated) for
        self._generation = 0  # of the calibration wanted now
        self._live: LiveFace | None = None
        self._calibrator = BackgroundLoader(self)
        self._judge_worker = BackgroundLoader(self)
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._judge)
        self._calibration_timer = QTimer(self)
        self._calibration_timer.setSingleShot(True)
        self._calibration_timer.setInterval(CALIBRATION_DELAY_MS)
        self._calibration_timer.timeout.connect(self._start_calibration)
        self._show_waiting("calibrating on held-out real faces …")

    def face_changed(self, session: ExplorerSession) -> None:
        """The session shows a new face, or holds a new workspace: judge the face once it stays."""
        if session.workspace is not self._workspace:
            self._workspace, self.readout = session.workspace, None
            self._show_waiting("calibrating on held-out real faces …")
            self._calibration_timer.start()
        self._live = session.live
        self._settle.start()

    def _start_calibration(self) -> None:
        """Measure the calibration for the latest workspace off the GUI thread (a later one supersedes)."""
        workspace = self._workspace
        assert workspace is not None  # face_changed sets it before it starts the calibration timer
        self._generation += 1
        generation = self._generation

        def step() -> None:  # on the worker: a calibration no longer wanted stops at its next step
            if self._generation != generation:
                raise CalibrationAbandoned

        self._calibrator.start(
            lambda: PlausibilityCalibration.from_workspace(workspace, step=step), self._calibrated, self._not_calibrated
        )

    def shut_down(self) -> None:
        """Stop judging; a calibration under way stops at its next step (its result is dropped)."""
        self._settle.stop()
        self._calibration_timer.stop()
        self._generation += 1
        self._calibrator.shut_down()
        self._judge_worker.shut_down()

    def _calibrated(self, calibration: PlausibilityCalibration) -> None:
        self.readout = PlausibilityReadout(calibration)
        self._judge()

    def _not_calibrated(self, problem: FaceExplorerError) -> None:
        self._show_waiting(f"no plausibility readout: {problem}")

    def _judge(self) -> None:
        if self.readout is None or self._live is None:
            return
        faces = live_faces(self._live)
        if faces is None:  # a drag's draft faces: the full refresh at its end judges again
            return
        readout = self.readout
        # A later face or calibration starts another judgement, which voids this one's result.
        self._judge_worker.start(
            lambda: readout.judge_faces(faces), lambda verdicts: self._show(readout, verdicts), self._not_calibrated
        )

    def _show(self, readout: PlausibilityReadout, verdicts: tuple[FaceVerdict, FaceVerdict]) -> None:
        if readout is not self.readout:  # judged with a calibration replaced since
            return
        self.verdicts = verdicts
        for (name, badge), verdict in zip(self.badges.items(), self.verdicts, strict=True):
            badge.setText(f"<b>{name}: {verdict.headline()}</b><br><small>{verdict.details()}</small>")
            badge.setStyleSheet(PLAUSIBLE_STYLE if verdict.plausible else IMPLAUSIBLE_STYLE)
            badge.setToolTip(
                f"<p><b>{verdict.headline()}</b><br>{verdict.details()}</p>{explanation(readout.rankings)}"
            )

    def _show_waiting(self, text: str) -> None:
        self.verdicts = None
        for name, badge in self.badges.items():
            badge.setText(f"<b>{name}</b>: {text}")
            badge.setStyleSheet(WAITING_STYLE)
            badge.setToolTip(text)
