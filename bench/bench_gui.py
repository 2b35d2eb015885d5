"""How the explorer copes with a flood of slider changes. Run: xvfb-run -a .venv/bin/python bench/bench_gui.py

Two runs of 100 changes of identity coefficient 0, each a key press posted to its slider through the Qt
event queue, as the window system delivers input (``run``): a burst and a paced run like a fast mouse
drag. Key steps on a slider are one gesture, like a drag: the views draw the draft faces until it ends.
For each run it prints the events, the frames rendered, the model updates (networks + synthesis +
normals), the median compute and render ms, the median ms from a change to the end of the first frame
that shows it, and the ms from the end of the gesture to the frame of the full faces. Beside these it
measures the physical limit of the same work in the same run (``BareRender``) and prints the dragging
median as a multiple of it. Uses the shipped checkpoints when present, otherwise tiny ones trained in a
temporary folder. ``--denoiser prior`` drags with the learned prior (shipped, default strength) making the
denoised face, as the explorer's Denoiser box does.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import pyvista
from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QSettings, Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

from app.denoising.checkpoint import KINDS, checkpoint_path
from app.denoising.checkpoint_folders import SHIPPED_CHECKPOINTS
from app.denoising.training import TrainingConfig, train_denoiser
from app.model.embedded_corpus import embedded_corpus
from app.model.embedded_model import embedded_model
from app.rendering.face_mesh import FaceMesh
from app.rendering.look import BACKGROUND, LIGHTING, add_face, look_at_bounds
from app.workspace import Workspace
from widgets.explorer import ExplorerWindow

EVENTS = 100


class Recorder:
    """Change → refresh → frame bookkeeping for one window."""

    def __init__(self, window: ExplorerWindow) -> None:
        self.change_times: list[float] = []
        self.latencies: list[float | None] = []
        self.compute_ms: list[float] = []
        self.render_ms: list[float] = []
        self.frames = 0
        self._covered = 0  # changes included in the last refresh
        self._shown = 0  # changes already on screen
        self._render_start = 0.0
        self._window = window
        self.gesture_end = 0.0
        self.full_frame_after_gesture: float | None = None
        window.state.subscribe(self._changed)
        window.state.subscribe_gestures(self._gesture)
        window.refreshed.connect(self._refreshed)
        window.views.frame_rendered.connect(self._frame)
        window.views.plotter.render_window.AddObserver("StartEvent", self._render_started)

    def reset(self) -> None:
        self.change_times.clear()
        self.latencies.clear()
        self.compute_ms.clear()
        self.render_ms.clear()
        self.frames = self._covered = self._shown = 0
        self.gesture_end, self.full_frame_after_gesture = 0.0, None

    def _gesture(self, active: bool) -> None:
        if not active:
            self.gesture_end = time.perf_counter()

    def _changed(self, _change: object) -> None:
        self.change_times.append(time.perf_counter())
        self.latencies.append(None)

    def _refreshed(self, compute_ms: float) -> None:
        # Emitted once the live face holds every change so far, before the frame that shows them is drawn.
        self.compute_ms.append(compute_ms)
        self._covered = len(self.change_times)

    def _render_started(self, *_: object) -> None:
        self._render_start = time.perf_counter()

    def _frame(self, end: float) -> None:
        self.frames += 1
        self.render_ms.append((end - self._render_start) * 1000.0)
        for index in range(self._shown, self._covered):
            self.latencies[index] = (end - self.change_times[index]) * 1000.0
        self._shown = self._covered
        if self.gesture_end and self.full_frame_after_gesture is None and not self._window.live.showing_draft:
            self.full_frame_after_gesture = (end - self.gesture_end) * 1000.0

    def done(self) -> bool:
        return len(self.latencies) == EVENTS and all(value is not None for value in self.latencies)


def wait(app: QApplication, condition, timeout_s: float = 60.0) -> None:
    """Run the event loop as ``exec()`` does (sleeping only while no event is pending) until ``condition()``.

    A heartbeat timer wakes the loop to check the deadline even when the window has nothing to do.
    """
    deadline = time.perf_counter() + timeout_s
    heartbeat = QTimer()
    heartbeat.start(20)
    try:
        while not condition():
            if time.perf_counter() > deadline:
                raise TimeoutError("the window did not catch up")
            app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
    finally:
        heartbeat.stop()


def press(slider, key: Qt.Key) -> None:
    QCoreApplication.postEvent(slider, QKeyEvent(QEvent.Type.KeyPress, key, Qt.KeyboardModifier.NoModifier))


def run(app: QApplication, window: ExplorerWindow, recorder: Recorder, interval_ms: int | None) -> tuple[float, str]:
    """One run of ``EVENTS`` key presses: a burst, or one due every ``interval_ms``.

    Without ``interval_ms`` all are posted at once ("as fast as possible"); with it (4 ms: a fast mouse
    drag, 250 events/s) the events that fall due while the GUI thread is busy are posted together, as
    the window system queues them.
    """
    slider = window.coefficient_panel.row("shape", 0).slider
    slider.setPageStep(10)  # 100 page steps cross the whole slider
    slider.setValue(slider.minimum())
    wait(app, lambda: not window.live.stale)
    app.processEvents()
    recorder.reset()
    if interval_ms is None:
        for _ in range(EVENTS):
            press(slider, Qt.Key.Key_PageUp)
    else:
        sent = [0]
        start = time.perf_counter()
        timer = QTimer()
        timer.setInterval(1)

        def send() -> None:
            # Input that arrived while the GUI thread was busy (rendering) is delivered in one go,
            # as the window system queues it: post every event that is due by now.
            due = min(EVENTS, int((time.perf_counter() - start) * 1000.0 / interval_ms) + 1)
            while sent[0] < due:
                press(slider, Qt.Key.Key_PageUp)
                sent[0] += 1
            if sent[0] == EVENTS:
                timer.stop()

        timer.timeout.connect(send)
        timer.start()
    wait(app, recorder.done)
    wait(app, lambda: recorder.full_frame_after_gesture is not None)
    name = "burst" if interval_ms is None else f"paced ({interval_ms} ms apart)"
    median = statistics.median(recorder.latencies)
    return median, (
        f"{name:<22} events {len(recorder.change_times):>3}  frames rendered {recorder.frames:>3}  "
        f"model updates {len(recorder.compute_ms):>3}  "
        f"median compute {statistics.median(recorder.compute_ms):6.1f} ms  "
        f"median render {statistics.median(recorder.render_ms):6.1f} ms  "
        f"median change→frame {median:6.1f} ms  gesture end→full frame {recorder.full_frame_after_gesture:6.1f} ms"
    )


class BareRender:
    """An off-screen render of the window's two full faces (same size and look, framed), nothing else.

    Each render follows a new face, as a slider step makes: the points move and the points and
    normals are marked modified, so VTK uploads them again. Measured between the dragging runs,
    so both see the same load on a shared machine.
    """

    def __init__(self, window: ExplorerWindow) -> None:
        live, views = window.live, window.views
        width, height = views.plotter.render_window.GetSize()
        self.plotter = pyvista.Plotter(
            off_screen=True, shape=(1, 2), border=False, window_size=(width, height), lighting=LIGHTING
        )
        self.plotter.render_window.SetMultiSamples(0)
        self.plotter.set_background(BACKGROUND)
        self.plotter.link_views()
        self.meshes = []
        for column, (vertices, normals) in enumerate(
            ((live.input_vertices, live.input_normals), (live.denoised_vertices, live.denoised_normals))
        ):
            self.plotter.subplot(0, column)
            mesh = FaceMesh(live.model.triangles, vertices.copy(), normals.copy())
            add_face(self.plotter, mesh, live.model.triangle_parts)
            self.meshes.append(mesh)
        bounds = np.array([mesh.polydata.bounds for mesh in self.meshes]).reshape(-1, 3, 2)
        look_at_bounds(
            self.plotter.renderers[0], np.stack([bounds[:, :, 0].min(axis=0), bounds[:, :, 1].max(axis=0)], axis=1)
        )
        self.plotter.render_window.Render()
        self.times: list[float] = []

    def measure(self, repeats: int = 10) -> None:
        for step in range(repeats):
            for mesh in self.meshes:
                mesh.vertices[:, 0] += np.float32(1.0 if step % 2 else -1.0)
                mesh.modified()
            start = time.perf_counter()
            self.plotter.render_window.Render()
            self.times.append((time.perf_counter() - start) * 1000.0)

    def close(self) -> None:
        self.plotter.close()


def checkpoints_folder(temp: Path) -> Path:
    if all(checkpoint_path(SHIPPED_CHECKPOINTS, kind).is_file() for kind in KINDS):
        return SHIPPED_CHECKPOINTS
    data = embedded_corpus(200)
    for kind in KINDS:
        config = TrainingConfig.paper(kind, epochs=1, copies=2, test_faces=20, device="cpu")
        train_denoiser(
            data,
            config,
            embedded_model().provenance,
            checkpoint_path(temp, kind),
            show_progress=False,
            log=lambda _: None,
        )
    return temp


def open_explorer(app: QApplication, temp: Path, size: str, device: str) -> ExplorerWindow:
    """The explorer on the shipped networks (else quick ones trained in ``temp``), shown at ``size``
    ("WxH") with its settings in ``temp``, once it has drawn its first frame."""
    window = ExplorerWindow(
        Workspace(checkpoints=checkpoints_folder(temp), device=device),
        QSettings(str(temp / "settings.ini"), QSettings.Format.IniFormat),
    )
    width, height = (int(v) for v in size.split("x"))
    window.resize(width, height)
    window.show()
    wait(app, lambda: window.views.frames > 0)
    return window


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--size", default="1500x900", help="window size WxH")
    parser.add_argument("--rounds", type=int, default=3, help="repeat each run this many times")
    parser.add_argument(
        "--denoiser",
        choices=["networks", "prior"],
        default="networks",
        help="what makes the denoised face while dragging: the paper's networks or the learned prior at its default",
    )
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as temp:
        window = open_explorer(app, Path(temp), args.size, args.device)
        if args.denoiser == "prior":
            panel = window.denoiser_panel
            wait(app, lambda: panel.method_box.isEnabled())  # the prior is read on a worker thread
            panel.method_box.setCurrentIndex(panel.method_box.findData("prior"))
            wait(app, lambda: "learned prior" in window.live.denoised_label)
        recorder = Recorder(window)
        print(
            f"explorer benchmark: {window.workspace.describe_model()}, {window.workspace.model.n_vertices:,} vertices, "
            f"{window.device_label.text()}, window {args.size}, "
            f"{'software' if window.views.software_gl else 'hardware'} GL, checkpoints {window.workspace.checkpoints}, "
            f"denoised by {window.live.denoised_label}"
        )
        dragging = []
        bare = BareRender(window)
        try:
            for interval in (None, 4):
                for _ in range(args.rounds):
                    median, line = run(app, window, recorder, interval)
                    print(line)
                    if interval is not None:
                        dragging.append(median)
                        bare.measure()
            bare_ms, drag_ms = statistics.median(bare.times), statistics.median(dragging)
        finally:
            bare.close()
        print(
            f"bare off-screen render of the same two full meshes (between the paced runs): {bare_ms:.1f} ms; "
            f"dragging median change→frame {drag_ms:.1f} ms = {drag_ms / bare_ms:.2f}× that (target ≤ 1.5×)"
        )
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
