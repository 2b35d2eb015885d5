"""The plausibility calibration: surface tolerance, real-face percentiles, the mesh check, and the
shipped networks' denoised identities judged like real faces (they were all 'outliers' before)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.evaluation.baselines import surface_tolerance_covariance
from app.evaluation.context import EvaluationContext
from app.evaluation.plausibility import MeshCheck, PlausibilityCalibration
from app.model.embedded_model import embedded_model
from app.model.morphable_model import MorphableModel
from app.model.sampling import sample_coefficients
from app.workspace import Workspace


def test_surface_tolerance_makes_a_one_tolerance_surface_step_cost_one_unit_in_any_direction() -> None:
    rng = np.random.default_rng(0)
    vertices, modes = 40, 6
    basis = rng.normal(size=(modes, 3 * vertices)) * rng.uniform(0.1, 10.0, size=(modes, 1))  # not orthonormal
    model = MorphableModel(
        np.zeros(3 * vertices),
        basis,
        rng.normal(size=(2, 3 * vertices)),
        np.ones(modes),
        np.ones(2),
        np.array([[0, 1, 2]]),
        "test model",
    )
    tolerance = surface_tolerance_covariance(model, "shape", tolerance_mm=0.5)
    for _ in range(5):
        step = rng.normal(size=modes)
        surface_rms = np.sqrt(np.mean(np.sum((step @ basis).reshape(-1, 3) ** 2, axis=1)))
        step *= 500.0 / surface_rms  # 0.5 mm RMS on the surface (model units are micrometres)
        assert step @ np.linalg.solve(tolerance, step) == pytest.approx(1.0, rel=1e-6)


@pytest.fixture(scope="module")
def shipped(shipped_workspace: Workspace) -> tuple[EvaluationContext, PlausibilityCalibration]:
    context = EvaluationContext.from_workspace(shipped_workspace, Path())
    return context, PlausibilityCalibration.from_context(context, mesh_faces=20)


def test_denoised_identities_are_judged_like_real_faces_and_raw_uniform_ones_are_not(
    shipped: tuple[EvaluationContext, PlausibilityCalibration],
) -> None:
    context, calibration = shipped
    raw = sample_coefficients(context.model, "shape", "uniform", 200, np.random.default_rng(5))
    denoised = context.denoiser.denoise("shape", raw)
    assert calibration.in_distribution("shape", context.held_out_faces("shape")).mean() == pytest.approx(
        0.99, abs=0.005
    )
    assert calibration.in_distribution("shape", denoised).mean() > 0.85  # was 0 % with the per-mode tolerance alone
    assert calibration.in_distribution("shape", raw).mean() == 0.0
    raw_exp = sample_coefficients(context.model, "expression", "uniform", 200, np.random.default_rng(6))
    assert calibration.in_distribution("expression", context.denoiser.denoise("expression", raw_exp)).mean() > 0.95
    assert calibration.in_distribution("expression", raw_exp).mean() < 0.1


def test_percentile_ranks_a_face_among_the_held_out_real_faces(
    shipped: tuple[EvaluationContext, PlausibilityCalibration],
) -> None:
    context, calibration = shipped
    real = context.held_out_faces("shape")
    percentiles = calibration.percentile("shape", real)
    # Over the faces it was calibrated on, the percentile is uniform: its median is the median.
    assert np.median(percentiles) == pytest.approx(50.0, abs=1.0)
    assert percentiles.max() == 100.0
    far = calibration.percentile("shape", 10 * real[:3])
    assert np.all(far == 100.0)
    corpus_mean = calibration.percentile("shape", context.training_faces("shape").mean(axis=0, keepdims=True))
    assert corpus_mean[0] < 5.0


def test_mesh_check_of_one_face_matches_the_batch_and_flags_a_face_turned_inside_out() -> None:
    model = embedded_model()
    check = MeshCheck(model)
    assert check.measure_vertices(model.mean) == (0.0, 0)
    rng = np.random.default_rng(3)
    alpha_id = sample_coefficients(model, "shape", "normal", 2, rng)
    alpha_exp = sample_coefficients(model, "expression", "normal", 2, rng)
    distortion, folds = check.measure(alpha_id, alpha_exp)
    one = check.measure_vertices(model.synthesize(alpha_id[1], alpha_exp[1]))
    assert one == (pytest.approx(distortion[1], rel=1e-4), folds[1])  # float32 batch vs one-face GEMM
    inside_out = model.mean.reshape(-1, 3) * np.array([1.0, 1.0, -1.0])  # front and back swapped
    _, folded = check.measure_vertices(inside_out)
    assert folded > len(model.triangles) // 4


def test_a_calibration_can_be_abandoned_between_its_steps(
    shipped: tuple[EvaluationContext, PlausibilityCalibration],
) -> None:
    context, _ = shipped
    calls = []
    PlausibilityCalibration.from_context(context, mesh_faces=40, step=lambda: calls.append(1))
    assert len(calls) == 2 + 2  # one per kind's distance, one per batch of 32 mesh faces

    class StopError(Exception):
        pass

    def stop_at_the_third_step() -> None:
        calls.append(1)
        if len(calls) == 3:
            raise StopError

    calls.clear()
    with pytest.raises(StopError):
        PlausibilityCalibration.from_context(context, mesh_faces=40, step=stop_at_the_third_step)
    assert len(calls) == 3  # nothing ran after the step that stopped it
