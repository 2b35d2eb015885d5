"""MorphableModel: synthesis (one face and batches), the one-coefficient update path, validation."""

from __future__ import annotations

import numpy as np
import pytest
from core_fixtures import N_EXP, N_ID, bfm_fields

from app.errors import FaceExplorerError
from app.model.morphable_model import MorphableModel


def small_model(seed: int = 0, **overrides) -> tuple[MorphableModel, dict[str, np.ndarray]]:
    """A model built directly from the (3N, K) arrays of a BFM-style field set."""
    f = bfm_fields(seed)
    arguments = dict(
        mean=(f["shapeMU"] + f["expMU"])[:, 0],
        basis_id=f["shapePC"].T,
        basis_exp=f["expPC"].T,
        ev_id=f["shapeEV"][:, 0],
        ev_exp=f["expEV"][:, 0],
        triangles=f["tri"].T.astype(np.int64) - 1,
        name="test:small",
    )
    arguments.update(overrides)
    return MorphableModel(**arguments), f


def by_hand(f: dict[str, np.ndarray], alpha_id: np.ndarray, alpha_exp: np.ndarray) -> np.ndarray:
    flat = (f["shapeMU"] + f["expMU"])[:, 0] + f["shapePC"] @ alpha_id + f["expPC"] @ alpha_exp
    return flat.reshape(-1, 3)


def test_counts_come_from_the_arrays():
    model, _ = small_model()
    assert (model.n_vertices, model.n_id, model.n_exp) == (20, N_ID, N_EXP)
    assert model.n_coefficients("shape") == N_ID and model.n_coefficients("expression") == N_EXP
    shorter = MorphableModel(
        mean=np.zeros(30),
        basis_id=np.eye(7, 30),
        basis_exp=np.eye(3, 30, k=7),
        ev_id=np.ones(7),
        ev_exp=np.ones(3),
        triangles=[[0, 1, 2]],
        name="test:tiny",
    )
    assert (shorter.n_vertices, shorter.n_id, shorter.n_exp) == (10, 7, 3)
    assert shorter.names("shape") == [""] * 7


def test_single_face_matches_hand_computation_with_interleaved_vertices():
    model, f = small_model(seed=2)
    rng = np.random.default_rng(4)
    alpha_id, alpha_exp = rng.normal(size=N_ID) * 2e4, rng.normal(size=N_EXP)
    face = model.synthesize(alpha_id, alpha_exp)
    expected = by_hand(f, alpha_id, alpha_exp)
    assert face.shape == (20, 3) and face.dtype == np.float32
    np.testing.assert_allclose(face, expected, atol=1e-5 * np.abs(expected).max())
    # Vertex 5 is flat entries 15, 16, 17 (x y z interleaved, as in the .mat files).
    flat = (f["shapeMU"] + f["expMU"])[:, 0] + f["shapePC"] @ alpha_id + f["expPC"] @ alpha_exp
    np.testing.assert_allclose(face[5], flat[15:18], atol=1e-5 * np.abs(expected).max())


def test_batch_equals_faces_one_by_one():
    model, f = small_model(seed=3)
    rng = np.random.default_rng(5)
    alpha_id, alpha_exp = rng.normal(size=(6, N_ID)) * 1e4, rng.normal(size=(6, N_EXP))
    batch = model.synthesize(alpha_id, alpha_exp)
    assert batch.shape == (6, 20, 3)
    tolerance = 1e-6 * np.abs(batch).max()  # float32 GEMM rounding differs between batch sizes
    for row in range(6):
        np.testing.assert_allclose(batch[row], model.synthesize(alpha_id[row], alpha_exp[row]), atol=tolerance)
        np.testing.assert_allclose(batch[row], by_hand(f, alpha_id[row], alpha_exp[row]), atol=10 * tolerance)


@pytest.mark.parametrize(("kind", "index"), [("shape", 0), ("shape", 198), ("expression", 0), ("expression", 28)])
def test_incremental_update_equals_full_synthesis(kind, index):
    model, _ = small_model(seed=6)
    rng = np.random.default_rng(7)
    alpha_id, alpha_exp = rng.normal(size=N_ID) * 1e4, rng.normal(size=N_EXP)
    vertices = model.synthesize(alpha_id, alpha_exp)
    delta = 3e4 if kind == "shape" else 1.5
    model.apply_coefficient_change(vertices, kind, index, delta)
    (alpha_id if kind == "shape" else alpha_exp)[index] += delta
    expected = model.synthesize(alpha_id, alpha_exp)
    np.testing.assert_allclose(vertices, expected, atol=1e-5 * np.abs(expected).max())
    # The other basis block must not be touched: moving a shape coefficient is not an expression change.
    assert not np.allclose(
        vertices,
        model.synthesize(
            *(
                (alpha_id - np.eye(N_ID)[index] * delta, alpha_exp)
                if kind == "shape"
                else (alpha_id, alpha_exp - np.eye(N_EXP)[index] * delta)
            )
        ),
    )


def test_incremental_update_refuses_a_non_contiguous_array():
    model, _ = small_model()
    vertices = np.asfortranarray(model.synthesize(np.zeros(N_ID), np.zeros(N_EXP)))
    with pytest.raises(ValueError):
        model.apply_coefficient_change(vertices, "shape", 0, 1.0)


@pytest.mark.parametrize(
    ("alpha_id", "alpha_exp", "word"),
    [
        (np.zeros(N_ID - 1), np.zeros(N_EXP), "identity"),
        (np.zeros(N_ID), np.zeros(N_EXP + 1), "expression"),
        (np.zeros((2, N_ID)), np.zeros((3, N_EXP)), "same number"),
        (np.zeros((2, N_ID)), np.zeros(N_EXP), "same number"),
        (np.full(N_ID, np.nan), np.zeros(N_EXP), "NaN"),
        (np.zeros(N_ID), np.r_[np.zeros(N_EXP - 1), np.inf], "NaN"),
        (np.zeros((1, 1, N_ID)), np.zeros(N_EXP), "identity"),
    ],
)
def test_bad_coefficients_are_one_clear_error(alpha_id, alpha_exp, word):
    model, _ = small_model()
    with pytest.raises(FaceExplorerError, match=word):
        model.synthesize(alpha_id, alpha_exp)


@pytest.mark.parametrize(
    ("override", "word"),
    [
        ({"mean": np.zeros(61)}, "multiple of 3"),
        ({"basis_id": np.zeros((N_ID, 57))}, "identity basis"),
        ({"ev_exp": np.ones(N_EXP - 1)}, "expression standard deviations"),
        ({"ev_id": -np.ones(N_ID)}, "positive"),
        ({"triangles": np.array([[0, 1, 20]])}, "out of range"),
        ({"triangles": np.array([[0, 1, 2, 3]])}, "triangles have shape"),
        ({"mean": np.full(60, np.nan)}, "NaN"),
    ],
)
def test_inconsistent_arrays_are_rejected(override, word):
    with pytest.raises(FaceExplorerError, match=word):
        small_model(**override)


def test_mode_names_are_padded_and_truncated_to_the_counts():
    model, _ = small_model(names_id=["face width"], names_exp=[f"e{i}" for i in range(40)])
    assert len(model.names_id) == N_ID and model.names_id[0] == "face width" and model.names_id[1] == ""
    assert model.names("expression") == [f"e{i}" for i in range(N_EXP)]
