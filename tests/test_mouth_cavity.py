"""An open mouth is a dark cavity, not a flat pink disc: the light inside the mouth falls off from the lips.

The render test needs a GL context: run under ``xvfb-run -a``.
"""

from __future__ import annotations

import numpy as np
import pytest

from app.model.embedded_model import UNITS_PER_ACTIVATION, embedded_model
from app.model.face_parts import FacePart, all_skin, vertex_parts
from app.rendering.face_renderer import FaceRenderer
from app.rendering.mouth_cavity import DARKEST, MOUTH_PARTS, mouth_light

JAW_OPEN = 0  # AU27 mouth stretch, the embedded model's first expression mode


@pytest.fixture(scope="module")
def model():
    return embedded_model()


def open_mouth(model) -> np.ndarray:
    alpha_exp = np.zeros(model.n_exp)
    alpha_exp[JAW_OPEN] = UNITS_PER_ACTIVATION  # full activation
    return model.synthesize(np.zeros(model.n_id), alpha_exp).reshape(-1, 3)


def test_only_the_mouth_darkens_and_its_depths_darkest(model):
    vertices = model.mean.reshape(-1, 3)
    light = mouth_light(vertices, model.triangles, model.triangle_parts)
    parts = vertex_parts(model.triangles, model.triangle_parts, model.n_vertices)
    inside = np.isin(parts, MOUTH_PARTS)
    assert np.all(light[~inside] == 1.0) and np.all((light >= DARKEST) & (light <= 1.0))
    # The throat (the back of the mouth, smallest z) gets far less light than the front teeth.
    teeth = parts == FacePart.TEETH
    front_teeth = teeth & (vertices[:, 2] > np.percentile(vertices[teeth, 2], 90))
    back = inside & (vertices[:, 2] < np.percentile(vertices[inside, 2], 10))
    assert light[front_teeth].mean() > 0.6 and light[back].mean() < 0.25


def test_a_model_without_a_mouth_is_lit_everywhere(model):
    vertices = model.mean.reshape(-1, 3)
    light = mouth_light(vertices, model.triangles, all_skin(len(model.triangles)))
    assert np.all(light == 1.0)


def luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., :3].astype(float) @ np.array([0.299, 0.587, 0.114])


def test_an_open_mouth_renders_as_a_dark_cavity(model):
    vertices = open_mouth(model)
    renderer = FaceRenderer(model.mean.reshape(-1, 3), model.triangles, 512, model.triangle_parts)
    try:
        camera = renderer.camera()
        # Which part each pixel shows: the same view with every part in a colour of its own, unlit differences aside.
        parts = vertex_parts(model.triangles, model.triangle_parts, model.n_vertices)
        codes = np.zeros((len(FacePart), 3), dtype=np.float32)
        codes[list(MOUTH_PARTS), 0] = 1.0  # the mouth's parts red, everything else black
        codes[FacePart.SKIN, 1] = 1.0  # skin green
        coded = renderer.draw(vertices, camera, colours=codes[parts]).rgb.astype(int)
        image = renderer.draw(vertices, camera).rgb
    finally:
        renderer.close()
    cavity = (coded[..., 0] > 40) & (coded[..., 1] < 10)
    skin = (coded[..., 1] > 40) & (coded[..., 0] < 10)
    assert cavity.sum() > 500  # the mouth is open
    brightness = luminance(image)
    assert np.median(brightness[cavity]) < 0.35 * np.median(brightness[skin])
