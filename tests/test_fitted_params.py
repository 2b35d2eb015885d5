"""Fitted-parameter datasets: folders of AFLW2000-3D-style .mat files, .npz tables, split by face."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from core_fixtures import N_EXP, N_ID, write_fitted_mat

from app.errors import DatasetError
from app.model.fitted_params import (
    FittedParameters,
    load_fitted_parameters,
    split_by_face,
    split_by_ids,
)


def vectors(seed: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(count, N_ID)) * 1e5, rng.normal(size=(count, N_EXP))


@pytest.fixture
def aflw_tree(tmp_path) -> tuple[Path, np.ndarray, np.ndarray]:
    """Six good files in nested folders, plus a garbage file, a NaN file and one lacking Exp_Para."""
    root = tmp_path / "AFLW2000"
    shape, expression = vectors(0, 6)
    names = [
        "image00002.mat",
        "image00004.mat",
        "sub/image00006.mat",
        "sub/image00008.mat",
        "sub/deeper/image00010.mat",
        "sub/deeper/image00013.mat",
    ]
    for name, s, e in zip(names, shape, expression, strict=True):
        write_fitted_mat(root / name, s, e)
    (root / "sub" / "broken.mat").write_bytes(b"\x00\x01 definitely not MATLAB" * 10)
    nan_shape = shape[0].copy()
    nan_shape[17] = np.nan
    write_fitted_mat(root / "sub" / "image_nan.mat", nan_shape, expression[0])
    import scipy.io

    scipy.io.savemat(root / "no_exp.mat", {"Shape_Para": shape[1].reshape(-1, 1), "Pose_Para": np.zeros((1, 7))})
    (root / "readme.txt").write_text("ignored: not a .mat file")
    return root, shape, expression


def test_folder_is_read_recursively_and_bad_files_are_skipped_with_reasons(aflw_tree):
    root, shape, expression = aflw_tree
    data = load_fitted_parameters(root)
    assert len(data) == 6
    expected_ids = sorted(
        [
            "image00002",
            "image00004",
            "sub/image00006",
            "sub/image00008",
            "sub/deeper/image00010",
            "sub/deeper/image00013",
        ]
    )
    assert sorted(data.face_ids) == expected_ids
    by_id = dict(zip(data.face_ids, range(len(data)), strict=True))
    written = dict(
        zip(
            [
                "image00002",
                "image00004",
                "sub/image00006",
                "sub/image00008",
                "sub/deeper/image00010",
                "sub/deeper/image00013",
            ],
            range(6),
            strict=True,
        )
    )
    for face, row in by_id.items():
        np.testing.assert_array_equal(data.shape[row], shape[written[face]])
        np.testing.assert_array_equal(data.expression[row], expression[written[face]])
    assert data.shape.shape == (6, N_ID) and data.expression.shape == (6, N_EXP)
    skipped = {Path(file).name: reason for file, reason in data.skipped}
    assert set(skipped) == {"broken.mat", "image_nan.mat", "no_exp.mat"}
    assert "NaN" in skipped["image_nan.mat"] and "Shape_Para" in skipped["image_nan.mat"]
    assert "Exp_Para" in skipped["no_exp.mat"]
    assert "Matlab" in skipped["broken.mat"]
    assert data.source == str(root)


def test_row_vectors_are_accepted_like_columns(tmp_path):
    shape, expression = vectors(1, 1)
    import scipy.io

    scipy.io.savemat(tmp_path / "a.mat", {"Shape_Para": shape.reshape(1, -1), "Exp_Para": expression.reshape(1, -1)})
    data = load_fitted_parameters(tmp_path)
    np.testing.assert_array_equal(data.shape[0], shape[0])


def test_one_file_of_another_model_does_not_sink_the_folder(tmp_path):
    """The odd file sorts first; the majority's coefficient counts must still win."""
    shape, expression = vectors(2, 4)
    write_fitted_mat(tmp_path / "a_other_model.mat", shape[0][:100], expression[0][:10])
    for i in range(4):
        write_fitted_mat(tmp_path / f"image{i}.mat", shape[i], expression[i])
    data = load_fitted_parameters(tmp_path)
    assert len(data) == 4 and data.shape.shape[1] == N_ID
    assert [Path(f).name for f, _ in data.skipped] == ["a_other_model.mat"]
    assert "100" in data.skipped[0][1]
    data.check_counts(N_ID, N_EXP)


def test_folder_without_usable_files(tmp_path):
    (tmp_path / "bad.mat").write_bytes(b"garbage")
    with pytest.raises(DatasetError, match="no usable") as excinfo:
        load_fitted_parameters(tmp_path)
    assert "bad.mat" in str(excinfo.value)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DatasetError, match="0 found"):
        load_fitted_parameters(empty)


def test_npz_tables(tmp_path):
    shape, expression = vectors(3, 5)
    path = tmp_path / "fits.npz"
    np.savez(path, shape=shape, expression=expression, face_ids=np.array([f"f{i}" for i in range(5)]))
    data = load_fitted_parameters(path)
    np.testing.assert_array_equal(data.shape, shape)
    np.testing.assert_array_equal(data.expression, expression)
    assert data.face_ids == [f"f{i}" for i in range(5)] and data.skipped == []
    no_ids = tmp_path / "no_ids.npz"
    np.savez(no_ids, shape=shape, expression=expression)
    assert load_fitted_parameters(no_ids).face_ids == ["0", "1", "2", "3", "4"]


@pytest.mark.parametrize(
    ("content", "word"),
    [
        ({"shape": np.zeros((3, N_ID))}, "expression"),
        ({"shape": np.zeros((3, N_ID)), "expression": np.zeros((4, N_EXP))}, "one row per face"),
        ({"shape": np.full((3, N_ID), np.nan), "expression": np.zeros((3, N_EXP))}, "3 rows contain NaN"),
    ],
)
def test_bad_npz_tables(tmp_path, content, word):
    path = tmp_path / "fits.npz"
    np.savez(path, **content)
    with pytest.raises(DatasetError, match=word) as excinfo:
        load_fitted_parameters(path)
    assert str(path) in str(excinfo.value)


def test_complex_coefficients_are_refused_not_made_real(tmp_path):
    shape, expression = vectors(3, 4)
    path = tmp_path / "fits.npz"
    np.savez(path, shape=shape, expression=expression + 1j)
    with pytest.raises(DatasetError) as excinfo:
        load_fitted_parameters(path)  # no ComplexWarning either: warnings are errors in the tests
    assert str(excinfo.value) == f"{path}: the expression table holds complex numbers; coefficients are real"
    root = tmp_path / "fits"
    write_fitted_mat(root / "good.mat", shape[0], expression[0])
    write_fitted_mat(root / "complex.mat", shape[1], expression[1], Shape_Para=(shape[1] + 2j).reshape(-1, 1))
    data = load_fitted_parameters(root)
    assert data.face_ids == ["good"]
    assert data.skipped == [
        (str(root / "complex.mat"), "Shape_Para holds complex numbers; fitted coefficients are real")
    ]


def test_unreadable_or_missing_inputs(tmp_path):
    garbage = tmp_path / "fits.npz"
    garbage.write_bytes(b"PK\x03\x04 broken zip")
    with pytest.raises(DatasetError, match=r"fits\.npz"):
        load_fitted_parameters(garbage)
    other = tmp_path / "fits.csv"
    other.write_text("1,2,3")
    with pytest.raises(DatasetError, match=r"fits\.csv"):
        load_fitted_parameters(other)
    with pytest.raises(DatasetError, match="no such"):
        load_fitted_parameters(tmp_path / "missing")


def test_check_counts_refuses_another_model():
    shape, expression = vectors(4, 2)
    data = FittedParameters(shape, expression, ["a", "b"], "test")
    data.check_counts(N_ID, N_EXP)
    with pytest.raises(DatasetError, match="199 identity and 29 expression"):
        data.check_counts(N_ID, 10)


# --- split by face -----------------------------------------------------------------------------


def views_dataset(faces: int = 30, views: int = 4) -> FittedParameters:
    """300W-LP style: several rotated views of a face share Shape_Para, with different Exp_Para."""
    shape, _ = vectors(5, faces)
    rng = np.random.default_rng(6)
    rows = np.repeat(np.arange(faces), views)
    return FittedParameters(
        shape[rows],
        rng.normal(size=(len(rows), N_EXP)),
        [f"face{f}_view{v}" for f in range(faces) for v in range(views)],
        "300W-LP test",
    )


def face_keys(part: FittedParameters) -> set[bytes]:
    return {row.tobytes() for row in part.shape}


def test_split_keeps_all_views_of_a_face_on_one_side():
    data = views_dataset()
    train, test = split_by_face(data, 7, np.random.default_rng(0))
    assert len(face_keys(test)) == 7 and len(face_keys(train)) == 23
    assert not face_keys(train) & face_keys(test)
    assert len(train) == 23 * 4 and len(test) == 7 * 4
    all_ids = sorted(train.face_ids + test.face_ids)
    assert all_ids == sorted(data.face_ids)
    # Rows travel with their expression: every (id, expression) pair is the original one.
    original = dict(zip(data.face_ids, data.expression, strict=True))
    for part in (train, test):
        for face_id, row in zip(part.face_ids, part.expression, strict=True):
            np.testing.assert_array_equal(row, original[face_id])


def test_split_is_seeded():
    data = views_dataset()
    first = split_by_face(data, 7, np.random.default_rng(11))[1].face_ids
    again = split_by_face(data, 7, np.random.default_rng(11))[1].face_ids
    other = split_by_face(data, 7, np.random.default_rng(12))[1].face_ids
    assert first == again
    assert first != other


@pytest.mark.parametrize("test_faces", [0, 30, 31])
def test_split_needs_faces_on_both_sides(test_faces):
    with pytest.raises(DatasetError, match="30 distinct faces"):
        split_by_face(views_dataset(), test_faces, np.random.default_rng(0))


def test_split_by_recorded_ids_gives_exactly_the_held_out_rows():
    data = views_dataset()
    train, test = split_by_face(data, 7, np.random.default_rng(3))
    again_train, again_test = split_by_ids(data, test.face_ids)
    assert again_test.face_ids == test.face_ids and again_train.face_ids == train.face_ids
    np.testing.assert_array_equal(again_test.expression, test.expression)
    with pytest.raises(
        DatasetError, match=r"lacks 1 of the 29 held-out faces \(e\.g\. 'face99_view0'\): it is not the data"
    ):
        split_by_ids(data, [*test.face_ids, "face99_view0"])
