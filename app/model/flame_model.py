"""FLAME (``generic_model.pkl`` 2020, ``flame2023.pkl``, ``flame2023_no_jaw.pkl``, 2023 Open, or an .npz of it).

Arrays as FLAME's loaders use them: v_template (N, 3) in metres, shapedirs (N, 3, K) whose first 300
columns are identity and the rest expression (100 in FLAME 2020), posedirs (N, 3, 9(J−1)),
J_regressor (J, N), weights (N, J), kintree_table (2, J) and f (T, 3). FLAME's coefficients are
standard normal by construction (each column is one standard deviation). As a model of this
project, coordinates are micrometres, identity coefficient = EV·β with EV the column's length (so
σ_shape = 5e5 and /1e5 mean what they mean on the BFM, and r = 10 spans β in ±5), expression
coefficient = ψ with EV 1 (σ_exp = 2 is two standard deviations, r = 15 spans ψ in ±7.5). The
jaw, neck and eyes move by ``Skinning``. Landmark embeddings beside the file give the landmarks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from app.errors import FaceExplorerError, ModelFileError
from app.model.flame_landmarks import flame_landmarks
from app.model.flame_pickle import read_pickle
from app.model.length_units import MICROMETRES_PER, length_unit_of
from app.model.model_origin import ModelOrigin
from app.model.morphable_model import MorphableModel
from app.model.skinning import Skinning

FAMILY = "FLAME"
N_IDENTITY = 300  # FLAME's shape space; the expression space is the rest of shapedirs
FLAME_JOINTS = ("global", "neck", "jaw", "left eye", "right eye")
KEYS = ("v_template", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table", "f")


def is_flame_arrays(keys: Any) -> bool:
    """True when a dict or .npz holds FLAME's arrays (it has a template and shape directions)."""
    return "v_template" in keys and "shapedirs" in keys


def load_flame_pickle(path: str | Path) -> MorphableModel:
    """FLAME from one of its published pickles, read without running code from it."""
    path = Path(path)
    content = read_pickle(path)
    if not isinstance(content, dict) or not is_flame_arrays(content):
        raise ModelFileError(f"{path}: not a FLAME model (expected a dict with v_template and shapedirs)")
    return flame_model(path, content)


def flame_model(path: Path, arrays: dict[str, Any]) -> MorphableModel:
    """The MorphableModel of FLAME's arrays read from ``path`` (a pickle or an .npz)."""
    missing = [key for key in KEYS if key not in arrays]
    if missing:
        raise ModelFileError(f"{path}: FLAME model lacks {', '.join(missing)}")
    template = _real(path, arrays, "v_template")
    shapedirs = _real(path, arrays, "shapedirs")
    n = len(template)
    if template.shape != (n, 3) or shapedirs.ndim != 3 or shapedirs.shape[:2] != (n, 3):
        raise ModelFileError(
            f"{path}: v_template {template.shape} and shapedirs {shapedirs.shape} do not match (N, 3, K)"
        )
    if shapedirs.shape[2] <= N_IDENTITY:
        raise ModelFileError(
            f"{path}: shapedirs has {shapedirs.shape[2]} columns, but FLAME's identity is its first {N_IDENTITY} "
            "and its expression the rest, so this file has no expression space"
        )
    unit = length_unit_of(template)
    if unit is None:
        raise ModelFileError(f"{path}: v_template is not face-sized in metres, millimetres or micrometres")
    scale = MICROMETRES_PER[unit]
    columns = shapedirs.reshape(3 * n, -1) * scale
    identity, expression = columns[:, :N_IDENTITY].T, columns[:, N_IDENTITY:].T
    lengths = np.linalg.norm(identity, axis=1)
    if not (lengths > 0).all():
        raise ModelFileError(f"{path}: identity column {int(np.argmin(lengths))} of shapedirs is all zeros")
    triangles = _real(path, arrays, "f")
    landmarks, note = flame_landmarks(path, triangles)
    try:
        return MorphableModel(
            mean=template.reshape(-1) * scale,
            basis_id=identity / lengths[:, None],
            basis_exp=expression,
            ev_id=lengths,
            ev_exp=np.ones(len(expression)),
            triangles=triangles,
            name=str(path),
            landmarks=landmarks,
            landmarks_note=note,
            skinning=_skinning(path, arrays, n, scale),
            origin=ModelOrigin(FAMILY, _version(path), unit, (note,) if note else ()),
        )
    except ModelFileError:
        raise
    except FaceExplorerError as failure:
        raise ModelFileError(f"{path}: {str(failure).removeprefix(f'{path}: ')}") from failure


def _skinning(path: Path, arrays: dict[str, Any], n: int, scale: float) -> Skinning:
    kintree = _real(path, arrays, "kintree_table")
    if kintree.ndim != 2 or kintree.shape[0] != 2:
        raise ModelFileError(f"{path}: kintree_table has shape {kintree.shape}, expected (2, J)")
    ids = {int(joint): index for index, joint in enumerate(kintree[1])}
    # The root's parent is -1, stored as 2^32 − 1 in FLAME's unsigned table.
    parents = [-1 if index == 0 else ids.get(int(parent), -2) for index, parent in enumerate(kintree[0])]
    posedirs = _real(path, arrays, "posedirs")
    if posedirs.ndim != 3 or posedirs.shape[:2] != (n, 3):
        raise ModelFileError(f"{path}: posedirs has shape {posedirs.shape}, expected ({n}, 3, P)")
    joints = len(parents)
    return Skinning(
        parents=np.array(parents),
        j_regressor=_real(path, arrays, "J_regressor"),
        weights=_real(path, arrays, "weights"),
        posedirs=(posedirs.reshape(3 * n, -1) * scale).T,
        joint_names=FLAME_JOINTS if joints == len(FLAME_JOINTS) else tuple(f"joint {j}" for j in range(joints)),
    )


def _real(path: Path, arrays: dict[str, Any], key: str) -> np.ndarray:
    array = np.asarray(arrays[key])
    if array.dtype == object or not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise ModelFileError(f"{path}: {key} is not an array of real numbers")
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise ModelFileError(f"{path}: {key} contains NaN or infinite values")
    return array


def _version(path: Path) -> str:
    """FLAME's release, from its published file names (the files do not record it)."""
    name = path.name.lower()
    if "generic_model" in name:
        return "2020"
    if "2023" in name:
        return "2023 Open" if "open" in name else "2023 without jaw rotation" if "no_jaw" in name else "2023"
    return "(version not in the file name)"
