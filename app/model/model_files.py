"""Read morphable models from the files researchers actually have, and the project's own .npz:

- face3d ``BFM.mat``: struct ``model`` with shapeMU/shapePC/shapeEV, expMU/expPC/expEV, a
  1-based ``tri`` and, when present, the 68 1-based landmark vertices ``kpt_ind`` and the
  texture model texMU/texPC/texEV; the face mean is shapeMU + expMU.
- 3DDFA ``Model_Shape.mat`` (mu_shape, w, sigma, tri) next to ``Model_Exp.mat`` (mu_exp, w_exp, sigma_exp).
- ICT-FaceKit's ``FaceXModel`` folder (see ``ict_facekit``).
- the compact ``.npz`` written by ``save_model_npz`` (float32, 0-based triangles, mode names,
  landmarks, triangle parts, the texture model and the texture layout).
- the BFM 2017/2019 ``.h5`` (``bfm_hdf5``), FLAME's ``.pkl`` or an ``.npz`` of its arrays (``flame_model``).
Matlab v7.3 files are HDF5, which scipy cannot read: a ``.mat`` of that kind is recognised and reported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import scipy.io

from app.atomic_files import atomic_output
from app.errors import FaceExplorerError, ModelFileError
from app.model.albedo import AlbedoModel
from app.model.bfm_hdf5 import load_bfm_hdf5
from app.model.flame_model import flame_model, is_flame_arrays, load_flame_pickle
from app.model.ict_facekit import load_ict_model
from app.model.morphable_model import MorphableModel, first_non_whole
from app.model.uv_layout import UvLayout
from app.npz_files import read_npz

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_NPZ_KEYS = ("mean", "basis_id", "basis_exp", "ev_id", "ev_exp", "triangles")
_TEXTURE_FIELDS = ("texMU", "texPC", "texEV")


def load_model(path: str | Path) -> MorphableModel:
    """Load a morphable model: a BFM .mat or .h5, a 3DDFA Model_Shape.mat/Model_Exp.mat, an ICT-FaceKit folder,
    FLAME's .pkl or an .npz."""
    path = Path(path)
    if path.is_dir():
        return load_ict_model(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    if path.suffix.lower() == ".npz":
        return _load_npz(path)
    if path.suffix.lower() in (".h5", ".hdf5"):
        return load_bfm_hdf5(path)
    if path.suffix.lower() == ".pkl":
        return load_flame_pickle(path)
    contents = read_mat(path, ModelFileError)
    if "model" in contents:
        return _from_face3d_bfm(path, contents["model"])
    if "mu_shape" in contents:
        exp_path = _sibling(path, "Model_Exp.mat")
        return _from_3ddfa(path, contents, exp_path, read_mat(exp_path, ModelFileError))
    if "mu_exp" in contents:
        shape_path = _sibling(path, "Model_Shape.mat")
        return _from_3ddfa(shape_path, read_mat(shape_path, ModelFileError), path, contents)
    found = ", ".join(sorted(k for k in contents if not k.startswith("__"))) or "nothing"
    raise ModelFileError(
        f"{path}: not a morphable model (expected a face3d 'model' struct or 3DDFA 'mu_shape'/'mu_exp'; found {found})"
    )


def read_mat(path: Path, error: type[Exception]) -> dict[str, Any]:
    """``scipy.io.loadmat`` with every failure turned into one ``error`` naming the file."""
    if not path.is_file():
        raise error(f"{path}: no such file")
    with open(path, "rb") as handle:
        head = handle.read(520)
    if b"MATLAB 7.3" in head[:128] or head[:8] == _HDF5_SIGNATURE or head[512:520] == _HDF5_SIGNATURE:
        raise error(
            f"{path}: Matlab v7.3 (HDF5) file, which scipy cannot read; re-save it in Matlab with "
            "save(..., '-v7') or convert it with h5py"
        )
    try:
        return scipy.io.loadmat(path)
    except OSError as failure:
        raise error(f"{path}: cannot read it ({failure.strerror or failure})") from failure
    except Exception as failure:  # scipy raises ValueError, TypeError, KeyError … for damaged files
        raise error(f"{path} is not a valid .mat file (not a Matlab file, or damaged or truncated)") from failure


def save_model_npz(model: MorphableModel, path: str | Path) -> None:
    """Write the model as a compact float32 .npz that ``load_model`` reads back."""
    assert model.triangle_parts is not None  # MorphableModel.__post_init__ fills it in
    # Any: mypy checks the values of a **dict against savez's ``allow_pickle: bool`` as well
    optional: dict[str, Any] = {}
    if model.landmarks is not None:
        optional["landmarks"] = model.landmarks.astype(np.int32)
    if model.albedo is not None:
        optional["tex_mean"] = model.albedo.mean
        optional["tex_basis"] = model.albedo.basis
        optional["tex_ev"] = model.albedo.ev
        optional["tex_name"] = np.array(model.albedo.name)
    if model.uv_layout is not None:
        optional["uv"] = model.uv_layout.uv.astype(np.float32)
        optional["uv_triangles"] = model.uv_layout.triangles.astype(np.int32)
    with atomic_output(path) as temp, open(temp, "wb") as handle:
        np.savez(
            handle,
            mean=model.mean,
            basis_id=model.basis_id,
            basis_exp=model.basis_exp,
            ev_id=model.ev_id,
            ev_exp=model.ev_exp,
            triangles=model.triangles.astype(np.int32),
            names_id=np.array(model.names_id),
            names_exp=np.array(model.names_exp),
            name=np.array(model.name),
            triangle_parts=model.triangle_parts,
            **optional,
        )


def _load_npz(path: Path) -> MorphableModel:
    data = read_npz(path, ModelFileError)
    if is_flame_arrays(data):
        return flame_model(path, data)
    missing = [key for key in _NPZ_KEYS if key not in data]
    if missing:
        raise ModelFileError(f"{path}: not a model .npz (missing {', '.join(missing)})")
    arrays = {key: data[key] for key in _NPZ_KEYS}
    names_id = [str(n) for n in data["names_id"]] if "names_id" in data else []
    names_exp = [str(n) for n in data["names_exp"]] if "names_exp" in data else []
    # "identity" is where files written before models had digests kept the name.
    name = next((str(data[key]) for key in ("name", "identity") if key in data), str(path))
    labels: dict[str, np.ndarray | AlbedoModel | UvLayout] = {
        key: data[key] for key in ("landmarks", "triangle_parts") if key in data
    }
    if all(key in data for key in ("tex_mean", "tex_basis", "tex_ev")):
        texture_name = str(data["tex_name"]) if "tex_name" in data else f"{path} texture"
        labels["albedo"] = _albedo(path, data["tex_mean"], data["tex_basis"].T, data["tex_ev"], texture_name)
    if "uv" in data and "uv_triangles" in data:
        labels["uv_layout"] = UvLayout(
            uv=data["uv"].astype(np.float64), triangles=data["uv_triangles"].astype(np.int64)
        )
    return _build(path, name=name, names_id=names_id, names_exp=names_exp, **arrays, **labels)


def _from_face3d_bfm(path: Path, struct: Any) -> MorphableModel:
    try:
        model = struct[0, 0]
        fields = model.dtype.names or ()
    except (IndexError, AttributeError, TypeError):
        raise ModelFileError(f"{path}: 'model' is not a Matlab struct") from None
    required = ("shapeMU", "shapePC", "shapeEV", "expMU", "expPC", "expEV", "tri")
    missing = [name for name in required if name not in fields]
    if missing:
        raise ModelFileError(f"{path}: BFM 'model' struct lacks field(s) {', '.join(missing)}")
    shape_mu = _column(path, "shapeMU", model["shapeMU"])
    exp_mu = _column(path, "expMU", model["expMU"])
    if shape_mu.shape != exp_mu.shape:
        raise ModelFileError(f"{path}: shapeMU has {shape_mu.size} values but expMU has {exp_mu.size}")
    return _build(
        path,
        mean=shape_mu + exp_mu,
        basis_id=_basis(path, "shapePC", model["shapePC"], shape_mu.size),
        basis_exp=_basis(path, "expPC", model["expPC"], shape_mu.size),
        ev_id=_column(path, "shapeEV", model["shapeEV"]),
        ev_exp=_column(path, "expEV", model["expEV"]),
        triangles=_one_based_triangles(path, model["tri"]),
        name=str(path),
        landmarks=_one_based_landmarks(path, model["kpt_ind"]) if "kpt_ind" in fields else None,
        albedo=_bfm_texture(path, model, shape_mu.size) if all(name in fields for name in _TEXTURE_FIELDS) else None,
    )


def _bfm_texture(path: Path, model: Any, n_values: int) -> AlbedoModel:
    """The BFM's texture model (texMU (3N, 1), texPC (3N, K), texEV (K, 1)), checked like the shape's."""
    mean = _column(path, "texMU", model["texMU"])
    if mean.size != n_values:
        raise ModelFileError(f"{path}: texMU has {mean.size} values but shapeMU has {n_values}")
    basis = _real(path, "texPC", model["texPC"])
    if basis.ndim != 2 or basis.shape[0] != n_values:
        raise ModelFileError(f"{path}: texPC has shape {basis.shape}, expected ({n_values}, K)")
    return _albedo(path, mean, basis, _column(path, "texEV", model["texEV"]), f"{path} texture (texMU/texPC/texEV)")


def _albedo(path: Path, mean: np.ndarray, columns: np.ndarray, ev: np.ndarray, name: str) -> AlbedoModel:
    """A texture model from a (3N, K) column basis; any inconsistency names the file."""
    try:
        return AlbedoModel(mean, np.asarray(columns).T, ev, name)
    except FaceExplorerError as failure:
        raise ModelFileError(f"{path}: {str(failure).removeprefix(name + ': ')}") from failure


def _from_3ddfa(shape_path: Path, shape: dict[str, Any], exp_path: Path, exp: dict[str, Any]) -> MorphableModel:
    # Each problem names the file it is in: the two halves come from different files.
    for path, source, keys in (
        (shape_path, shape, ("mu_shape", "w", "sigma", "tri")),
        (exp_path, exp, ("mu_exp", "w_exp", "sigma_exp")),
    ):
        missing = [key for key in keys if key not in source]
        if missing:
            raise ModelFileError(f"{path}: 3DDFA model file lacks {', '.join(missing)}")
    mu_shape = _column(shape_path, "mu_shape", shape["mu_shape"])
    mu_exp = _column(exp_path, "mu_exp", exp["mu_exp"])
    if mu_shape.shape != mu_exp.shape:
        raise ModelFileError(
            f"{exp_path}: mu_exp has {mu_exp.size} values but mu_shape in {shape_path.name} has {mu_shape.size}"
        )
    return _build(
        shape_path,
        mean=mu_shape + mu_exp,
        basis_id=_basis(shape_path, "w", shape["w"], mu_shape.size),
        basis_exp=_basis(exp_path, "w_exp", exp["w_exp"], mu_shape.size),
        ev_id=_column(shape_path, "sigma", shape["sigma"]),
        ev_exp=_column(exp_path, "sigma_exp", exp["sigma_exp"]),
        triangles=_one_based_triangles(shape_path, shape["tri"]),
        name=str(shape_path),
    )


def _build(path: Path, **fields: Any) -> MorphableModel:
    """Construct the model, naming the file in any consistency error."""
    try:
        return MorphableModel(**fields)
    except ModelFileError:
        raise
    except Exception as failure:
        message = str(failure)
        name = str(fields.get("name", ""))
        if name and message.startswith(name + ": "):
            message = message[len(name) + 2 :]
        raise ModelFileError(f"{path}: {message}") from failure


def _column(path: Path, name: str, value: Any) -> np.ndarray:
    array = _real(path, name, value)
    if array.ndim != 2 or 1 not in array.shape:
        raise ModelFileError(f"{path}: {name} has shape {array.shape}, expected a numeric column vector")
    return array.reshape(-1).astype(np.float64)


def _basis(path: Path, name: str, value: Any, n_values: int) -> np.ndarray:
    """A (3N, K) principal-component matrix as (K, 3N) rows."""
    array = _real(path, name, value)
    if array.ndim != 2 or array.shape[0] != n_values:
        raise ModelFileError(f"{path}: {name} has shape {array.shape}, expected ({n_values}, K)")
    return np.ascontiguousarray(array.T, dtype=np.float32)


def _one_based_triangles(path: Path, value: Any) -> np.ndarray:
    """Matlab's (3, T) 1-based triangle list as (T, 3) 0-based."""
    tri = _real(path, "tri", value)
    if tri.ndim != 2 or 3 not in tri.shape:
        raise ModelFileError(f"{path}: tri has shape {tri.shape}, expected (3, T)")
    tri = tri if tri.shape[0] == 3 else tri.T
    fraction = first_non_whole(tri)
    if fraction is not None:
        raise ModelFileError(f"{path}: tri contains {fraction:g}; triangle indices must be whole numbers")
    if tri.size and tri.min() < 1:
        raise ModelFileError(f"{path}: tri contains index {int(tri.min())}, but Matlab triangles are 1-based")
    return tri.T.astype(np.int64) - 1


def _one_based_landmarks(path: Path, value: Any) -> np.ndarray:
    """Matlab's 1-based ``kpt_ind`` as 0-based vertex indices."""
    kpt = _real(path, "kpt_ind", value).reshape(-1)
    fraction = first_non_whole(kpt)
    if fraction is not None:
        raise ModelFileError(f"{path}: kpt_ind contains {fraction:g}; landmark indices must be whole numbers")
    if kpt.size and kpt.min() < 1:
        raise ModelFileError(f"{path}: kpt_ind contains index {int(kpt.min())}, but Matlab indices are 1-based")
    return kpt.astype(np.int64) - 1


def _real(path: Path, name: str, value: Any) -> np.ndarray:
    """``value`` as a real numeric array; complex numbers are refused, never silently made real."""
    array = np.asarray(value)
    if np.iscomplexobj(array):
        raise ModelFileError(f"{path}: {name} holds complex numbers; a face model is real-valued")
    if not np.issubdtype(array.dtype, np.number):
        raise ModelFileError(f"{path}: {name} is not numeric (found {array.dtype.name} values)")
    return array


def _sibling(path: Path, name: str) -> Path:
    sibling = path.with_name(name)
    if not sibling.is_file():
        raise ModelFileError(f"{path}: a 3DDFA model needs {name} in the same folder")
    return sibling
