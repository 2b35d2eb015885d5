"""Exported pictures say what they show (gallery seeds, the strip's t and ends); walk steps are OBJs with materials.

Run under ``xvfb-run -a``: the interpolation export renders its thumbnails off screen.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.errors import FaceExplorerError
from app.explorer.gallery import GAP_COLOUR, SHEET_GAP, ThumbnailRenderer, gallery_sheet, sample_gallery
from app.explorer.image_captions import CAPTION_HEIGHT, caption_band, caption_font, fitted_text
from app.explorer.interpolation import FaceEndpoint, Interpolation, captioned_strip, prepare_walk_export
from app.model.embedded_model import embedded_model
from app.model.face_parts import FacePart
from app.model.sampling_settings import SamplingSettings

SIZE = 48


def walk(start_label: str = "start face (seed 3)", end_label: str = "end face (seed 9)") -> Interpolation:
    model = embedded_model()
    rng = np.random.default_rng(4)
    ends = [
        FaceEndpoint(label, rng.normal(size=model.n_id) * model.ev_id, np.abs(rng.normal(size=model.n_exp)), model)
        for label in (start_label, end_label)
    ]
    return Interpolation(model, *ends)


def test_a_caption_is_drawn_text_and_text_too_long_ends_in_an_ellipsis():
    band = caption_band("seed 70", 120, GAP_COLOUR)
    assert band.shape == (CAPTION_HEIGHT, 120, 3) and band.dtype == np.uint8
    assert (band != GAP_COLOUR).any(axis=2).sum() > 30  # letters, not an empty band
    assert not np.array_equal(band, caption_band("seed 71", 120, GAP_COLOUR))
    long = "t = 1: current face (seed 41 · uniform r = 10 / 15, edited)"
    fitted = fitted_text(long, 80)
    assert fitted.endswith("…") and caption_font().getlength(fitted) <= 80 and long.startswith(fitted[:-1].rstrip())
    assert fitted_text("t = 0.5", 80) == "t = 0.5"
    missing_glyph = caption_band("= 1.00\u0378", 120, GAP_COLOUR)  # an unassigned code point: the font's empty box
    assert not np.array_equal(caption_band("= 1.00σ", 120, GAP_COLOUR), missing_glyph)  # a history entry's σ is drawn


def test_each_gallery_pair_has_its_seed_under_it():
    faces = sample_gallery(embedded_model(), None, SamplingSettings(seed=70), 3)
    rng = np.random.default_rng(0)
    pairs = [tuple(rng.integers(0, 255, size=(SIZE, SIZE, 3), dtype=np.uint8) for _ in range(2)) for _ in faces]
    sheet = gallery_sheet(faces, pairs, 2, "not denoised")
    width = 2 * SIZE
    for k, face in enumerate(faces):
        top = CAPTION_HEIGHT + SHEET_GAP + (k // 2) * (SIZE + CAPTION_HEIGHT + SHEET_GAP)
        left = SHEET_GAP + (k % 2) * (width + SHEET_GAP)
        np.testing.assert_array_equal(sheet[top : top + SIZE, left : left + SIZE], pairs[k][0])
        caption = sheet[top + SIZE : top + SIZE + CAPTION_HEIGHT, left : left + width]
        assert face.origin.describe() == f"seed {70 + k} · uniform r = 10 / 15"
        np.testing.assert_array_equal(caption, caption_band(face.origin.describe(), width, GAP_COLOUR))
    title = "seeds 70 to 72: each face (left) beside its denoised version (right: not denoised)"
    np.testing.assert_array_equal(sheet[:CAPTION_HEIGHT], caption_band(title, sheet.shape[1], GAP_COLOUR))
    with pytest.raises(FaceExplorerError):
        gallery_sheet(faces[:2], pairs, 2, "not denoised")  # a pair without its face has no seed to show


def test_the_strip_names_both_ends_above_and_each_step_s_t_under_it():
    interpolation = walk()
    times = np.linspace(0.0, 1.0, 3)
    images = [np.full((SIZE, SIZE, 3), 100 + 50 * k, dtype=np.uint8) for k in range(3)]
    picture = captioned_strip(images, times, interpolation)
    width = picture.shape[1]
    assert picture.shape == (3 * CAPTION_HEIGHT + SIZE, 3 * SIZE + 2 * 2, 3)
    for line, text in enumerate(("t = 0: start face (seed 3)", "t = 1: end face (seed 9)")):
        band = picture[line * CAPTION_HEIGHT : (line + 1) * CAPTION_HEIGHT]
        np.testing.assert_array_equal(band, caption_band(text, width, GAP_COLOUR))
    for k, t in enumerate(("t = 0", "t = 0.5", "t = 1")):
        left = k * (SIZE + 2)
        np.testing.assert_array_equal(picture[2 * CAPTION_HEIGHT : 2 * CAPTION_HEIGHT + SIZE, left], images[k][:, 0])
        np.testing.assert_array_equal(
            picture[2 * CAPTION_HEIGHT + SIZE :, left : left + SIZE], caption_band(t, SIZE, GAP_COLOUR)
        )


def test_walk_steps_as_obj_have_a_group_and_material_per_face_part_and_their_mtl(tmp_path: Path):
    trimesh = pytest.importorskip("trimesh")
    model = embedded_model()
    renderer = ThumbnailRenderer(model, size=32)
    try:
        written = prepare_walk_export(tmp_path / "walk", walk(), 2, renderer, mesh_suffix=".obj", digest="abc").write()
    finally:
        renderer.close()
    names = sorted(path.name for path in written)
    assert names == [
        "interpolation.gif",
        "step_000.json",
        "step_000.mtl",
        "step_000.obj",
        "step_001.json",
        "step_001.mtl",
        "step_001.obj",
        "strip.png",
    ]
    parts = {FacePart(int(part)).name.lower() for part in np.unique(model.triangle_parts)}
    for step in ("step_000", "step_001"):
        text = (tmp_path / "walk" / f"{step}.obj").read_text()
        assert f"mtllib {step}.mtl\n" in text and "# unit: millimetres\n" in text
        assert all(f"g {part}\nusemtl {part}\n" in text for part in parts)
        assert (tmp_path / "walk" / f"{step}.mtl").read_text().count("newmtl ") == len(parts)
    scene = trimesh.load(tmp_path / "walk" / "step_001.obj", force="scene", process=False)
    assert {geometry.visual.material.name for geometry in scene.geometry.values()} == parts
    record = json.loads((tmp_path / "walk" / "step_001.json").read_text())
    assert record["t"] == 1.0 and record["unit"] == "mm" and record["digest"] == "abc"
    with Image.open(tmp_path / "walk" / "strip.png") as strip:
        assert strip.size == (2 * 32 + 2, 3 * CAPTION_HEIGHT + 32)


def test_a_walk_is_never_written_over_an_existing_mtl(tmp_path: Path):
    folder = tmp_path / "walk"
    folder.mkdir()
    (folder / "step_000.mtl").write_text("newmtl mine\n")
    renderer = ThumbnailRenderer(embedded_model(), size=32)
    try:
        with pytest.raises(FaceExplorerError):
            prepare_walk_export(folder, walk(), 2, renderer, mesh_suffix=".obj").write()
    finally:
        renderer.close()
    assert (folder / "step_000.mtl").read_text() == "newmtl mine\n" and sorted(folder.iterdir()) == [
        folder / "step_000.mtl"
    ]
