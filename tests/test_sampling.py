"""The paper's sampling: uniform intervals of width r·s_i and normal draws with s_i = EV (or EV/max)."""

from __future__ import annotations

import numpy as np
import pytest

from app.model.embedded_model import embedded_model
from app.model.sampling import PAPER_RANGE, sample_coefficients, sampling_scale


@pytest.fixture(scope="module")
def model():
    return embedded_model()


def test_expression_scale_is_ev_normalised_by_its_maximum(model):
    scale = sampling_scale(model, "expression")
    np.testing.assert_allclose(scale, model.ev_exp / model.ev_exp.max())
    assert scale.max() == 1.0
    np.testing.assert_array_equal(sampling_scale(model, "shape"), model.ev_id)


@pytest.mark.parametrize("kind", ["shape", "expression"])
def test_uniform_draws_fill_the_paper_interval(model, kind):
    rng = np.random.default_rng(0)
    draws = sample_coefficients(model, kind, "uniform", 20_000, rng)
    half_width = PAPER_RANGE[kind] * sampling_scale(model, kind) / 2
    unit = draws / half_width
    assert np.all(np.abs(unit) <= 1.0)
    # U(-1, 1): the extremes are reached and the variance is 1/3 for every coefficient.
    assert unit.max() > 0.999 and unit.min() < -0.999
    np.testing.assert_allclose(unit.var(axis=0), 1 / 3, rtol=0.05)


def test_uniform_range_is_adjustable(model):
    draws = sample_coefficients(model, "shape", "uniform", 5_000, np.random.default_rng(1), value_range=2.0)
    assert np.all(np.abs(draws) <= model.ev_id)
    assert np.abs(draws / model.ev_id).max() > 0.99


@pytest.mark.parametrize("kind", ["shape", "expression"])
def test_normal_draws_have_the_scale_as_standard_deviation(model, kind):
    draws = sample_coefficients(model, kind, "normal", 20_000, np.random.default_rng(2))
    np.testing.assert_allclose(draws.std(axis=0) / sampling_scale(model, kind), 1.0, rtol=0.05)


def test_paper_diversity_ratio_between_uniform_and_normal(model):
    """Trace of the covariance: uniform r=10 is (10²/12)/1 = 8.33 times the normal one (Table I)."""
    rng = np.random.default_rng(3)
    uniform = np.trace(np.cov(sample_coefficients(model, "shape", "uniform", 20_000, rng).T))
    normal = np.trace(np.cov(sample_coefficients(model, "shape", "normal", 20_000, rng).T))
    assert uniform / normal == pytest.approx(100 / 12, rel=0.05)
    assert normal == pytest.approx(1.87e12, rel=0.05)


def test_seeds_reproduce_and_differ(model):
    first = sample_coefficients(model, "expression", "uniform", 10, np.random.default_rng(7))
    again = sample_coefficients(model, "expression", "uniform", 10, np.random.default_rng(7))
    other = sample_coefficients(model, "expression", "uniform", 10, np.random.default_rng(8))
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_unknown_distribution(model):
    with pytest.raises(ValueError, match="laplace"):
        sample_coefficients(model, "shape", "laplace", 1, np.random.default_rng(0))
