"""Loading a face preset keeps the explorer's next seed (it restores the face, the ranges and the distribution)."""

from __future__ import annotations

import numpy as np
import pytest

from app.dataset.export import save_coefficients
from app.explorer.face_preset import apply_preset, load_preset, save_preset
from app.explorer.face_state import FaceState
from app.model.morphable_model import MorphableModel
from app.model.sampling_settings import SamplingSettings


@pytest.fixture
def model() -> MorphableModel:
    rng = np.random.default_rng(5)
    return MorphableModel(
        mean=rng.normal(size=12) * 1e4,
        basis_id=rng.normal(size=(4, 12)),
        basis_exp=rng.normal(size=(3, 12)),
        ev_id=np.array([5e5, 3e5, 2e5, 1e5]),
        ev_exp=np.array([4.0, 2.0, 1.0]),
        triangles=np.array([[0, 1, 2], [0, 2, 3]]),
        name="test:seeds",
    )


def test_a_preset_restores_the_face_and_ranges_and_keeps_the_next_seed(model, tmp_path):
    state = FaceState(model, SamplingSettings(r_shape=8.0, seed=41, distribution="normal"))
    state.sample("both")  # seed 41; the next is 42
    saved = state.alpha_id.copy(), state.alpha_exp.copy()
    path = save_preset(tmp_path / "face.json", state)
    state.update_settings(r_shape=3.0, distribution="uniform")
    for _ in range(3):
        state.sample("both")  # seeds 42, 43, 44
    apply_preset(state, load_preset(path, model.n_id, model.n_exp))
    assert np.array_equal(state.alpha_id, saved[0]) and np.array_equal(state.alpha_exp, saved[1])
    assert state.settings == SamplingSettings(r_shape=8.0, seed=45, distribution="normal")
    assert state.origin.describe().startswith("seed 41")  # the face's own seed is in its origin


def test_a_preset_of_a_hand_made_face_does_not_send_the_next_seed_back_to_0(model, tmp_path):
    state = FaceState(model)
    state.set_coefficient("shape", 1, 2e5)
    path = save_preset(tmp_path / "hand.json", state)  # records next seed 0
    state.update_settings(seed=7)
    apply_preset(state, load_preset(path, model.n_id, model.n_exp))
    assert state.coefficient("shape", 1) == 2e5 and state.settings.seed == 7


def test_a_coefficient_file_without_sampling_settings_keeps_them_all(model, tmp_path):
    """An interpolation step's coefficients record the model but no sampling settings."""
    state = FaceState(model, SamplingSettings(r_exp=4.0, seed=12, distribution="normal"))
    step = save_coefficients(
        tmp_path / "step_003.json", np.ones(model.n_id), np.zeros(model.n_exp), t=0.375, **model.provenance.to_record()
    )
    apply_preset(state, load_preset(step, model.n_id, model.n_exp))
    assert np.array_equal(state.alpha_id, np.ones(model.n_id))
    assert state.settings == SamplingSettings(r_exp=4.0, seed=12, distribution="normal")
