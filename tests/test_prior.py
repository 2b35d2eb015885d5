"""The learned prior's parts on small data: whitening, the diffusion formulation, the exact likelihood,
training, the checkpoint's refusals and the LearnedPrior API (quality is tests/test_prior_quality.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from app.denoising.torch_threads import one_torch_thread
from app.errors import CheckpointError, FaceExplorerError
from app.model.embedded_corpus import embedded_corpus
from app.model.embedded_model import embedded_model
from app.model.fitted_params import split_by_face
from app.model.provenance import ModelProvenance
from app.prior import conditional_rest, diffusion
from app.prior.censoring import Censoring
from app.prior.checkpoint import load_prior_checkpoint, prior_checkpoint_path
from app.prior.learned_prior import LearnedPrior
from app.prior.likelihood import RESOLUTION, log_likelihood
from app.prior.network import ScoreNetwork
from app.prior.training import PriorTrainingConfig, train_prior
from app.prior.whitening import Whitening

TINY = {
    "diffusion_steps": 150,
    "denoiser_steps": 400,
    "batch_size": 64,
    "diffusion_width": 32,
    "diffusion_depth": 1,
    "denoiser_width": 64,
    "denoiser_depth": 1,
    "test_faces": 20,
    "device": "cpu",
}


@pytest.fixture(scope="module")
def tiny_priors(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """prior-shape.pt and prior-expression.pt trained briefly on 200 embedded faces, and their metadata."""
    folder = tmp_path_factory.mktemp("tiny-priors")
    data = embedded_corpus(200, seed=3)
    metadata = {}
    # one thread: torch's pool made these seconds of training minutes long on a busy 2-core machine
    with one_torch_thread():
        train_both(folder, data, metadata)
    return folder, metadata


def train_both(folder, data, metadata) -> None:
    for kind in ("shape", "expression"):
        config = PriorTrainingConfig.default(kind, **TINY)
        train, test = split_by_face(data, config.test_faces, np.random.default_rng(config.seed))
        metadata[kind] = train_prior(
            train,
            test,
            config,
            embedded_model().provenance,
            prior_checkpoint_path(folder, kind),
            data.source,
            show_progress=False,
            log=lambda _: None,
        )


@pytest.fixture(scope="module")
def prior(tiny_priors: tuple) -> LearnedPrior:
    return LearnedPrior.from_folder(embedded_model(), tiny_priors[0], "cpu")


class GaussianScore(nn.Module):
    """The exact F for whitened data N(0, c²·I): its density and samples are known in closed form."""

    def __init__(self, scale: float, dimension: int) -> None:
        super().__init__()
        self.variance, self.dimension = scale**2, dimension

    def forward(self, z: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        level = sigma[:, None].double().clamp(max=1e30)
        alpha_squared = 1 / (1 + level**2)
        exact_clean_gain = self.variance / (self.variance + level**2)  # E[x | x + σε] = gain · (x + σε)
        # F = (D − α²·x̃)/s with x̃ = z/α and s = α·σ
        return ((exact_clean_gain - alpha_squared) * z.double() / (alpha_squared * level)).to(z.dtype)


def gaussian_log_density(x: torch.Tensor, variance: float) -> torch.Tensor:
    return -0.5 * (x.double() ** 2).sum(1) / variance - 0.5 * x.shape[1] * math.log(2 * math.pi * variance)


# --- whitening --------------------------------------------------------------------------------------


def test_whitening_gives_unit_covariance_and_inverts_exactly():
    rng = np.random.default_rng(0)
    mixing = np.eye(6) + 0.3 * rng.normal(size=(6, 6))
    vectors = rng.normal(size=(500, 6)) @ mixing * np.array([1e4, 1e3, 1, 10, 1e2, 3]) + 7.0
    whitening = Whitening.fit(vectors)
    whitened = whitening.whiten(torch.from_numpy(vectors)).numpy()
    np.testing.assert_allclose(np.cov(whitened, rowvar=False), np.eye(6), atol=1e-8)
    np.testing.assert_allclose(whitening.unwhiten(torch.from_numpy(whitened)).numpy(), vectors, rtol=1e-9)
    assert whitening.log_det == pytest.approx(-0.5 * np.linalg.slogdet(np.cov(vectors, rowvar=False))[1])


def test_whitening_refuses_nan_and_too_few_vectors():
    with pytest.raises(FaceExplorerError, match="NaN"):
        Whitening.fit(np.array([[1.0, np.nan], [2.0, 3.0]]))
    with pytest.raises(FaceExplorerError, match="at least two"):
        Whitening.fit(np.ones((1, 3)))


# --- the formulation, on priors whose answers are known ---------------------------------------------


def test_a_new_network_is_the_gaussian_prior():
    """Zero output layer: Tweedie's mean is x/(1 + σ²) and samples are N(0, I), whatever the steps."""
    net = ScoreNetwork(5, width=16, depth=1).eval()
    noisy = torch.randn(4, 5, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(diffusion.tweedie_denoise(net, noisy, 2.0), noisy / 5)
    samples = diffusion.sample(net, 20_000, torch.Generator().manual_seed(1), torch.device("cpu"), steps=6)
    assert abs(samples.var().item() - 1) < 0.02 and abs(samples.mean().item()) < 0.01


@pytest.mark.parametrize("scale", [0.5, 2.0])
def test_samples_and_likelihood_of_a_known_gaussian(scale):
    net = GaussianScore(scale, 7)
    samples = diffusion.sample(net, 20_000, torch.Generator().manual_seed(0), torch.device("cpu"))
    assert samples.std().item() == pytest.approx(scale, rel=0.01)
    faces = torch.randn(100, 7, generator=torch.Generator().manual_seed(1)) * scale
    exact = gaussian_log_density(faces, scale**2 + RESOLUTION**2)
    found = log_likelihood(net, faces)
    assert (found - exact).abs().mean().item() < 0.01 * 7  # nats per face: ≤ 0.01 per coefficient


def test_strength_outside_zero_to_one_is_refused():
    net = ScoreNetwork(3, width=8, depth=1)
    for strength in (-0.1, 1.5, math.nan, "0.5"):
        with pytest.raises(FaceExplorerError, match=r"strength must be a number in \[0, 1\]"):
            diffusion.project(net, torch.zeros(1, 3), strength, torch.Generator())


# --- training and checkpoints -----------------------------------------------------------------------


def test_training_records_what_it_did_and_beats_the_noisy_input(tiny_priors):
    _, metadata = tiny_priors
    for kind in ("shape", "expression"):
        record = metadata[kind]
        assert record["kind"] == kind and record["train_faces"] == 180 and len(record["held_out_faces"]) == 20
        assert record["test_mse_denoised"] < record["test_mse_noisy"] / 3
        assert record["model_digest"] == embedded_model().provenance.digest
        assert record["diffusion_steps"] == TINY["diffusion_steps"] and record["training_seconds"] > 0


def test_a_diverging_run_writes_nothing_and_keeps_the_old_checkpoint(tiny_priors, tmp_path):
    target = tmp_path / "prior-expression.pt"
    target.write_bytes((tiny_priors[0] / "prior-expression.pt").read_bytes())
    before = target.read_bytes()
    data = embedded_corpus(60, seed=4)
    config = PriorTrainingConfig.default("expression", **{**TINY, "learning_rate": 1e30, "test_faces": 10})
    train, test = split_by_face(data, 10, np.random.default_rng(0))
    with pytest.raises(FaceExplorerError, match=r"diverged.*nothing was written"):
        train_prior(train, test, config, embedded_model().provenance, target, data.source, False, lambda _: None)
    assert target.read_bytes() == before


def test_checkpoints_of_another_kind_length_model_or_network_are_refused(tiny_priors, tiny_checkpoints):
    folder, _ = tiny_priors
    model = embedded_model().provenance
    shape = prior_checkpoint_path(folder, "shape")
    with pytest.raises(CheckpointError, match="this is the shape prior, not the expression prior"):
        load_prior_checkpoint(shape, "expression", 199, model)
    with pytest.raises(CheckpointError, match="trained for 199 shape coefficients, but the model has 100"):
        load_prior_checkpoint(shape, "shape", 100, model)
    with pytest.raises(CheckpointError, match=r"trained on embedded face model.*not on other"):
        load_prior_checkpoint(shape, "shape", 199, ModelProvenance("other", "ab" * 32))
    with pytest.raises(CheckpointError, match="not a learned prior's checkpoint"):
        load_prior_checkpoint(tiny_checkpoints / "shape.pt", "shape", 199, model)
    with pytest.raises(CheckpointError, match="no such prior checkpoint"):
        load_prior_checkpoint(folder / "missing.pt", "shape", 199, model)


def test_the_paper_loader_names_a_prior_checkpoint(tiny_priors):
    from app.denoising.checkpoint import load_checkpoint

    with pytest.raises(CheckpointError, match="learned prior's checkpoint, not one of the paper's networks"):
        load_checkpoint(prior_checkpoint_path(tiny_priors[0], "shape"), "shape", 199)


def test_damaged_or_non_finite_weights_are_refused(tiny_priors, tmp_path):
    source = prior_checkpoint_path(tiny_priors[0], "expression")
    payload = torch.load(source, weights_only=True)
    payload["state_dict"]["diffusion.output.bias"][0] = math.nan
    torch.save(payload, tmp_path / "nan.pt")
    with pytest.raises(CheckpointError, match="NaN or infinite"):
        load_prior_checkpoint(tmp_path / "nan.pt", "expression", 29, embedded_model().provenance)
    (tmp_path / "cut.pt").write_bytes(source.read_bytes()[:500])
    with pytest.raises(CheckpointError, match="damaged, truncated"):
        load_prior_checkpoint(tmp_path / "cut.pt", "expression", 29, embedded_model().provenance)


# --- the API in model units -------------------------------------------------------------------------


def test_strength_zero_returns_the_input_exactly_and_one_ignores_it(prior):
    faces = embedded_corpus(5, seed=9).shape
    assert np.array_equal(prior.project("shape", faces, 0.0), faces)
    first = prior.project("shape", faces, 1.0, torch.Generator().manual_seed(4))
    second = prior.project("shape", faces * 0.0, 1.0, torch.Generator().manual_seed(4))
    np.testing.assert_array_equal(first, second)


def test_projection_is_seeded_and_deterministic(prior):
    faces = embedded_corpus(5, seed=9).expression
    one = prior.project("expression", faces, 0.4, torch.Generator().manual_seed(7))
    again = prior.project("expression", faces, 0.4, torch.Generator().manual_seed(7))
    other = prior.project("expression", faces, 0.4, torch.Generator().manual_seed(8))
    np.testing.assert_array_equal(one, again)
    assert not np.allclose(one, other)
    assert one.shape == faces.shape and prior.project("expression", faces[0], 0.4).shape == (29,)


def test_a_stronger_projection_moves_a_face_further(prior):
    faces = embedded_corpus(50, seed=9).shape
    moved = [
        np.mean((prior.project("shape", faces, t, torch.Generator().manual_seed(0)) - faces) ** 2)
        for t in (0.1, 0.5, 1.0)
    ]
    assert moved[0] < moved[1] < moved[2]


def test_bad_input_gets_one_clear_error(prior):
    for bad, message in (
        (np.full(29, np.nan), "NaN or infinite"),
        (np.zeros(30), r"shape \(30,\); the prior takes 29"),
        (np.zeros((2, 3, 29)), "the prior takes 29"),
        ("abc", "not numbers"),
    ):
        for use in (prior.denoise, prior.project, prior.log_likelihood):
            with pytest.raises(FaceExplorerError, match=message):
                use("expression", bad)
    with pytest.raises(FaceExplorerError, match="strength"):
        prior.project("expression", np.zeros(29), 2.0)
    with pytest.raises(FaceExplorerError, match="positive whole number"):
        prior.sample("expression", 0)


def test_samples_have_the_training_faces_scale(prior):
    faces = embedded_corpus(200, seed=3).expression
    samples = prior.sample("expression", 500, torch.Generator().manual_seed(2))
    assert samples.shape == (500, 29)
    ratio = np.var(samples, axis=0).sum() / np.var(faces, axis=0).sum()
    assert 0.5 < ratio < 2.0


def test_real_faces_are_more_likely_than_uniform_draws(prior):
    from app.model.sampling import sample_coefficients

    real = embedded_corpus(20, seed=11).expression
    uniform = sample_coefficients(embedded_model(), "expression", "uniform", 20, np.random.default_rng(0))
    real_score, uniform_score = prior.log_likelihood("expression", real), prior.log_likelihood("expression", uniform)
    assert real_score.shape == (20,) and np.median(real_score) > np.median(uniform_score) + 1.0


# --- censored bounds ---------------------------------------------------------------------------------


def test_coefficients_held_exactly_at_a_bound_are_censored_and_come_back_onto_it():
    rng = np.random.default_rng(0)
    faces = rng.normal(size=(500, 4))
    faces[:, 1] = np.maximum(faces[:, 1], 0.0)  # half of them at 0: an action unit at rest
    faces[:, 2] = np.minimum(faces[:, 2], 1.5)  # 7 % at an upper bound
    faces[:3, 3] = faces[:, 3].min()  # three tied minima: 0.6 %, below the share that makes an atom
    censoring = Censoring.fit(faces)
    assert censoring.censored == 2
    assert censoring.lower_spread[1] > 0 and censoring.upper_spread[2] > 0
    assert torch.count_nonzero(censoring.lower_spread) == 1 and torch.count_nonzero(censoring.upper_spread) == 1
    as_tensor = torch.from_numpy(faces)
    for generator in (None, torch.Generator().manual_seed(1)):
        latent = censoring.spread(as_tensor, generator)
        at_rest = faces[:, 1] == 0
        assert torch.all(latent[at_rest, 1] < 0) and torch.all(latent[~at_rest, 1] == as_tensor[~at_rest, 1])
        assert torch.all(latent[faces[:, 2] == 1.5, 2] > 1.5)
        assert torch.equal(latent[:, [0, 3]], as_tensor[:, [0, 3]])
        assert torch.equal(censoring.clamp(latent), as_tensor)  # exactly the faces again


def test_pca_coefficients_have_no_atoms_and_pass_through_unchanged():
    faces = np.random.default_rng(1).normal(size=(300, 6))
    censoring = Censoring.fit(faces)
    assert censoring.censored == 0
    latent = torch.from_numpy(faces * 5)
    assert torch.equal(censoring.spread(latent), latent) and torch.equal(censoring.clamp(latent), latent)


def test_the_prior_keeps_the_training_faces_bounds(prior):
    expressions = embedded_corpus(200, seed=3).coefficients("expression")
    assert prior.networks["expression"].censoring.censored >= expressions.shape[1] // 2  # the resting action units
    assert prior.networks["shape"].censoring.censored == 0
    samples = prior.sample("expression", 200, torch.Generator().manual_seed(2))
    assert np.all(samples >= expressions.min(axis=0)) and np.any(samples == 0)


def test_an_earlier_format_of_prior_checkpoint_is_refused_with_a_way_out(tiny_priors, tmp_path):
    folder, _ = tiny_priors
    payload = torch.load(prior_checkpoint_path(folder, "shape"), weights_only=True)
    payload["format"] = 1
    torch.save(payload, tmp_path / "prior-shape.pt")
    with pytest.raises(CheckpointError, match=r"format 1.*train prior shape"):
        load_prior_checkpoint(
            tmp_path / "prior-shape.pt", "shape", embedded_model().n_coefficients("shape"), embedded_model().provenance
        )


def test_a_shape_prior_with_a_rest_and_an_expression_prior_without(tiny_priors):
    folder, metadata = tiny_priors
    assert metadata["expression"]["leading"] == 29 and metadata["expression"]["rest_anchors"] == 0  # censored
    assert 1 <= metadata["shape"]["leading"] < 199 and metadata["shape"]["rest_anchors"] > 0
    prior = LearnedPrior.from_folder(embedded_model(), folder, "cpu")
    faces = prior.sample("shape", 3, torch.Generator().manual_seed(1))
    assert faces.shape == (3, 199) and np.all(np.isfinite(prior.log_likelihood("shape", faces)))


def test_a_format_2_checkpoint_models_every_coordinate_with_its_network(tiny_priors, tmp_path):
    folder, _ = tiny_priors
    payload = torch.load(prior_checkpoint_path(folder, "expression"), weights_only=True)
    payload["format"] = 2
    for key in ("leading", "rest_anchors"):
        del payload["metadata"][key]
    torch.save(payload, tmp_path / "prior-expression.pt")
    model = embedded_model()
    loaded = load_prior_checkpoint(tmp_path / "prior-expression.pt", "expression", 29, model.provenance)
    assert loaded.networks.leading == 29 and loaded.networks.rest is None


def test_a_checkpoint_whose_rest_and_leading_count_disagree_is_refused(tiny_priors, tmp_path):
    folder, _ = tiny_priors
    payload = torch.load(prior_checkpoint_path(folder, "shape"), weights_only=True)
    payload["metadata"]["rest_anchors"] = 0
    torch.save(payload, tmp_path / "prior-shape.pt")
    model = embedded_model()
    with pytest.raises(CheckpointError, match="disagree"):
        load_prior_checkpoint(tmp_path / "prior-shape.pt", "shape", 199, model.provenance)


def test_a_training_set_larger_than_the_rests_limit_trains_and_loads(monkeypatch, tmp_path):
    """The rest's regression keeps a subset of the faces; the checkpoint is built for that subset."""
    monkeypatch.setattr(conditional_rest, "MAX_ANCHORS", 60)
    config = PriorTrainingConfig.default("shape", **{**TINY, "leading": 4})
    data = embedded_corpus(200, seed=3)
    train, test = split_by_face(data, config.test_faces, np.random.default_rng(config.seed))
    path = prior_checkpoint_path(tmp_path, "shape")
    with one_torch_thread():
        metadata = train_prior(
            train, test, config, embedded_model().provenance, path, data.source, show_progress=False, log=lambda _: None
        )
    assert (metadata["leading"], metadata["rest_anchors"]) == (4, 60)
    loaded = load_prior_checkpoint(path, "shape", 199, embedded_model().provenance)
    assert loaded.networks.rest is not None and loaded.networks.rest.anchors.shape == (60, 4)
