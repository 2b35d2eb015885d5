"""The plausibility calibration: surface tolerance, real-face percentiles, the mesh check, and the
shipped networks' denoised identities judged like real faces (they were all 'outliers' before)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from app.errors import CheckpointError
from app.evaluation.baselines import surface_tolerance_covariance
from app.evaluation.context import EvaluationContext
from app.evaluation.likelihood_ranking import CORPUS_DISTANCE_RANKING, LIKELIHOOD_RANKING
from app.evaluation.plausibility import MeshCheck, PlausibilityCalibration
from app.model.embedded_model import embedded_model
from app.model.morphable_model import MorphableModel
from app.model.sampling import sample_coefficients
from app.prior.learned_prior import LearnedPrior
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


def test_the_prior_s_faces_are_judged_like_real_faces_and_raw_uniform_and_network_denoised_ones_are_not(
    shipped: tuple[EvaluationContext, PlausibilityCalibration],
) -> None:
    context, calibration = shipped
    for kind in ("shape", "expression"):
        assert calibration.in_distribution(kind, context.held_out_faces(kind)).mean() == pytest.approx(0.99, abs=0.005)
        samples = context.prior.sample(kind, 100, torch.Generator().manual_seed(4))
        assert calibration.in_distribution(kind, samples).mean() > 0.9
        raw = sample_coefficients(context.model, kind, "uniform", 100, np.random.default_rng(5))
        assert calibration.in_distribution(kind, raw).mean() == 0.0
        # The paper's networks leave about 2.6 model σ in each small identity mode (real faces hold a
        # fraction of one) and small activations in every action unit (real faces hold most exactly at
        # rest): the likelihood sees both, where the Mahalanobis tolerance forgave half a millimetre.
        assert calibration.in_distribution(kind, context.denoiser.denoise(kind, raw)).mean() < 0.05


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
    sample = calibration.percentile("shape", context.prior.sample("shape", 20, torch.Generator().manual_seed(1)))
    assert np.median(sample) < 90.0  # a fresh face of the prior ranks among the real ones


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


def test_faces_are_ranked_by_the_prior_s_likelihood_against_the_checkpoint_s_own_held_out_scores(
    shipped: tuple[EvaluationContext, PlausibilityCalibration],
) -> None:
    context, calibration = shipped
    assert calibration.rankings == {"shape": LIKELIHOOD_RANKING, "expression": LIKELIHOOD_RANKING}
    for kind in ("shape", "expression"):
        stored = context.prior.metadata[kind]["held_out_ranking_log_likelihood"]
        assert np.array_equal(calibration.real_distances[kind], np.sort(-np.asarray(stored)))
        # The stored scores are what the ranking measures now, face by face (so no face is judged on another scale).
        some = context.held_out_faces(kind)[:4]
        assert -calibration.distances[kind](some) == pytest.approx(stored[:4], abs=1e-3)
    far = calibration.percentile("expression", 5 * context.held_out_faces("expression")[:3] - 2.0)
    assert np.all(far == 100.0)


def test_without_a_prior_for_the_model_faces_are_ranked_by_distance_to_the_corpus_and_a_note_says_why(
    shipped: tuple[EvaluationContext, PlausibilityCalibration],
) -> None:
    context, _ = shipped

    def no_prior() -> LearnedPrior:
        raise CheckpointError("prior-shape.pt was trained on another model")

    notes: list[str] = []
    faces = {kind: context.held_out_faces(kind) for kind in ("shape", "expression")}
    calibration = PlausibilityCalibration.measure(
        context.model,
        {kind: context.training_faces(kind) for kind in faces},
        faces,
        {kind: rows[:8] for kind, rows in faces.items()},
        load_prior=no_prior,
        notes=notes,
    )
    assert calibration.rankings == {"shape": CORPUS_DISTANCE_RANKING, "expression": CORPUS_DISTANCE_RANKING}
    assert len(notes) == 2 and all("trained on another model" in note for note in notes)
    assert calibration.in_distribution("shape", faces["shape"]).mean() == pytest.approx(0.99, abs=0.005)
