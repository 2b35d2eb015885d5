"""The explorer's plausibility readout: real-face ranks and the mesh check of the two live faces."""

from __future__ import annotations

import numpy as np
import pytest

from app.evaluation.plausibility import PlausibilityCalibration
from app.explorer.face_state import FaceState
from app.explorer.live_face import LiveFace
from app.explorer.plausibility_readout import PlausibilityReadout, live_faces
from app.model.sampling import sample_coefficients
from app.workspace import Workspace


@pytest.fixture(scope="module")
def workspace(shipped_workspace: Workspace) -> Workspace:
    return shipped_workspace


@pytest.fixture(scope="module")
def readout(workspace: Workspace) -> PlausibilityReadout:
    return PlausibilityReadout(PlausibilityCalibration.from_workspace(workspace, mesh_faces=20))


def test_a_real_face_is_plausible_and_a_raw_uniform_identity_is_not(
    workspace: Workspace, readout: PlausibilityReadout
) -> None:
    model = workspace.model
    data = workspace.data
    real = readout.judge(data.shape[0], data.expression[0], model.synthesize(data.shape[0], data.expression[0]))
    assert real.plausible and real.headline() == "like real faces"
    assert real.identity_percentile <= 99 and real.expression_percentile <= 99
    raw = sample_coefficients(model, "shape", "uniform", 1, np.random.default_rng(0))[0]
    verdict = readout.judge(raw, data.expression[0], model.synthesize(raw, data.expression[0]))
    assert not verdict.identity_in_distribution and verdict.identity_percentile == 100.0
    # Said for people: how far from real faces, and which part; no bare percentiles or "folds 2/94".
    assert verdict.headline().startswith("unlike real faces: identity")
    assert "identity beyond 99 % of real faces" in verdict.details()
    assert verdict.details().endswith(
        f"{verdict.folded_triangles} folded triangles (real faces ≤ {int(verdict.fold_limit)})"
    )  # whole triangles, no 94.06
    assert "real faces" in real.details() and " p" not in real.details()
    assert readout.judge_face(raw, data.expression[0]) == verdict  # synthesised by the readout itself
    assert readout.model is model
    record = verdict.to_record()
    assert (
        record["plausible"] is False and record["identity_percentile"] == 100.0 and record["mesh_ok"] == verdict.mesh_ok
    )


def test_the_live_faces_are_judged_on_what_the_views_show(workspace: Workspace, readout: PlausibilityReadout) -> None:
    state = FaceState(workspace.model)
    state.update_settings(seed=4)
    state.sample("both")
    live = LiveFace(state, workspace.denoiser)
    try:
        shown = (state.alpha_id, state.alpha_exp)
        state.reset()  # not refreshed yet: the views still show the sample, and so does the readout
        faces = live_faces(live)
        assert faces is not None
        noisy, denoised = readout.judge_faces(faces)
        assert noisy == readout.judge(*shown, live.input_vertices)
        assert denoised == readout.judge(live.denoised_id, live.denoised_exp, live.denoised_vertices)
        assert not noisy.plausible  # a raw uniform sample of r = 10 / 15
        assert denoised.folded_triangles < noisy.folded_triangles
        state.set_coefficient("shape", 0, 1000.0)
        live.refresh(draft=True)  # what a slider drag shows
        assert live_faces(live) is None
        live.refresh()
        assert readout.judge_faces(live_faces(live)) == (
            readout.judge(state.alpha_id, state.alpha_exp, live.input_vertices),
            readout.judge(live.denoised_id, live.denoised_exp, live.denoised_vertices),
        )
    finally:
        live.close()
