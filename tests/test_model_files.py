"""Loading morphable models from face3d BFM.mat, 3DDFA Model_Shape/Model_Exp.mat and the project .npz."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.io
from core_fixtures import N_EXP, N_ID, bfm_fields, write_3ddfa, write_bfm

from app.errors import FaceExplorerError, ModelFileError
from app.model.face_parts import FacePart
from app.model.model_files import load_model, save_model_npz
from app.model.morphable_model import MorphableModel
from app.model.uv_layout import UvLayout


def expected_face(fields: dict[str, np.ndarray], alpha_id: np.ndarray, alpha_exp: np.ndarray) -> np.ndarray:
    """mean + PC·α by hand from the file arrays, interleaved x y z per vertex."""
    flat = fields["shapeMU"][:, 0] + fields["expMU"][:, 0] + fields["shapePC"] @ alpha_id + fields["expPC"] @ alpha_exp
    return flat.reshape(-1, 3)


def assert_error_names(excinfo: pytest.ExceptionInfo, path: Path, *words: str) -> None:
    message = str(excinfo.value)
    assert str(path) in message, message
    assert "\n" not in message
    for word in words:
        assert word in message, message


# --- face3d BFM.mat --------------------------------------------------------------------------


def test_bfm_layout_loads_with_counts_and_zero_based_triangles(tmp_path):
    fields = bfm_fields()
    model = load_model(write_bfm(tmp_path / "BFM.mat", fields))
    assert (model.n_vertices, model.n_id, model.n_exp) == (20, N_ID, N_EXP)
    np.testing.assert_array_equal(model.triangles, fields["tri"].T.astype(np.int64) - 1)
    assert model.triangles.min() == 0 and model.triangles.max() == 19
    np.testing.assert_allclose(model.ev_id, fields["shapeEV"][:, 0])
    np.testing.assert_allclose(model.ev_exp, fields["expEV"][:, 0])
    assert model.name == str(tmp_path / "BFM.mat")
    assert not model.is_embedded


def test_bfm_mean_is_shape_mean_plus_expression_mean(tmp_path):
    fields = bfm_fields()
    model = load_model(write_bfm(tmp_path / "BFM.mat", fields))
    face = model.synthesize(np.zeros(N_ID), np.zeros(N_EXP))
    np.testing.assert_allclose(face, (fields["shapeMU"] + fields["expMU"]).reshape(-1, 3), rtol=1e-6, atol=1e-2)
    # The expression mean is not zero in the file, so dropping it would be caught here.
    assert np.abs(fields["expMU"]).max() > 100


def test_bfm_synthesis_matches_hand_computation(tmp_path):
    fields = bfm_fields(seed=3)
    model = load_model(write_bfm(tmp_path / "BFM.mat", fields))
    rng = np.random.default_rng(1)
    alpha_id = rng.normal(size=N_ID) * fields["shapeEV"][:, 0]
    alpha_exp = rng.normal(size=N_EXP) * 3.0
    expected = expected_face(fields, alpha_id, alpha_exp)
    got = model.synthesize(alpha_id, alpha_exp)
    assert got.shape == (20, 3)
    scale = np.abs(expected).max()
    np.testing.assert_allclose(got, expected, atol=1e-5 * scale)


def test_3ddfa_layout_loads_from_either_file(tmp_path):
    fields = bfm_fields(seed=5)
    shape_path, exp_path = write_3ddfa(tmp_path, fields)
    rng = np.random.default_rng(2)
    alpha_id, alpha_exp = rng.normal(size=N_ID) * 1e4, rng.normal(size=N_EXP)
    expected = expected_face(fields, alpha_id, alpha_exp)
    for path in (shape_path, exp_path):
        model = load_model(path)
        assert (model.n_vertices, model.n_id, model.n_exp) == (20, N_ID, N_EXP)
        assert model.name == str(shape_path)  # one model, one name, whichever file was picked
        np.testing.assert_array_equal(model.triangles, fields["tri"].T.astype(np.int64) - 1)
        np.testing.assert_allclose(model.synthesize(alpha_id, alpha_exp), expected, atol=1e-5 * np.abs(expected).max())


def test_3ddfa_needs_its_sibling_file(tmp_path):
    shape_path, exp_path = write_3ddfa(tmp_path, bfm_fields())
    exp_path.unlink()
    with pytest.raises(ModelFileError) as excinfo:
        load_model(shape_path)
    assert_error_names(excinfo, shape_path, "Model_Exp.mat")


@pytest.mark.parametrize("missing", ["w", "sigma_exp"])
def test_3ddfa_missing_field_names_the_file_that_lacks_it(tmp_path, missing):
    shape_path, exp_path = write_3ddfa(tmp_path, bfm_fields(), drop=(missing,))
    culprit = shape_path if missing == "w" else exp_path
    with pytest.raises(ModelFileError) as excinfo:
        load_model(shape_path)
    assert_error_names(excinfo, culprit, missing)


def test_3ddfa_bad_expression_basis_names_the_expression_file(tmp_path):
    fields = bfm_fields()
    fields["expPC"] = fields["expPC"][:-3]
    shape_path, exp_path = write_3ddfa(tmp_path, fields)
    with pytest.raises(ModelFileError) as excinfo:
        load_model(shape_path)
    assert_error_names(excinfo, exp_path, "w_exp")


# --- the project's .npz ------------------------------------------------------------------------


def test_npz_round_trip_keeps_every_array_the_names_and_the_digest(tmp_path):
    source = load_model(write_bfm(tmp_path / "BFM.mat", bfm_fields(seed=7)))
    named = MorphableModel(
        mean=source.mean,
        basis_id=source.basis_id,
        basis_exp=source.basis_exp,
        ev_id=source.ev_id,
        ev_exp=source.ev_exp,
        triangles=source.triangles,
        name="test:v1",
        names_id=["face width", "jaw"],
        names_exp=["jaw open"],
        uv_layout=UvLayout(
            uv=np.random.default_rng(2).uniform(size=(len(source.triangles) + 5, 2)),
            triangles=np.arange(3 * len(source.triangles)).reshape(-1, 3) % (len(source.triangles) + 5),
        ),
    )
    path = tmp_path / "model.npz"
    save_model_npz(named, path)
    with np.load(path) as raw:  # compact: float32 geometry
        assert raw["mean"].dtype == np.float32 and raw["basis_id"].dtype == np.float32
    loaded = load_model(path)
    for name in ("mean", "basis_id", "basis_exp", "ev_id", "ev_exp", "triangles"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(named, name), err_msg=name)
    assert loaded.name == "test:v1"
    np.testing.assert_array_equal(loaded.uv_layout.triangles, named.uv_layout.triangles)
    np.testing.assert_allclose(loaded.uv_layout.uv, named.uv_layout.uv, rtol=1e-7)  # stored as float32
    # The same numbers read from the .mat and from the .npz they were saved as: one model, one digest.
    assert loaded.digest == named.digest == source.digest and len(loaded.digest) == 64
    assert loaded.names_id[:3] == ["face width", "jaw", ""] and len(loaded.names_id) == N_ID
    assert loaded.names_exp[0] == "jaw open" and len(loaded.names_exp) == N_EXP
    alpha = np.random.default_rng(0).normal(size=(2, N_ID)), np.random.default_rng(1).normal(size=(2, N_EXP))
    np.testing.assert_array_equal(loaded.synthesize(*alpha), named.synthesize(*alpha))


def test_npz_missing_array_and_garbage_npz(tmp_path):
    partial = tmp_path / "partial.npz"
    np.savez(partial, mean=np.zeros(9), basis_id=np.zeros((2, 9)))
    with pytest.raises(ModelFileError) as excinfo:
        load_model(partial)
    assert_error_names(excinfo, partial, "basis_exp", "triangles")
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"PK\x03\x04 this is not a zip archive at all")
    with pytest.raises(ModelFileError) as excinfo:
        load_model(garbage)
    assert_error_names(excinfo, garbage)


def test_truncated_npz(tmp_path):
    source = load_model(write_bfm(tmp_path / "BFM.mat", bfm_fields()))
    path = tmp_path / "model.npz"
    save_model_npz(source, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError) as excinfo:
        load_model(path)
    assert_error_names(excinfo, path)


# --- broken .mat files -------------------------------------------------------------------------


def write_v73(path: Path, with_matlab_header: bool) -> Path:
    """An HDF5 .mat as Matlab -v7.3 writes it: a 512-byte user block with the text header."""
    with h5py.File(path, "w", userblock_size=512 if with_matlab_header else 0) as handle:
        group = handle.create_group("model")
        group["shapeMU"] = np.zeros((1, 60))  # Matlab stores transposed
        group["tri"] = np.ones((24, 3))
    if with_matlab_header:
        header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 ."
        with open(path, "r+b") as handle:
            handle.write(header.ljust(116) + b"\x00" * 8 + b"\x00\x02IM")
    return path


@pytest.mark.parametrize("with_matlab_header", [True, False])
def test_matlab_v73_hdf5_is_recognised(tmp_path, with_matlab_header):
    path = write_v73(tmp_path / "BFM.mat", with_matlab_header)
    assert h5py.is_hdf5(path)
    with pytest.raises(ModelFileError) as excinfo:
        load_model(path)
    assert_error_names(excinfo, path, "7.3")


def test_truncated_mat(tmp_path):
    path = write_bfm(tmp_path / "BFM.mat", bfm_fields())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError) as excinfo:
        load_model(path)
    assert_error_names(excinfo, path)


def test_not_a_matlab_file_and_missing_file(tmp_path):
    text = tmp_path / "notes.mat"
    text.write_text("just some text, not a matrix file\n" * 20)
    with pytest.raises(ModelFileError) as excinfo:
        load_model(text)
    assert_error_names(excinfo, text, "is not a valid .mat file")
    assert "pickle" not in str(excinfo.value)
    missing = tmp_path / "nowhere" / "BFM.mat"
    with pytest.raises(ModelFileError) as excinfo:
        load_model(missing)
    assert_error_names(excinfo, missing)


def test_mat_without_a_model_lists_what_it_found(tmp_path):
    path = tmp_path / "other.mat"
    scipy.io.savemat(path, {"Shape_Para": np.zeros((199, 1))})
    with pytest.raises(ModelFileError) as excinfo:
        load_model(path)
    assert_error_names(excinfo, path, "Shape_Para")


@pytest.mark.parametrize("missing", ["shapeEV", "expPC", "tri"])
def test_bfm_missing_field(tmp_path, missing):
    fields = bfm_fields()
    del fields[missing]
    path = write_bfm(tmp_path / "BFM.mat", fields)
    with pytest.raises(ModelFileError) as excinfo:
        load_model(path)
    assert_error_names(excinfo, path, missing)


@pytest.mark.parametrize(
    ("field", "value", "word"),
    [
        ("shapePC", lambda f: f["shapePC"][:-3], "shapePC"),  # one vertex short
        ("expMU", lambda f: f["expMU"][:-3], "expMU"),
        ("shapeMU", lambda f: np.zeros((4, 15)), "shapeMU"),  # not a column vector
        ("tri", lambda f: f["tri"][:2], "tri"),  # (2, T)
    ],
)
def test_bfm_wrong_shapes(tmp_path, field, value, word):
    fields = bfm_fields()
    fields[field] = value(fields)
    path = write_bfm(tmp_path / "BFM.mat", fields)
    with pytest.raises(ModelFileError) as excinfo:
        load_model(path)
    assert_error_names(excinfo, path, word)


@pytest.mark.parametrize(("ev", "count"), [("shapeEV", N_ID - 1), ("expEV", N_EXP + 2)])
def test_bfm_standard_deviation_count_differs_from_basis(tmp_path, ev, count):
    fields = bfm_fields()
    fields[ev] = np.linspace(2.0, 1.0, count).reshape(-1, 1)
    path = write_bfm(tmp_path / "BFM.mat", fields)
    with pytest.raises(ModelFileError) as excinfo:
        load_model(path)
    assert_error_names(excinfo, path, str(count))


def test_bfm_zero_in_one_based_triangles(tmp_path):
    fields = bfm_fields()
    fields["tri"] = fields["tri"] - 1  # someone saved 0-based indices
    path = write_bfm(tmp_path / "BFM.mat", fields)
    with pytest.raises(ModelFileError) as excinfo:
        load_model(path)
    assert_error_names(excinfo, path, "1-based")


def test_bfm_triangle_index_beyond_vertex_count(tmp_path):
    fields = bfm_fields()
    fields["tri"][0, 0] = 21  # 20 vertices, 1-based
    path = write_bfm(tmp_path / "BFM.mat", fields)
    with pytest.raises(ModelFileError) as excinfo:
        load_model(path)
    assert_error_names(excinfo, path, "range")


def test_bfm_nan_in_basis_and_non_positive_ev(tmp_path):
    fields = bfm_fields()
    fields["shapePC"][4, 7] = np.nan
    path = write_bfm(tmp_path / "nan.mat", fields)
    with pytest.raises(ModelFileError) as excinfo:
        load_model(path)
    assert_error_names(excinfo, path, "NaN")
    fields = bfm_fields()
    fields["expEV"][3, 0] = 0.0
    path = write_bfm(tmp_path / "zero_ev.mat", fields)
    with pytest.raises(ModelFileError) as excinfo:
        load_model(path)
    assert_error_names(excinfo, path, "positive")


@pytest.mark.parametrize("value", [1.5, np.nan])
def test_bfm_non_integer_triangle_index_is_refused_not_truncated(tmp_path, value):
    fields = bfm_fields()
    fields["tri"][1, 3] = value  # 1.5 used to become vertex 0 without a word
    path = write_bfm(tmp_path / "BFM.mat", fields)
    with pytest.raises(ModelFileError) as excinfo:
        load_model(path)
    assert_error_names(excinfo, path, f"tri contains {value:g}", "whole numbers")


def test_npz_non_integer_triangle_index_is_refused(tmp_path):
    source = load_model(write_bfm(tmp_path / "BFM.mat", bfm_fields()))
    path = tmp_path / "model.npz"
    np.savez(
        path,
        mean=source.mean,
        basis_id=source.basis_id,
        basis_exp=source.basis_exp,
        ev_id=source.ev_id,
        ev_exp=source.ev_exp,
        triangles=source.triangles + 0.5,
    )
    with pytest.raises(ModelFileError) as excinfo:
        load_model(path)
    assert_error_names(excinfo, path, "triangle indices must be whole numbers (found 0.5)")


@pytest.mark.parametrize("field", ["shapePC", "expEV", "shapeMU", "tri"])
def test_bfm_complex_values_are_refused(tmp_path, field):
    fields = bfm_fields()
    fields[field] = fields[field] + 0j
    path = write_bfm(tmp_path / "BFM.mat", fields)
    with pytest.raises(ModelFileError) as excinfo:
        load_model(path)  # no ComplexWarning either: warnings are errors in the tests
    assert_error_names(excinfo, path, f"{field} holds complex numbers")


def test_npz_complex_values_are_refused(tmp_path):
    source = load_model(write_bfm(tmp_path / "BFM.mat", bfm_fields()))
    path = tmp_path / "model.npz"
    np.savez(
        path,
        mean=source.mean,
        basis_id=source.basis_id + 1j,
        basis_exp=source.basis_exp,
        ev_id=source.ev_id,
        ev_exp=source.ev_exp,
        triangles=source.triangles,
    )
    with pytest.raises(ModelFileError) as excinfo:
        load_model(path)
    assert_error_names(excinfo, path, "basis_id holds complex numbers")


def test_a_text_file_named_npz_is_named_as_such(tmp_path):
    path = tmp_path / "model.npz"
    path.write_text("mean,basis\n1,2\n")
    with pytest.raises(ModelFileError) as excinfo:
        load_model(path)
    assert_error_names(excinfo, path, "is not a valid .npz file")
    assert "allow_pickle" not in str(excinfo.value)


# --- landmarks and triangle parts --------------------------------------------------------------


def test_bfm_kpt_ind_gives_zero_based_landmarks(tmp_path):
    fields = bfm_fields()
    model = load_model(write_bfm(tmp_path / "BFM.mat", fields))
    np.testing.assert_array_equal(model.landmarks, fields["kpt_ind"].ravel().astype(np.int64) - 1)
    assert list(np.unique(model.triangle_parts)) == [FacePart.SKIN]  # a BFM says nothing of parts
    without = {key: value for key, value in fields.items() if key != "kpt_ind"}
    assert load_model(write_bfm(tmp_path / "plain.mat", without)).landmarks is None
    with pytest.raises(ModelFileError) as excinfo:
        load_model(write_bfm(tmp_path / "zero.mat", {**fields, "kpt_ind": fields["kpt_ind"] - 1}))
    assert_error_names(excinfo, tmp_path / "zero.mat", "kpt_ind contains index 0", "1-based")
    with pytest.raises(ModelFileError) as excinfo:
        load_model(write_bfm(tmp_path / "far.mat", {**fields, "kpt_ind": fields["kpt_ind"] + 100}))
    assert_error_names(excinfo, tmp_path / "far.mat", "landmark indices must lie in 0..19")


def test_npz_round_trip_keeps_landmarks_and_triangle_parts(tmp_path):
    source = load_model(write_bfm(tmp_path / "BFM.mat", bfm_fields(seed=7)))
    parts = np.arange(len(source.triangles)) % len(FacePart)
    labelled = MorphableModel(
        mean=source.mean,
        basis_id=source.basis_id,
        basis_exp=source.basis_exp,
        ev_id=source.ev_id,
        ev_exp=source.ev_exp,
        triangles=source.triangles,
        name="test:v1",
        landmarks=source.landmarks,
        triangle_parts=parts,
    )
    save_model_npz(labelled, tmp_path / "model.npz")
    loaded = load_model(tmp_path / "model.npz")
    np.testing.assert_array_equal(loaded.landmarks, source.landmarks)
    np.testing.assert_array_equal(loaded.triangle_parts, parts)
    assert loaded.digest == source.digest  # labels change no face
    with pytest.raises(FaceExplorerError, match="one FacePart code per triangle"):
        MorphableModel(
            mean=source.mean,
            basis_id=source.basis_id,
            basis_exp=source.basis_exp,
            ev_id=source.ev_id,
            ev_exp=source.ev_exp,
            triangles=source.triangles,
            name="bad",
            triangle_parts=parts + 7,
        )
