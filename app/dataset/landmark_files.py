"""The 68 Multi-PIE landmarks of a face, written next to its mesh as JSON.

Image-to-3D pipelines (3DDFA, PRNet) train on landmark positions, so an exported face can carry
them: the vertex indices (which stay valid for every face of the same model) and their 3-D
positions on this face, in the mesh's units, with the model that defines the indices.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from app.atomic_files import atomic_output
from app.dataset.mesh_formats import MESH_UNITS, mesh_unit
from app.errors import FaceExplorerError
from app.model.morphable_model import MorphableModel

LANDMARK_FORMAT = "face-manifold-explorer landmarks 1"


def landmarks_path(mesh_path: str | Path) -> Path:
    """``face.ply`` → ``face.landmarks.json``."""
    mesh_path = Path(mesh_path)
    return mesh_path.with_name(f"{mesh_path.stem}.landmarks.json")


def require_landmarks(model: MorphableModel) -> np.ndarray:
    """The model's landmark vertex indices; one clear error for a model without them."""
    if model.landmarks is None or not len(model.landmarks):
        why = model.landmarks_note or "a BFM file provides them as kpt_ind"
        raise FaceExplorerError(f"{model.name} has no landmarks ({why})")
    return model.landmarks


def save_landmarks(path: str | Path, model: MorphableModel, vertices: np.ndarray, unit: str = "um") -> Path:
    """Write the landmarks of the face ``vertices`` (N, 3, micrometres) of ``model`` in ``unit`` (as the mesh
    beside them); refuses a model without them."""
    landmarks = require_landmarks(model)
    unit = mesh_unit(unit)
    points = np.asarray(vertices, dtype=np.float64).reshape(-1, 3)[landmarks] / MESH_UNITS[unit][1]
    decimals = 3 + round(float(np.log10(MESH_UNITS[unit][1])))  # to a thousandth of a micrometre, as before
    document = {
        "format": LANDMARK_FORMAT,
        "model_name": model.name,
        "model_digest": model.digest,
        "vertex_indices": [int(i) for i in landmarks],
        "points": [[round(float(c), decimals) for c in point] for point in points],
        "unit": unit,
    }
    path = Path(path)
    with atomic_output(path) as temp:
        temp.write_text(json.dumps(document, indent=1))
    return path
