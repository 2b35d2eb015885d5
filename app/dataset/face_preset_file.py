"""The face preset file: one face's coefficients marked as a preset, with its model and sampling settings.

The explorer writes presets (File ▸ Save face preset…) and reads them back; a study's report
writes its faces as presets so that the explorer opens them. Both sides go through this module,
so the marker and the recorded fields are the same wherever a preset is made. A preset is a JSON
coefficient file (written atomically through ``save_coefficients``) that records the
``PRESET_FORMAT`` marker, the model's name and digest and the sampling settings; ``details`` add
what the writer knows about the face (where it came from, which study face it is).

A coefficient file written beside an exported mesh (``face_denoised.json`` or ``.npz``) records its
model and settings too, so without the marker a file is taken when it records its model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.dataset.export import COEFFICIENT_FORMATS, load_coefficients, save_coefficients
from app.errors import FaceExplorerError
from app.model.provenance import ModelProvenance
from app.model.sampling_settings import SamplingSettings

PRESET_FORMAT = "face-manifold-explorer preset 1"


@dataclass(frozen=True)
class PresetFile:
    """What a preset file holds: the face, the model it was made on, the sampling settings and every recorded field."""

    path: Path
    alpha_id: np.ndarray
    alpha_exp: np.ndarray
    model: ModelProvenance
    settings: SamplingSettings
    info: dict[str, Any]


def write_preset_file(
    path: str | Path,
    alpha_id: np.ndarray,
    alpha_exp: np.ndarray,
    model: ModelProvenance,
    settings: SamplingSettings,
    **details: Any,
) -> Path:
    """Write a preset of the face (``alpha_id``, ``alpha_exp``) made on ``model``; ``details`` must be JSON-able."""
    path = _preset_path(path)
    return save_coefficients(
        path,
        alpha_id,
        alpha_exp,
        preset=PRESET_FORMAT,
        **model.to_record(),
        sampling=settings.to_dict(),
        **details,
    )


def read_preset_file(path: str | Path) -> PresetFile:
    """Read a preset, or an exported coefficient file (.json or .npz) that records its model.

    A file with neither the marker nor a model record, or with settings or a model record that do not
    check, is refused.
    """
    path = Path(path)
    if path.suffix.lower() not in COEFFICIENT_FORMATS:
        raise FaceExplorerError(f"{path}: a face preset is a .json file (or an exported .json/.npz coefficient file)")
    alpha_id, alpha_exp, info = load_coefficients(path)
    if info.get("preset") != PRESET_FORMAT and "model_digest" not in info and "model_identity" not in info:
        raise FaceExplorerError(
            f"{path}: not a face preset (no '{PRESET_FORMAT}' marker) nor an exported coefficient file "
            "(it does not record its face model)"
        )
    try:
        settings = SamplingSettings.from_dict(info.get("sampling", {}))
    except FaceExplorerError as problem:
        raise FaceExplorerError(f"{path}: {problem}") from problem
    return PresetFile(path, alpha_id, alpha_exp, ModelProvenance.from_record(info, str(path)), settings, info)


def _preset_path(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".json":
        raise FaceExplorerError(f"{path}: a face preset is a .json file")
    return path
