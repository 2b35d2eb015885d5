"""The prior's model of the whitened coordinates after the leading ones (app/prior/conditional_rest.py)
and how many leading ones the network gets (checkpoints with and without it: tests/test_prior.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal

from app.prior import conditional_rest
from app.prior.conditional_rest import ConditionalRest, choose_leading

NOISE = np.diag([0.3, 0.2, 0.1])  # the rest's covariance around its mean


def curved(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two leading coordinates and three more that bend with them, plus Gaussian noise."""
    rng = np.random.default_rng(seed)
    leading = rng.normal(size=(count, 2))
    mean = np.stack([np.tanh(2 * leading[:, 0]), leading[:, 0] * leading[:, 1], np.sin(leading[:, 1])], axis=1)
    return leading, mean + rng.multivariate_normal(np.zeros(3), NOISE, size=count)


@pytest.fixture(scope="module")
def fitted() -> ConditionalRest:
    leading, rest = curved(1500, seed=1)
    return ConditionalRest.fit(leading, rest, seed=0)


def test_the_regression_finds_the_bend_and_the_noise_left_around_it(fitted):
    leading, rest = curved(500, seed=2)
    residual = rest - fitted.mean(torch.from_numpy(leading)).numpy()
    assert np.allclose(residual.var(axis=0), np.diag(NOISE), rtol=0.25)  # a linear fit leaves the bend's variance too
    assert np.allclose(np.sort(fitted.variances.numpy()), np.sort(np.diag(NOISE)), rtol=0.25)


def test_the_log_density_is_the_gaussians(fitted):
    leading, rest = curved(5, seed=3)
    mean = fitted.mean(torch.from_numpy(leading)).numpy()
    covariance = fitted.axes.numpy() @ np.diag(fitted.variances.numpy() + 0.1**2) @ fitted.axes.numpy().T
    expected = [multivariate_normal(m, covariance).logpdf(r) for m, r in zip(mean, rest, strict=True)]
    found = fitted.log_density(torch.from_numpy(leading), torch.from_numpy(rest), 0.1).numpy()
    assert found == pytest.approx(expected, rel=1e-9)


def test_bringing_back_without_noise_is_the_identity_and_from_pure_noise_a_fresh_draw(fitted):
    leading, rest = curved(4000, seed=4)
    heads, tails = torch.from_numpy(leading), torch.from_numpy(rest)
    assert torch.allclose(fitted.bring_back(heads, tails, 1.0, 0.0), tails, atol=1e-9)
    noise = torch.from_numpy(np.random.default_rng(5).normal(size=rest.shape))
    fresh = fitted.bring_back(heads, noise, 0.0, 1.0) - fitted.mean(heads)
    covariance = fitted.axes.numpy() @ np.diag(fitted.variances.numpy()) @ fitted.axes.numpy().T
    assert np.allclose(np.cov(fresh.numpy(), rowvar=False), covariance, atol=0.02)
    halfway = fitted.bring_back(heads, 0.8 * tails + 0.6 * noise, 0.8, 0.6)
    assert 0 < float((halfway - tails).abs().mean()) < float((fresh + fitted.mean(heads) - tails).abs().mean())


def test_the_leading_count_follows_where_the_structure_is():
    """Three real degrees of freedom spread over 40 whitened-like coordinates, the rest noise: a few leading
    coordinates explain the rest; for independent Gaussian coordinates nothing is gained by splitting them."""
    rng = np.random.default_rng(6)
    latent = rng.normal(size=(1200, 3))
    bent = np.tanh(latent @ rng.normal(size=(3, 40)))
    data = np.concatenate([latent, bent], axis=1) + 0.1 * rng.normal(size=(1200, 43))
    data = (data - data.mean(0)) / data.std(0)
    assert choose_leading(data, seed=0) < 43
    assert choose_leading(rng.normal(size=(30, 10)), seed=0) <= 10  # tiny data still gives a count


def test_a_large_training_set_is_subsampled_to_the_regressions_limit(monkeypatch):
    """The regression's memory grows with the square of its faces: past the limit it keeps a seeded subset."""
    monkeypatch.setattr(conditional_rest, "MAX_ANCHORS", 100)
    leading, rest = curved(300, seed=7)
    first, again = (ConditionalRest.fit(leading, rest, seed=0) for _ in range(2))
    assert first.anchors.shape == (100, 2) and torch.equal(first.anchors, again.anchors)
    assert all(any(np.allclose(anchor, row, atol=1e-6) for row in leading) for anchor in first.anchors.numpy())
