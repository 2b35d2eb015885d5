"""Face presets: the coefficients of one face, the sampling settings and the model they belong to.

A preset is a JSON file (written atomically through ``app.dataset.export.save_coefficients``) that
brings the explorer back to exactly the same face and the same sampling settings. It records
the model's name and digest, and is applied only to the model it was made on, and where the face
came from (its seed and distribution, or "edited"); a preset from before origins were recorded
says it came from the preset file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.dataset.export import load_coefficients, save_coefficients
from app.errors import FaceExplorerError
from app.explorer.face_origin import FaceOrigin, PartOrigin
from app.explorer.face_state import FaceState, SamplingSettings
from app.model.provenance import ModelProvenance, require_same_model

PRESET_FORMAT = "face-manifold-explorer preset 1"


@dataclass(frozen=True)
class FacePreset:
    alpha_id: np.ndarray
    alpha_exp: np.ndarray
    settings: SamplingSettings
    model: ModelProvenance  # the model the face was made on
    path: Path
    origin: FaceOrigin | None = None  # None in presets saved before origins were recorded


def save_preset(path: str | Path, state: FaceState) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".json":
        raise FaceExplorerError(f"{path}: a face preset is a .json file")
    return save_coefficients(
        path,
        state.alpha_id,
        state.alpha_exp,
        preset=PRESET_FORMAT,
        **state.model.provenance.to_record(),
        sampling=state.settings.to_dict(),
        origin=state.origin.to_record(),
    )


def load_preset(path: str | Path, n_id: int, n_exp: int) -> FacePreset:
    """Read and check a preset for a model with ``n_id`` + ``n_exp`` coefficients."""
    path = Path(path)
    if path.suffix.lower() != ".json":
        raise FaceExplorerError(f"{path}: a face preset is a .json file")
    alpha_id, alpha_exp, info = load_coefficients(path)
    if info.get("preset") != PRESET_FORMAT:
        raise FaceExplorerError(f"{path}: not a face preset (no '{PRESET_FORMAT}' marker)")
    for name, values, count in (("alpha_id", alpha_id, n_id), ("alpha_exp", alpha_exp, n_exp)):
        if values.shape != (count,):
            raise FaceExplorerError(f"{path}: {name} has shape {values.shape}, the loaded model needs ({count},)")
    try:
        settings = SamplingSettings.from_dict(info.get("sampling", {}))
        origin = FaceOrigin.from_record(info["origin"]) if "origin" in info else None
    except FaceExplorerError as problem:
        raise FaceExplorerError(f"{path}: {problem}") from problem
    return FacePreset(alpha_id, alpha_exp, settings, ModelProvenance.from_record(info, str(path)), path, origin)


def apply_preset(state: FaceState, preset: FacePreset, source: str = "preset") -> None:
    """The preset's face, then its settings: a face beyond the limits, or made on another model, changes nothing."""
    require_same_model(preset.model, state.model.provenance, f"the face preset {preset.path}")
    origin = preset.origin or FaceOrigin.of_both(PartOrigin(f"preset {preset.path.name}"))
    state.set_face(preset.alpha_id, preset.alpha_exp, source, origin)
    state.update_settings(**preset.settings.to_dict())
