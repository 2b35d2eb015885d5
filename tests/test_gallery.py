"""The gallery's core: faces drawn like "Sample both", denoised as the explorer does, one reused renderer, the sheet."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.denoising.denoiser import Denoiser
from app.errors import FaceExplorerError
from app.evaluation.plausibility import PlausibilityCalibration
from app.explorer.denoising_choice import PRIOR_SEED, DenoisingChoice, DenoisingMethod
from app.explorer.face_state import FaceState
from app.explorer.gallery import (
    GAP_COLOUR,
    SHEET_GAP,
    ThumbnailRenderer,
    gallery_sheet,
    judge_gallery_face,
    open_gallery_face,
    plausible_counts,
    sample_gallery,
    save_gallery_png,
)
from app.explorer.image_captions import CAPTION_HEIGHT, caption_band, fitted_text
from app.explorer.live_face import LiveFace
from app.explorer.plausibility_readout import PlausibilityReadout
from app.model.embedded_model import embedded_model
from app.model.sampling_settings import SamplingSettings
from app.prior.learned_prior import seeded_generator
from app.rendering.look import BACKGROUND
from app.workspace import Workspace


@pytest.fixture(scope="module")
def denoiser(shipped_workspace: Workspace) -> Denoiser:
    return shipped_workspace.denoiser


def test_gallery_faces_are_the_faces_sample_both_gives_from_the_seed_on(denoiser: Denoiser) -> None:
    model = embedded_model()
    settings = SamplingSettings(seed=41, distribution="normal", r_shape=6.0)
    faces = sample_gallery(model, denoiser.denoise_face, settings, 3)
    state = FaceState(model, settings)
    for face in faces:  # pressing "Sample both" again and again walks through the gallery
        state.sample("both")
        np.testing.assert_array_equal(face.alpha_id, state.alpha_id)
        np.testing.assert_array_equal(face.alpha_exp, state.alpha_exp)
    assert [face.seed for face in faces] == [41, 42, 43]
    shown = FaceState(model, settings)
    open_gallery_face(shown, faces[1], model)
    np.testing.assert_array_equal(shown.alpha_id, faces[1].alpha_id)
    assert shown.origin.describe() == "seed 42 · normal"  # the seed that reproduces it, not "edited"
    with pytest.raises(FaceExplorerError, match="draw the gallery again"):
        open_gallery_face(FaceState(replace(model, name="another model")), faces[1], model)
    for denoised, kind, drawn in (
        (faces[2].denoised_id, "shape", faces[2].alpha_id),
        (faces[2].denoised_exp, "expression", faces[2].alpha_exp),
    ):
        np.testing.assert_array_equal(denoised, denoiser.denoise(kind, drawn))  # each face alone, as the explorer
    batch_id = denoiser.denoise("shape", np.array([face.alpha_id for face in faces]))
    batch_exp = denoiser.denoise("expression", np.array([face.alpha_exp for face in faces]))
    for face, before_id, before_exp in zip(faces, batch_id, batch_exp, strict=True):
        # the whole grid in one batch, as the gallery denoised it before: float32 nets differ in the last bits
        np.testing.assert_allclose(face.denoised_id, before_id, atol=1e-5 * np.abs(before_id).max())
        np.testing.assert_allclose(face.denoised_exp, before_exp, atol=1e-5 * np.abs(before_exp).max())
    undenoised = sample_gallery(model, None, settings, 1)[0]
    np.testing.assert_array_equal(undenoised.denoised_id, undenoised.alpha_id)
    for count in (0, 65):
        with pytest.raises(FaceExplorerError, match="1 to 64 faces"):
            sample_gallery(model, denoiser.denoise_face, settings, count)


def test_thumbnails_show_the_face_and_the_sheet_puts_each_pair_in_its_cell(tmp_path: Path, denoiser: Denoiser) -> None:
    model = embedded_model()
    faces = sample_gallery(model, denoiser.denoise_face, SamplingSettings(seed=3), 3)
    renderer = ThumbnailRenderer(model, size=64)
    try:
        pairs = [renderer.pair(face) for face in faces]
    finally:
        renderer.close()
    noisy, denoised = pairs[0]
    assert noisy.shape == (64, 64, 3) and noisy.dtype == np.uint8
    background = np.round(np.array(BACKGROUND) * 255)
    assert np.abs(noisy[32, 32] - background).max() > 30  # the face covers the centre
    assert np.abs(noisy.astype(int) - denoised).mean() > 1  # the networks changed the face
    sheet = gallery_sheet(faces, pairs, 2, "networks")
    cell = 64 + CAPTION_HEIGHT  # each pair has its seed under it, the sheet a title line above
    assert sheet.shape == (CAPTION_HEIGHT + 2 * cell + 3 * SHEET_GAP, 2 * (2 * 64 + SHEET_GAP) + SHEET_GAP, 3)
    top, left = CAPTION_HEIGHT + cell + 2 * SHEET_GAP, SHEET_GAP  # the third pair starts the second row
    np.testing.assert_array_equal(sheet[top : top + 64, left : left + 64], pairs[2][0])
    np.testing.assert_array_equal(sheet[top : top + 64, left + 64 : left + 128], pairs[2][1])
    np.testing.assert_array_equal(sheet[-1, -1], GAP_COLOUR)  # the empty fourth cell
    written = save_gallery_png(tmp_path / "grid", faces, pairs, 2, "networks")
    assert written == tmp_path / "grid.png"
    with Image.open(written) as picture:
        np.testing.assert_array_equal(np.asarray(picture), sheet)
    with pytest.raises(FaceExplorerError):
        save_gallery_png(tmp_path / "missing" / "folder" / "grid.png", faces, pairs, 2, "networks")


def test_each_gallery_face_is_judged_as_the_badges_judge_and_the_grid_is_counted(shipped_workspace: Workspace) -> None:
    model = shipped_workspace.model
    readout = PlausibilityReadout(PlausibilityCalibration.from_workspace(shipped_workspace, mesh_faces=20))
    prior = shipped_workspace.prior

    def fresh_sample(alpha_id: np.ndarray, alpha_exp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return prior.project_face(alpha_id, alpha_exp, 1.0, seeded_generator(0))  # the projection at t = 1

    faces = sample_gallery(model, fresh_sample, SamplingSettings(seed=9), 3)
    verdicts = [judge_gallery_face(readout, face) for face in faces]
    face = faces[1]
    assert verdicts[1] == (
        readout.judge(face.alpha_id, face.alpha_exp, model.synthesize(face.alpha_id, face.alpha_exp)),
        readout.judge(face.denoised_id, face.denoised_exp, model.synthesize(face.denoised_id, face.denoised_exp)),
    )
    plausible = sum(denoised.plausible for _, denoised in verdicts)
    assert plausible >= 2  # the prior's faces rank among real ones (the networks' do not: test_plausibility.py)
    assert plausible_counts(verdicts) == f"plausible: 0 of 3 faces, {plausible} of 3 denoised"


def test_the_live_face_says_what_denoises_a_face_for_the_gallery(denoiser: Denoiser) -> None:
    model = embedded_model()
    choice = DenoisingChoice()
    choice.choose("prior")
    with_networks = LiveFace(FaceState(model), denoiser, None, choice)  # the prior chosen, but none loaded
    without = LiveFace(FaceState(model), None, None, choice)
    try:
        assert with_networks.denoising_method == DenoisingMethod("networks")
        assert with_networks.denoising_method.describe() == "networks"
        assert without.denoising_method is None
        face = sample_gallery(model, without.denoise_face, SamplingSettings(seed=5), 1)[0]
        np.testing.assert_array_equal(face.denoised_id, face.alpha_id)  # nothing denoises: the face itself
    finally:
        with_networks.close()
        without.close()


def test_with_the_prior_chosen_a_gallery_face_is_denoised_as_the_explorer_shows_it(
    shipped_workspace: Workspace,
) -> None:
    model, prior = shipped_workspace.model, shipped_workspace.prior
    choice = DenoisingChoice()
    choice.choose("prior", 0.3)
    settings = SamplingSettings(seed=12)
    state = FaceState(model, settings)
    live = LiveFace(state, shipped_workspace.denoiser, prior, choice)
    try:
        faces = sample_gallery(model, live.denoise_face, settings, 3)
        for face in faces:
            open_gallery_face(state, face, model)  # as a click in the gallery does
            live.refresh()
            np.testing.assert_array_equal(live.denoised_id, face.denoised_id)
            np.testing.assert_array_equal(live.denoised_exp, face.denoised_exp)
    finally:
        live.close()
    face = faces[1]
    projected = prior.project_face(face.alpha_id, face.alpha_exp, 0.3, seeded_generator(PRIOR_SEED))
    np.testing.assert_array_equal(face.denoised_id, projected[0])  # the prior's, from the explorer's seed
    np.testing.assert_array_equal(face.denoised_exp, projected[1])
    assert not np.allclose(face.denoised_id, shipped_workspace.denoiser.denoise("shape", face.alpha_id))
    pairs = [(np.zeros((160, 160, 3), np.uint8), np.zeros((160, 160, 3), np.uint8)) for _ in faces]
    sheet = gallery_sheet(faces, pairs, 3, choice.current.describe())
    title = "seeds 12 to 14: each face (left) beside its denoised version (right: learned prior, t = 0.30)"
    assert fitted_text(title, sheet.shape[1] - 4) == title  # the whole line is drawn, method included
    np.testing.assert_array_equal(sheet[:CAPTION_HEIGHT], caption_band(title, sheet.shape[1], GAP_COLOUR))
