"""A straight walk between two faces: the in-between faces, optionally denoised, and their export.

The walk is linear in the coefficients, (1 − t)·A + t·B for identity and expression alike: the
model is linear, so the surface moves linearly too, and any face on the way is what a researcher
would get by setting the sliders there. With ``denoise_steps`` every in-between face is denoised
as the explorer denoises a face (networks or learned prior), which shows whether the method keeps
a path between two real faces on the manifold or bends it. An export writes one mesh (as File ▸
Export writes a face) and one coefficient file per step (with the step's plausibility verdict when
a readout is given, so the files say where the walk leaves the real faces), a PNG strip of all
steps side by side, each captioned with its t under the two ends' names (and the denoising
method), and an animated GIF (Pillow).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from app.atomic_files import create_folder, write_atomically
from app.dataset.face_export import ExportedFace, export_faces
from app.dataset.mesh_formats import mesh_format
from app.denoising.torch_threads import one_torch_thread
from app.errors import FaceExplorerError
from app.explorer.face_preset import load_preset
from app.explorer.face_state import FaceState
from app.explorer.gallery import GAP_COLOUR, FaceDenoiser, ThumbnailRenderer
from app.explorer.history import FaceHistory
from app.explorer.image_captions import with_caption, with_title
from app.explorer.live_face import LiveFace
from app.explorer.plausibility_readout import PlausibilityReadout
from app.model.coefficient_limits import check_coefficients
from app.model.morphable_model import CoefficientKind, MorphableModel
from app.model.provenance import require_same_model
from app.png_files import write_png

MIN_STEPS, MAX_STEPS = 2, 200
GIF_FRAME_MS = 120


@dataclass(frozen=True)
class FaceEndpoint:
    """One end of the walk: a named face ("current face", "preset smile.json", …) of ``model``."""

    label: str
    alpha_id: np.ndarray
    alpha_exp: np.ndarray
    model: MorphableModel


def current_face(state: FaceState) -> FaceEndpoint:
    return FaceEndpoint(f"current face ({state.origin.describe()})", state.alpha_id, state.alpha_exp, state.model)


def denoised_face(live: LiveFace) -> FaceEndpoint:
    """The denoised version of the face the views show now (as the denoised view shows it)."""
    return FaceEndpoint("denoised face", live.denoised_id, live.denoised_exp, live.model)


def preset_face(path: str | Path, model: MorphableModel) -> FaceEndpoint:
    """The face of a preset file made on ``model`` (one made on another model is refused)."""
    preset = load_preset(path, model.n_id, model.n_exp)
    require_same_model(preset.model, model.provenance, f"the face preset {preset.path}")
    return FaceEndpoint(f"preset {preset.path.name}", preset.alpha_id, preset.alpha_exp, model)


def history_face(history: FaceHistory, position: int) -> FaceEndpoint:
    """Entry ``position`` of the explorer's history (0 is the face it started with)."""
    if not 0 <= position < len(history.entries):
        raise FaceExplorerError(f"the history has no entry {position} (it holds {len(history.entries)})")
    entry = history.entries[position]
    return FaceEndpoint(f"history {position}: {entry.action}", entry.alpha_id, entry.alpha_exp, history.state.model)


class Interpolation:
    """The faces between ``start`` (t = 0) and ``end`` (t = 1) of one model.

    With ``denoise_steps``, each face is denoised alone by ``denoise_face``, whose method
    ``denoised_by`` names ("learned prior, t = 0.08") in the strip and the coefficient files.
    """

    def __init__(
        self,
        model: MorphableModel,
        start: FaceEndpoint,
        end: FaceEndpoint,
        denoise_face: FaceDenoiser | None = None,
        denoise_steps: bool = False,
        denoised_by: str = "",
    ) -> None:
        if denoise_steps and denoise_face is None:
            raise FaceExplorerError(
                "denoising each step needs a denoising method (File → Open checkpoints folder for the networks)"
            )
        for endpoint in (start, end):
            if endpoint.model is not model:
                raise FaceExplorerError(
                    f"'{endpoint.label}' is a face of {endpoint.model.name}, and the explorer now "
                    f"shows {model.name}: choose the ends of the walk again"
                )
        self.model = model
        self.start, self.end = start, end
        self.denoise_face = denoise_face
        self.denoise_steps = denoise_steps
        self.denoised_by = denoised_by
        self._from = _checked_coefficients(model, start)
        self._to = _checked_coefficients(model, end)

    def at(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """(alpha_id, alpha_exp) at ``t`` in [0, 1]."""
        alpha_id, alpha_exp = self.faces(np.array([t], dtype=np.float64))
        return alpha_id[0], alpha_exp[0]

    def faces(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(S, K_id) and (S, K_exp) faces at the ``times`` (each in [0, 1]), each denoised alone if asked."""
        times = np.asarray(times, dtype=np.float64).reshape(-1, 1)
        if not np.all((times >= 0.0) & (times <= 1.0)):  # NaN fails too
            raise FaceExplorerError(f"interpolation positions must lie in [0, 1] (got {times.ravel().tolist()})")
        alpha_id = (1.0 - times) * self._from["shape"] + times * self._to["shape"]
        alpha_exp = (1.0 - times) * self._from["expression"] + times * self._to["expression"]
        if not self.denoise_steps:
            return alpha_id, alpha_exp
        denoise_face = self.denoise_face
        assert denoise_face is not None  # __init__ refuses denoise_steps without it
        # One face at a time, as the explorer's denoised view does: a batch would draw the prior's noise differently.
        with one_torch_thread():
            denoised = [denoise_face(face_id, face_exp) for face_id, face_exp in zip(alpha_id, alpha_exp, strict=True)]
        return np.array([face[0] for face in denoised]), np.array([face[1] for face in denoised])


def _checked_coefficients(model: MorphableModel, endpoint: FaceEndpoint) -> dict[CoefficientKind, np.ndarray]:
    return {
        "shape": check_coefficients(model, "shape", endpoint.alpha_id, endpoint.label),
        "expression": check_coefficients(model, "expression", endpoint.alpha_exp, endpoint.label),
    }


def step_times(steps: int) -> np.ndarray:
    if not MIN_STEPS <= steps <= MAX_STEPS:
        raise FaceExplorerError(f"an interpolation has {MIN_STEPS} to {MAX_STEPS} steps (asked for {steps})")
    return np.linspace(0.0, 1.0, steps)


@dataclass(frozen=True)
class WalkExport:
    """A walk's export, checked and with its faces and thumbnails computed, ready to write.

    ``write`` renders nothing (the thumbnails were rendered by ``prepare_walk_export``, on the thread
    that owns the renderer), so it may run on a worker thread: judging the steps with the learned
    prior's likelihood takes a tenth of a second or more a step.
    """

    folder: Path
    interpolation: Interpolation
    times: np.ndarray
    alpha_id: np.ndarray
    alpha_exp: np.ndarray
    images: list[np.ndarray]
    mesh_suffix: str
    readout: PlausibilityReadout | None
    info: dict[str, Any]

    def write(self) -> list[Path]:
        """Write the steps' meshes and coefficient files, ``strip.png`` and ``interpolation.gif``; the paths written."""
        folder = create_folder(self.folder)
        walk, model = self.interpolation, self.interpolation.model
        written = []
        denoised_by: dict[str, Any] = {"denoised_by": walk.denoised_by} if walk.denoise_steps else {}
        for k, t in enumerate(self.times):
            alpha_id, alpha_exp = self.alpha_id[k], self.alpha_exp[k]
            vertices = model.synthesize(alpha_id, alpha_exp)
            verdict: dict[str, Any] = (
                {}
                if self.readout is None
                else {"plausibility": self.readout.judge(alpha_id, alpha_exp, vertices).to_record()}
            )
            written += export_faces(
                folder / f"step_{k:03d}{self.mesh_suffix}",
                [ExportedFace("interpolation step", vertices, alpha_id, alpha_exp)],
                model.triangles,
                uv_layout=model.uv_layout,
                triangle_parts=model.triangle_parts,
                t=float(t),
                start=walk.start.label,
                end=walk.end.label,
                denoised=walk.denoise_steps,
                **denoised_by,
                **verdict,
                **self.info,
            )
        written.append(write_png(folder / "strip.png", captioned_strip(self.images, self.times, walk)))
        written.append(write_gif(folder / "interpolation.gif", self.images))
        return written


def prepare_walk_export(
    folder: str | Path,
    interpolation: Interpolation,
    steps: int,
    renderer: ThumbnailRenderer,
    mesh_suffix: str = ".ply",
    readout: PlausibilityReadout | None = None,
    **info: Any,
) -> WalkExport:
    """Check an export of ``steps`` faces of the walk into ``folder`` and compute its faces and thumbnails.

    The steps are written as File ▸ Export writes a face (``export_faces``): in mm, and an OBJ with
    a group and material per face part and its ``.mtl``. Everything is checked (steps, mesh format)
    and computed here, before the first file is written. ``info`` (model identity …) goes into every
    coefficient file beside the step's t and the endpoints.
    A folder that already holds files is refused, so no earlier export is overwritten. With a
    ``readout`` of the walk's model, each coefficient file also holds the step's ``plausibility``.
    """
    times = step_times(steps)
    mesh_format(Path(f"step{mesh_suffix}"))
    if readout is not None and readout.model is not interpolation.model:
        raise FaceExplorerError("the plausibility readout was calibrated on another model than the walk's")
    folder = Path(folder)
    if folder.is_dir() and any(folder.iterdir()):
        raise FaceExplorerError(f"{folder} already holds files: export an interpolation into a new or empty folder")
    alpha_id, alpha_exp = interpolation.faces(times)
    images = [renderer.thumbnail(alpha_id[k], alpha_exp[k]) for k in range(steps)]
    return WalkExport(folder, interpolation, times, alpha_id, alpha_exp, images, mesh_suffix, readout, info)


def strip(images: list[np.ndarray], gap: int = 2) -> np.ndarray:
    """The images side by side, left to right, with ``gap`` pixels between them."""
    height, width = images[0].shape[:2]
    picture = np.empty((height, len(images) * (width + gap) - gap, 3), dtype=np.uint8)
    picture[...] = GAP_COLOUR
    for k, image in enumerate(images):
        picture[:, k * (width + gap) : k * (width + gap) + width] = image
    return picture


def captioned_strip(images: list[np.ndarray], times: np.ndarray, interpolation: Interpolation) -> np.ndarray:
    """The steps' ``images`` side by side, each with its t under it, the two ends named above them
    and, for denoised steps, a line naming the method ("each step denoised: learned prior, t = 0.08")."""
    steps = strip([with_caption(image, f"t = {t:.3g}", GAP_COLOUR) for image, t in zip(images, times, strict=True)])
    lines = [f"t = 0: {interpolation.start.label}", f"t = 1: {interpolation.end.label}"]
    if interpolation.denoise_steps:
        lines.append(f"each step denoised: {interpolation.denoised_by}")
    return with_title(steps, lines, GAP_COLOUR)


def write_gif(path: str | Path, images: list[np.ndarray]) -> Path:
    """An endlessly looping animation of ``images``, there and back."""
    frames = [Image.fromarray(image) for image in images + images[-2:0:-1]]
    encoded = io.BytesIO()
    frames[0].save(encoded, format="GIF", save_all=True, append_images=frames[1:], duration=GIF_FRAME_MS, loop=0)
    return write_atomically(path, [encoded.getbuffer()])
