"""Dataset images with ground truth: the camera, landmarks on the rendered pixels, maps, variation, colour and
300W-LP files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from core_fixtures import bfm_fields, write_bfm
from PIL import Image

import main
from app.dataset.format_300w_lp import read_300w_lp
from app.dataset.generation import generate
from app.dataset.mesh_files import MeshWriter
from app.dataset.settings import GenerationSettings, Provenance
from app.dataset.shards import load_dataset
from app.dataset.views import albedo_of
from app.denoising.denoiser import Denoiser
from app.errors import FaceExplorerError, ModelFileError
from app.model.embedded_model import embedded_model
from app.model.fitted_params import load_fitted_parameters
from app.model.model_files import load_model, save_model_npz
from app.rendering.camera import Camera, framing_camera, rotation_3ddfa
from app.rendering.face_renderer import FaceRenderer
from app.rendering.key_light import DEFAULT_KEY_LIGHT, KeyLight


@pytest.fixture(scope="module")
def model():
    return embedded_model()


def _generate(folder: Path, generation_inputs: tuple, **settings: object):
    model, denoiser, provenance = generation_inputs
    return generate(folder, GenerationSettings(**settings), model, denoiser, provenance, show_progress=False)


def _a_face(model, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return model.synthesize(rng.normal(0, model.ev_id), np.abs(rng.normal(0, model.ev_exp / model.ev_exp.max())))


def _face_landmarks(model, dataset: dict, row: int) -> np.ndarray:
    """The 3-D landmarks of a generated face, from its recorded coefficients."""
    return model.synthesize(dataset["alpha_id"][row], dataset["alpha_exp"][row])[model.landmarks]


# --- the camera -------------------------------------------------------------------------------


def test_the_rotation_is_3ddfas():
    """3DDFA's RotationMatrix: Rx·Ry·Rz with its signs; a positive yaw turns the nose (+z) towards -x."""
    np.testing.assert_allclose(rotation_3ddfa(0.0, np.pi / 2, 0.0) @ [0, 0, 1], [-1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(rotation_3ddfa(np.pi / 2, 0.0, 0.0) @ [0, 0, 1], [0, 1, 0], atol=1e-12)
    np.testing.assert_allclose(rotation_3ddfa(0.0, 0.0, np.pi / 2) @ [0, 1, 0], [1, 0, 0], atol=1e-12)
    r = rotation_3ddfa(0.3, -0.5, 0.7)
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(r) == pytest.approx(1.0)


def test_the_camera_projects_as_300w_lp_describes():
    frame = np.array([[-1e5, 1e5], [-1.2e5, 1.2e5], [-8e4, 8e4]])
    camera = framing_camera(frame, 120, 120, 0.2, -0.4, 0.3)
    points = np.random.default_rng(1).normal(0, 5e4, (10, 3))
    pitch, yaw, roll, tx, ty, tz, s = camera.pose_para
    image = s * points @ rotation_3ddfa(pitch, yaw, roll).T + [tx, ty, tz]
    pt2d_one_based = np.stack([image[:, 0], 120 + 1 - image[:, 1]], axis=1)
    np.testing.assert_allclose(camera.project(points), pt2d_one_based - 1, atol=1e-9)
    again = Camera(120, 120, pitch, yaw, roll, s, (tx, ty, tz))  # Pose_Para alone gives the camera back
    np.testing.assert_allclose(again.project(points), camera.project(points))
    np.testing.assert_allclose(camera.project(np.zeros((1, 3))), [[59.5, 59.5]])  # the frame's centre, mid-image
    record = json.loads(json.dumps(camera.record()))
    assert record["intrinsics"] == {"focal_px": None, "principal_point": [59.5, 59.5]}
    assert record["extrinsics"]["scale"] == s and record["pose_para"] == camera.pose_para.tolist()


def test_a_pinhole_camera_projects_through_its_centre_and_tends_to_the_weak_perspective():
    frame = np.array([[-1e5, 1e5], [-1.2e5, 1.2e5], [-8e4, 8e4]])
    points = np.random.default_rng(2).normal(0, 5e4, (10, 3))
    pinhole = framing_camera(frame, 120, 120, 0.2, -0.4, 0.3, focal=150.0)
    image = pinhole.to_image_space(points)
    centre = np.array([60.5, 60.5])
    one_based = centre + 150.0 * (image[:, :2] - centre) / (150.0 - image[:, 2:])
    np.testing.assert_allclose(pinhole.project(points), np.c_[one_based[:, 0], 121 - one_based[:, 1]] - 1, atol=1e-9)
    weak = framing_camera(frame, 120, 120, 0.2, -0.4, 0.3)
    assert np.abs(pinhole.project(points) - weak.project(points)).max() > 1.0  # perspective is not the weak one
    far = framing_camera(frame, 120, 120, 0.2, -0.4, 0.3, focal=1e9)
    np.testing.assert_allclose(far.project(points), weak.project(points), atol=1e-4)
    assert pinhole.record()["intrinsics"]["focal_px"] == 150.0 and np.array_equal(pinhole.pose_para, weak.pose_para)


def test_landmarks_land_on_their_rendered_pixels_within_one_pixel(model):
    """Each landmark vertex is drawn black on a white face. Against the same view of an all-white face
    (so shading cancels), its mark is centred within 1 px of where the camera projects the landmark."""
    face = _a_face(model)
    renderer = FaceRenderer(model.mean.reshape(-1, 3), model.triangles, 256, model.triangle_parts)
    marked = np.ones((model.n_vertices, 3), dtype=np.float32)
    marked[model.landmarks] = 0.0
    try:
        for pose, focal in (
            ((0.0, 0.0, 0.0), None),
            ((0.3, 0.6, 0.4), None),
            ((-0.25, -0.7, -0.5), None),
            ((0.1, -0.4, 0.2), 300.0),
        ):
            camera = renderer.camera(*pose, focal=focal)
            dark = renderer.draw(face, camera, colours=marked, depth=True)
            white = renderer.draw(face, camera, colours=np.ones_like(marked))
            drop = white.rgb.astype(float).sum(axis=2) - dark.rgb.astype(float).sum(axis=2)
            points = camera.project(face[model.landmarks])
            depths = camera.to_image_space(face[model.landmarks])[:, 2]
            errors = []
            for k, (point, depth) in enumerate(zip(points, depths, strict=True)):
                if np.abs(np.delete(points, k, axis=0) - point).max(axis=1).min() < 6:  # another mark in the window
                    continue
                column, row = np.round(point).astype(int)
                window = drop[row - 4 : row + 5, column - 4 : column + 5]
                if dark.depth[row, column] > depth + 1.0 or window.max() < 60:  # hidden, e.g. behind the eyeball
                    continue
                weight = np.where(window > window.max() / 2, window, 0.0)  # the mark: its brighter half
                rows, columns = np.mgrid[row - 4 : row + 5, column - 4 : column + 5]
                centre = np.array([(weight * columns).sum(), (weight * rows).sum()]) / weight.sum()
                errors.append(np.abs(centre - point).max())
            assert len(errors) >= 12 and max(errors) <= 1.0 and np.mean(errors) < 0.4, (pose, errors)
    finally:
        renderer.close()


@pytest.mark.parametrize("focal", [None, 200.0])
def test_mask_and_depth_agree_with_the_projected_mesh(model, focal):
    """The mask spans the projected vertices' extent (to the pixel) and the depth map holds their image-space z."""
    face = _a_face(model, 3)
    renderer = FaceRenderer(model.mean.reshape(-1, 3), model.triangles, 128, model.triangle_parts)
    try:
        renderer.draw(face, renderer.camera(focal=None if focal else 500.0))  # the camera changes kind between views
        camera = renderer.camera(0.1, 0.4, -0.3, focal)
        view = renderer.draw(face, camera, mask=True, depth=True, normals=True)
    finally:
        renderer.close()
    points = camera.project(face)
    rows, columns = np.nonzero(view.mask)
    assert abs(columns.min() - points[:, 0].min()) <= 1.5 and abs(columns.max() - points[:, 0].max()) <= 1.5
    assert abs(rows.min() - points[:, 1].min()) <= 1.5 and abs(rows.max() - points[:, 1].max()) <= 1.5
    assert np.array_equal(np.isfinite(view.depth), view.mask)
    nose = camera.to_image_space(face[model.landmarks[30]])[0]  # the nose tip faces the camera
    column, row = np.round(camera.project(face[model.landmarks[30]])[0]).astype(int)
    assert view.depth[row, column] == pytest.approx(nose[2], abs=1.0)
    assert not view.normals[~view.mask].any() and view.normals[view.mask].any()
    facing = view.normals[row, column] / 255.0 * 2 - 1  # the nose tip's normal points roughly at the viewer
    assert facing[2] > 0.5


# --- generated datasets -------------------------------------------------------------------------


def test_a_300w_lp_dataset_loads_back_through_data_with_identical_coefficients(
    tmp_path: Path, generation_inputs: tuple
):
    _generate(
        tmp_path,
        generation_inputs,
        count=3,
        seed=5,
        shard_size=2,
        images=True,
        image_size=64,
        random_views=2,
        image_format="300w-lp",
        max_roll=30.0,
    )
    dataset = load_dataset(tmp_path)
    loaded = load_fitted_parameters(tmp_path)  # what --data reads: every .mat under the folder
    assert not loaded.skipped and len(loaded) == 9
    rows = [int(face_id.split("face-")[1][:8]) for face_id in loaded.face_ids]
    np.testing.assert_array_equal(loaded.shape, dataset["alpha_id"][rows].astype(np.float64))
    np.testing.assert_array_equal(loaded.expression, dataset["alpha_exp"][rows].astype(np.float64))

    with np.load(tmp_path / "shard-00000.npz") as shard:
        pose_para, landmarks = shard["view_pose_para"], shard["view_landmarks"]
    label = read_300w_lp(tmp_path / "images/shard-00000/face-00000001-view2.mat")
    np.testing.assert_array_equal(label.pose_para, pose_para[1, 2])
    np.testing.assert_allclose(label.landmarks, landmarks[1, 2])
    mat = scipy.io.loadmat(tmp_path / "images/shard-00000/face-00000001-view2.mat")
    assert mat["Shape_Para"].shape == (199, 1) and mat["Exp_Para"].shape == (29, 1)
    assert mat["Pose_Para"].shape == (1, 7) and mat["pt2d"].shape == (2, 68) and "Tex_Para" not in mat
    landmarks_3d = _face_landmarks(
        generation_inputs[0], dataset, 1
    )  # the exact camera in the file projects them onto pt2d
    homogeneous = np.c_[landmarks_3d, np.ones(68)] @ mat["Camera_Matrix"].T
    np.testing.assert_allclose(homogeneous[:, :2] / homogeneous[:, 2:] + 1, mat["pt2d"].T, atol=1e-6)
    assert pose_para[:, 1:, 2].any() and np.abs(np.degrees(pose_para[..., 2])).max() <= 30.0  # roll drawn, within range
    with Image.open(tmp_path / "images/shard-00000/face-00000001-view2.jpg") as image:
        assert image.format == "JPEG" and image.size == (64, 64)


def test_the_command_line_writes_300w_lp_files_that_info_data_reads(capsys, tmp_path: Path, tiny_checkpoints: Path):
    out = tmp_path / "lp"
    status = main.main(
        [
            "generate",
            str(out),
            "--count",
            "3",
            "--format",
            "300w-lp",
            "--random-views",
            "1",
            "--max-roll",
            "20",
            "--focal-length",
            "400",
            "--image-size",
            "48",
            "--checkpoints",
            str(tiny_checkpoints),
            "--device",
            "cpu",
            "--workers",
            "1",
            "--quiet",
        ]
    )
    assert status == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main.main(["info", "--data", str(out), "--checkpoints", str(tiny_checkpoints)]) == 0
    assert "6 faces loaded, 0 files skipped" in capsys.readouterr().out
    mat = scipy.io.loadmat(out / "images/shard-00000/face-00000002-view1.mat")
    assert mat["Camera_Matrix"][2, 2] != 0  # a pinhole: the third row holds each point's depth


def test_variation_and_maps_are_recorded_and_regenerate_byte_for_byte(tmp_path: Path, generation_inputs: tuple):
    pictures = tmp_path / "backgrounds"
    pictures.mkdir()
    for i, colour in enumerate(((200, 30, 30), (30, 200, 30))):
        Image.new("RGB", (90, 60), colour).save(pictures / f"b{i}.png")
    settings = dict(
        count=2,
        seed=9,
        shard_size=2,
        images=True,
        image_size=48,
        random_views=1,
        max_light_angle=60.0,
        min_light=0.5,
        max_light=1.5,
        background=str(pictures),
        albedo=True,
        maps="mask,depth,normals",
        mesh_format="ply",
    )
    _generate(tmp_path / "a", generation_inputs, **settings)
    _generate(tmp_path / "b", generation_inputs, **settings)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    for name in files:
        if name.name != "manifest.json":  # it records the run's time
            assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name

    folder = tmp_path / "a/images/shard-00000"
    with np.load(tmp_path / "a/shard-00000.npz") as shard:
        light, background, texture = shard["view_light"], shard["view_background"], shard["texture"]
        digests = shard["view_background_sha256"]
    assert digests[0, 0] == hashlib.sha256((pictures / background[0, 0]).read_bytes()).hexdigest()
    assert light.shape == (2, 2, 4) and len(np.unique(light[..., 3])) == 4 and np.all(light[..., 3] > 0)
    np.testing.assert_allclose(np.linalg.norm(light[..., :3], axis=-1), 1.0)
    assert set(background.ravel()) <= {"b0.png", "b1.png"} and texture.shape == (2, 2)
    image = np.asarray(Image.open(folder / "face-00000000-front.png"))
    mask = np.asarray(Image.open(folder / "face-00000000-front.mask.png")) > 0
    expected = (200, 30, 30) if background[0, 0] == "b0.png" else (30, 200, 30)
    assert (image[~mask] == expected).all() and not (image[mask] == expected).all(axis=1).any()
    depth = np.load(folder / "face-00000000-front.depth.npy")
    assert depth.dtype == np.float32 and np.array_equal(np.isfinite(depth), mask)
    assert np.asarray(Image.open(folder / "face-00000000-front.normals.png")).shape == (48, 48, 3)
    header = (tmp_path / "a/meshes/shard-00000/face-00000000.ply").read_bytes()[:400]
    assert b"property uchar red" in header


def test_the_light_and_colour_change_the_image(model):
    renderer = FaceRenderer(model.mean.reshape(-1, 3), model.triangles, 64, model.triangle_parts)
    face, camera = model.mean.reshape(-1, 3), renderer.camera()
    albedo = albedo_of(model)
    try:
        plain = renderer.draw(face, camera).rgb.astype(int)
        dim = renderer.draw(face, camera, KeyLight(DEFAULT_KEY_LIGHT.direction, 0.2)).rgb.astype(int)
        side = renderer.draw(face, camera, KeyLight((1.0, 0.0, 0.0), DEFAULT_KEY_LIGHT.intensity)).rgb.astype(int)
        dark_skin = renderer.draw(face, camera, colours=albedo.colours(np.array([2.5 * albedo.ev[0], 0.0]))).rgb.astype(
            int
        )
        again = renderer.draw(face, camera).rgb.astype(int)
    finally:
        renderer.close()
    assert dim.sum() < plain.sum() and dark_skin.sum() < plain.sum()
    assert side[:, 40:].sum() > plain[:, 40:].sum() * 0.9 and side[:, :24].sum() < plain[:, :24].sum()
    assert np.array_equal(again, plain)  # nothing of a view stays for the next


def test_bfm_texture_is_read_sampled_and_kept_in_the_npz(tmp_path: Path):
    model = load_model(write_bfm(tmp_path / "BFM.mat", bfm_fields()))
    assert model.albedo is not None and model.albedo.n_coefficients == 199
    fields = bfm_fields()
    coefficients = np.zeros(199)
    coefficients[0] = 2.0
    expected = (fields["texMU"][:, 0] + fields["texPC"][:, 0] * 2.0) / 255.0
    np.testing.assert_allclose(model.albedo.colours(coefficients).ravel(), np.clip(expected, 0, 1), atol=1e-5)
    assert albedo_of(model) is model.albedo
    save_model_npz(model, tmp_path / "model.npz")
    again = load_model(tmp_path / "model.npz")
    np.testing.assert_array_equal(again.albedo.basis, model.albedo.basis)
    fields["texPC"] = fields["texPC"][:-3]
    with pytest.raises(ModelFileError, match="texPC has shape"):
        load_model(write_bfm(tmp_path / "bad.mat", fields))


def test_coloured_meshes_carry_their_vertex_colours(tmp_path: Path, model):
    import pyvista

    colours = albedo_of(model).colours(np.array([1.0, -1.0]) * albedo_of(model).ev)
    writer = MeshWriter(model.triangles, model.n_vertices)
    face = model.mean.reshape(-1, 3)
    for name, binary in (("face.ply", True), ("ascii.ply", False)):
        mesh = pyvista.read(writer.write(tmp_path / name, face, binary, colours=colours))
        np.testing.assert_array_equal(
            mesh.point_data["RGB"], np.round(colours.astype(np.float64) * 255).astype(np.uint8)
        )
    text = writer.write(tmp_path / "face.obj", face, colours=colours).read_text()
    first = next(line for line in text.splitlines() if not line.startswith("#")).split()  # after the header
    assert first[0] == "v" and len(first) == 7 and float(first[4]) == pytest.approx(colours[0, 0], abs=1e-4)


# --- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--background", "EMPTY"], "holds no pictures"),
        (["--background", "MISSING"], "neither a colour"),
        (["--image-size", "20000"], "beyond what OpenGL renders"),
        (["--max-roll", "200"], "largest roll"),
        (["--light-intensity", "2", "1"], "light intensity range"),
        (["--focal-length", "100"], "too short"),
    ],
)
def test_bad_view_settings_are_one_clear_error(capsys, tmp_path: Path, options: list[str], message: str):
    (tmp_path / "EMPTY").mkdir()
    (tmp_path / "EMPTY/notes.txt").write_text("not a picture")
    options = [str(tmp_path / o) if o in ("EMPTY", "MISSING") else o for o in options]
    status = main.main(["generate", str(tmp_path / "out"), "--count", "2", "--images", *options])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_300w_lp_needs_landmarks_and_view_options_need_images(capsys, tmp_path: Path):
    fields = bfm_fields()
    del fields["kpt_ind"]
    write_bfm(tmp_path / "BFM.mat", fields)
    status = main.main(
        ["generate", str(tmp_path / "out"), "--count", "2", "--format", "300w-lp", "--model", str(tmp_path / "BFM.mat")]
    )
    assert status == 2 and "has no landmarks" in capsys.readouterr().err and not (tmp_path / "out").exists()
    status = main.main(["generate", str(tmp_path / "out"), "--count", "2", "--maps", "depth"])
    assert status == 2 and "--maps is about images" in capsys.readouterr().err


def test_a_size_the_gl_cannot_draw_is_refused(model, monkeypatch: pytest.MonkeyPatch):
    """Beyond its limit a GL draws a blank frame without an error: the renderer finds out by drawing once."""
    monkeypatch.setattr(
        FaceRenderer, "_surface_depth", lambda self: np.full((self.size, self.size), np.nan, np.float32)
    )
    with pytest.raises(FaceExplorerError, match="beyond what this OpenGL can render"):
        FaceRenderer(model.mean.reshape(-1, 3), model.triangles, 32, model.triangle_parts)


def test_the_landmark_sheet_draws_each_label_where_its_mat_puts_it(tmp_path: Path, generation_inputs: tuple):
    from app.dataset.landmark_overlay import POINT_COLOUR, contact_sheet, labelled_tile

    _generate(
        tmp_path, generation_inputs, count=2, seed=2, shard_size=2, images=True, image_size=32, image_format="300w-lp"
    )
    mats = sorted(tmp_path.rglob("*.mat"))
    tile = labelled_tile(mats[0], scale=3)
    points = read_300w_lp(mats[0]).landmarks
    assert tile.shape == (96, 96, 3)
    column, row = np.round((points[30] + 0.5) * 3).astype(int)  # the nose tip, in the enlarged tile
    assert tuple(tile[row, column]) == POINT_COLOUR
    sheet = contact_sheet([tile, labelled_tile(mats[1], scale=3), tile], columns=2)
    assert sheet.shape == (192, 192, 3) and not sheet[96:, 96:].any()  # the short last row is padded
    with pytest.raises(FaceExplorerError, match="68 landmarks"):
        from app.dataset.landmark_overlay import draw_landmarks

        draw_landmarks(np.zeros((8, 8, 3), np.uint8), np.zeros((5, 2)))


def test_a_300w_lp_dataset_resumes_and_is_overwritten_file_by_file(tmp_path: Path, generation_inputs: tuple):
    model, denoiser, provenance = generation_inputs
    settings = GenerationSettings(
        count=2, seed=1, shard_size=1, images=True, image_size=32, image_format="300w-lp", maps="depth"
    )
    generate(tmp_path, settings, model, denoiser, provenance, show_progress=False)
    label = tmp_path / "images/shard-00001/face-00000001-front.mat"
    label.unlink()
    summary = generate(tmp_path, settings, model, denoiser, provenance, show_progress=False, resume=True)
    assert summary.shards_written == 1 and label.is_file()

    shard = tmp_path / "images/shard-00000"
    (shard / "mine.txt").write_text("a user's file")
    (shard / ".face-00000000-front.depth.abcd1234.part.npy").write_bytes(b"an interrupted write")
    png = GenerationSettings(count=1, seed=1, images=True, image_size=32)
    generate(tmp_path, png, model, denoiser, provenance, show_progress=False, overwrite=True)
    assert sorted(p.name for p in shard.iterdir()) == ["face-00000000-front.png", "mine.txt"]
    assert not (tmp_path / "images/shard-00001").exists()


def test_coloured_meshes_without_images_record_only_their_colours(tmp_path: Path, generation_inputs: tuple):
    _generate(tmp_path, generation_inputs, count=2, seed=3, mesh_format="obj", albedo=True)
    with np.load(tmp_path / "shard-00000.npz") as shard:
        assert shard["texture"].shape == (2, 2) and not any(name.startswith("view_") for name in shard.files)
    lines = (tmp_path / "meshes/shard-00000/face-00000001.obj").read_text().splitlines()
    assert lines[:2] == ["# face-manifold-explorer", "# unit: micrometres"]  # datasets stay in µm, like their shards
    lines = lines[2:]
    assert len(lines[0].split()) == 7  # v x y z r g b
    # The embedded model's texture layout comes along: a UV per corner, for texturing the faces elsewhere.
    assert sum(line.startswith("vt ") for line in lines) == len(generation_inputs[0].uv_layout.uv)
    assert next(line for line in lines if line.startswith("f ")).count("/") == 6  # f v/vt/vn v/vt/vn v/vt/vn


def test_a_label_that_fails_to_write_leaves_its_shard_unfinished(
    tmp_path: Path, generation_inputs: tuple, monkeypatch: pytest.MonkeyPatch
):
    """The files are written on threads, but a failure still stops the shard before its .npz exists."""
    import app.dataset.views as views
    from app.errors import ExportError

    real_write = views.write_label
    calls = []

    def full_disk_on_third_label(path, *args):
        calls.append(path)
        if len(calls) == 3:
            raise ExportError(f"disk full while writing {path}")
        return real_write(path, *args)

    monkeypatch.setattr(views, "write_label", full_disk_on_third_label)
    settings = dict(count=4, seed=1, shard_size=4, images=True, image_size=32, image_format="300w-lp")
    with pytest.raises(ExportError, match="disk full"):
        _generate(tmp_path, generation_inputs, **settings)
    assert not (tmp_path / "shard-00000.npz").exists()
    monkeypatch.setattr(views, "write_label", real_write)
    model, denoiser, provenance = generation_inputs
    generate(tmp_path, GenerationSettings(**settings), model, denoiser, provenance, show_progress=False, resume=True)
    assert len(load_fitted_parameters(tmp_path)) == 4


def test_a_textured_bfm_colours_its_300w_lp_images_and_records_tex_para(tmp_path: Path, tiny_checkpoints: Path):
    model = load_model(write_bfm(tmp_path / "BFM.mat", bfm_fields()))
    denoiser = Denoiser.from_folder(model, tiny_checkpoints, "cpu")
    generate(
        tmp_path / "out",
        GenerationSettings(
            count=2, seed=4, images=True, image_size=32, image_format="300w-lp", albedo=True, mesh_format="ply"
        ),
        model,
        denoiser,
        Provenance.of(model, denoiser),
        show_progress=False,
    )
    with np.load(tmp_path / "out/shard-00000.npz") as shard:
        texture = shard["texture"]
    assert texture.shape == (2, 199) and 0.5 < np.std(texture / model.albedo.ev) < 2  # β_i ~ N(0, texEV_i²)
    label = read_300w_lp(tmp_path / "out/images/shard-00000/face-00000001-front.mat")
    np.testing.assert_array_equal(label.texture, texture[1])
    import pyvista

    mesh = pyvista.read(tmp_path / "out/meshes/shard-00000/face-00000001.ply")
    np.testing.assert_array_equal(
        mesh.point_data["RGB"], np.round(model.albedo.colours(texture[1]).astype(np.float64) * 255)
    )
