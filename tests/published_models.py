"""Small files in the published layouts of the Basel Face Model 2017/2019 (HDF5) and FLAME (pickle, .npz).

Imported by the test modules; nothing here is a test. The layouts follow the official readers:
statismo groups shape/, expression/, color/ with model/{mean, pcaBasis, pcaVariance} and
representer/{points, cells} as scalismo-faces' MoMoIO writes them (version 0.9, orthonormal
columns, millimetres); FLAME's dict of v_template, shapedirs, posedirs, a sparse J_regressor,
weights, kintree_table and f, its chumpy arrays pickled from stand-in classes named chumpy.ch.Ch.
"""

from __future__ import annotations

import json
import pickle
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import scipy.sparse


def head_grid(rows: int, columns: int, width: float) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (N, 3) of a curved face-sized sheet ``width`` across, and its (T, 3) 0-based triangles."""
    u, v = np.meshgrid(np.linspace(-0.5, 0.5, columns), np.linspace(-0.6, 0.6, rows))
    points = np.stack([u.ravel(), v.ravel(), 0.3 * np.cos(2 * u.ravel())], 1) * width
    index = np.arange(rows * columns).reshape(rows, columns)
    a, b, c, d = index[:-1, :-1].ravel(), index[:-1, 1:].ravel(), index[1:, 1:].ravel(), index[1:, :-1].ravel()
    return points, np.concatenate([np.stack([a, b, c], 1), np.stack([a, c, d], 1)])


# --- Basel Face Model 2017/2019 ------------------------------------------------------------------

BFM_GRID = (8, 10)  # 80 vertices, 240 values: room for 100 orthonormal expression columns


def bfm_arrays(seed: int = 0, n_id: int = 99, n_exp: int = 100, n_colour: int = 20) -> dict[str, Any]:
    """The arrays of a BFM 2019 full-head-like model in millimetres: orthonormal U, variances λ."""
    rng = np.random.default_rng(seed)
    points, cells = head_grid(*BFM_GRID, width=160.0)  # a head is ~160 mm across
    n_values = points.size

    def orthonormal(k: int) -> np.ndarray:
        return np.linalg.qr(rng.normal(size=(n_values, k)))[0]

    return {
        "points": points,
        "cells": cells,
        "shape": (points.reshape(-1), orthonormal(n_id), np.linspace(900.0, 4.0, n_id) ** 2),
        # The published expression mean is not zero: the reader must add it.
        "expression": (rng.normal(0.0, 2.0, n_values), orthonormal(n_exp), np.linspace(40.0, 0.5, n_exp) ** 2),
        "color": (rng.uniform(0.2, 0.8, n_values), orthonormal(n_colour), np.linspace(8.0, 0.5, n_colour) ** 2),
    }


def write_bfm_h5(
    path: Path,
    arrays: dict[str, Any] | None = None,
    *,
    version: tuple[int, int] | None = (0, 9),
    scaled_basis: bool = False,
    landmarks: list[dict[str, Any]] | None = None,
    colour: bool = True,
) -> Path:
    """A statismo HDF5 face model as MoMoIO writes it; ``scaled_basis`` stores U·√λ like statismo 0.8."""
    arrays = arrays or bfm_arrays()
    with h5py.File(path, "w") as file:
        file["version/majorVersion"], file["version/minorVersion"] = 0, 9
        for group in ("shape", "expression", "color") if colour else ("shape", "expression"):
            mean, basis, variance = arrays[group]
            stored = basis * np.sqrt(variance) if scaled_basis else basis
            file[f"{group}/model/mean"] = mean.astype(np.float32)
            file[f"{group}/model/pcaBasis"] = stored.astype(np.float32)
            file[f"{group}/model/pcaVariance"] = variance.astype(np.float32)
            file[f"{group}/model/noiseVariance"] = np.array([0.0], dtype=np.float32)
            file[f"{group}/representer/points"] = arrays["points"].T.astype(np.float32)
            file[f"{group}/representer/cells"] = arrays["cells"].T.astype(np.int32)
            file[f"{group}/representer"].attrs["name"] = "gravis::MeshShapeRepresenter"
            if version is not None:
                file[f"{group}/version/majorVersion"], file[f"{group}/version/minorVersion"] = version
        if landmarks is not None:
            file["metadata/landmarks/json"] = json.dumps(landmarks)
    return path


# --- FLAME -----------------------------------------------------------------------------------------

FLAME_GRID = (10, 12)  # 120 vertices
FLAME_EXPRESSION = 100
FLAME_PARENTS = np.array([[4294967295, 0, 1, 1, 1], [0, 1, 2, 3, 4]], dtype=np.int64)  # global, neck, jaw, eyes


def flame_arrays(seed: int = 0, n_shape: int = 300 + FLAME_EXPRESSION) -> dict[str, Any]:
    """FLAME's arrays for a small head in metres; the jaw joint carries the lower half of the face."""
    rng = np.random.default_rng(seed)
    template, faces = head_grid(*FLAME_GRID, width=0.16)
    n = len(template)
    lower = template[:, 1] < -0.02
    weights = np.zeros((n, 5))
    weights[:, 1] = np.where(lower, 0.0, 1.0)  # neck
    weights[:, 2] = np.where(lower, 1.0, 0.0)  # jaw
    joints = [
        (0, 0, -0.08, 0.0),
        (1, 0, -0.06, 0.0),
        (2, 0, -0.01, -0.02),
        (3, 0.03, 0.03, 0.02),
        (4, -0.03, 0.03, 0.02),
    ]
    regressor = np.zeros((5, n))
    for joint, x, y, z in joints:  # each joint is its nearest vertex, moved by a constant: a sparse regressor
        regressor[joint, np.argmin(np.linalg.norm(template - (x, y, z), axis=1))] = 1.0
    return {
        "v_template": template,
        "shapedirs": rng.normal(0.0, 2e-4, size=(n, 3, n_shape)),
        "posedirs": rng.normal(0.0, 1e-4, size=(n, 3, 36)),
        "J_regressor": scipy.sparse.csc_matrix(regressor),
        "weights": weights,
        "kintree_table": FLAME_PARENTS,
        "f": faces.astype(np.uint32),
        "bs_style": "lbs",
        "bs_type": "lrotmin",
    }


class _Ch:
    """Pickles like chumpy's Ch: its state is a dict holding the array as ``x``."""

    def __init__(self, x: np.ndarray) -> None:
        self.x = x

    def __getstate__(self) -> dict[str, Any]:
        return {"x": self.x, "_dirty_vars": set()}


@contextmanager
def stand_in_chumpy() -> Iterator[type]:
    """A ``chumpy.ch`` module whose ``Ch`` is the stand-in, for the time a pickle is written."""
    chumpy, ch = types.ModuleType("chumpy"), types.ModuleType("chumpy.ch")
    _Ch.__module__, _Ch.__qualname__, _Ch.__name__ = "chumpy.ch", "Ch", "Ch"
    ch.Ch = _Ch  # type: ignore[attr-defined]
    saved = {name: sys.modules.get(name) for name in ("chumpy", "chumpy.ch")}
    sys.modules.update({"chumpy": chumpy, "chumpy.ch": ch})
    try:
        yield _Ch
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def write_flame_pickle(
    path: Path, arrays: dict[str, Any] | None = None, *, chumpy: bool = True, protocol: int = 2
) -> Path:
    """FLAME's pickle: v_template, shapedirs and J as chumpy arrays (FLAME 2020/2023) or plain (2023 Open)."""
    arrays = dict(arrays or flame_arrays())
    with stand_in_chumpy() as ch:
        if chumpy:
            for key in ("v_template", "shapedirs"):
                arrays[key] = ch(arrays[key])
            arrays["J"] = ch(np.zeros((5, 3)))
        path.write_bytes(pickle.dumps(arrays, protocol=protocol))
    return path


def write_flame_npz(path: Path, arrays: dict[str, Any] | None = None) -> Path:
    arrays = arrays or flame_arrays()
    keys = ("v_template", "shapedirs", "posedirs", "weights", "kintree_table", "f")
    np.savez(path, J_regressor=arrays["J_regressor"].toarray(), **{key: arrays[key] for key in keys})
    return path


def landmark_embedding(faces: np.ndarray, count: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``count`` triangles and barycentric weights whose largest weight is on a known corner."""
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(faces), size=count, replace=False)
    weights = rng.dirichlet(np.ones(3), size=count)
    return chosen, weights


def embedded_vertices(faces: np.ndarray, chosen: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return np.asarray(faces, dtype=np.int64)[chosen, np.argmax(weights, axis=1)]
