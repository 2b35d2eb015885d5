"""The Basel Face Model 2017/2019 (``model2017-1_bfm_nomouth.h5``, ``model2019_fullHead.h5`` …), read with h5py.

The layout and the arithmetic are those of the official reader, scalismo-faces' MoMoIO and MoMo:
groups shape/, expression/ and color/, each with model/{mean, pcaBasis (3N, K), pcaVariance (K)}
and representer/{points (3, N), cells (3, T), 0-based}. A statismo model of version 0.9 or 1.x
stores orthonormal columns U; one of version 0.8 or without a version stores U·√λ, whose columns
MoMoIO normalises. An instance is shape.mean + expression.mean + U_s(√λ_s·α) + U_e(√λ_e·δ) with
standard-normal α, δ (no noise term). Here identity coefficient = EV·α with EV = √λ·|U| in
micrometres and unit rows (the BFM 2009's convention), expression coefficient = δ (EV 1), colour
= the BFM 2009's texture on the 0-255 scale. Landmarks: metadata/landmarks/json, used when it
lists 68 points (the published files name about twenty Basel points, not the 68 Multi-PIE ones).
"""

from __future__ import annotations

import re
from pathlib import Path

import h5py
import numpy as np

from app.errors import FaceExplorerError, ModelFileError
from app.json_files import parse_json
from app.model.albedo import COLOUR_SCALE, AlbedoModel
from app.model.length_units import MICROMETRES_PER, length_unit_of
from app.model.model_origin import ModelOrigin
from app.model.morphable_model import MorphableModel

FAMILY = "Basel Face Model (statismo HDF5)"
MULTI_PIE_LANDMARKS = 68


def load_bfm_hdf5(path: str | Path) -> MorphableModel:
    """The model in ``path``; a damaged file or a wrong layout is one ModelFileError naming it."""
    path = Path(path)
    try:
        with h5py.File(path, "r") as file:
            return _read(path, file)
    except FaceExplorerError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as failure:
        raise ModelFileError(f"{path} is not a readable HDF5 face model (damaged, truncated or another format)") from (
            failure
        )


def _read(path: Path, file: h5py.File) -> MorphableModel:
    for group in ("shape", "expression"):
        if not isinstance(file.get(f"{group}/model"), h5py.Group):
            raise ModelFileError(f"{path}: not a Basel Face Model 2017/2019 file (no {group}/model group)")
    points = _array(path, file, "shape/representer/points")
    if points.ndim != 2 or points.shape[0] != 3:
        raise ModelFileError(f"{path}: shape/representer/points has shape {points.shape}, expected (3, N)")
    n_values = 3 * points.shape[1]
    shape_mean, shape_columns, shape_sd = _pca(path, file, "shape", n_values)
    exp_mean, exp_columns, exp_sd = _pca(path, file, "expression", n_values)
    unit = length_unit_of(shape_mean.reshape(-1, 3))
    if unit is None:
        raise ModelFileError(f"{path}: the mean face is not face-sized in metres, millimetres or micrometres")
    scale = MICROMETRES_PER[unit]
    lengths = np.linalg.norm(shape_columns, axis=0)
    if not (lengths > 0).all():
        raise ModelFileError(f"{path}: shape/model/pcaBasis has a column of zeros")
    landmarks, landmarks_note = _landmarks(path, file, shape_mean.reshape(-1, 3))
    albedo = _colour(path, file, n_values) if isinstance(file.get("color/model"), h5py.Group) else None
    missing = [note for note in (landmarks_note, None if albedo else "no colour model (color/)") if note]
    try:
        return MorphableModel(
            mean=(shape_mean + exp_mean) * scale,
            basis_id=(shape_columns / lengths).T,
            basis_exp=(exp_columns * exp_sd * scale).T,
            ev_id=shape_sd * lengths * scale,
            ev_exp=np.ones(exp_columns.shape[1]),
            triangles=_cells(path, file, points.shape[1]),
            name=str(path),
            landmarks=landmarks,
            landmarks_note=landmarks_note,
            albedo=albedo,
            origin=ModelOrigin(FAMILY, _year(path), unit, tuple(missing)),
        )
    except ModelFileError:
        raise
    except FaceExplorerError as failure:
        raise ModelFileError(f"{path}: {str(failure).removeprefix(f'{path}: ')}") from failure


def _pca(path: Path, file: h5py.File, group: str, n_values: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean (3N,), columns U (3N, K) as MoMoIO reads them, standard deviations √λ (K,)) of one group."""
    mean = _array(path, file, f"{group}/model/mean").reshape(-1)
    basis = _array(path, file, f"{group}/model/pcaBasis")
    variance = _array(path, file, f"{group}/model/pcaVariance").reshape(-1)
    if mean.size != n_values:
        raise ModelFileError(f"{path}: {group}/model/mean has {mean.size} values, the reference mesh {n_values}")
    if basis.ndim != 2 or basis.shape[0] != n_values:
        raise ModelFileError(f"{path}: {group}/model/pcaBasis has shape {basis.shape}, expected ({n_values}, K)")
    if variance.size != basis.shape[1]:
        raise ModelFileError(
            f"{path}: {group}/model/pcaVariance has {variance.size} values for {basis.shape[1]} basis columns"
        )
    if not (variance > 0).all():
        raise ModelFileError(f"{path}: {group}/model/pcaVariance holds values that are not positive")
    major, minor = _version(file, group)
    if major != 1 and (major, minor) != (0, 9):
        # statismo before 0.9 stored U·√λ: MoMoIO recovers U by normalising each column.
        lengths = np.linalg.norm(basis, axis=0)
        if not (lengths > 0).all():
            raise ModelFileError(f"{path}: {group}/model/pcaBasis has a column of zeros")
        basis = basis / lengths
    return mean, basis, np.sqrt(variance)


def _version(file: h5py.File, group: str) -> tuple[int, int]:
    """(major, minor) of a statismo model group, 0.8 when absent as in MoMoIO."""
    values = []
    for name, default in (("majorVersion", 0), ("minorVersion", 8)):
        dataset = file.get(f"{group}/version/{name}")
        values.append(int(np.asarray(dataset[()]).reshape(-1)[0]) if isinstance(dataset, h5py.Dataset) else default)
    return values[0], values[1]


def _array(path: Path, file: h5py.File, name: str) -> np.ndarray:
    dataset = file.get(name)
    if not isinstance(dataset, h5py.Dataset):
        raise ModelFileError(f"{path}: no {name} in the file")
    array = np.asarray(dataset[()])
    if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise ModelFileError(f"{path}: {name} is not real numbers (found {array.dtype})")
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise ModelFileError(f"{path}: {name} contains NaN or infinite values")
    return array


def _cells(path: Path, file: h5py.File, n_vertices: int) -> np.ndarray:
    cells = _array(path, file, "shape/representer/cells")
    if cells.ndim != 2 or cells.shape[0] != 3:
        raise ModelFileError(f"{path}: shape/representer/cells has shape {cells.shape}, expected (3, T)")
    if cells.size and (cells.min() < 0 or cells.max() >= n_vertices or (cells != np.round(cells)).any()):
        raise ModelFileError(f"{path}: shape/representer/cells are not vertex indices 0..{n_vertices - 1}")
    return cells.T.astype(np.int64)


def _colour(path: Path, file: h5py.File, n_values: int) -> AlbedoModel:
    """color/ as the BFM 2009's texture: RGB in [0, 1] scaled to 0-255, unit rows and their standard deviations."""
    mean, columns, sd = _pca(path, file, "color", n_values)
    lengths = np.linalg.norm(columns, axis=0)
    if not (lengths > 0).all():
        raise ModelFileError(f"{path}: color/model/pcaBasis has a column of zeros")
    return AlbedoModel(
        mean * COLOUR_SCALE, (columns / lengths).T, sd * lengths * COLOUR_SCALE, f"{path} colour model (color/)"
    )


def _landmarks(path: Path, file: h5py.File, mean: np.ndarray) -> tuple[np.ndarray | None, str | None]:
    """68 landmark vertices from metadata/landmarks/json, or None and why not."""
    dataset = file.get("metadata/landmarks/json")
    if not isinstance(dataset, h5py.Dataset):
        return None, "no landmarks: the file has no metadata/landmarks/json, so the 68 landmark features are off"
    try:
        raw = dataset[()]
        raw = np.asarray(raw).reshape(-1)[0] if isinstance(raw, np.ndarray) else raw
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        listed = parse_json(text.rstrip("\0"), f"{path} metadata/landmarks/json", ModelFileError)
        entries = [(str(item["id"]), [float(c) for c in item["coordinates"]]) for item in listed]
    except (ValueError, TypeError, KeyError, IndexError, UnicodeDecodeError) as failure:
        raise ModelFileError(f"{path}: metadata/landmarks/json is not a scalismo landmark list") from failure
    if len(entries) != MULTI_PIE_LANDMARKS:
        return None, (
            f"no 68 landmarks: metadata/landmarks names {len(entries)} Basel points "
            f"({', '.join(name for name, _ in entries[:3])} …), not the 68 Multi-PIE ones, so landmark features are off"
        )
    numbers = [re.findall(r"\d+", name) for name, _ in entries]
    if all(numbers):
        entries = [entry for _, entry in sorted(zip([int(n[-1]) for n in numbers], entries, strict=True))]
    points = np.array([point for _, point in entries], dtype=np.float64)
    # Like MoMo.landmarksWithClosestPointIds: each landmark is the reference vertex nearest to it.
    nearest = np.argmin(((points[:, None, :] - mean[None, :, :]) ** 2).sum(-1), axis=1)
    return nearest.astype(np.int64), None


def _year(path: Path) -> str:
    found = re.search(r"(20\d\d)", path.name)
    return found.group(1) if found else "(year not in the file name)"
