"""FLAME read from its published pickles (chumpy, scipy sparse) and .npz conversions, safely, and posed by skinning."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from published_models import (
    FLAME_EXPRESSION,
    embedded_vertices,
    flame_arrays,
    landmark_embedding,
    write_flame_npz,
    write_flame_pickle,
)

from app.errors import ModelFileError
from app.model.model_files import load_model
from app.model.skinning import rodrigues

UM = 1e6  # micrometres per metre


@pytest.mark.parametrize("protocol", [0, 2, 4])
@pytest.mark.parametrize("chumpy", [True, False], ids=["chumpy", "open"])
def test_every_pickle_variant_loads_with_flame_counts_and_units(tmp_path: Path, protocol: int, chumpy: bool):
    arrays = flame_arrays()
    model = load_model(write_flame_pickle(tmp_path / "generic_model.pkl", arrays, chumpy=chumpy, protocol=protocol))
    assert (model.n_id, model.n_exp) == (300, FLAME_EXPRESSION)
    assert model.origin is not None and (model.origin.family, model.origin.version) == ("FLAME", "2020")
    np.testing.assert_allclose(model.mean, arrays["v_template"].reshape(-1) * UM, rtol=1e-6)
    np.testing.assert_array_equal(model.triangles, arrays["f"])


def test_coefficients_are_published_betas_times_ev_and_psi(tmp_path: Path):
    arrays = flame_arrays()
    model = load_model(write_flame_pickle(tmp_path / "flame2023.pkl", arrays))
    rng = np.random.default_rng(3)
    beta, psi = rng.normal(size=300), rng.normal(size=FLAME_EXPRESSION)
    face = model.synthesize(beta * model.ev_id, psi).reshape(-1)
    published = arrays["v_template"].reshape(-1) + arrays["shapedirs"].reshape(-1, 400) @ np.concatenate([beta, psi])
    np.testing.assert_allclose(face, published * UM, rtol=1e-4, atol=0.5)
    np.testing.assert_array_equal(model.ev_exp, np.ones(FLAME_EXPRESSION))  # FLAME's σ is 1 per coefficient
    assert model.origin.version == "2023"


def test_the_npz_conversion_is_the_same_model(tmp_path: Path):
    arrays = flame_arrays()
    from_pickle = load_model(write_flame_pickle(tmp_path / "generic_model.pkl", arrays))
    from_npz = load_model(write_flame_npz(tmp_path / "flame.npz", arrays))
    assert from_npz.digest == from_pickle.digest


def test_a_payload_in_the_pickle_never_runs(tmp_path: Path):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    arrays = flame_arrays()
    arrays["bs_style"] = Payload()
    path = tmp_path / "generic_model.pkl"
    path.write_bytes(pickle.dumps(arrays, protocol=2))
    with pytest.raises(ModelFileError) as excinfo:
        load_model(path)
    message = str(excinfo.value)
    assert not marker.exists()
    assert f"unexpected class ({os.system.__module__}.system)" in message, message
    assert str(path) in message and "\n" not in message


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda a: a.update(shapedirs=a["shapedirs"][:, :, :250]), "shapedirs has 250 columns"),
        (lambda a: a["shapedirs"].__setitem__((3, 1, 7), np.nan), "NaN"),
        (lambda a: a.update(posedirs=a["posedirs"][:, :, :30]), "posedirs hold"),
        (lambda a: a.update(weights=a["weights"][:, :4]), "weights have shape"),
        (lambda a: a.pop("J_regressor"), "lacks J_regressor"),
    ],
    ids=["short-shapedirs", "nan", "posedirs", "weights", "missing"],
)
def test_inconsistent_files_are_one_line_errors(tmp_path: Path, change, words: str):
    arrays = flame_arrays()
    change(arrays)
    path = write_flame_pickle(tmp_path / "generic_model.pkl", arrays, chumpy=False)
    with pytest.raises(ModelFileError) as excinfo:
        load_model(path)
    assert words in str(excinfo.value) and str(path) in str(excinfo.value) and "\n" not in str(excinfo.value)


def test_a_truncated_pickle_is_one_line(tmp_path: Path):
    path = write_flame_pickle(tmp_path / "generic_model.pkl")
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(ModelFileError, match="not a readable pickle"):
        load_model(path)


def test_rest_pose_is_the_linear_face_and_a_global_turn_is_rigid(tmp_path: Path):
    model = load_model(write_flame_pickle(tmp_path / "generic_model.pkl"))
    assert model.skinning is not None
    rest = model.synthesize(np.ones(300) * model.ev_id * 0.3, np.ones(FLAME_EXPRESSION) * 0.5)
    np.testing.assert_allclose(model.skinning.pose(rest, np.zeros((5, 3))), rest, atol=1e-2)
    rotations = np.zeros((5, 3))
    rotations[0] = (0.0, 0.4, 0.0)  # the whole head turns about the root joint; no corrective is used
    root = model.skinning.j_regressor[0] @ rest
    expected = (rest - root) @ rodrigues(rotations[:1])[0].T + root
    np.testing.assert_allclose(model.skinning.pose(rest, rotations), expected, rtol=1e-5, atol=0.1)


def test_the_jaw_opens_by_skinning_with_pose_correctives(tmp_path: Path):
    arrays = flame_arrays()
    model = load_model(write_flame_pickle(tmp_path / "generic_model.pkl", arrays))
    rest = model.synthesize(np.zeros(300), np.zeros(FLAME_EXPRESSION))
    rotations = np.zeros((5, 3))
    rotations[2] = (0.3, 0.0, 0.0)
    posed = model.skinning.pose(rest, rotations)
    jaw = arrays["weights"][:, 2] == 1
    moved = np.linalg.norm(posed - rest, axis=1)
    corrective = ((rodrigues(rotations)[1:] - np.eye(3)).reshape(-1) @ model.skinning.posedirs).reshape(-1, 3)
    assert moved[jaw].min() > 1000.0  # millimetres on the lower face
    np.testing.assert_allclose(posed[~jaw], rest[~jaw] + corrective[~jaw], atol=0.05)  # the rest only by correctives


def test_landmarks_from_the_embeddings_beside_the_model(tmp_path: Path):
    arrays = flame_arrays()
    path = write_flame_pickle(tmp_path / "generic_model.pkl", arrays)
    model = load_model(path)
    assert model.landmarks is None and "flame_static_embedding.pkl" in model.landmarks_note
    static_faces, static_weights = landmark_embedding(arrays["f"], 51)
    (tmp_path / "flame_static_embedding.pkl").write_bytes(
        pickle.dumps({"lmk_face_idx": static_faces.astype(np.uint32), "lmk_b_coords": static_weights}, protocol=2)
    )
    model = load_model(path)
    np.testing.assert_array_equal(model.landmarks, embedded_vertices(arrays["f"], static_faces, static_weights))
    assert "51 of the 68" in model.landmarks_note and "300W-LP" in model.landmarks_note
    faces, weights = landmark_embedding(arrays["f"], 68, seed=5)
    deca = {
        "full_lmk_faces_idx": faces[None].astype(np.int64),
        "full_lmk_bary_coords": weights[None],
        "dynamic_lmk_faces_idx": torch.zeros((79, 17), dtype=torch.long),  # DECA stores these as torch tensors
        "dynamic_lmk_bary_coords": torch.zeros((79, 17, 3)),
    }
    np.save(tmp_path / "landmark_embedding.npy", np.array(deca, dtype=object), allow_pickle=True)
    model = load_model(path)
    np.testing.assert_array_equal(model.landmarks, embedded_vertices(arrays["f"], faces, weights))
    assert model.landmarks_note is None and len(model.landmarks) == 68
