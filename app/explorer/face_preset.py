"""Face presets in the explorer: bringing it back to exactly the same face and the same sampling ranges.

The file itself (marker, model record, sampling settings) is ``app.dataset.face_preset_file``. A
preset is applied only to the model it was made on, and its face keeps where it came from (its
seed and distribution, or "edited"); a preset from before origins were recorded says it came
from the preset file. Loading one keeps the explorer's next seed: that is where its own sampling
stands, not part of the face (the origin keeps the face's seed), and the preset's would draw again
faces already seen (a preset of a hand-made face records 0).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from app.dataset.face_preset_file import read_preset_file, write_preset_file
from app.errors import FaceExplorerError
from app.explorer.face_origin import FaceOrigin, PartOrigin
from app.explorer.face_state import FaceState
from app.model.provenance import ModelProvenance, require_same_model
from app.model.sampling_settings import SamplingSettings


@dataclass(frozen=True)
class FacePreset:
    alpha_id: np.ndarray
    alpha_exp: np.ndarray
    settings: SamplingSettings | None  # None for a coefficient file that records none (an interpolation step's)
    model: ModelProvenance  # the model the face was made on
    path: Path
    origin: FaceOrigin | None = None  # None in presets saved before origins were recorded


def save_preset(path: str | Path, state: FaceState) -> Path:
    return write_preset_file(
        path,
        state.alpha_id,
        state.alpha_exp,
        state.model.provenance,
        state.settings,
        origin=state.origin.to_record(),
    )


def load_preset(path: str | Path, n_id: int, n_exp: int) -> FacePreset:
    """Read and check a preset for a model with ``n_id`` + ``n_exp`` coefficients."""
    preset = read_preset_file(path)
    for name, values, count in (("alpha_id", preset.alpha_id, n_id), ("alpha_exp", preset.alpha_exp, n_exp)):
        if values.shape != (count,):
            raise FaceExplorerError(
                f"{preset.path}: {name} has shape {values.shape}, the loaded model needs ({count},)"
            )
    try:
        origin = FaceOrigin.from_record(preset.info["origin"]) if "origin" in preset.info else None
    except FaceExplorerError as problem:
        raise FaceExplorerError(f"{preset.path}: {problem}") from problem
    settings = preset.settings if "sampling" in preset.info else None
    return FacePreset(preset.alpha_id, preset.alpha_exp, settings, preset.model, preset.path, origin)


def apply_preset(state: FaceState, preset: FacePreset, source: str = "preset") -> None:
    """The preset's face, then its ranges and distribution; the next seed stays (see above).

    A face beyond the limits, or made on another model, changes nothing.
    """
    require_same_model(preset.model, state.model.provenance, f"the face preset {preset.path}")
    origin = preset.origin or FaceOrigin.of_both(PartOrigin(f"preset {preset.path.name}"))
    state.set_face(preset.alpha_id, preset.alpha_exp, source, origin)
    if preset.settings is not None:
        state.update_settings(**replace(preset.settings, seed=state.settings.seed).to_dict())
