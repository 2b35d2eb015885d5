"""FLAME's landmarks, from the barycentric embedding files a user puts beside the model file.

``flame_static_embedding.pkl`` (FLAME's download) holds the 51 inner points: ``lmk_face_idx`` (51,)
triangles and ``lmk_b_coords`` (51, 3) barycentric weights. DECA's ``landmark_embedding.npy`` holds
all 68 as ``full_lmk_faces_idx`` (1, 68) and ``full_lmk_bary_coords`` (1, 68, 3): the 17 contour
points as seen from the front (its pose-dependent contour tables, torch tensors, are not read: the
product's landmarks are fixed vertices, like AFLW2000-3D's pt3d_68). The product's landmarks are
vertex indices, so each point becomes the vertex of its triangle with the largest weight.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from app.errors import ModelFileError
from app.model.flame_pickle import read_npy_object, read_pickle

STATIC_FILE = "flame_static_embedding.pkl"
FULL_FILE = "landmark_embedding.npy"
NO_LANDMARKS = (
    f"no landmarks: neither {STATIC_FILE} (51 inner points) nor DECA's {FULL_FILE} (all 68) is beside the model, "
    "so the landmark features (view markers, export --landmarks, 300W-LP pt2d) are off"
)
ONLY_STATIC = (
    f"51 of the 68 landmarks ({STATIC_FILE}): 300W-LP files (pt2d) need all 68, and the 17 contour points "
    f"come from DECA's {FULL_FILE} beside the model"
)


def flame_landmarks(model_path: Path, triangles: np.ndarray) -> tuple[np.ndarray | None, str | None]:
    """Landmark vertex indices from the embedding beside ``model_path`` (68 when it can), and what is missing."""
    full, static = model_path.with_name(FULL_FILE), model_path.with_name(STATIC_FILE)
    if full.is_file():
        content = read_npy_object(full)
        faces, weights = _pair(full, content, "full_lmk_faces_idx", "full_lmk_bary_coords")
        return _vertices(full, faces.reshape(-1), weights.reshape(-1, 3), triangles, 68), None
    if static.is_file():
        content = read_pickle(static)
        faces, weights = _pair(static, content, "lmk_face_idx", "lmk_b_coords")
        return _vertices(static, faces.reshape(-1), weights.reshape(-1, 3), triangles, 51), ONLY_STATIC
    return None, NO_LANDMARKS


def _pair(path: Path, content: Any, faces_key: str, weights_key: str) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(content, dict) or faces_key not in content or weights_key not in content:
        raise ModelFileError(f"{path}: not a FLAME landmark embedding (needs {faces_key} and {weights_key})")
    arrays = []
    for key in (faces_key, weights_key):
        array = np.asarray(content[key])
        if array.dtype == object or not np.issubdtype(array.dtype, np.number) or not np.isfinite(array).all():
            raise ModelFileError(f"{path}: {key} is not an array of finite numbers")
        arrays.append(array)
    return arrays[0], arrays[1]


def _vertices(path: Path, faces: np.ndarray, weights: np.ndarray, triangles: np.ndarray, count: int) -> np.ndarray:
    if len(faces) != count or weights.shape != (count, 3):
        raise ModelFileError(f"{path}: holds {len(faces)} landmarks with weights {weights.shape}, expected {count}")
    if (faces != np.round(faces)).any() or faces.min() < 0 or faces.max() >= len(triangles):
        raise ModelFileError(f"{path}: landmark triangles are not indices 0..{len(triangles) - 1} of the model")
    corners = np.asarray(triangles, dtype=np.int64)[faces.astype(np.int64)]
    return corners[np.arange(count), np.argmax(weights, axis=1)]
