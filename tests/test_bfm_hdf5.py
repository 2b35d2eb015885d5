"""The Basel Face Model 2017/2019 read from HDF5 files in the published (statismo) layout."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
from published_models import BFM_GRID, bfm_arrays, write_bfm_h5

from app.errors import ModelFileError
from app.model.model_files import load_model

MM = 1000.0  # micrometres per millimetre


def published_instance(arrays: dict, alpha: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """scalismo-faces' MoMoExpress.instance: shape.mean + expression.mean + U_s(√λ_s α) + U_e(√λ_e δ), in mm."""
    (s_mean, s_basis, s_var), (e_mean, e_basis, e_var) = arrays["shape"], arrays["expression"]
    return s_mean + e_mean + s_basis @ (np.sqrt(s_var) * alpha) + e_basis @ (np.sqrt(e_var) * delta)


def test_counts_units_and_triangles_of_a_2019_full_head_layout(tmp_path: Path):
    arrays = bfm_arrays()
    model = load_model(write_bfm_h5(tmp_path / "model2019_fullHead.h5", arrays))
    assert (model.n_vertices, model.n_id, model.n_exp) == (BFM_GRID[0] * BFM_GRID[1], 99, 100)
    np.testing.assert_array_equal(model.triangles, arrays["cells"])
    assert model.origin is not None and (model.origin.version, model.origin.file_units) == ("2019", "millimetres")
    # The mean face is the shape mean plus the (non-zero) expression mean, in micrometres.
    np.testing.assert_allclose(model.mean, published_instance(arrays, np.zeros(99), np.zeros(100)) * MM, atol=0.5)
    assert np.abs(arrays["expression"][0]).max() > 1.0


@pytest.mark.parametrize("k", [0, 40, 98])
def test_one_standard_deviation_of_an_identity_mode_moves_the_mesh_as_the_published_model(tmp_path: Path, k: int):
    arrays = bfm_arrays()
    model = load_model(write_bfm_h5(tmp_path / "model2019_fullHead.h5", arrays))
    alpha_id = np.zeros(99)
    alpha_id[k] = model.ev_id[k]  # one σ in the product's units
    alpha = np.zeros(99)
    alpha[k] = 1.0  # one σ in the published (standard-normal) coefficients
    face = model.synthesize(alpha_id, np.zeros(100)).reshape(-1)
    np.testing.assert_allclose(face, published_instance(arrays, alpha, np.zeros(100)) * MM, atol=1.0)
    # The basis is orthonormal, so EV is √λ in micrometres: the BFM 2009's convention.
    np.testing.assert_allclose(model.ev_id[k], np.sqrt(arrays["shape"][2][k]) * MM, rtol=1e-5)


def test_expression_coefficients_are_the_published_standard_normal_ones(tmp_path: Path):
    arrays = bfm_arrays()
    model = load_model(write_bfm_h5(tmp_path / "model2017-1_bfm_nomouth.h5", arrays))
    np.testing.assert_array_equal(model.ev_exp, np.ones(100))
    delta = np.random.default_rng(1).normal(size=100)
    face = model.synthesize(np.zeros(99), delta).reshape(-1)
    np.testing.assert_allclose(face, published_instance(arrays, np.zeros(99), delta) * MM, atol=1.0)
    assert model.origin is not None and model.origin.version == "2017"


def test_a_statismo_08_file_stores_the_scaled_basis_and_reads_the_same(tmp_path: Path):
    """Before 0.9 statismo stored U·√λ, and a file without a version counts as 0.8 (MoMoIO normalises it)."""
    arrays = bfm_arrays()
    reference = load_model(write_bfm_h5(tmp_path / "a.h5", arrays))
    for name, version in (("old.h5", (0, 8)), ("unversioned.h5", None)):
        old = load_model(write_bfm_h5(tmp_path / name, arrays, version=version, scaled_basis=True))
        np.testing.assert_allclose(old.ev_id, reference.ev_id, rtol=1e-4)
        np.testing.assert_allclose(old.basis_exp, reference.basis_exp, rtol=1e-3, atol=1e-2)
    # A 0.9 file is taken as stored: scaled columns would then count twice, as in MoMoIO.
    scaled = load_model(write_bfm_h5(tmp_path / "scaled09.h5", arrays, scaled_basis=True))
    np.testing.assert_allclose(scaled.ev_id, reference.ev_id * np.sqrt(arrays["shape"][2]), rtol=1e-4)


def test_a_model_in_micrometres_like_the_2009_model_is_not_scaled(tmp_path: Path):
    arrays = bfm_arrays()
    mean, basis, variance = arrays["shape"]
    arrays["shape"] = (mean * MM, basis, variance * MM**2)
    arrays["expression"] = (arrays["expression"][0] * MM, arrays["expression"][1], arrays["expression"][2] * MM**2)
    model = load_model(write_bfm_h5(tmp_path / "model2009.h5", arrays))
    reference = load_model(write_bfm_h5(tmp_path / "model2019.h5", bfm_arrays()))
    assert model.origin is not None and model.origin.file_units == "micrometres"
    np.testing.assert_allclose(model.mean, reference.mean, rtol=1e-5, atol=0.5)
    np.testing.assert_allclose(model.ev_id, reference.ev_id, rtol=1e-5)


def test_colour_model_becomes_the_albedo_on_the_0_255_scale(tmp_path: Path):
    arrays = bfm_arrays()
    model = load_model(write_bfm_h5(tmp_path / "model2019_bfm.h5", arrays))
    assert model.albedo is not None and model.albedo.n_coefficients == 20
    mean, basis, variance = arrays["color"]
    beta = np.zeros(20)
    beta[3] = model.albedo.ev[3]  # one σ of colour mode 3, as Tex_Para
    expected = np.clip((mean + basis[:, 3] * np.sqrt(variance[3])), 0, 1).reshape(-1, 3)
    np.testing.assert_allclose(model.albedo.colours(beta), expected, atol=1e-5)
    without = load_model(write_bfm_h5(tmp_path / "b.h5", arrays, colour=False))
    assert without.albedo is None and any("colour" in line for line in without.origin.missing)


def test_landmarks_from_metadata_when_it_lists_68_and_a_reason_when_not(tmp_path: Path):
    arrays = bfm_arrays()
    points = arrays["points"]
    chosen = np.random.default_rng(2).choice(len(points), 68, replace=False)
    listed = [{"id": f"lm{i}", "coordinates": list(points[v] + 0.01)} for i, v in enumerate(chosen)][::-1]
    model = load_model(write_bfm_h5(tmp_path / "with.h5", arrays, landmarks=listed))
    np.testing.assert_array_equal(model.landmarks, chosen)  # ordered by the number in their ids
    assert model.landmarks_note is None
    basel = [
        {"id": "center.nose.tip", "coordinates": [0, 0, 50]},
        {"id": "left.eye.corner_outer", "coordinates": [1, 2, 3]},
    ]
    model = load_model(write_bfm_h5(tmp_path / "basel.h5", arrays, landmarks=basel))
    assert model.landmarks is None and "2 Basel points" in model.landmarks_note and "off" in model.landmarks_note
    model = load_model(write_bfm_h5(tmp_path / "none.h5", arrays))
    assert model.landmarks is None and "no metadata/landmarks" in model.landmarks_note


def test_bad_files_are_one_line_errors_naming_the_file(tmp_path: Path):
    good = write_bfm_h5(tmp_path / "good.h5")
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    wrong = tmp_path / "wrong.h5"
    with h5py.File(wrong, "w") as file:
        file["shape/model/mean"] = np.zeros(3)
    nan = write_bfm_h5(tmp_path / "nan.h5")
    with h5py.File(nan, "r+") as file:
        file["shape/model/mean"][5] = np.nan
    disagree = write_bfm_h5(tmp_path / "disagree.h5")
    with h5py.File(disagree, "r+") as file:
        del file["expression/model/pcaVariance"]
        file["expression/model/pcaVariance"] = np.ones(7, dtype=np.float32)
    cases = {
        truncated: "not a readable HDF5",
        wrong: "no expression/model group",
        nan: "NaN",
        disagree: "7 values for 100 basis columns",
    }
    for path, words in cases.items():
        with pytest.raises(ModelFileError) as excinfo:
            load_model(path)
        message = str(excinfo.value)
        assert str(path) in message and words in message and "\n" not in message, message


def test_landmark_json_that_is_not_a_landmark_list_is_refused(tmp_path: Path):
    path = write_bfm_h5(tmp_path / "bad-landmarks.h5")
    with h5py.File(path, "r+") as file:
        file["metadata/landmarks/json"] = json.dumps({"not": "a list"})
    with pytest.raises(ModelFileError, match="not a scalismo landmark list"):
        load_model(path)


@pytest.mark.parametrize("hostile", ["[" * 100_000, '[{"id": "a", "coordinates": [NaN, 0, 0]}]'])
def test_hostile_landmark_json_is_one_error_naming_the_file(tmp_path: Path, hostile: str):
    path = write_bfm_h5(tmp_path / "hostile-landmarks.h5")
    with h5py.File(path, "r+") as file:
        file["metadata/landmarks/json"] = hostile
    with pytest.raises(ModelFileError, match=r"metadata/landmarks/json: not valid JSON"):
        load_model(path)
