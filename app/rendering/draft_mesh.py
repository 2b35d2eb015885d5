"""A lighter version of a face mesh, drawn while a slider is dragged, that follows the full face for free.

Under software GL a frame's cost grows with the triangles drawn, so a draft with 12 % of them
draws several times faster. The draft is made once per model (``cluster_draft``). Every draft
vertex *is* a vertex of the full mesh, so showing the current face as a draft is a gather
(``vertices[draft.vertex_indices]``), and a face can be synthesized for the draft vertices alone
(their columns of the basis).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.model.face_parts import FacePart, vertex_parts

DRAFT_TRIANGLE_FRACTION = 0.12
SMALLEST_DRAFT = 2000  # triangles: a mesh that would draft to fewer is drawn whole, it is cheap already
_SEARCH_STEPS = 12
_CELL_SCALE = np.ones(256)  # per part code: how much larger its cells are
_CELL_SCALE[[FacePart.MOUTH_INTERIOR, FacePart.GUMS_AND_TONGUE, FacePart.TEETH]] = 2.0


@dataclass(frozen=True)
class DraftMesh:
    """``vertex_indices`` (M,) into the full mesh, ``triangles`` (T', 3) over those M, their ``triangle_parts``."""

    vertex_indices: np.ndarray
    triangles: np.ndarray
    triangle_parts: np.ndarray


def cluster_draft(
    triangles: np.ndarray, vertices: np.ndarray, triangle_parts: np.ndarray, fraction: float = DRAFT_TRIANGLE_FRACTION
) -> DraftMesh:
    """A draft of about ``fraction`` of the triangles of the mesh (``vertices`` (N, 3) is the face it is fitted to).

    Vertex clustering: vertices are grouped into grid cells (per face part, so teeth never merge
    with lips), each cell keeps one of its own vertices (the one nearest the cell's centroid), and
    triangles whose corners fall into fewer than three cells disappear. The outlines of the openings
    (``outline_vertices``: the mesh's own boundary edges and the seams between parts, such as the
    lips' inner edge and the rims of the irises) are never merged, so every one of their edges stays
    and the draft opens no gaps around the eyes and the mouth. The mouth's inside (teeth,
    gums, tongue), mostly hidden behind the lips, gets cells twice as large, which leaves more of
    the budget to the skin and the eyes. The cell size is bisected until the draft has about the
    wanted number of triangles.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"a draft keeps a fraction in (0, 1] of the triangles (got {fraction})")
    vertices = np.asarray(vertices, dtype=np.float64)
    triangles = np.asarray(triangles, dtype=np.int64)
    if fraction * len(triangles) < SMALLEST_DRAFT:
        used = np.unique(triangles)
        renumber = np.full(len(vertices), -1, dtype=np.int64)
        renumber[used] = np.arange(len(used))
        return DraftMesh(used, renumber[triangles], np.asarray(triangle_parts, dtype=np.uint8))
    parts = vertex_parts(triangles, triangle_parts, len(vertices))
    outline = outline_vertices(triangles, triangle_parts, len(vertices))
    target = fraction * len(triangles)
    extent = float(np.ptp(vertices, axis=0).max()) or 1.0
    # Bisect the cell size (log scale) until the draft has about the wanted number of triangles.
    low, high = extent * 1e-4, extent
    best = _cluster(triangles, vertices, parts, outline, triangle_parts, low)
    for _ in range(_SEARCH_STEPS):
        cell = float(np.sqrt(low * high))
        draft = _cluster(triangles, vertices, parts, outline, triangle_parts, cell)
        if len(draft.triangles) > target:
            low = cell
        else:
            high = cell
        if abs(len(draft.triangles) - target) < abs(len(best.triangles) - target):
            best = draft
    return best


def outline_vertices(triangles: np.ndarray, triangle_parts: np.ndarray, vertex_count: int) -> np.ndarray:
    """(N,) bool: the vertices of edges with one triangle (the mesh's boundary) or with triangles of two parts."""
    corners = np.asarray(triangles, dtype=np.int64)
    edges = np.sort(np.concatenate([corners[:, [0, 1]], corners[:, [1, 2]], corners[:, [2, 0]]]), axis=1)
    edge_parts = np.tile(np.asarray(triangle_parts, dtype=np.int64), 3)
    _, edge, count = np.unique(edges[:, 0] * vertex_count + edges[:, 1], return_inverse=True, return_counts=True)
    lowest = np.full(len(count), 255, dtype=np.int64)
    highest = np.zeros(len(count), dtype=np.int64)
    np.minimum.at(lowest, edge, edge_parts)
    np.maximum.at(highest, edge, edge_parts)
    outline_edges = (count == 1) | (lowest != highest)
    outline = np.zeros(vertex_count, dtype=bool)
    outline[edges[outline_edges[edge]].ravel()] = True
    return outline


def _cluster(
    triangles: np.ndarray,
    vertices: np.ndarray,
    parts: np.ndarray,
    outline: np.ndarray,
    triangle_parts: np.ndarray,
    cell: float,
) -> DraftMesh:
    grid = np.floor((vertices - vertices.min(axis=0)) / (cell * _CELL_SCALE[parts])[:, None]).astype(np.int64)
    size = grid.max(axis=0) + 1
    keys = ((grid[:, 0] * size[1] + grid[:, 1]) * size[2] + grid[:, 2]) * 256 + parts  # one integer per (cell, part)
    keys[outline] = -1 - np.flatnonzero(outline)  # a cluster of its own: negative keys are no cell's
    _, cluster = np.unique(keys, return_inverse=True)
    count = int(cluster.max()) + 1
    sizes = np.bincount(cluster, minlength=count)
    centroids = np.stack([np.bincount(cluster, vertices[:, axis], count) for axis in range(3)], axis=1) / sizes[:, None]
    distance = np.linalg.norm(vertices - centroids[cluster], axis=1)
    order = np.lexsort((distance, cluster))  # by cluster, nearest first
    first = np.ones(len(order), dtype=bool)
    first[1:] = cluster[order[1:]] != cluster[order[:-1]]
    representative = order[first]  # one vertex per cluster, in cluster order
    corners = cluster[triangles]
    proper = (corners[:, 0] != corners[:, 1]) & (corners[:, 1] != corners[:, 2]) & (corners[:, 0] != corners[:, 2])
    corners, kept_parts = corners[proper], np.asarray(triangle_parts)[proper]
    ordered = np.sort(corners, axis=1)
    _, unique_rows = np.unique((ordered[:, 0] * count + ordered[:, 1]) * count + ordered[:, 2], return_index=True)
    unique_rows.sort()  # keep the mesh's order and each triangle's winding
    corners, kept_parts = corners[unique_rows], kept_parts[unique_rows]
    used = np.unique(corners)  # clusters whose every triangle collapsed are left out
    renumber = np.full(count, -1, dtype=np.int64)
    renumber[used] = np.arange(len(used))
    return DraftMesh(representative[used], renumber[corners], kept_parts.astype(np.uint8))
