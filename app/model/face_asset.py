"""The embedded face model's data file, ``app/model/data/embedded_face.npz``: ICT-FaceKit shapes, compactly encoded.

``tools/build_embedded_model.py`` writes it from ICT-FaceKit's OBJ files (MIT licence; the licence
and attribution ship beside it) and the product reads it at start-up, with no ICT files and no
network. It holds, over the opaque vertices and in micrometres:
- the neutral mesh (float32);
- ICT's identity modes at weight 1 and the action units of ``ACTION_UNITS`` at full activation
  (sums of ICT's expression shapes), as int16 steps of about 1 µm (``encode_deltas``);
- the triangles with their ``FacePart`` codes and the 68 landmark vertices;
- a few reference vertices as read from the OBJs in float64, and a sha256 of the encoded arrays,
  so the file can be checked where the OBJs are not at hand (tests, CI).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np

from app.atomic_files import atomic_output
from app.errors import ModelFileError
from app.npz_files import checksum_of_arrays, read_npz

ASSET_PATH = Path(str(files("app.model") / "data" / "embedded_face.npz"))
STEP_UM = 1.0  # the finest step; a shape that moves more than 32,767 steps gets a coarser one
_INT16_MAX = 32_767
_ENCODED = (
    "neutral",
    "identity_steps",
    "identity_step",
    "expression_steps",
    "expression_step",
    "expression_names",
    "triangles",
    "triangle_parts",
    "landmarks",
    "reference_vertices",
    "reference_neutral",
    "reference_identity",
    "reference_expression",
    "source_digest",
)


@dataclass(frozen=True)
class FaceAsset:
    """The decoded contents; deltas are float32 micrometres, (modes, N, 3)."""

    neutral: np.ndarray  # (N, 3) float32
    identity: np.ndarray  # (K_id, N, 3) ICT identity modes at weight 1
    expression: np.ndarray  # (K_exp, N, 3) action units at full activation
    expression_names: list[str]
    triangles: np.ndarray  # (T, 3) int64
    triangle_parts: np.ndarray  # (T,) uint8
    landmarks: np.ndarray  # (68,) int64
    reference_vertices: np.ndarray  # (R,) vertex indices
    reference_neutral: np.ndarray  # (R, 3) float64, from the OBJs
    reference_identity: np.ndarray  # (K_id, R, 3) float64
    reference_expression: np.ndarray  # (K_exp, R, 3) float64
    source_digest: str  # sha256 of the ICT files it was built from


def encode_deltas(deltas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int16 steps and the step (µm) of each mode, so that ``steps * step`` ≈ ``deltas``.

    The OBJs print six significant digits of centimetres, which is 1 µm on a face, so steps of 1 µm
    lose nothing they hold, and the steps compress to a third of float32.
    """
    largest = np.abs(deltas).reshape(len(deltas), -1).max(axis=1)
    step = np.maximum(STEP_UM, largest / _INT16_MAX)
    return np.round(deltas / step[:, None, None]).astype(np.int16), step


def save_face_asset(asset: FaceAsset, path: str | Path) -> None:
    """Write ``asset`` compressed, with its deltas encoded and a checksum over everything."""
    identity_steps, identity_step = encode_deltas(asset.identity)
    expression_steps, expression_step = encode_deltas(asset.expression)
    # Any: mypy checks the values of a **dict against savez_compressed's ``allow_pickle: bool`` as well
    arrays: dict[str, Any] = {
        "neutral": asset.neutral.astype(np.float32),
        "identity_steps": identity_steps,
        "identity_step": identity_step,
        "expression_steps": expression_steps,
        "expression_step": expression_step,
        "expression_names": np.array(asset.expression_names),
        "triangles": asset.triangles.astype(np.int32),
        "triangle_parts": asset.triangle_parts.astype(np.uint8),
        "landmarks": asset.landmarks.astype(np.int32),
        "reference_vertices": asset.reference_vertices.astype(np.int32),
        "reference_neutral": asset.reference_neutral.astype(np.float64),
        "reference_identity": asset.reference_identity.astype(np.float64),
        "reference_expression": asset.reference_expression.astype(np.float64),
        "source_digest": np.array(asset.source_digest),
    }
    with atomic_output(path) as temp, open(temp, "wb") as handle:
        np.savez_compressed(handle, checksum=np.array(checksum_of_arrays(arrays)), **arrays)


def load_face_asset(path: str | Path = ASSET_PATH) -> FaceAsset:
    """Read and check the asset; a damaged or foreign file is one ``ModelFileError``."""
    data = read_npz(path, ModelFileError)
    missing = [key for key in (*_ENCODED, "checksum") if key not in data]
    if missing:
        raise ModelFileError(f"{path}: not an embedded face asset (missing {', '.join(missing)})")
    if checksum_of_arrays({key: data[key] for key in _ENCODED}) != str(data["checksum"]):
        raise ModelFileError(f"{path}: damaged (its contents do not match its checksum); reinstall the package")
    return FaceAsset(
        neutral=data["neutral"],
        identity=_decode(data["identity_steps"], data["identity_step"]),
        expression=_decode(data["expression_steps"], data["expression_step"]),
        expression_names=[str(name) for name in data["expression_names"]],
        triangles=data["triangles"].astype(np.int64),
        triangle_parts=data["triangle_parts"],
        landmarks=data["landmarks"].astype(np.int64),
        reference_vertices=data["reference_vertices"].astype(np.int64),
        reference_neutral=data["reference_neutral"],
        reference_identity=data["reference_identity"],
        reference_expression=data["reference_expression"],
        source_digest=str(data["source_digest"]),
    )


def _decode(steps: np.ndarray, step: np.ndarray) -> np.ndarray:
    return steps.astype(np.float32) * step.astype(np.float32)[:, None, None]
