"""Training faces for FLAME and the BFM 2017/2019: folders of EMOCA/DECA-style fits, or the model's own prior."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from core_fixtures import bfm_fields, write_bfm
from published_models import write_flame_pickle

from app.errors import DatasetError
from app.model.model_files import load_model
from app.model.model_origin import PRIOR_SOURCE_PREFIX
from app.model.prior_samples import prior_samples
from app.workspace import Workspace


@pytest.fixture(scope="module")
def flame_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_flame_pickle(tmp_path_factory.mktemp("flame") / "generic_model.pkl")


def test_a_fit_folder_is_read_in_published_units_and_padded(tmp_path: Path, flame_path: Path):
    model = load_model(flame_path)
    fits = tmp_path / "fits"
    (fits / "sub").mkdir(parents=True)
    np.savez(fits / "a.npz", shape=np.full((1, 100), 0.5), exp=np.full(50, 2.0))
    (fits / "sub" / "b.pkl").write_bytes(pickle.dumps({"betas": np.ones(300), "expression": np.ones(100)}, protocol=2))
    np.savez(fits / "neutral.npz", shape_params=np.ones(10))
    np.savez(fits / "too-long.npz", shape=np.ones(301), exp=np.ones(10))
    (fits / "torch.pkl").write_bytes(pickle.dumps({"shape": torch.ones(100)}))
    data = Workspace(flame_path, fits).data
    assert data.face_ids == ["a", "neutral", "sub/b"]
    np.testing.assert_allclose(data.shape[0], np.r_[np.full(100, 0.5), np.zeros(200)] * model.ev_id)
    np.testing.assert_allclose(data.expression[0], np.r_[np.full(50, 2.0), np.zeros(50)])
    np.testing.assert_array_equal(data.expression[1], np.zeros(100))  # no expression: a neutral face
    reasons = dict(data.skipped)
    assert "301 identity coefficients, but the model has 300" in reasons[str(fits / "too-long.npz")]
    assert "torch tensor" in reasons[str(fits / "torch.pkl")]


def test_fits_need_a_model_with_standard_normal_coefficients(tmp_path: Path):
    fits = tmp_path / "fits"
    fits.mkdir()
    np.savez(fits / "a.npz", shape=np.ones(10))
    with pytest.raises(DatasetError, match="only FLAME and the BFM 2017/2019 publish"):
        Workspace(write_bfm(tmp_path / "BFM.mat", bfm_fields()), fits).data  # noqa: B018 - the property reads


def test_without_data_the_prior_is_sampled_and_says_so(flame_path: Path):
    model = load_model(flame_path)
    data = Workspace(flame_path).data
    assert data.source.startswith(PRIOR_SOURCE_PREFIX) and len(data) == 5837
    again = prior_samples(model)
    np.testing.assert_array_equal(data.shape, again.shape)  # seeded
    np.testing.assert_allclose(data.shape.std(axis=0) / model.ev_id, 1.0, atol=0.1)
    np.testing.assert_allclose(data.expression.std(axis=0), 1.0, atol=0.1)
