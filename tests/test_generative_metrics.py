"""Precision, recall, density, coverage and the two-sample test of a generated set against real faces."""

from __future__ import annotations

import numpy as np
import pytest

from app.evaluation.generative_metrics import set_scores

SIGMAS = np.array([5e5, 3e4, 2e3, 800.0, 40.0, 1.0])  # modes five orders of magnitude apart, as identity's


def faces(count: int, seed: int, shift: float = 0.0) -> np.ndarray:
    """Rows whose every mode varies by its σ (shifted by ``shift`` σ in each)."""
    return (np.random.default_rng(seed).normal(size=(count, len(SIGMAS))) + shift) * SIGMAS


def test_a_set_from_the_real_faces_distribution_is_scored_alike():
    scores = set_scores(faces(300, 1), faces(300, 2), SIGMAS, seed=0)
    assert scores.precision > 0.6 and scores.recall > 0.6 and scores.coverage > 0.6
    assert scores.two_sample_accuracy < 0.62  # 0.5 is chance


def test_a_set_off_the_real_faces_is_told_apart():
    scores = set_scores(faces(300, 1), faces(300, 2, shift=3.0), SIGMAS, seed=0)
    assert scores.precision < 0.05 and scores.coverage < 0.05
    assert scores.two_sample_accuracy > 0.95


def test_every_mode_counts_in_its_own_standard_deviations():
    """Multiplying a mode and its σ alike changes nothing; the small modes are not drowned by the large."""
    real, generated = faces(200, 1), faces(200, 2)
    stretched = SIGMAS * np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1e6])
    widened = [vectors * stretched / SIGMAS for vectors in (real, generated)]
    assert set_scores(*widened, stretched, seed=0) == set_scores(real, generated, SIGMAS, seed=0)
    # the smallest mode alone off by 6σ: in coefficient units it is invisible beside the largest
    off = generated.copy()
    off[:, -1] += 6 * SIGMAS[-1]
    assert set_scores(real, off, SIGMAS, seed=0).precision < 0.5 * set_scores(real, generated, SIGMAS, 0).precision


def test_a_mode_the_real_faces_never_use_is_not_blown_up():
    """Fits often leave a mode at 0: a model's negligible values there must not decide the distances
    (a whitening fitted on the real faces would scale them up to count like the main modes)."""
    real, generated = faces(300, 1), faces(300, 2)
    real[:, 3] = 0.0
    generated[:, 3] = 0.0
    clean = set_scores(real, generated, SIGMAS, seed=0)
    generated[:, 3] = 1e-9 * SIGMAS[3] * np.random.default_rng(3).normal(size=len(generated))
    nearly = set_scores(real, generated, SIGMAS, seed=0)
    assert (nearly.precision, nearly.recall, nearly.density, nearly.coverage) == pytest.approx(
        (clean.precision, clean.recall, clean.density, clean.coverage)
    )


def test_too_small_sets_are_refused():
    with pytest.raises(ValueError, match="three faces per set"):
        set_scores(faces(2, 1), faces(5, 2), SIGMAS, seed=0)
