"""How much light reaches the inside of the mouth: little, so an open mouth reads as a dark cavity.

The views' lights (a headlight among them) light every surface facing the camera, so the tongue
and the back of the throat came out as bright as the lips: a flat pink disc. Real light falls off
inside the mouth, so each vertex of the mouth's parts (its lining, gums, tongue and teeth) is
darkened by its distance from the lips. Front teeth and the tip of the tongue stay light, the throat
goes dark. Distances are measured in widths of the mouth, so any model's units and size do.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from app.model.face_parts import FacePart, vertex_parts

MOUTH_PARTS = (FacePart.MOUTH_INTERIOR, FacePart.GUMS_AND_TONGUE, FacePart.TEETH)
FALL_OFF = 0.3  # of the mouth's width: the distance from the lips at which the light falls by 1/e
DARKEST = 0.12  # the light left deep in the throat (ambient light, which never quite vanishes)


def mouth_light(vertices: np.ndarray, triangles: np.ndarray, triangle_parts: np.ndarray) -> np.ndarray:
    """(N,) float32 in [DARKEST, 1]: the share of light each vertex gets; 1 outside the mouth.

    The lips' inner edge is where skin triangles meet the mouth's lining. A model without both
    parts (the BFM is all skin) gets 1 everywhere.
    """
    vertices = np.asarray(vertices, dtype=np.float64)
    triangles = np.asarray(triangles)
    parts = vertex_parts(triangles, triangle_parts, len(vertices))
    light = np.ones(len(vertices), dtype=np.float32)
    on_skin = np.zeros(len(vertices), dtype=bool)
    on_skin[triangles[np.asarray(triangle_parts) == FacePart.SKIN].ravel()] = True
    lips = on_skin & (parts == FacePart.MOUTH_INTERIOR)  # a vertex's part is its highest one: the lining's
    inside = np.isin(parts, MOUTH_PARTS) & ~lips
    if not lips.any() or not inside.any():
        return light
    edge = vertices[lips]
    width = float(np.ptp(edge, axis=0).max())
    if not width > 0:
        return light
    distance, _ = cKDTree(edge).query(vertices[inside])
    light[inside] = DARKEST + (1.0 - DARKEST) * np.exp(-distance / (FALL_OFF * width))
    return light
