"""The draft mesh drawn while a slider is dragged, and the live face's draft and skipped work, without Qt."""

from __future__ import annotations

import numpy as np
import pytest

from app.explorer.face_state import FaceState
from app.explorer.live_face import LiveFace
from app.model.embedded_model import embedded_model
from app.rendering.draft_mesh import cluster_draft


@pytest.fixture(scope="module")
def model():
    return embedded_model()


class Halving:
    def denoise_face(self, alpha_id, alpha_exp):
        return alpha_id * 0.5, alpha_exp * 0.5


class Constant:
    """Networks whose output does not depend on the input: the denoised face never moves."""

    def denoise_face(self, alpha_id, alpha_exp):
        return np.full_like(alpha_id, 1000.0), np.zeros_like(alpha_exp)


def test_the_draft_has_about_an_eighth_of_the_triangles_on_real_vertices_with_their_winding(model):
    draft = cluster_draft(model.triangles, model.mean.reshape(-1, 3), model.triangle_parts)
    assert 0.09 < len(draft.triangles) / len(model.triangles) < 0.15
    assert len(np.unique(draft.vertex_indices)) == len(draft.vertex_indices)
    assert draft.triangles.min() == 0 and draft.triangles.max() == len(draft.vertex_indices) - 1
    # Each draft triangle faces the way the full mesh does around it (the draft is not turned inside out).
    vertices = model.mean.reshape(-1, 3).astype(np.float64)

    def normals(points, triangles):
        corners = points[triangles]
        return np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]).sum(axis=0)

    skin = draft.triangle_parts == 0
    full_skin = model.triangle_parts == 0
    overall, draft_overall = (
        normals(vertices, model.triangles[full_skin]),
        normals(vertices[draft.vertex_indices], draft.triangles[skin]),
    )
    assert np.dot(overall, draft_overall) > 0.9 * np.linalg.norm(overall) * np.linalg.norm(draft_overall)


def test_a_small_mesh_is_its_own_draft(model):
    triangles = np.array([[0, 1, 2], [0, 2, 3]])
    draft = cluster_draft(triangles, np.eye(4, 3), np.zeros(2, np.uint8))
    np.testing.assert_array_equal(draft.triangles, triangles)
    np.testing.assert_array_equal(draft.vertex_indices, np.arange(4))


def test_a_draft_refresh_shows_the_draft_vertices_of_the_full_faces(model):
    state = FaceState(model)
    live = LiveFace(state, Halving())
    state.sample("both")
    assert live.refresh(draft=True) and live.showing_draft
    assert live.stale  # the full face is still owed
    full_input = model.synthesize(state.alpha_id, state.alpha_exp)
    full_denoised = model.synthesize(state.alpha_id * 0.5, state.alpha_exp * 0.5)
    indices = live.draft.vertex_indices
    np.testing.assert_allclose(live.input_draft_vertices, full_input[indices], atol=2.0)
    np.testing.assert_allclose(live.denoised_draft_vertices, full_denoised[indices], atol=2.0)
    assert not live.refresh(draft=True)
    assert live.refresh() and not live.showing_draft and live.changed == {"input", "denoised"}
    np.testing.assert_allclose(live.denoised_vertices, full_denoised, atol=2.0)


def test_work_whose_input_did_not_change_is_skipped(model):
    state = FaceState(model)
    live = LiveFace(state, Constant())
    denoised_normals = live.denoised_normals.copy()
    live.denoised_normals[...] = 0  # would be rewritten if the denoised face were recomputed
    state.set_coefficient("shape", 3, 2e5)
    assert live.refresh() and live.changed == {"input"}
    assert not live.denoised_normals.any() and denoised_normals.any()


def edge_set(triangles: np.ndarray) -> set[tuple[int, int]]:
    edges = np.sort(np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]]), axis=1)
    return set(map(tuple, edges.tolist()))


def test_the_draft_keeps_every_edge_of_the_eye_and_mouth_openings(model):
    """The mesh's boundary edges and the seams between parts (lips' inner edge, irises) all stay: no gaps open there."""
    triangles = np.asarray(model.triangles)
    edges = np.sort(np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]]), axis=1)
    keys, count = np.unique(edges, axis=0, return_counts=True)
    boundary = set(map(tuple, keys[count == 1].tolist()))
    seams = _seam_edges(edges, np.tile(model.triangle_parts, 3))
    assert boundary and seams  # the embedded head has open edges and lips/irises
    draft = cluster_draft(triangles, model.mean.reshape(-1, 3), model.triangle_parts)
    kept = edge_set(draft.vertex_indices[draft.triangles])
    assert boundary <= kept and seams <= kept


def _seam_edges(edges: np.ndarray, parts: np.ndarray) -> set[tuple[int, int]]:
    """Edges whose triangles belong to two different parts."""
    order = np.lexsort((edges[:, 1], edges[:, 0]))
    edges, parts = edges[order], parts[order]
    same_edge = (edges[1:] == edges[:-1]).all(axis=1)
    return set(map(tuple, edges[1:][same_edge & (parts[1:] != parts[:-1])].tolist()))
