"""Fitted faces of models whose published coefficients are standard normal (FLAME, BFM 2017/2019).

EMOCA, DECA, MICA, SMIRK and similar fitting code write one ``.npz`` or ``.pkl`` per image with
the identity under ``shape``, ``betas`` or ``shape_params`` and the expression under ``exp``,
``expression`` or ``expression_params``, each a vector (or a (1, K) row) of published coefficients.
A folder of such files (recursive, no .mat files in it) is read here: a shorter vector is the
model's first modes (DECA fits 100 of FLAME's 300 identity and 50 of its 100 expression modes), so
the rest are zero; a file without an expression is neutral. Published coefficients become the
product's by × EV. A bad file is skipped and reported, never fatal; pickles are read like FLAME's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from app.errors import DatasetError, FaceExplorerError
from app.model.coefficient_limits import LIMIT_IN_SCALES
from app.model.fitted_params import FittedParameters
from app.model.flame_pickle import TorchTensor, read_pickle
from app.model.morphable_model import MorphableModel
from app.npz_files import read_npz

IDENTITY_KEYS = ("shape", "betas", "shape_params")
EXPRESSION_KEYS = ("exp", "expression", "expression_params")
FIT_SUFFIXES = (".npz", ".pkl")


def is_fit_folder(path: Path) -> bool:
    """A folder of per-image .npz/.pkl fits (and no .mat files, which are read as 300W-LP-style fits)."""
    if not path.is_dir():
        return False
    suffixes = {file.suffix.lower() for file in path.rglob("*") if file.is_file()}
    return bool(suffixes & set(FIT_SUFFIXES)) and ".mat" not in suffixes


def load_model_fits(folder: Path, model: MorphableModel) -> FittedParameters:
    """Every usable fit in ``folder`` as product coefficients of ``model``."""
    if model.origin is None:
        raise DatasetError(
            f"{folder}: fits in .npz/.pkl files hold standard-normal coefficients, which only FLAME and "
            f"the BFM 2017/2019 publish; {model.name} takes fitted .mat files (Shape_Para, Exp_Para)"
        )
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in FIT_SUFFIXES)
    shapes, expressions, ids, skipped = [], [], [], []
    for file in files:
        try:
            shape, expression = _read_fit(file, model)
        except FaceExplorerError as problem:
            skipped.append((str(file), str(problem).removeprefix(f"{file}: ")))
            continue
        shapes.append(shape * model.ev_id)
        expressions.append(expression * model.ev_exp)
        ids.append(str(file.relative_to(folder).with_suffix("")))
    if not shapes:
        reason = f"; first problem: {skipped[0][0]}: {skipped[0][1]}" if skipped else ""
        raise DatasetError(f"{folder}: no usable fitted-parameter .npz/.pkl files ({len(files)} found{reason})")
    source = f"{folder} (fits in published coefficients × EV)"
    return FittedParameters(np.stack(shapes), np.stack(expressions), ids, source, skipped)


def _read_fit(file: Path, model: MorphableModel) -> tuple[np.ndarray, np.ndarray]:
    content: Any = read_npz(file, DatasetError) if file.suffix.lower() == ".npz" else read_pickle(file)
    if not isinstance(content, dict):
        raise DatasetError(f"{file}: holds a {type(content).__name__}, not a dict of coefficient arrays")
    identity = _vector(file, content, IDENTITY_KEYS, model.n_id, "identity")
    if identity is None:
        raise DatasetError(f"{file}: no identity coefficients (expected one of {', '.join(IDENTITY_KEYS)})")
    expression = _vector(file, content, EXPRESSION_KEYS, model.n_exp, "expression")
    return identity, np.zeros(model.n_exp) if expression is None else expression


def _vector(file: Path, content: dict[str, Any], keys: tuple[str, ...], count: int, what: str) -> np.ndarray | None:
    key = next((key for key in keys if key in content), None)
    if key is None:
        return None
    if isinstance(content[key], TorchTensor):
        raise DatasetError(f"{file}: {key} is a torch tensor, which is never loaded; save it as a numpy array")
    value = np.asarray(content[key])
    if value.dtype == object or not np.issubdtype(value.dtype, np.number) or np.iscomplexobj(value):
        raise DatasetError(f"{file}: {key} is not an array of real numbers")
    if value.ndim == 2 and value.shape[0] == 1:
        value = value[0]
    if value.ndim != 1:
        raise DatasetError(f"{file}: {key} has shape {value.shape}, expected one vector of {what} coefficients")
    if len(value) > count:
        raise DatasetError(f"{file}: {key} has {len(value)} {what} coefficients, but the model has {count}")
    if not np.isfinite(value).all():
        raise DatasetError(f"{file}: {key} contains NaN or infinite values")
    if value.size and np.abs(value).max() > LIMIT_IN_SCALES:  # one such file turns training into NaN
        raise DatasetError(
            f"{file}: {key} holds {np.abs(value).max():.4g}, beyond any plausible fit "
            f"(published coefficients are standard normal; at most {LIMIT_IN_SCALES:g})"
        )
    return np.concatenate([value.astype(np.float64), np.zeros(count - len(value))])
