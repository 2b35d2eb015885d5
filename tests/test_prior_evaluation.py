"""The prior in the experiments: the Gaussian oracle's floor and the prior's row in test-mse, and the
likelihood experiment's Gaussian and mixture, on known inputs and end to end on tiny networks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from app.denoising.checkpoint import load_checkpoint
from app.denoising.denoiser import Denoiser
from app.denoising.torch_threads import one_torch_thread
from app.evaluation import EXPERIMENTS, EvaluationContext
from app.evaluation.gaussian_oracle import gaussian_oracle_estimate
from app.evaluation.likelihood import fit_mixture, gaussian_log_likelihood, likelihood
from app.model.embedded_corpus import embedded_corpus
from app.model.embedded_model import embedded_model
from app.prior.checkpoint import prior_checkpoint_path
from app.prior.learned_prior import LearnedPrior
from app.prior.training import PriorTrainingConfig, held_out_split, train_prior

pytestmark = pytest.mark.timeout(300)


def test_the_oracle_keeps_untouched_coefficients_and_predicts_hit_ones_from_them():
    rng = np.random.default_rng(0)
    covariance = np.array([[1.0, 0.9, 0.0], [0.9, 1.0, 0.0], [0.0, 0.0, 4.0]])
    training = rng.multivariate_normal(np.zeros(3), covariance, size=200_000)
    noisy = np.array([[1.0, 55.0, 2.0], [0.5, -0.3, 1.0]])
    hit = np.array([[False, True, False], [False, False, False]])
    estimate = gaussian_oracle_estimate(training, noisy, hit, sigma=1e4)
    np.testing.assert_allclose(estimate[1], noisy[1], atol=1e-6)  # nothing hit: nothing changes
    np.testing.assert_allclose(estimate[0, [0, 2]], noisy[0, [0, 2]], atol=1e-6)
    assert estimate[0, 1] == pytest.approx(0.9, abs=0.02)  # E[x₂ | x₁ = 1], the noisy 55 ignored


def test_the_gaussian_and_the_mixture_are_the_blurred_densities_of_their_fits():
    rng = np.random.default_rng(1)
    training = rng.normal(size=(5000, 4)) * [1.0, 2.0, 0.5, 1.0]
    points = rng.normal(size=(10, 4))
    expected = multivariate_normal(training.mean(0), np.cov(training, rowvar=False) + 0.01**2 * np.eye(4)).logpdf(
        points
    )
    np.testing.assert_allclose(gaussian_log_likelihood(training, points), expected, rtol=1e-10)
    assert fit_mixture(training, seed=0).n_components == 1  # one Gaussian: more components only overfit
    clusters = np.concatenate([rng.normal(size=(1500, 4)) * 0.3 + centre for centre in (-3, 0, 3)])
    assert fit_mixture(clusters, seed=0).n_components >= 3


@pytest.fixture(scope="module")
def context_with_prior(tmp_path_factory: pytest.TempPathFactory, tiny_checkpoints: Path) -> EvaluationContext:
    """The tiny networks' evaluation context, with tiny priors that hold out the networks' faces."""
    corpus, model = embedded_corpus(200), embedded_model()
    folder = tmp_path_factory.mktemp("priors")
    settings = {"diffusion_steps": 150, "denoiser_steps": 300, "batch_size": 64, "diffusion_width": 32}
    with one_torch_thread():
        for kind, length in (("shape", 199), ("expression", 29)):
            config = PriorTrainingConfig.default(kind, **settings, diffusion_depth=1, denoiser_width=64, device="cpu")
            paper = load_checkpoint(tiny_checkpoints / f"{kind}.pt", kind, length).metadata
            train, test = held_out_split(corpus, config, paper)
            output = prior_checkpoint_path(folder, kind)
            train_prior(train, test, config, model.provenance, output, corpus.source, False, lambda _: None)
    return EvaluationContext(
        model,
        corpus,
        Denoiser.from_folder(model, tiny_checkpoints, "cpu"),
        tmp_path_factory.mktemp("out"),
        load_prior=lambda: LearnedPrior.from_folder(model, folder, "cpu"),
    )


def test_test_mse_prints_the_floor_and_the_prior_beside_the_network(context_with_prior):
    report = EXPERIMENTS["test-mse"](context_with_prior)
    rows = {row.quantity: row.ours for row in report.rows}
    for kind, unit in (("expression", ""), ("shape", " (/1e5 units)")):
        pairs = context_with_prior.test_pairs(kind)
        direct = context_with_prior.normalised_mse(
            kind, context_with_prior.prior.denoise(kind, pairs.noisy), pairs.targets()
        )
        assert rows[f"{kind}: learned prior's denoiser MSE{unit}"] == pytest.approx(direct)
        floor = rows[f"{kind}: Gaussian told the hit coefficients (reference floor){unit}"]
        assert floor is not None and 0 < floor < rows[f"{kind}: noisy input MSE{unit}"]
    assert not [note for note in report.notes if "held out other faces" in note]


def test_the_likelihood_experiment_ranks_the_prior_beside_the_gaussian_and_the_mixture(context_with_prior):
    with one_torch_thread():
        report = likelihood(context_with_prior)
    quantities = [row.quantity for row in report.rows]
    assert "expression: learned prior, nats per coefficient" in quantities
    assert "shape: Gaussian, nats per coefficient" in quantities
    assert any(q.startswith("shape: Gaussian mixture (") for q in quantities)
    held_out = context_with_prior.held_out_faces("expression")
    scores = report.data["expression"]["learned prior"]
    assert len(scores) == len(held_out)
    expected = context_with_prior.prior.log_likelihood("expression", held_out[:3])
    np.testing.assert_allclose(scores[:3], expected, rtol=1e-6)


def test_the_projection_experiment_measures_clean_faces_and_action_units(context_with_prior):
    report = EXPERIMENTS["prior-projection"](context_with_prior)
    rows = {row.quantity: row.ours for row in report.rows}
    faces = context_with_prior.held_out_faces("shape")
    network = rows["shape: clean held-out faces, network's change / variance"]
    direct = np.mean(np.sum((context_with_prior.denoiser.denoise("shape", faces) - faces) ** 2, 1))
    assert network == pytest.approx(direct / np.var(faces, axis=0).sum())
    changes = [rows[f"shape: clean held-out faces, prior t={t} change / variance"] for t in ("0.1", "0.25", "0.5")]
    assert changes == sorted(changes)  # a stronger projection moves clean faces further
    assert "expression: AU45 blink at 3, kept by the prior at t=0.1" in rows
