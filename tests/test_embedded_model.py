"""The embedded default face model (ICT-FaceKit's head on BFM scales), its data file and its corpus."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest
from core_fixtures import REPO

from app.errors import ModelFileError
from app.model.action_units import ACTION_UNITS
from app.model.coefficient_names import coefficient_label
from app.model.embedded_corpus import PAPER_FACE_COUNT, corpus_blendshape_weights, embedded_corpus
from app.model.embedded_model import EMBEDDED_NAME, UNITS_PER_ACTIVATION, embedded_model
from app.model.face_asset import ASSET_PATH, load_face_asset
from app.model.face_parts import FacePart
from app.model.sampling import sample_coefficients
from app.model.uv_layout import EMBEDDED_UV_PATH, load_uv_layout
from app.model.vertex_normals import VertexNormals

MM = 1000.0  # model units are micrometres
UNIT_LABELS = [unit.label for unit in ACTION_UNITS]


@pytest.fixture(scope="module")
def model():
    return embedded_model()


@pytest.fixture(scope="module")
def asset():
    return load_face_asset()


@pytest.fixture(scope="module")
def mean_face(model):
    return model.synthesize(np.zeros(model.n_id), np.zeros(model.n_exp)).astype(np.float64)


def test_generation_is_deterministic(model):
    rebuilt = embedded_model.__wrapped__()  # a second, uncached build
    assert rebuilt is not model
    for name in ("mean", "basis_id", "basis_exp", "ev_id", "ev_exp", "triangles", "landmarks", "triangle_parts"):
        np.testing.assert_array_equal(getattr(rebuilt, name), getattr(model, name), err_msg=name)
    assert rebuilt.names_id == model.names_id and rebuilt.names_exp == model.names_exp
    assert rebuilt.digest == model.digest


def test_every_process_builds_the_same_bits_whatever_its_blas_threads(model):
    """Dataset and Dask workers often start with one BLAS thread; their model must be the explorer's, bit for bit."""
    probe = (
        "import hashlib, sys; from app.model.embedded_model import embedded_model; m = embedded_model(); "
        "sys.stdout.write(hashlib.sha256(m.mean.tobytes() + m.basis_id.tobytes() + m.basis_exp.tobytes()).hexdigest())"
    )
    here = hashlib.sha256(model.mean.tobytes() + model.basis_id.tobytes() + model.basis_exp.tobytes()).hexdigest()
    for threads in ("1", "2"):
        environment = {
            **os.environ,
            "OPENBLAS_NUM_THREADS": threads,
            "OMP_NUM_THREADS": threads,
            "MKL_NUM_THREADS": threads,
        }
        built = subprocess.run(
            [sys.executable, "-c", probe], cwd=REPO, env=environment, capture_output=True, text=True, check=True
        )
        assert built.stdout == here, f"{threads} BLAS thread(s) built other bits"


def test_the_model_is_identified_by_its_recipe_and_the_recipe_covers_the_build(model):
    """Two builds that differ only in rounding are one model; a change to the build must change the recipe.

    The sums below are the built arrays' as of build version 1. If this test fails because the
    build computes something else now, raise ``_BUILD_VERSION`` and update the sums: files made
    on the old model must not pass as made on the new one.
    """
    assert f"asset {hashlib.sha256(ASSET_PATH.read_bytes()).hexdigest()}" in model.recipe
    assert "build 1;" in model.recipe
    expected = {
        "mean": 234339164647867.88,
        "basis_id": 199.00000001217694,
        "basis_exp": 934346943130.658,
        "ev_id": 1869999999999.9995,
        "ev_exp": 2564005286.0973725,
    }
    for name, squares in expected.items():
        assert float((getattr(model, name).astype(np.float64) ** 2).sum()) == pytest.approx(squares, rel=1e-6), name
    renamed = embedded_model.__wrapped__()
    renamed.recipe += " (changed)"
    assert renamed.digest != model.digest


def test_size_counts_and_name(model, asset):
    assert model.n_vertices == len(asset.neutral) > 20_000
    assert (model.n_id, model.n_exp) == (199, 29)
    assert model.name == EMBEDDED_NAME and model.is_embedded
    t = model.triangles
    assert not np.any((t[:, 0] == t[:, 1]) | (t[:, 1] == t[:, 2]) | (t[:, 0] == t[:, 2]))
    assert len(np.unique(t)) == model.n_vertices  # no stray vertices


# --- the data file ---------------------------------------------------------------------------


def test_the_asset_decodes_to_the_ict_vertices_it_was_built_from(asset):
    """The build stored some vertices exactly as the OBJs give them; decoding must land within half a step."""
    assert len(asset.identity) == 100 and asset.expression_names == UNIT_LABELS
    at = asset.reference_vertices
    assert len(at) >= 32 and at.min() == 0 and at.max() == len(asset.neutral) - 1  # spread over every part
    np.testing.assert_allclose(asset.neutral[at], asset.reference_neutral, atol=0.01)
    np.testing.assert_allclose(asset.identity[:, at], asset.reference_identity, atol=0.55)
    np.testing.assert_allclose(asset.expression[:, at], asset.reference_expression, atol=0.6)
    # The references are not all zero: the check above has something to compare.
    assert np.abs(asset.reference_identity).max() > 5 * MM and np.abs(asset.reference_expression).max() > 5 * MM
    assert len(asset.source_digest) == 64


def test_a_damaged_asset_is_refused(tmp_path):
    with np.load(ASSET_PATH) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["identity_steps"][3, 100, 2] += 1  # one micrometre, one mode, one vertex
    np.savez(tmp_path / "damaged.npz", **arrays)
    with pytest.raises(ModelFileError, match=r"damaged \(its contents do not match its checksum"):
        load_face_asset(tmp_path / "damaged.npz")
    del arrays["landmarks"]
    np.savez(tmp_path / "partial.npz", **arrays)
    with pytest.raises(ModelFileError, match=r"not an embedded face asset \(missing landmarks"):
        load_face_asset(tmp_path / "partial.npz")


def test_the_texture_layout_covers_every_triangle_and_leaves_the_identity_alone(model):
    layout = model.uv_layout
    assert layout is not None and layout.triangles.shape == model.triangles.shape
    assert np.isin(np.arange(len(layout.uv)), layout.triangles).all()  # no unused rows
    # ICT's four texture tiles side by side (face, mouth, eyes, ...): u in 0..4, v in 0..1.
    assert layout.uv.min() >= 0 and layout.uv[:, 0].max() <= 4 and layout.uv[:, 1].max() <= 1
    # A seam gives a vertex one UV per side, but one corner's UV always belongs to one vertex.
    owners = np.full(len(layout.uv), -1)
    owners[layout.triangles.ravel()] = model.triangles.ravel()
    assert np.array_equal(owners[layout.triangles], model.triangles)
    assert f"asset {hashlib.sha256(ASSET_PATH.read_bytes()).hexdigest()}" in model.recipe  # the layout is not in it


def test_a_damaged_or_foreign_texture_layout_is_refused(tmp_path):
    source = load_face_asset().source_digest
    with np.load(EMBEDDED_UV_PATH) as archive:
        arrays = {name: archive[name] for name in archive.files}
    np.savez(tmp_path / "foreign.npz", **arrays)
    with pytest.raises(ModelFileError, match="made from other ICT-FaceKit files than the face asset beside it"):
        load_uv_layout(tmp_path / "foreign.npz", "0" * 64)
    arrays["uv"][5, 1] += 0.25
    np.savez(tmp_path / "damaged.npz", **arrays)
    with pytest.raises(ModelFileError, match=r"damaged \(its contents do not match its checksum"):
        load_uv_layout(tmp_path / "damaged.npz", source)
    np.savez(tmp_path / "other.npz", uv=arrays["uv"])
    with pytest.raises(ModelFileError, match="not a texture layout file"):
        load_uv_layout(tmp_path / "other.npz", source)


# --- scales and modes ------------------------------------------------------------------------


def test_identity_rows_are_orthonormal(model):
    basis = model.basis_id.astype(np.float64)
    np.testing.assert_allclose(basis @ basis.T, np.eye(199), atol=1e-5)


def test_bfm_scales(model):
    assert np.sum(model.ev_id**2) == pytest.approx(1.87e12, rel=0.01)
    assert np.sum((model.ev_exp / model.ev_exp.max()) ** 2) == pytest.approx(2.5, rel=0.02)
    assert np.all(np.diff(model.ev_exp) < 0)
    # The smooth modes are weaker than ICT's, as the BFM's high modes are.
    assert model.ev_id[100:].max() < model.ev_id[99] and model.ev_id[150:].mean() < 0.05 * model.ev_id[:22].mean()
    # A 1σ identity change moves the face by millimetres, not metres or microns.
    one_sigma = np.abs(model.basis_id[0] * model.ev_id[0]).max()
    assert 5 * MM < one_sigma < 30 * MM
    # Head and shoulders: about 25 cm wide and 34 cm tall.
    extent = np.ptp(model.mean.reshape(-1, 3), axis=0)
    assert 200 * MM < extent[0] < 300 * MM and 280 * MM < extent[1] < 400 * MM


def test_ict_identity_modes_keep_their_distribution(model, asset):
    """Weights ~ N(0, 1) on ICT's modes are the same faces as α ~ N(0, EV²) on the first 100 rows, up to one scale."""
    modes = asset.identity.reshape(100, -1).astype(np.float64)
    rows = model.basis_id[:100].astype(np.float64)
    coefficients = modes @ rows.T  # ICT mode k in the model's coordinates
    np.testing.assert_allclose(coefficients @ rows, modes, atol=2.0)  # nothing of ICT's modes is lost
    covariance = coefficients.T @ coefficients  # of α when ICT's weights are N(0, I)
    scale = np.sqrt(model.ev_id[:100] ** 2 / np.diag(covariance))
    np.testing.assert_allclose(scale, scale[0], rtol=1e-4)
    assert 1.2 < scale[0] < 1.7  # the BFM's total variance is a bit larger than ICT's
    off_diagonal = covariance - np.diag(np.diag(covariance))
    assert np.abs(off_diagonal).max() < 1e-6 * covariance.max()


def test_mode_names(model):
    # Numbered from 0, as the coefficients are, so a row, the history and an error say the same number.
    assert model.names_id[:2] == ["identity PC 0", "identity PC 1"] and model.names_id[100] == "smooth mode 100"
    assert coefficient_label(model, "shape", 1) == "identity PC 1"
    assert coefficient_label(model, "shape", 100) == "identity 100 (smooth mode 100)"
    assert coefficient_label(model, "expression", 0) == "expression 0 (AU27 mouth stretch (jawOpen))"
    assert model.names_exp == [unit.mode_name for unit in ACTION_UNITS]
    assert model.names_exp[:3] == [
        "AU27 mouth stretch (jawOpen)",
        "AU12 lip corner puller (mouthSmile)",
        "AU45 blink (eyeBlink)",
    ]
    assert model.names_exp[23] == "AU61 eyes turn left (eyeLookOut_L + eyeLookIn_R)"
    assert model.names("expression") is model.names_exp


def unit_displacement(model, label: str) -> np.ndarray:
    """(N, 3) displacement of an action unit at full activation."""
    return model.basis_exp[UNIT_LABELS.index(label)].reshape(-1, 3).astype(np.float64) * UNITS_PER_ACTIVATION


def test_action_units_do_what_their_names_say(model, mean_face):
    lm = model.landmarks
    jaw = unit_displacement(model, "AU27 mouth stretch")
    assert jaw[lm[8], 1] < -15 * MM  # the chin drops
    forehead = (mean_face[:, 1] > mean_face[lm[27], 1] + 20 * MM) & (np.abs(mean_face[:, 0]) < 40 * MM)
    assert np.abs(jaw[forehead]).max() < 0.1 * MM  # the forehead stays
    smile = unit_displacement(model, "AU12 lip corner puller")
    right, left = smile[lm[48]], smile[lm[54]]
    assert right[1] > 2 * MM and left[1] > 2 * MM  # both corners go up …
    assert right[0] < 0 < left[0]  # … and outward
    assert np.linalg.norm(right) == pytest.approx(np.linalg.norm(left), rel=0.05)
    blink = unit_displacement(model, "AU45 blink")
    assert np.all(blink[lm[[37, 38, 43, 44]], 1] < -3 * MM)  # upper lids close
    look_left = unit_displacement(model, "AU61 eyes turn left")
    iris = np.unique(model.triangles[model.triangle_parts == FacePart.IRIS])
    assert np.all(look_left[iris, 0] > 0)  # toward the face's left, +x


def test_landmarks_sit_where_multi_pie_puts_them(model, mean_face):
    lm = model.landmarks
    assert lm.shape == (68,) and len(set(lm)) == 68 and lm.max() < model.n_vertices
    skin = np.unique(model.triangles[model.triangle_parts == FacePart.SKIN])
    assert np.isin(lm, skin).all()
    points = mean_face[lm]
    assert np.argmin(points[:, 1]) == 8  # the chin is the lowest
    assert np.argmax(points[:, 2]) == 30  # the nose tip the most forward
    # Mirror pairs: the eyes' outer corners, the mouth corners.
    for right, left in ((36, 45), (48, 54), (0, 16)):
        np.testing.assert_allclose(points[right] * [-1, 1, 1], points[left], atol=0.5 * MM)


def test_parts_give_eyes_teeth_and_mouth(model, mean_face):
    counts = np.bincount(model.triangle_parts, minlength=len(FacePart))
    assert np.all(counts > 100), counts
    normals = VertexNormals(model.triangles, model.n_vertices).compute(mean_face.astype(np.float32))
    for part in (FacePart.IRIS, FacePart.PUPIL):
        vertices = np.unique(model.triangles[model.triangle_parts == part])
        assert np.mean(normals[vertices, 2] > 0.5) > 0.95  # looking out of the face
    teeth = np.unique(model.triangles[model.triangle_parts == FacePart.TEETH])
    assert mean_face[teeth, 2].max() < mean_face[model.landmarks[[51, 57]], 2].min()  # behind the lips


def test_the_mean_face_looks_out_along_plus_z(model, mean_face):
    """Triangles are wound so that normals point out of the face (lighting depends on it)."""
    normals = VertexNormals(model.triangles, model.n_vertices).compute(mean_face.astype(np.float32))
    lm = model.landmarks
    assert np.all(normals[lm[17:36], 2] > 0.35)  # brows and nose
    assert np.all(normals[lm[[8, *range(48, 60)]], 2] > 0.5)  # chin and outer lips


# --- the corpus ------------------------------------------------------------------------------


def test_default_corpus_size():
    assert PAPER_FACE_COUNT == 5837


@pytest.fixture(scope="module")
def corpus():
    return embedded_corpus(2000, seed=1)


def test_corpus_diversity_matches_the_papers_real_data(corpus):
    assert len(corpus) == 2000 and corpus.shape.shape == (2000, 199) and corpus.expression.shape == (2000, 29)
    assert np.trace(np.cov(corpus.shape.T)) == pytest.approx(0.86e12, rel=0.1)
    assert np.trace(np.cov(corpus.expression.T)) == pytest.approx(7.08, rel=0.1)
    corpus.check_counts(199, 29)


def explained_by_top(vectors: np.ndarray, k: int) -> float:
    centred = vectors - vectors.mean(axis=0)
    power = np.linalg.svd(centred, compute_uv=False) ** 2
    return float(power[:k].sum() / power.sum())


def test_corpus_lies_on_a_low_dimensional_manifold(model, corpus):
    # Whitened by EV, a Gaussian in 199 dims would put ~8 % in the top 10 components.
    assert explained_by_top(corpus.shape / model.ev_id, 10) > 0.9
    gaussian = np.random.default_rng(0).normal(size=(2000, 199))
    assert explained_by_top(gaussian, 10) < 0.15
    # A few displays per face: far more concentrated than 29 independent coefficients (~40 %).
    assert explained_by_top(corpus.expression, 10) > 0.75
    assert explained_by_top(np.random.default_rng(0).normal(size=(2000, 29)), 10) < 0.45


def test_corpus_expressions_are_sparse_non_negative_action_units(model, corpus):
    e = corpus.expression
    assert e.min() >= 0.0 and e.max() <= UNITS_PER_ACTIVATION + 1e-9  # never negative, never beyond full
    active = (e > 0.05 * UNITS_PER_ACTIVATION).sum(axis=1)
    assert 2 <= active.mean() <= 8 and np.mean(e == 0) > 0.6  # a few units at a time
    jaw = e[:, UNIT_LABELS.index("AU27 mouth stretch")]
    assert np.mean(jaw == 0) > 0.5  # most faces have the mouth closed
    # A uniform sample in ±r·EV is half negative: nothing like a real expression.
    uniform = sample_coefficients(model, "expression", "uniform", 2000, np.random.default_rng(0))
    assert np.mean(uniform[:, :10] < 0) > 0.4


def test_corpus_left_and_right_move_together():
    names, weights = corpus_blendshape_weights(2000, seed=1)
    assert weights.shape == (2000, len(names)) and weights.min() >= 0.0 and weights.max() <= 1.0

    def correlation(a: str, b: str) -> float:
        return float(np.corrcoef(weights[:, names.index(a)], weights[:, names.index(b)])[0, 1])

    assert 0.8 < correlation("mouthSmile_L", "mouthSmile_R") < 0.99  # mostly symmetric, a few smirks
    assert 0.85 < correlation("eyeBlink_L", "eyeBlink_R") < 0.99  # blinks paired, a few winks
    assert correlation("browDown_L", "browDown_R") > 0.95
    assert correlation("eyeLookOut_L", "eyeLookIn_R") == pytest.approx(1.0)  # the eyes turn together
    assert correlation("jawLeft", "jawRight") < 0.0
    # The corpus's coefficients are these weights read as action units.
    corpus = embedded_corpus(2000, seed=1)
    for k, unit in enumerate(ACTION_UNITS):
        mean_weight = np.mean([weights[:, names.index(shape)] for shape in unit.shapes], axis=0)
        np.testing.assert_allclose(corpus.expression[:, k], UNITS_PER_ACTIVATION * mean_weight, atol=1e-12)


def test_corpus_is_deterministic_per_seed():
    a, b, c = embedded_corpus(50, seed=3), embedded_corpus(50, seed=3), embedded_corpus(50, seed=4)
    np.testing.assert_array_equal(a.shape, b.shape)
    np.testing.assert_array_equal(a.expression, b.expression)
    assert a.face_ids == b.face_ids and a.face_ids != c.face_ids
    assert not np.any(np.all(np.isclose(a.shape[:, None], c.shape[None]), axis=2))


def test_corpus_faces_barely_fold_and_uniform_faces_do(model):
    """ICT's lips and eyelids flip a few thin triangles under any real motion; uniform faces flip far more."""
    triangles = model.triangles

    def folded(coefficients_id, coefficients_exp):
        faces = model.synthesize(coefficients_id, coefficients_exp).astype(np.float64)
        mean = model.mean.reshape(-1, 3).astype(np.float64)

        def normals(v):
            return np.cross(
                v[..., triangles[:, 1], :] - v[..., triangles[:, 0], :],
                v[..., triangles[:, 2], :] - v[..., triangles[:, 0], :],
            )

        return np.sum(np.einsum("bij,ij->bi", normals(faces), normals(mean)) < 0, axis=1)

    corpus = embedded_corpus(60, seed=13)
    real = folded(corpus.shape, corpus.expression)
    assert real.max() < 0.004 * len(triangles)
    rng = np.random.default_rng(13)
    uniform = folded(
        sample_coefficients(model, "shape", "uniform", 60, rng),
        sample_coefficients(model, "expression", "uniform", 60, rng),
    )
    assert np.median(uniform) > 5 * np.median(real)
