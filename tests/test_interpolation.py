"""Interpolation between two faces: linear in the coefficients, optionally denoised, exported."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QCoreApplication

from app.dataset.mesh_files import export_mesh
from app.denoising.denoiser import Denoiser
from app.errors import FaceExplorerError
from app.evaluation.plausibility import PlausibilityCalibration
from app.explorer.denoising_choice import PRIOR_SEED, DenoisingChoice
from app.explorer.face_preset import save_preset
from app.explorer.face_state import FaceState
from app.explorer.gallery import GAP_COLOUR, ThumbnailRenderer
from app.explorer.history import FaceHistory
from app.explorer.image_captions import CAPTION_HEIGHT, caption_band
from app.explorer.interpolation import (
    FaceEndpoint,
    Interpolation,
    captioned_strip,
    current_face,
    denoised_face,
    history_face,
    prepare_walk_export,
    preset_face,
    step_times,
)
from app.explorer.live_face import LiveFace
from app.explorer.plausibility_readout import FaceVerdict, PlausibilityReadout
from app.model.embedded_model import embedded_model
from app.model.sampling import sample_coefficients
from app.model.sampling_settings import SamplingSettings
from app.prior.learned_prior import DEFAULT_STRENGTH, seeded_generator
from app.workspace import Workspace
from widgets.interpolation_panel import show_interpolation


@pytest.fixture(scope="module")
def denoiser(shipped_workspace: Workspace) -> Denoiser:
    return shipped_workspace.denoiser


def endpoints(seed: int) -> tuple[FaceEndpoint, FaceEndpoint]:
    model = embedded_model()
    rng = np.random.default_rng(seed)
    faces = [
        FaceEndpoint(
            name,
            sample_coefficients(model, "shape", "normal", 1, rng)[0],
            sample_coefficients(model, "expression", "normal", 1, rng)[0],
            model,
        )
        for name in ("A", "B")
    ]
    return faces[0], faces[1]


def test_the_walk_is_linear_in_the_coefficients_and_ends_at_the_two_faces() -> None:
    model = embedded_model()
    start, end = endpoints(0)
    walk = Interpolation(model, start, end)
    np.testing.assert_array_equal(walk.at(0.0)[0], start.alpha_id)
    np.testing.assert_array_equal(walk.at(1.0)[1], end.alpha_exp)
    middle_id, middle_exp = walk.at(0.25)
    np.testing.assert_allclose(middle_id, 0.75 * start.alpha_id + 0.25 * end.alpha_id)
    np.testing.assert_allclose(middle_exp, 0.75 * start.alpha_exp + 0.25 * end.alpha_exp)
    for t in (-0.1, 1.5, float("nan")):
        with pytest.raises(FaceExplorerError, match=r"\[0, 1\]"):
            walk.at(t)
    with pytest.raises(FaceExplorerError, match="A"):  # an endpoint of the wrong size is named
        Interpolation(model, FaceEndpoint("A", np.zeros(5), start.alpha_exp, model), end)
    other = replace(model, name="another model")
    with pytest.raises(FaceExplorerError, match="choose the ends of the walk again"):
        Interpolation(other, start, end)
    for steps in (1, 201):
        with pytest.raises(FaceExplorerError, match="2 to 200 steps"):
            step_times(steps)


def test_denoised_steps_are_the_networks_output_of_each_linear_step(denoiser: Denoiser) -> None:
    model = embedded_model()
    start, end = endpoints(1)
    plain = Interpolation(model, start, end)
    denoised = Interpolation(model, start, end, denoiser.denoise_face, denoise_steps=True)
    raw_id, raw_exp = plain.at(0.6)
    walked_id, walked_exp = denoised.at(0.6)
    np.testing.assert_array_equal(walked_id, denoiser.denoise("shape", raw_id))  # each step alone, as the explorer
    np.testing.assert_array_equal(walked_exp, denoiser.denoise("expression", raw_exp))
    assert not np.allclose(walked_id, raw_id)
    times = step_times(5)
    steps_id, _ = denoised.faces(times)
    before = denoiser.denoise(
        "shape", plain.faces(times)[0]
    )  # all steps in one batch, as the walk denoised them before
    np.testing.assert_allclose(steps_id, before, atol=1e-5 * np.abs(before).max())  # float32: the last bits differ
    with pytest.raises(FaceExplorerError, match="needs a denoising method"):
        Interpolation(model, start, end, None, denoise_steps=True)


def test_export_writes_meshes_coefficients_a_strip_and_a_gif(tmp_path: Path) -> None:
    model = embedded_model()
    start, end = endpoints(2)
    walk = Interpolation(model, start, end)
    renderer = ThumbnailRenderer(model, size=48)
    try:
        written = prepare_walk_export(tmp_path / "walk", walk, 3, renderer, digest="abc").write()
        with pytest.raises(FaceExplorerError, match="mesh format"):
            prepare_walk_export(tmp_path / "refused", walk, 3, renderer, mesh_suffix=".stl").write()
        with pytest.raises(FaceExplorerError, match="already holds files"):
            prepare_walk_export(tmp_path / "walk", walk, 3, renderer).write()
    finally:
        renderer.close()
    assert not (tmp_path / "refused").exists()  # refused before anything was written
    names = sorted(path.name for path in written)
    assert names == [
        "interpolation.gif",
        "step_000.json",
        "step_000.ply",
        "step_001.json",
        "step_001.ply",
        "step_002.json",
        "step_002.ply",
        "strip.png",
    ]
    middle = json.loads((tmp_path / "walk" / "step_001.json").read_text())
    assert middle["t"] == 0.5 and middle["start"] == "A" and middle["end"] == "B" and middle["digest"] == "abc"
    assert middle["denoised"] is False and "denoised_by" not in middle
    np.testing.assert_allclose(middle["alpha_id"], walk.at(0.5)[0])
    expected_mesh = export_mesh(tmp_path / "expected.ply", model.synthesize(*walk.at(0.5)), model.triangles, unit="mm")
    assert (tmp_path / "walk" / "step_001.ply").read_bytes() == expected_mesh.read_bytes()
    with Image.open(tmp_path / "walk" / "strip.png") as picture:
        assert picture.size == (3 * 48 + 2 * 2, 3 * CAPTION_HEIGHT + 48)  # the two ends above, t under each step
    with Image.open(tmp_path / "walk" / "interpolation.gif") as gif:
        assert gif.n_frames == 4  # 0, 1, 2 and back through 1


def test_an_export_with_a_readout_records_each_step_s_plausibility(
    tmp_path: Path, shipped_workspace: Workspace
) -> None:
    model = shipped_workspace.model
    readout = PlausibilityReadout(PlausibilityCalibration.from_workspace(shipped_workspace, mesh_faces=20))
    start, end = endpoints(4)
    walk = Interpolation(model, start, end)
    renderer = ThumbnailRenderer(model, size=32)
    try:
        prepare_walk_export(tmp_path / "walk", walk, 2, renderer, readout=readout).write()
        other = replace(model, name="another model")
        with pytest.raises(FaceExplorerError, match="another model"):
            prepare_walk_export(
                tmp_path / "other",
                Interpolation(other, replace(start, model=other), replace(end, model=other)),
                2,
                renderer,
                readout=readout,
            ).write()
    finally:
        renderer.close()
    recorded = json.loads((tmp_path / "walk" / "step_001.json").read_text())["plausibility"]
    assert recorded == readout.judge_face(end.alpha_id, end.alpha_exp).to_record()
    assert set(recorded) >= {
        "identity_percentile",
        "expression_percentile",
        "worst_edge_log2",
        "folded_triangles",
        "mesh_ok",
        "plausible",
    }


def test_the_ends_come_from_the_explorer_s_face_its_denoised_face_a_preset_and_the_history(
    tmp_path: Path, denoiser: Denoiser
) -> None:
    model = embedded_model()
    state = FaceState(model, SamplingSettings(seed=8))
    history = FaceHistory(state)
    live = LiveFace(state, denoiser)
    try:
        state.sample("both")
        live.refresh()
        sampled = current_face(state)
        assert sampled.label == "current face (seed 8 · uniform r = 10 / 15)"
        np.testing.assert_array_equal(sampled.alpha_id, state.alpha_id)
        np.testing.assert_array_equal(denoised_face(live).alpha_exp, live.denoised_exp)
        save_preset(tmp_path / "kept.json", state)
        state.reset()
        kept = preset_face(tmp_path / "kept.json", model)
        assert kept.label == "preset kept.json"
        np.testing.assert_array_equal(kept.alpha_id, sampled.alpha_id)
        earlier = history_face(history, 1)
        assert earlier.label == "history 1: sample both (seed 8)"
        np.testing.assert_array_equal(earlier.alpha_exp, sampled.alpha_exp)
        with pytest.raises(FaceExplorerError, match="no entry 9"):
            history_face(history, 9)
        with pytest.raises(FaceExplorerError, match="another model"):
            preset_face(tmp_path / "kept.json", replace(model, name="another model", mean=model.mean + 1, recipe=None))
    finally:
        live.close()
        history.close()


def test_with_the_prior_chosen_the_denoised_steps_are_the_prior_s_projections(
    tmp_path: Path, shipped_workspace: Workspace
) -> None:
    model, prior = shipped_workspace.model, shipped_workspace.prior
    choice = DenoisingChoice()
    choice.choose("prior")
    live = LiveFace(FaceState(model), shipped_workspace.denoiser, prior, choice)
    try:
        method = live.denoising_method
        assert method is not None and method.describe() == f"learned prior, t = {DEFAULT_STRENGTH:.2f}"
        start, end = endpoints(5)
        walk = Interpolation(model, start, end, live.denoise_face, True, method.describe())
        times = step_times(3)
        walked_id, walked_exp = walk.faces(times)
        raw_id, raw_exp = Interpolation(model, start, end).faces(times)
        for k in range(3):  # each step projected alone from the explorer's seed, as its denoised view would
            projected = prior.project_face(raw_id[k], raw_exp[k], DEFAULT_STRENGTH, seeded_generator(PRIOR_SEED))
            np.testing.assert_array_equal(walked_id[k], projected[0])
            np.testing.assert_array_equal(walked_exp[k], projected[1])
        assert not np.allclose(walked_id[1], shipped_workspace.denoiser.denoise("shape", raw_id[1]))
        images = [np.zeros((200, 200, 3), np.uint8) for _ in times]
        picture = captioned_strip(images, times, walk)
        named = picture[2 * CAPTION_HEIGHT : 3 * CAPTION_HEIGHT]  # under the two ends' lines
        line = f"each step denoised: learned prior, t = {DEFAULT_STRENGTH:.2f}"
        np.testing.assert_array_equal(named, caption_band(line, picture.shape[1], GAP_COLOUR))
        renderer = ThumbnailRenderer(model, size=32)
        try:
            prepare_walk_export(tmp_path / "walk", walk, 2, renderer).write()
        finally:
            renderer.close()
    finally:
        live.close()
    record = json.loads((tmp_path / "walk" / "step_001.json").read_text())
    assert record["denoised"] is True and record["denoised_by"] == f"learned prior, t = {DEFAULT_STRENGTH:.2f}"


class GatedReadout(PlausibilityReadout):
    """The explorer's readout, noting the thread of each face it judges; off the GUI thread it waits for its gate."""

    def __init__(self, readout: PlausibilityReadout) -> None:
        super().__init__(readout.calibration)
        self.calls: list[tuple[threading.Thread, np.ndarray, threading.Event]] = []

    def judge_face(self, alpha_id: np.ndarray, alpha_exp: np.ndarray) -> FaceVerdict:
        gate = threading.Event()
        self.calls.append((threading.current_thread(), alpha_id.copy(), gate))
        if threading.current_thread() is not threading.main_thread():  # there it would freeze the test
            gate.wait()
        return super().judge_face(alpha_id, alpha_exp)

    def open_all_gates(self) -> None:
        for _, _, gate in self.calls:
            gate.set()


def test_the_window_judges_the_face_at_t_off_the_gui_thread_and_never_shows_a_stale_verdict(qtbot, window) -> None:
    qtbot.waitUntil(lambda: window.plausibility.readout is not None, timeout=60000)
    explorers = window.plausibility.readout
    gated = GatedReadout(explorers)
    readouts: list[PlausibilityReadout | None] = [gated]  # what the window is given as the explorer's readout
    window.state.sample("both")
    panel = show_interpolation(window, window.session, window.show_error, lambda: readouts[0])
    try:
        qtbot.waitUntil(lambda: len(gated.calls) == 1, timeout=20000)  # the face at t = 0, judging
        assert panel.status.text().endswith("judging its plausibility …")  # the GUI thread is free meanwhile
        with qtbot.waitSignal(panel.previewed, timeout=20000):
            gated.open_all_gates()
        expected = explorers.judge_face(*panel.interpolation().at(0.0))
        assert panel.status.text().startswith("t = 0.00 between")
        assert panel.status.text().endswith(f"{expected.headline()}\n{expected.details()}")

        panel.slider.setValue(40)  # judged on a worker, which waits at its gate
        qtbot.waitUntil(lambda: len(gated.calls) == 2, timeout=20000)
        np.testing.assert_array_equal(gated.calls[1][1], panel.interpolation().at(0.4)[0])
        readouts[0] = None  # e.g. a model opened since: the next face is shown unjudged
        with qtbot.waitSignal(panel.previewed, timeout=20000):
            panel.slider.setValue(60)
        shown = panel.status.text()
        assert shown.startswith("t = 0.60 between") and "\n" not in shown
        gated.open_all_gates()  # the verdict of t = 0.40 arrives now, for a face no longer shown
        panel._judge._pool.waitForDone()
        QCoreApplication.processEvents()  # delivers what the worker sent back
        assert panel.status.text() == shown
        assert len(gated.calls) == 2 and threading.main_thread() not in [thread for thread, _, _ in gated.calls]
    finally:
        gated.open_all_gates()  # a failed test must not leave a worker waiting
        panel.close()


class ThreadNotingReadout(PlausibilityReadout):
    """The explorer's readout, noting the thread of each face it judges; once ``holding``, off the GUI
    thread it waits for ``gate``."""

    def __init__(self, readout: PlausibilityReadout) -> None:
        super().__init__(readout.calibration)
        self.threads: list[threading.Thread] = []
        self.holding = False
        self.gate = threading.Event()

    def judge(self, alpha_id: np.ndarray, alpha_exp: np.ndarray, vertices: np.ndarray) -> FaceVerdict:
        self.threads.append(threading.current_thread())
        if self.holding and threading.current_thread() is not threading.main_thread():  # there it would freeze
            self.gate.wait()
        return super().judge(alpha_id, alpha_exp, vertices)


def test_an_export_judges_and_writes_its_steps_off_the_gui_thread(qtbot, window, tmp_path: Path) -> None:
    qtbot.waitUntil(lambda: window.plausibility.readout is not None, timeout=60000)
    noting = ThreadNotingReadout(window.plausibility.readout)
    window.state.sample("both")
    panel = show_interpolation(window, window.session, window.show_error, lambda: noting)
    try:
        panel.steps_box.setValue(3)
        qtbot.waitUntil(lambda: "real faces" in panel.status.text(), timeout=20000)  # the preview is judged
        noting.threads.clear()  # that judgement was the preview's, not the export's
        noting.holding = True
        with qtbot.waitSignal(panel.exported, timeout=60000) as export:
            panel.export(tmp_path / "walk")
            qtbot.waitUntil(lambda: len(noting.threads) >= 1, timeout=20000)  # the first step waits at the gate
            assert not panel.export_button.isEnabled() and panel.status.text().startswith("writing the walk")
            noting.gate.set()
        assert {path.name for path in export.args[0]} >= {"step_002.json", "strip.png", "interpolation.gif"}
        assert "plausibility" in json.loads((tmp_path / "walk" / "step_002.json").read_text())
        assert panel.export_button.isEnabled() and panel.status.text().startswith("wrote")
        assert threading.main_thread() not in noting.threads
    finally:
        noting.gate.set()  # a failed test must not leave a worker waiting
        panel.close()
