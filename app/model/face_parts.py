"""Which part of a head each triangle belongs to, so views can give eyes and teeth their own colours.

A head mesh such as ICT-FaceKit's is one surface for the skin plus separate meshes for the eyeballs,
teeth, gums and tongue. Drawn in one skin colour, eyes read as blank balls and an open mouth as
a hole; with a part per triangle a view draws each part as its own actor in its own colour.
Models that do not say (the BFM, 3DDFA files) are all skin.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class FacePart(IntEnum):
    """Part codes as stored per triangle (uint8)."""

    SKIN = 0
    MOUTH_INTERIOR = 1
    GUMS_AND_TONGUE = 2
    TEETH = 3
    EYE_WHITE = 4
    IRIS = 5
    PUPIL = 6


def all_skin(triangle_count: int) -> np.ndarray:
    """Part codes for a model that does not label its triangles."""
    return np.full(triangle_count, FacePart.SKIN, dtype=np.uint8)


def vertex_parts(triangles: np.ndarray, triangle_parts: np.ndarray, vertex_count: int) -> np.ndarray:
    """(N,) part code per vertex: the highest code among its triangles (the iris wins over the white around it)."""
    parts = np.zeros(vertex_count, dtype=np.uint8)
    np.maximum.at(parts, np.asarray(triangles).ravel(), np.repeat(np.asarray(triangle_parts, dtype=np.uint8), 3))
    return parts
