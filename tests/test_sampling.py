"""The paper's sampling: uniform intervals of width r·s_i and normal draws with s_i = EV (or EV/max);
and the one rule on ranges, distributions and seeds that the explorer, generate, studies and presets share."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.dataset.settings import GenerationSettings
from app.errors import FaceExplorerError
from app.explorer.face_preset import load_preset, save_preset
from app.explorer.face_state import FaceState
from app.model.coefficient_limits import check_coefficients, coefficient_limit
from app.model.embedded_model import embedded_model
from app.model.sampling import PAPER_RANGE, sample_coefficients, sampling_scale
from app.model.sampling_settings import MAX_RANGE, SamplingSettings
from app.study.definition import StudyDefinition


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
    with pytest.raises(FaceExplorerError, match="laplace"):
        sample_coefficients(model, "shape", "laplace", 1, np.random.default_rng(0))


# --- the one sampling rule: every sampler accepts and refuses the same settings, in the same words ---------


def _generate(folder: Path, **values: Any) -> None:
    GenerationSettings(count=1, **values).check()


def _study(folder: Path, **values: Any) -> None:
    StudyDefinition(**values)


def _study_condition(folder: Path, **values: Any) -> None:
    ((name, value),) = values.items()
    StudyDefinition(conditions=(f"denoised:{name}={value}",))


def _explorer(folder: Path, **values: Any) -> None:
    FaceState(embedded_model()).update_settings(**values)


def _preset(folder: Path, **values: Any) -> None:
    state = FaceState(embedded_model())
    path = save_preset(folder / "face.json", state)
    document = json.loads(path.read_text())
    document["sampling"].update(values)
    path.write_text(json.dumps(document))
    load_preset(path, state.model.n_id, state.model.n_exp)


SAMPLERS = {
    "generate": _generate,
    "study": _study,
    "study condition": _study_condition,
    "explorer": _explorer,
    "preset": _preset,
}


@pytest.mark.parametrize("sampler", SAMPLERS)
@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("r_shape", 3000.0, "3000.0"),
        ("r_exp", 0.0, "0.0"),
        ("r_shape", -1.0, "-1.0"),
        ("r_exp", float("nan"), "nan"),
        ("r_shape", float("inf"), "inf"),
    ],
)
def test_every_sampler_refuses_the_same_ranges_in_the_same_words(tmp_path, sampler, name, value, shown):
    expected = f"the sampling range {name} must be a number greater than 0 and at most {MAX_RANGE:g} (got {shown})"
    if sampler == "preset" and not math.isfinite(value):
        expected = "not valid JSON"  # JSON has no NaN or Infinity: such a preset is refused as a file, range unread
    with pytest.raises(FaceExplorerError, match=re.escape(expected)):
        SAMPLERS[sampler](tmp_path, **{name: value})


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_every_sampler_accepts_the_widest_range(tmp_path, sampler):
    SAMPLERS[sampler](tmp_path, r_shape=MAX_RANGE)


@pytest.mark.parametrize("sampler", ["generate", "explorer", "preset"])
def test_every_sampler_refuses_the_same_distributions_and_seeds(tmp_path, sampler):
    with pytest.raises(FaceExplorerError, match=re.escape("unknown distribution 'laplace' (use uniform or normal)")):
        SAMPLERS[sampler](tmp_path, distribution="laplace")
    with pytest.raises(FaceExplorerError, match=r"the seed must be a non-negative integer below 2\^63 \(got -1\)"):
        SAMPLERS[sampler](tmp_path, seed=-1)


def test_the_widest_range_draws_faces_within_the_coefficient_limit(model):
    """MAX_RANGE is where uniform draws reach the coefficient limit: every face it draws can be shown."""
    for kind in ("shape", "expression"):
        draws = sample_coefficients(model, kind, "uniform", 2_000, np.random.default_rng(4), MAX_RANGE)
        check_coefficients(model, kind, draws, "the widest uniform draws")
        assert np.abs(draws).max() > 0.99 * coefficient_limit(model, kind)


def test_settings_read_from_a_record_take_the_defaults_and_refuse_unknown_keys():
    assert SamplingSettings.from_dict({"seed": 3}) == SamplingSettings(seed=3)
    with pytest.raises(FaceExplorerError, match="unknown sampling settings: range"):
        SamplingSettings.from_dict({"range": 10.0})
    with pytest.raises(FaceExplorerError, match=r"the sampling range r_exp .* \(got '10'\)"):
        SamplingSettings.from_dict({"r_exp": "10"})
