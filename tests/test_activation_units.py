"""Action units shown as activation (0 neutral, 3 full) by default on the embedded model, σ elsewhere; without Qt."""

from __future__ import annotations

import numpy as np
import pytest

from app.explorer.coefficient_display import (
    DEFAULT_SPAN,
    default_unit,
    describe_activation,
    format_in_unit,
    full_activation,
    sigma_of,
    slider_reach,
    unit_of_row,
)
from app.explorer.number_entry import read_coefficient
from app.model.action_units import ACTION_UNITS
from app.model.embedded_model import UNITS_PER_ACTIVATION, embedded_model
from app.model.model_files import load_model, save_model_npz
from app.model.morphable_model import MorphableModel


@pytest.fixture(scope="module")
def embedded() -> MorphableModel:
    return embedded_model()


def pca_model() -> MorphableModel:
    """A model like the BFM or FLAME: its expression modes are PCA modes, not action units."""
    rng = np.random.default_rng(1)
    return MorphableModel(
        mean=rng.normal(size=12),
        basis_id=rng.normal(size=(2, 12)),
        basis_exp=rng.normal(size=(3, 12)),
        ev_id=np.array([2.0, 1.0]),
        ev_exp=np.array([4.0, 2.0, 1.0]),
        triangles=np.array([[0, 1, 2], [0, 2, 3]]),
        name="test:pca",
    )


def test_the_embedded_model_s_expressions_show_as_activation_and_its_identity_as_sigma(embedded):
    assert full_activation(embedded, "expression") == UNITS_PER_ACTIVATION == 3.0
    assert full_activation(embedded, "shape") is None
    assert default_unit(embedded) == "activation"
    assert unit_of_row(embedded, "expression", "activation") == "activation"
    assert unit_of_row(embedded, "shape", "activation") == "sigma"
    assert unit_of_row(embedded, "expression", "sigma") == "sigma"  # σ stays σ


def test_pca_expressions_keep_sigma_as_their_default():
    model = pca_model()
    assert full_activation(model, "expression") is None
    assert default_unit(model) == "sigma"
    assert unit_of_row(model, "expression", "activation") == "sigma"


def test_a_copy_of_the_embedded_model_saved_to_a_file_still_has_action_units(embedded, tmp_path):
    save_model_npz(embedded, tmp_path / "copy.npz")
    assert full_activation(load_model(tmp_path / "copy.npz"), "expression") == UNITS_PER_ACTIVATION


def test_typed_3_is_an_expression_coefficient_of_exactly_3_for_every_action_unit(embedded):
    for index in range(len(ACTION_UNITS)):
        assert read_coefficient(embedded, "expression", index, "3", "activation") == 3.0
        sigma = sigma_of(embedded, "expression", index)
        assert format_in_unit(3.0, sigma, "activation") == "3.000"
        assert read_coefficient(embedded, "expression", index, "1σ", "activation") == pytest.approx(sigma)
    # the old default: 3 typed in σ is not full activation for any unit but the first
    assert read_coefficient(embedded, "expression", 1, "3", "sigma") == pytest.approx(2.325)


def test_every_activation_slider_reaches_full_activation_where_sigma_sliders_did_not(embedded):
    reaches = [
        slider_reach("activation", sigma_of(embedded, "expression", k), DEFAULT_SPAN, UNITS_PER_ACTIVATION)
        for k in range(len(ACTION_UNITS))
    ]
    assert min(reaches) == max(reaches) >= UNITS_PER_ACTIVATION  # the same range on every row
    in_sigma = {
        unit.code: slider_reach("sigma", sigma_of(embedded, "expression", k), DEFAULT_SPAN, None)
        for k, unit in enumerate(ACTION_UNITS)
    }
    assert in_sigma["AU2"] < UNITS_PER_ACTIVATION and in_sigma["AU5"] < UNITS_PER_ACTIVATION


def test_activation_in_words():
    assert describe_activation(0.0, 3.0) == "neutral"
    assert describe_activation(3.0, 3.0) == "full activation"
    assert describe_activation(1.2, 3.0) == "40 % of full activation"
    assert describe_activation(-1.5, 3.0) == "-50 % of full activation"
