"""Small files in the real layouts of the Basel Face Model, 3DDFA and AFLW2000-3D, for the loaders.

Imported by the test modules; nothing here is a test. Files use few vertices but the real
field names, shapes and index bases, so loaders are exercised exactly as with the licensed data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import scipy.io

REPO = Path(__file__).resolve().parent.parent  # the checkout's root

N_ID = 199
N_EXP = 29
GRID = (4, 5)  # rows × columns of the little test mesh: 20 vertices, 24 triangles


def grid_triangles_one_based(rows: int = GRID[0], columns: int = GRID[1]) -> np.ndarray:
    """Matlab-style (3, T) 1-based triangle list over a rows × columns vertex grid."""
    index = np.arange(rows * columns).reshape(rows, columns)
    a, b = index[:-1, :-1].ravel(), index[:-1, 1:].ravel()
    c, d = index[1:, 1:].ravel(), index[1:, :-1].ravel()
    tri = np.concatenate([np.stack([a, b, c], 1), np.stack([a, c, d], 1)])
    return (tri + 1).T.astype(np.float64)  # the real files store tri as double


def bfm_fields(seed: int = 0, rows: int = GRID[0], columns: int = GRID[1]) -> dict[str, np.ndarray]:
    """The face3d BFM.mat 'model' struct fields for a rows × columns vertex grid."""
    rng = np.random.default_rng(seed)
    n = rows * columns
    x, y = np.meshgrid(np.arange(columns, dtype=float), np.arange(rows, dtype=float))
    mean = np.stack([x.ravel(), y.ravel(), np.zeros(n)], 1).reshape(-1, 1) * 1e4
    return {
        "shapeMU": mean,
        "shapePC": rng.normal(size=(3 * n, N_ID)),
        "shapeEV": np.linspace(3e5, 1e4, N_ID).reshape(-1, 1),
        "expMU": rng.normal(0.0, 500.0, size=(3 * n, 1)),
        "expPC": rng.normal(size=(3 * n, N_EXP)),
        "expEV": np.linspace(3e4, 1e3, N_EXP).reshape(-1, 1),
        "texMU": rng.uniform(0, 255, size=(3 * n, 1)),
        "texPC": rng.normal(size=(3 * n, N_ID)),
        "texEV": np.linspace(50.0, 1.0, N_ID).reshape(-1, 1),
        "tri": grid_triangles_one_based(rows, columns),
        "tri_mouth": grid_triangles_one_based(rows, columns)[:, :3],
        "kpt_ind": np.arange(1, 69, dtype=np.float64).reshape(1, 68) % n + 1,
    }


def write_bfm(path: Path, fields: dict[str, np.ndarray]) -> Path:
    scipy.io.savemat(path, {"model": fields})
    return path


def write_3ddfa(folder: Path, fields: dict[str, np.ndarray], *, drop: tuple[str, ...] = ()) -> tuple[Path, Path]:
    """Model_Shape.mat + Model_Exp.mat from BFM-style fields; ``drop`` omits 3DDFA keys."""
    shape = {"mu_shape": fields["shapeMU"], "w": fields["shapePC"], "sigma": fields["shapeEV"], "tri": fields["tri"]}
    exp = {"mu_exp": fields["expMU"], "w_exp": fields["expPC"], "sigma_exp": fields["expEV"]}
    shape_path, exp_path = folder / "Model_Shape.mat", folder / "Model_Exp.mat"
    scipy.io.savemat(shape_path, {k: v for k, v in shape.items() if k not in drop})
    scipy.io.savemat(exp_path, {k: v for k, v in exp.items() if k not in drop})
    return shape_path, exp_path


def write_fitted_mat(path: Path, shape: np.ndarray, expression: np.ndarray, **extra: np.ndarray) -> Path:
    """One AFLW2000-3D-style per-image file: Shape_Para (199,1), Exp_Para (29,1), Pose_Para (1,7)."""
    fields = {
        "Shape_Para": np.asarray(shape, dtype=np.float64).reshape(-1, 1),
        "Exp_Para": np.asarray(expression, dtype=np.float64).reshape(-1, 1),
        "Pose_Para": np.array([[0.1, -0.2, 0.05, 230.0, 210.0, -60.0, 0.0013]]),
        "pt3d_68": np.zeros((3, 68)),
        **extra,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(path, fields)
    return path


def run_generate(folder: Path, inputs: tuple, settings: Any, **options: Any) -> Any:
    """``generate`` on the ``generation_inputs`` fixture's model and networks, without a progress bar."""
    from app.dataset.generation import generate

    model, denoiser, provenance = inputs
    return generate(folder, settings, model, denoiser, provenance, **{"show_progress": False, **options})


def dataset_bytes(folder: Path) -> dict[str, bytes]:
    """Every file of a dataset but its manifest (which records times), by relative path."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


def corner_points(mesh: Any) -> np.ndarray:
    """(T, 3, 3): the corners of each triangle of a pyvista mesh read from a file.

    VTK's OBJ reader gives every corner of a texture layout its own point, so an OBJ with UVs is
    compared with a face by its triangles' corners, not point for point.
    """
    return np.asarray(mesh.points)[mesh.faces.reshape(-1, 4)[:, 1:]]
