"""Fitted 3DMM parameters of real faces: the clean training data of the denoisers.

Reads a folder (recursively) of per-image ``.mat`` files as AFLW2000-3D, 300W-3D and 300W-LP
ship them (``Shape_Para`` (199,1), ``Exp_Para`` (29,1)), or one ``.npz`` with ``shape`` and
``expression`` arrays. A bad file is skipped and reported, never fatal; given the model's limits,
so is a file with values far beyond any fit (1e300), since one of them turns training into NaN.
Train/test splits are by face: 300W-LP stores several rotated views of one face with identical
``Shape_Para``, so vectors with the same identity coefficients are one face and always land on
the same side.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.errors import DatasetError
from app.model.model_files import read_mat
from app.npz_files import read_npz

# One image's fitted parameters take a few kB (300W-LP's, with landmarks and texture, about 30 kB).
MAX_FITTED_FILE_BYTES = 64 << 20


@dataclass
class FittedParameters:
    """Clean coefficient vectors, one row per image."""

    shape: np.ndarray  # (M, K_id)
    expression: np.ndarray  # (M, K_exp)
    face_ids: list[str]
    source: str
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)

    def __post_init__(self) -> None:
        for name in ("shape", "expression"):
            if np.iscomplexobj(getattr(self, name)):
                raise DatasetError(f"{self.source}: the {name} table holds complex numbers; coefficients are real")
        self.shape = np.asarray(self.shape, dtype=np.float64)
        self.expression = np.asarray(self.expression, dtype=np.float64)
        if self.shape.ndim != 2 or self.expression.ndim != 2 or len(self.shape) != len(self.expression):
            raise DatasetError(
                f"{self.source}: shape {self.shape.shape} and expression {self.expression.shape} "
                "are not two tables with one row per face"
            )
        if len(self.face_ids) != len(self.shape):
            raise DatasetError(f"{self.source}: {len(self.face_ids)} face ids for {len(self.shape)} rows")

    def __len__(self) -> int:
        return len(self.shape)

    def coefficients(self, kind: str) -> np.ndarray:
        return self.shape if kind == "shape" else self.expression

    def subset(self, rows: np.ndarray, source: str) -> FittedParameters:
        return FittedParameters(self.shape[rows], self.expression[rows], [self.face_ids[i] for i in rows], source)

    def check_counts(self, n_id: int, n_exp: int) -> None:
        """Refuse data fitted with a different model (other coefficient counts)."""
        if self.shape.shape[1] != n_id or self.expression.shape[1] != n_exp:
            raise DatasetError(
                f"{self.source}: has {self.shape.shape[1]} identity and {self.expression.shape[1]} expression "
                f"coefficients per face, but the model has {n_id} and {n_exp}"
            )


def load_fitted_parameters(path: str | Path, limits: Mapping[str, float] | None = None) -> FittedParameters:
    """Load a folder of per-image .mat files (recursive) or an .npz of coefficient tables.

    ``limits`` ("shape", "expression": the largest plausible |value|, from the model) skips a .mat
    file, or refuses an .npz, holding a value beyond it.
    """
    path = Path(path)
    limits = limits or {}
    if path.is_dir():
        return _load_mat_folder(path, limits)
    if path.is_file() and path.suffix.lower() == ".npz":
        return _load_npz(path, limits)
    if path.is_file():
        raise DatasetError(f"{path}: expected a folder of fitted-parameter .mat files or an .npz")
    raise DatasetError(f"{path}: no such file or folder")


def split_by_face(
    params: FittedParameters, test_faces: int, rng: np.random.Generator
) -> tuple[FittedParameters, FittedParameters]:
    """Seeded split into (train, test) with ``test_faces`` distinct faces held out."""
    groups: dict[bytes, list[int]] = {}
    for row, vector in enumerate(params.shape):
        groups.setdefault(np.round(vector, 6).tobytes(), []).append(row)
    faces = list(groups.values())
    if not 0 < test_faces < len(faces):
        raise DatasetError(f"{params.source}: cannot hold out {test_faces} test faces from {len(faces)} distinct faces")
    order = rng.permutation(len(faces))
    test_rows = np.sort(np.concatenate([faces[i] for i in order[:test_faces]]))
    train_rows = np.sort(np.concatenate([faces[i] for i in order[test_faces:]]))
    return (
        params.subset(train_rows, f"{params.source} [train: {len(faces) - test_faces} faces]"),
        params.subset(test_rows, f"{params.source} [test: {test_faces} faces]"),
    )


def split_by_ids(params: FittedParameters, held_out: list[str]) -> tuple[FittedParameters, FittedParameters]:
    """(train, test) with exactly the rows whose face ids a checkpoint recorded as held out."""
    wanted = set(held_out)
    test_rows = np.array([row for row, face in enumerate(params.face_ids) if face in wanted], dtype=np.int64)
    found = {params.face_ids[row] for row in test_rows}
    if len(found) != len(wanted):
        missing = sorted(wanted - found)
        raise DatasetError(
            f"{params.source}: lacks {len(missing)} of the {len(wanted)} held-out faces "
            f"(e.g. '{missing[0]}'): it is not the data the checkpoint was trained on"
        )
    train_rows = np.setdiff1d(np.arange(len(params)), test_rows)
    return (
        params.subset(train_rows, f"{params.source} [train]"),
        params.subset(test_rows, f"{params.source} [held out: {len(test_rows)} rows]"),
    )


def _load_mat_folder(folder: Path, limits: Mapping[str, float]) -> FittedParameters:
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".mat" and p.is_file())
    readable, skipped = [], []
    for file in files:
        try:
            readable.append((file, *_read_fitted_mat(file, limits)))
        except DatasetError as problem:
            skipped.append((str(file), str(problem).removeprefix(f"{file}: ")))
    # The coefficient counts most files agree on win, so one stray file fitted with another
    # model is what gets skipped, whatever its name sorts as.
    counts = Counter((len(shape), len(expression)) for _, shape, expression in readable)
    n_id, n_exp = counts.most_common(1)[0][0] if counts else (0, 0)
    shapes, expressions, ids = [], [], []
    for file, shape, expression in readable:
        if (len(shape), len(expression)) != (n_id, n_exp):
            skipped.append((str(file), f"{len(shape)}+{len(expression)} coefficients, most files have {n_id}+{n_exp}"))
            continue
        shapes.append(shape)
        expressions.append(expression)
        ids.append(str(file.relative_to(folder).with_suffix("")))
    if not shapes:
        reason = f"; first problem: {skipped[0][0]}: {skipped[0][1]}" if skipped else ""
        raise DatasetError(f"{folder}: no usable fitted-parameter .mat files ({len(files)} found{reason})")
    return FittedParameters(np.stack(shapes), np.stack(expressions), ids, str(folder), skipped)


def _implausible(values: np.ndarray, kind: str, limits: Mapping[str, float]) -> str | None:
    """Why ``values`` cannot be fitted coefficients of ``kind`` (beyond the limit), or None."""
    limit = limits.get(kind)
    if limit is None or values.size == 0:
        return None
    largest = float(np.abs(values).max())
    if largest <= limit:
        return None
    return f"holds {largest:.4g}, beyond any plausible {kind} coefficient of this model (|value| <= {limit:.4g})"


def _read_fitted_mat(file: Path, limits: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
    size = file.stat().st_size
    if size > MAX_FITTED_FILE_BYTES:  # refused unread: scipy would load all of it
        raise DatasetError(f"{file}: {size:,} bytes, far larger than a fitted-parameter file can be")
    contents = read_mat(file, DatasetError)
    vectors = []
    for name, kind in (("Shape_Para", "shape"), ("Exp_Para", "expression")):
        if name not in contents:
            raise DatasetError(f"{file}: no {name} field")
        value = np.asarray(contents[name])
        if np.iscomplexobj(value):
            raise DatasetError(f"{file}: {name} holds complex numbers; fitted coefficients are real")
        if value.ndim != 2 or 1 not in value.shape or not np.issubdtype(value.dtype, np.number):
            raise DatasetError(f"{file}: {name} has shape {value.shape}, expected a column vector")
        value = value.reshape(-1).astype(np.float64)
        if not np.all(np.isfinite(value)):
            raise DatasetError(f"{file}: {name} contains NaN or infinite values")
        implausible = _implausible(value, kind, limits)
        if implausible:
            raise DatasetError(f"{file}: {name} {implausible}")
        vectors.append(value)
    return vectors[0], vectors[1]


def _load_npz(path: Path, limits: Mapping[str, float]) -> FittedParameters:
    data = read_npz(path, DatasetError)
    missing = [key for key in ("shape", "expression") if key not in data]
    if missing:
        raise DatasetError(f"{path}: .npz lacks {', '.join(missing)} (needs 'shape' and 'expression' tables)")
    shape, expression = data["shape"], data["expression"]
    ids = [str(i) for i in data["face_ids"]] if "face_ids" in data else [str(i) for i in range(len(shape))]
    params = FittedParameters(shape, expression, ids, str(path))
    bad = ~(np.isfinite(params.shape).all(1) & np.isfinite(params.expression).all(1))
    if bad.any():
        raise DatasetError(f"{path}: {int(bad.sum())} rows contain NaN or infinite values")
    for kind in ("shape", "expression"):
        table = params.coefficients(kind)
        implausible = _implausible(table, kind, limits)
        if implausible:
            row = int(np.argmax(np.abs(table).max(axis=1)))
            raise DatasetError(f"{path}: the {kind} table {implausible} (row {row})")
    return params
