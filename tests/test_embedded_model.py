"""The embedded default face model and its corpus of "fitted" coefficients (DESIGN.md §3)."""

from __future__ import annotations

import numpy as np
import pytest

from app.model.embedded_corpus import PAPER_FACE_COUNT, embedded_corpus
from app.model.embedded_model import EMBEDDED_NAME, embedded_model
from app.model.vertex_normals import VertexNormals

MM = 1000.0  # model units are micrometres


@pytest.fixture(scope="module")
def model():
    return embedded_model()


@pytest.fixture(scope="module")
def mean_face(model):
    return model.synthesize(np.zeros(model.n_id), np.zeros(model.n_exp)).astype(np.float64)


def test_generation_is_deterministic(model):
    rebuilt = embedded_model.__wrapped__()  # a second, uncached build
    assert rebuilt is not model
    for name in ("mean", "basis_id", "basis_exp", "ev_id", "ev_exp", "triangles"):
        np.testing.assert_array_equal(getattr(rebuilt, name), getattr(model, name), err_msg=name)
    assert rebuilt.names_id == model.names_id and rebuilt.names_exp == model.names_exp


def test_size_counts_and_identity(model):
    assert model.n_vertices >= 20_000
    assert (model.n_id, model.n_exp) == (199, 29)
    assert model.name == EMBEDDED_NAME and model.is_embedded
    assert model.triangles.min() == 0 and model.triangles.max() == model.n_vertices - 1
    t = model.triangles
    assert not np.any((t[:, 0] == t[:, 1]) | (t[:, 1] == t[:, 2]) | (t[:, 0] == t[:, 2]))
    assert len(np.unique(t)) == model.n_vertices  # no stray vertices


def test_identity_rows_are_orthonormal(model):
    basis = model.basis_id.astype(np.float64)
    np.testing.assert_allclose(basis @ basis.T, np.eye(199), atol=1e-5)


def test_bfm_scales(model):
    assert np.sum(model.ev_id**2) == pytest.approx(1.87e12, rel=0.01)
    assert np.sum((model.ev_exp / model.ev_exp.max()) ** 2) == pytest.approx(2.5, rel=0.02)
    assert np.all(np.diff(model.ev_exp) < 0)
    # Higher identity modes are weaker than the named low-order ones.
    assert model.ev_id[150:].mean() < 0.5 * model.ev_id[:22].mean()
    # A 1σ identity change moves the face by millimetres, not metres or microns.
    one_sigma = np.abs(model.basis_id[0] * model.ev_id[0]).max()
    assert 2 * MM < one_sigma < 20 * MM
    # The head is about head-sized: 15 cm wide, 20 cm tall.
    extent = np.ptp(model.mean.reshape(-1, 3), axis=0)
    assert 120 * MM < extent[0] < 200 * MM and 150 * MM < extent[1] < 260 * MM


def test_named_modes(model):
    for name in ("face width", "jaw width", "nose length", "nose width", "brow height", "eye spacing"):
        assert name in model.names_id[:30], name
    for name in ("jaw open", "smile left", "smile right", "brow raise", "eye close left", "eye close right", "lip pucker"):
        assert name in model.names_exp, name
    assert model.names("expression") is model.names_exp
    assert model.names_id[-1] == ""  # high-order modes are unnamed


def test_named_modes_do_what_they_say(model, mean_face):
    x, y = mean_face[:, 0], mean_face[:, 1]
    deform = {name: model.basis_exp[i].reshape(-1, 3).astype(np.float64) for i, name in enumerate(model.names_exp) if name}
    left = np.linalg.norm(deform["smile left"], axis=1)
    right = np.linalg.norm(deform["smile right"], axis=1)
    assert left[x > 0].sum() > 100 * left[x < 0].sum()
    assert right[x < 0].sum() > 100 * right[x > 0].sum()
    # Mirror images of each other.
    assert left.sum() == pytest.approx(right.sum(), rel=1e-3)
    # Opening the jaw moves the chin down, not the forehead.
    jaw = deform["jaw open"]
    assert jaw[y < -60 * MM, 1].mean() < -3 * MM
    assert np.abs(jaw[y > 30 * MM]).max() < 0.01 * MM
    # Wider face: +x vertices move right, -x vertices left.
    width = model.basis_id[model.names_id.index("face width")].reshape(-1, 3)
    assert np.mean(width[x > 20 * MM, 0] > 0) > 0.95 and np.mean(width[x < -20 * MM, 0] < 0) > 0.95


def test_the_mean_face_looks_out_along_plus_z(model, mean_face):
    normals = VertexNormals(model.triangles, model.n_vertices).compute(mean_face.astype(np.float32))
    x, y = mean_face[:, 0], mean_face[:, 1]
    front = (np.abs(x) < 40 * MM) & (np.abs(y) < 60 * MM)
    assert front.sum() > 5_000
    assert np.mean(normals[front, 2] > 0) > 0.95
    # The nose tip is the most forward point of the face, centred, below the eyes.
    tip = mean_face[np.argmax(np.where(front, mean_face[:, 2], -np.inf))]
    assert abs(tip[0]) < 3 * MM and -30 * MM < tip[1] < 0
    # Eye sockets sit behind the brow ridge above them.
    def depth_near(cx, cy):
        near = (np.abs(x - cx) < 4 * MM) & (np.abs(y - cy) < 3 * MM)
        return mean_face[near, 2].mean()
    for side in (-1, 1):
        assert depth_near(side * 32 * MM, 30 * MM) < depth_near(side * 33 * MM, 38 * MM)


# --- the corpus ------------------------------------------------------------------------------


def test_default_corpus_size():
    assert PAPER_FACE_COUNT == 5837


@pytest.fixture(scope="module")
def corpus():
    return embedded_corpus(2000, seed=1)


def test_corpus_diversity_matches_the_papers_real_data(corpus):
    assert len(corpus) == 2000 and corpus.shape.shape == (2000, 199) and corpus.expression.shape == (2000, 29)
    assert np.trace(np.cov(corpus.shape.T)) == pytest.approx(0.86e12, rel=0.1)
    assert np.trace(np.cov(corpus.expression.T)) == pytest.approx(7.0, rel=0.1)
    corpus.check_counts(199, 29)


def explained_by_top(vectors: np.ndarray, k: int) -> float:
    centred = vectors - vectors.mean(axis=0)
    power = np.linalg.svd(centred, compute_uv=False) ** 2
    return float(power[:k].sum() / power.sum())


def test_corpus_lies_on_a_low_dimensional_manifold(model, corpus):
    # Whitened by EV, a Gaussian in 199 dims would put ~8 % in the top 10 components.
    assert explained_by_top(corpus.shape / model.ev_id, 10) > 0.9
    assert explained_by_top(corpus.expression, 10) > 0.9
    gaussian = np.random.default_rng(0).normal(size=(2000, 199))
    assert explained_by_top(gaussian, 10) < 0.15


def test_corpus_expressions_are_sparse_symmetric_actions(model, corpus):
    e = corpus.expression
    smile_left, smile_right = model.names_exp.index("smile left"), model.names_exp.index("smile right")
    eye_left, eye_right = model.names_exp.index("eye close left"), model.names_exp.index("eye close right")
    assert np.corrcoef(e[:, smile_left], e[:, smile_right])[0, 1] > 0.6
    assert np.corrcoef(e[:, eye_left], e[:, eye_right])[0, 1] > 0.9
    jaw = e[:, model.names_exp.index("jaw open")]
    assert np.mean(np.abs(jaw) < 0.2) > 0.4  # most faces have the mouth closed


def test_corpus_is_deterministic_per_seed():
    a, b, c = embedded_corpus(50, seed=3), embedded_corpus(50, seed=3), embedded_corpus(50, seed=4)
    np.testing.assert_array_equal(a.shape, b.shape)
    np.testing.assert_array_equal(a.expression, b.expression)
    assert a.face_ids == b.face_ids and a.face_ids != c.face_ids
    assert not np.any(np.all(np.isclose(a.shape[:, None], c.shape[None]), axis=2))


def test_real_expressions_do_not_fold_the_surface():
    """Corpus faces use expression coefficients up to ~5; the surface must not turn inside out."""
    model = embedded_model()
    triangles = model.triangles

    def normals(vertices):
        return np.cross(vertices[triangles[:, 1]] - vertices[triangles[:, 0]],
                        vertices[triangles[:, 2]] - vertices[triangles[:, 0]])

    mean_normals = normals(model.mean.reshape(-1, 3).astype(np.float64))
    corpus = embedded_corpus(200, seed=13)
    faces = model.synthesize(corpus.shape, corpus.expression).astype(np.float64)
    folded = [np.sum(np.einsum("ij,ij->i", normals(face), mean_normals) < 0) > 0 for face in faces]
    assert np.mean(folded) <= 0.05
