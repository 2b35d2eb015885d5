"""The face mesh VTK draws and the shared look, through dataset images rendered off-screen.

Rendering needs a GL context: run under ``xvfb-run -a`` like the GUI tests.
"""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.image import imread

from app.model.embedded_model import embedded_model
from app.rendering.face_mesh import FaceMesh
from app.rendering.face_renderer import FaceRenderer
from app.rendering.look import BACKGROUND, SKIN, framing_bounds

SQUARE = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], dtype=np.float32)  # faces +z
TRIANGLES = np.array([[0, 1, 2], [0, 2, 3]])
TURNED = np.array([[0, 0, 0], [0, 0, -1], [0, 1, -1], [0, 1, 0]], dtype=np.float32)  # the square turned to face +x


def modification_times(mesh: FaceMesh, *scalars: str) -> list[int]:
    point_data = mesh.polydata.GetPointData()
    arrays = [mesh.polydata.GetPoints(), point_data.GetNormals(), *(point_data.GetArray(name) for name in scalars)]
    return [array.GetMTime() for array in arrays]


def test_an_owned_mesh_copies_its_vertices_and_rewrites_points_and_normals_in_place():
    source = SQUARE.copy()
    mesh = FaceMesh(TRIANGLES, source)
    points, normals = mesh.polydata.points, mesh.polydata.point_data["Normals"]
    assert not np.shares_memory(mesh.vertices, source)
    assert np.shares_memory(points, mesh.vertices) and np.shares_memory(normals, mesh.normals)
    np.testing.assert_allclose(normals, np.tile([0.0, 0.0, 1.0], (4, 1)), atol=1e-6)

    before = modification_times(mesh)
    mesh.update(TURNED)
    assert np.array_equal(mesh.polydata.points, TURNED) and np.array_equal(source, SQUARE)
    np.testing.assert_allclose(mesh.polydata.point_data["Normals"], np.tile([1.0, 0.0, 0.0], (4, 1)), atol=1e-6)
    assert np.shares_memory(mesh.polydata.points, points)  # the same arrays, not new ones
    assert all(after > earlier for after, earlier in zip(modification_times(mesh), before, strict=True))


def test_a_shared_mesh_draws_the_callers_arrays_and_marks_them_modified():
    vertices, normals, heat = SQUARE.copy(), np.zeros((4, 3), np.float32), np.zeros(4, np.float32)
    mesh = FaceMesh(TRIANGLES, vertices, normals)
    mesh.add_scalars("heat", heat)
    assert mesh.vertices is vertices and mesh.normals is normals
    assert np.shares_memory(mesh.polydata.point_data["heat"], heat)

    before = modification_times(mesh, "heat")
    vertices[...] = TURNED
    normals[...] = [1.0, 0.0, 0.0]
    heat[...] = [1.0, 2.0, 3.0, 4.0]
    mesh.modified()
    assert np.array_equal(mesh.polydata.points, TURNED)
    assert np.array_equal(mesh.polydata.point_data["heat"], [1.0, 2.0, 3.0, 4.0])
    assert all(after > earlier for after, earlier in zip(modification_times(mesh, "heat"), before, strict=True))


def test_only_contiguous_float32_arrays_are_shared():
    with pytest.raises(TypeError, match="float64"):
        FaceMesh(TRIANGLES, SQUARE.astype(np.float64), np.zeros((4, 3), np.float32))
    mesh = FaceMesh(TRIANGLES, SQUARE)
    with pytest.raises(TypeError, match="strided"):
        mesh.add_scalars("every other", np.zeros(8, np.float32)[::2])


def test_the_frame_is_the_box_grown_about_its_centre():
    bounds = framing_bounds(np.array([[0.0, 0.0, 0.0], [2.0, 4.0, 1.0]]), margin=1.5)
    np.testing.assert_allclose(bounds, [[-0.5, 2.5], [-1.0, 5.0], [-0.25, 1.25]])


@pytest.fixture(scope="module")
def model():
    return embedded_model()


def read_rgb(path) -> np.ndarray:
    return np.round(imread(path)[..., :3] * 255).astype(int)


def test_a_dataset_image_shows_the_face_in_the_shared_look(tmp_path, model):
    mean = model.mean.reshape(-1, 3)
    renderer = FaceRenderer(mean, model.triangles, size=64)
    try:
        front = read_rgb(renderer.render(tmp_path / "front.png", mean))
        turned = [
            read_rgb(renderer.render(tmp_path / f"turned{i}.png", mean, yaw, pitch))
            for i, (yaw, pitch) in enumerate(((45, 20), (-45, -20)))
        ]
        away = read_rgb(renderer.render(tmp_path / "away.png", mean + 100 * np.ptp(mean, axis=0)))
    finally:
        renderer.close()

    background = np.round(np.array(BACKGROUND) * 255).astype(int)
    for image in (front, *turned):  # the whole face inside the frame, even turned by the default maxima
        edges = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
        assert np.abs(edges - background).max() <= 1
        assert (np.abs(image - background).sum(axis=2) > 30).mean() > 0.15
    skin = front[np.abs(front - background).sum(axis=2) > 60].mean(axis=0)
    # Lit skin: the skin colour's hue (the light kit's warm key light shifts it by ~0.01), brighter than the background.
    np.testing.assert_allclose(skin / skin.sum(), np.array(SKIN) / sum(SKIN), atol=0.02)
    assert skin.sum() > 2 * background.sum()
    # A new face reaches VTK: moved far out of the frame, only background is left.
    assert np.abs(away - background).max() <= 1


def test_a_face_is_drawn_from_its_own_mesh_and_recoloured_in_the_mapper(model):
    """No filter between the mesh and the mapper, which would copy the mesh at every frame of a moving face."""
    import pyvista

    from app.rendering.look import PART_COLOUR_ARRAY, add_face, colour_by

    mean = model.mean.reshape(-1, 3).astype(np.float32)
    mesh = FaceMesh(model.triangles, mean)
    mesh.add_scalars("displacement", np.zeros(len(mean), dtype=np.float32))
    plotter = pyvista.Plotter(off_screen=True, window_size=[64, 64])
    try:
        actor = add_face(plotter, mesh, model.triangle_parts)
        mapper = actor.mapper
        assert mapper.GetInputAlgorithm().IsA("vtkTrivialProducer")  # the mesh itself
        assert (mapper.GetArrayName(), mapper.color_mode) == (PART_COLOUR_ARRAY, "direct")
        colour_by(actor, "displacement")
        assert (mapper.GetArrayName(), mapper.color_mode) == ("displacement", "map")
        colour_by(actor, PART_COLOUR_ARRAY, rgb=True)
        assert mapper.color_mode == "direct"
        assert mapper.GetInputAlgorithm().IsA("vtkTrivialProducer")
    finally:
        plotter.close()
