"""Many faces at a glance: a grid of sampled faces, each beside its denoised version.

Face k of a gallery is exactly the face "Sample both" gives with seed ``settings.seed + k``, so
any face of the grid can be reproduced from its seed, and opening it in the explorer shows the
same coefficients. Each face is denoised alone by the explorer's ``LiveFace.denoise_face``, so its
denoised version is the one the explorer shows for it with the chosen method (networks or learned
prior). Thumbnails come from one reused off-screen renderer (a GL window per image would cost more
than the drawing), coloured like the explorer's faces and framed around a grown mean face so that
raw uniform faces fit; ``gallery_sheet`` puts them into one picture for export, each pair captioned
with its seed and the sheet with what it shows. With the explorer's plausibility readout, each face
and its denoised version get the verdict the explorer's badges give, and the grid a count.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from app.denoising.torch_threads import one_torch_thread
from app.errors import FaceExplorerError
from app.explorer.blas_threads import one_blas_thread
from app.explorer.face_origin import FaceOrigin
from app.explorer.face_state import FaceState
from app.explorer.image_captions import with_caption, with_title
from app.explorer.plausibility_readout import FaceVerdict, PlausibilityReadout
from app.model.morphable_model import MorphableModel
from app.model.sampling_settings import SamplingSettings
from app.png_files import write_png
from app.rendering.face_renderer import FaceRenderer

MAX_GALLERY_FACES = 64
THUMBNAIL_SIZE = 160  # pixels; a 4 × 4 grid of pairs fits a 1920-pixel-wide screen
SHEET_GAP = 4  # pixels between the pairs of a sheet, in the background colour of the gap
# Dataset images frame the mean face tightly; raw uniform faces are far wider and taller, so a
# thumbnail's frame is that of a mean face grown by this factor (the denoised faces look smaller).
THUMBNAIL_FRAME_GROWTH = 1.4
GAP_COLOUR = (18, 19, 22)
# Denoises one face: (alpha_id, alpha_exp) → (denoised_id, denoised_exp), as ``LiveFace.denoise_face`` does.
FaceDenoiser = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class GalleryFace:
    """One face of the grid: the seed that draws it, its coefficients and its denoised version."""

    seed: int
    origin: FaceOrigin  # as "Sample both" records it, so the explorer shows the seed it came from
    alpha_id: np.ndarray
    alpha_exp: np.ndarray
    denoised_id: np.ndarray
    denoised_exp: np.ndarray

    @property
    def source(self) -> str:
        return f"gallery face, seed {self.seed}"


def open_gallery_face(state: FaceState, face: GalleryFace, drawn_on: MorphableModel) -> None:
    """Make ``face`` (drawn on the model ``drawn_on``) the explorer's face, coefficient for coefficient."""
    if state.model is not drawn_on:
        raise FaceExplorerError(
            f"the gallery was drawn on {drawn_on.name}, and the explorer now shows "
            f"{state.model.name}: draw the gallery again"
        )
    state.set_face(face.alpha_id, face.alpha_exp, face.source, face.origin)


def judge_gallery_face(readout: PlausibilityReadout, face: GalleryFace) -> tuple[FaceVerdict, FaceVerdict]:
    """The face and its denoised version (of the readout's model), judged as the explorer's badges judge."""
    return readout.judge_face(face.alpha_id, face.alpha_exp), readout.judge_face(face.denoised_id, face.denoised_exp)


def plausible_counts(verdicts: list[tuple[FaceVerdict, FaceVerdict]]) -> str:
    """'plausible: 0 of 16 faces, 15 of 16 denoised'."""
    faces = sum(noisy.plausible for noisy, _ in verdicts)
    denoised = sum(after.plausible for _, after in verdicts)
    return f"plausible: {faces} of {len(verdicts)} faces, {denoised} of {len(verdicts)} denoised"


def sample_gallery(
    model: MorphableModel, denoise_face: FaceDenoiser | None, settings: SamplingSettings, count: int
) -> list[GalleryFace]:
    """``count`` faces drawn like "Sample both" at seeds ``settings.seed`` … ``settings.seed + count - 1``.

    Each is denoised alone by ``denoise_face``; without it, the denoised version of a face is the face itself.
    """
    if not 1 <= count <= MAX_GALLERY_FACES:
        raise FaceExplorerError(f"a gallery holds 1 to {MAX_GALLERY_FACES} faces (asked for {count})")
    drawn_id, drawn_exp, origins = [], [], []
    for k in range(count):
        state = FaceState(model, replace(settings, seed=settings.seed + k))
        state.sample("both")
        drawn_id.append(state.alpha_id)
        drawn_exp.append(state.alpha_exp)
        origins.append(state.origin)
    if denoise_face is None:
        denoised = list(zip(drawn_id, drawn_exp, strict=True))
    else:
        # One face at a time, as the explorer denoises it: the prior's projection of a face depends
        # on the noise drawn for it, so a batch would give other faces than the explorer shows.
        with one_torch_thread():  # a face is little work: the pool would only wait for busy cores
            denoised = [
                denoise_face(alpha_id, alpha_exp) for alpha_id, alpha_exp in zip(drawn_id, drawn_exp, strict=True)
            ]
    return [GalleryFace(settings.seed + k, origins[k], drawn_id[k], drawn_exp[k], *denoised[k]) for k in range(count)]


def thumbnail_frame(model: MorphableModel) -> np.ndarray:
    """The mean face grown about its centre: the vertices whose box every thumbnail frames."""
    mean = model.mean.reshape(-1, 3)
    centre = (mean.min(axis=0) + mean.max(axis=0)) / 2.0
    return centre + THUMBNAIL_FRAME_GROWTH * (mean - centre)


class ThumbnailRenderer:
    """Front views of faces of one model as (size, size, 3) images, from one reused off-screen renderer."""

    def __init__(self, model: MorphableModel, size: int = THUMBNAIL_SIZE) -> None:
        self.model = model
        self._renderer = FaceRenderer(thumbnail_frame(model), model.triangles, size, model.triangle_parts)
        self._camera = self._renderer.camera()

    @property
    def size(self) -> int:
        return self._renderer.size

    def thumbnail(self, alpha_id: np.ndarray, alpha_exp: np.ndarray) -> np.ndarray:
        with one_blas_thread():  # on the GUI thread: a spinning BLAS pool would starve the rasteriser
            vertices = self.model.synthesize(alpha_id, alpha_exp)
        return self._renderer.draw(vertices, self._camera).rgb

    def pair(self, face: GalleryFace) -> tuple[np.ndarray, np.ndarray]:
        """The face and its denoised version."""
        return self.thumbnail(face.alpha_id, face.alpha_exp), self.thumbnail(face.denoised_id, face.denoised_exp)

    def close(self) -> None:
        self._renderer.close()


def gallery_sheet(
    faces: list[GalleryFace], pairs: list[tuple[np.ndarray, np.ndarray]], columns: int, denoised_by: str
) -> np.ndarray:
    """One image of the faces' pairs (input | denoised) in rows of ``columns``, separated by gaps.

    Each pair has the face's seed and distribution under it ("seed 70 · uniform r = 10 / 15"),
    and a line above the sheet says what a pair is and what denoised the faces (``denoised_by``,
    e.g. "learned prior, t = 0.08").
    """
    if not pairs or columns < 1 or len(faces) != len(pairs):
        raise FaceExplorerError("a gallery sheet needs at least one column and each face's pair of pictures")
    tiles = [
        with_caption(np.hstack(pair), face.origin.describe(), GAP_COLOUR)
        for face, pair in zip(faces, pairs, strict=True)
    ]
    height, width = tiles[0].shape[:2]
    rows = -(-len(tiles) // columns)
    sheet = np.empty(
        (rows * (height + SHEET_GAP) + SHEET_GAP, columns * (width + SHEET_GAP) + SHEET_GAP, 3), dtype=np.uint8
    )
    sheet[...] = GAP_COLOUR
    for k, tile in enumerate(tiles):
        top = SHEET_GAP + (k // columns) * (height + SHEET_GAP)
        left = SHEET_GAP + (k % columns) * (width + SHEET_GAP)
        sheet[top : top + height, left : left + width] = tile
    seeds = f"seeds {faces[0].seed} to {faces[-1].seed}"
    title = f"{seeds}: each face (left) beside its denoised version (right: {denoised_by})"
    return with_title(sheet, [title], GAP_COLOUR)


def save_gallery_png(
    path: str | Path,
    faces: list[GalleryFace],
    pairs: list[tuple[np.ndarray, np.ndarray]],
    columns: int,
    denoised_by: str,
) -> Path:
    return write_png(Path(path).with_suffix(".png"), gallery_sheet(faces, pairs, columns, denoised_by))
