"""Mesh export (OBJ, binary and ASCII PLY) read back with pyvista, full disks, and coefficient files."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import pyvista
from core_fixtures import grid_triangles_one_based

from app.dataset.export import load_coefficients, save_coefficients
from app.dataset.mesh_files import export_mesh
from app.errors import ExportError, FaceExplorerError
from app.model.face_parts import FacePart
from app.model.uv_layout import UvLayout
from app.model.vertex_normals import VertexNormals


def little_face() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    triangles = (grid_triangles_one_based(6, 7).T - 1).astype(np.int64)
    x, y = np.meshgrid(np.arange(7.0), np.arange(6.0))
    vertices = np.stack([x.ravel(), y.ravel(), rng.normal(size=42)], 1) * 1e4 + rng.normal(size=(42, 3))
    return vertices.astype(np.float32), triangles


def leftovers(folder) -> list:
    return [p.name for p in folder.iterdir() if ".part" in p.name]


@pytest.mark.parametrize(
    ("name", "binary", "header"),
    [
        ("face.obj", True, None),
        ("face.ply", True, b"format binary_little_endian"),
        ("face.ply", False, b"format ascii"),
    ],
)
def test_mesh_round_trip_through_pyvista(tmp_path, name, binary, header):
    vertices, triangles = little_face()
    path = export_mesh(tmp_path / name, vertices, triangles, binary=binary)
    assert path == tmp_path / name
    if header is not None:
        assert header in path.read_bytes()[:200]
    mesh = pyvista.read(path)
    assert mesh.n_points == len(vertices) and mesh.n_cells == len(triangles)
    np.testing.assert_allclose(mesh.points, vertices, rtol=1e-6, atol=1e-2)
    np.testing.assert_array_equal(mesh.faces.reshape(-1, 4)[:, 1:], triangles)
    assert (mesh.faces.reshape(-1, 4)[:, 0] == 3).all()
    assert leftovers(tmp_path) == []


def test_an_obj_carries_the_texture_layout_corner_for_corner(tmp_path):
    vertices, triangles = little_face()
    # A seam: every triangle gets corners of its own in the texture, so no UV row is shared.
    layout = UvLayout(
        uv=np.random.default_rng(1).uniform(0, 2, size=(3 * len(triangles), 2)),
        triangles=np.arange(3 * len(triangles)).reshape(-1, 3),
    )
    path = export_mesh(tmp_path / "face.obj", vertices, triangles, uv_layout=layout)
    lines = path.read_text().splitlines()
    uv = np.array([line.split()[1:] for line in lines if line.startswith("vt ")], dtype=float)
    corners = np.array(
        [[token.split("/") for token in line.split()[1:]] for line in lines if line.startswith("f ")], dtype=int
    )
    np.testing.assert_array_equal(corners[..., 0] - 1, triangles)  # f v/vt/vn: the vertex ...
    np.testing.assert_allclose(uv[corners[..., 1] - 1], layout.uv[layout.triangles], atol=1e-5)  # ... its UV ...
    np.testing.assert_array_equal(corners[..., 2], corners[..., 0])  # ... and the vertex's normal
    mesh = pyvista.read(path)  # VTK splits the vertices at the seams and keeps the UV of each corner
    assert mesh.n_cells == len(triangles) and mesh.active_texture_coordinates is not None
    np.testing.assert_allclose(
        mesh.active_texture_coordinates[mesh.faces.reshape(-1, 4)[:, 1:]], layout.uv[layout.triangles], atol=1e-5
    )
    with pytest.raises(
        ExportError, match=r"mesh writer: the texture layout has corners of shape \(2, 3\), the mesh has 60 triangles"
    ):
        export_mesh(tmp_path / "bad.obj", vertices, triangles, uv_layout=UvLayout(layout.uv, layout.triangles[:2]))
    assert not (tmp_path / "bad.obj").exists()


def test_ascii_ply_and_obj_are_text(tmp_path):
    vertices, triangles = little_face()
    ascii_ply = export_mesh(tmp_path / "a.ply", vertices, triangles, binary=False).read_text()
    assert ascii_ply.startswith("ply\n") and "element vertex 42" in ascii_ply and "element face 60" in ascii_ply
    obj = export_mesh(tmp_path / "a.obj", vertices, triangles).read_text()
    assert sum(line.startswith("v ") for line in obj.splitlines()) == 42
    assert sum(line.startswith("f ") for line in obj.splitlines()) == 60


def test_missing_folder_and_bad_suffix_leave_no_file(tmp_path):
    vertices, triangles = little_face()
    with pytest.raises(ExportError, match="does not exist"):
        export_mesh(tmp_path / "no" / "such" / "face.obj", vertices, triangles)
    blocker = tmp_path / "file.txt"
    blocker.write_text("a file, not a folder")
    with pytest.raises(ExportError):
        export_mesh(blocker / "face.ply", vertices, triangles)
    with pytest.raises(ExportError, match="unsupported mesh format"):
        export_mesh(tmp_path / "face.stl", vertices, triangles)
    (tmp_path / "taken.obj").mkdir()  # the name is a folder: the final rename fails
    with pytest.raises(ExportError, match=r"taken\.obj"):
        export_mesh(tmp_path / "taken.obj", vertices, triangles)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt", "taken.obj"]


def test_bad_vertices_are_refused(tmp_path):
    vertices, triangles = little_face()
    vertices[3, 1] = np.nan
    with pytest.raises(ExportError, match="finite"):
        export_mesh(tmp_path / "face.obj", vertices, triangles)
    with pytest.raises(ExportError, match="finite"):
        export_mesh(tmp_path / "face.obj", vertices[:, :2], triangles)
    assert list(tmp_path.iterdir()) == []


def test_full_disk_is_reported_and_keeps_the_previous_file(tmp_path, disk_full_at_sync):
    vertices, triangles = little_face()
    path = tmp_path / "face.ply"
    path.write_bytes(b"the previous export")
    with pytest.raises(ExportError, match=f"^disk full while writing {path}$"):
        export_mesh(path, vertices * 2, triangles)
    assert path.read_bytes() == b"the previous export"
    assert leftovers(tmp_path) == [] and len(disk_full_at_sync) == 1


def test_a_real_full_disk_keeps_the_previous_file(small_disk):
    """A 40k-vertex mesh (2 MB of binary PLY) on a 1 MB disk: VTK's writer reported success here."""
    small = export_mesh(small_disk / "face.ply", *little_face())
    before = small.read_bytes()
    big_triangles = (grid_triangles_one_based(200, 200).T - 1).astype(np.int64)
    big_vertices = np.random.default_rng(2).normal(size=(200 * 200, 3))
    with pytest.raises(ExportError, match=f"^disk full while writing {small}$"):
        export_mesh(small, big_vertices, big_triangles)
    assert small.read_bytes() == before and leftovers(small_disk) == []


@pytest.mark.parametrize(("name", "binary"), [("face.ply", True), ("face.ply", False), ("face.obj", True)])
def test_meshes_carry_the_projects_normals(tmp_path, name, binary):
    vertices, triangles = little_face()
    mesh = pyvista.read(export_mesh(tmp_path / name, vertices, triangles, binary=binary))
    expected = VertexNormals(triangles, len(vertices)).compute(vertices)
    np.testing.assert_allclose(mesh.point_data["Normals"], expected, atol=1e-5)


def test_binary_ply_has_exactly_the_expected_size(tmp_path):
    vertices, triangles = little_face()
    data = export_mesh(tmp_path / "face.ply", vertices, triangles).read_bytes()
    header = data[: data.index(b"end_header\n") + len(b"end_header\n")]
    assert len(data) == len(header) + 42 * 6 * 4 + 60 * (1 + 3 * 4)


def test_a_file_name_that_is_not_utf8_is_written(tmp_path):
    vertices, triangles = little_face()
    path = tmp_path / os.fsdecode(b"face-\xff.obj")
    export_mesh(path, vertices, triangles)
    assert os.listdir(os.fsencode(tmp_path)) == [b"face-\xff.obj"]


def test_bad_triangles_are_refused(tmp_path):
    vertices, triangles = little_face()
    for bad in (triangles + 1, triangles[:, :2], triangles.astype(np.float64) + 0.5):
        with pytest.raises(ExportError, match="triangles"):
            export_mesh(tmp_path / "face.ply", vertices, bad)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_coefficients_round_trip(tmp_path, suffix):
    rng = np.random.default_rng(1)
    alpha_id, alpha_exp = rng.normal(size=199) * 1e5, rng.normal(size=29)
    info = {"model": "embedded:v1", "sampling": {"distribution": "uniform", "range": 10.0}, "face": "input"}
    path = save_coefficients(tmp_path / f"face{suffix}", alpha_id, alpha_exp, **info)
    got_id, got_exp, got_info = load_coefficients(path)
    np.testing.assert_array_equal(got_id, alpha_id)  # exact: JSON keeps float64 repr
    np.testing.assert_array_equal(got_exp, alpha_exp)
    assert got_info == info
    assert leftovers(tmp_path) == []


def test_batches_of_coefficients_round_trip(tmp_path):
    alpha_id, alpha_exp = np.ones((3, 199)), np.zeros((3, 29))
    got_id, got_exp, _ = load_coefficients(save_coefficients(tmp_path / "batch.npz", alpha_id, alpha_exp))
    assert got_id.shape == (3, 199) and got_exp.shape == (3, 29)


def test_coefficient_files_refused(tmp_path):
    with pytest.raises(ExportError, match="unsupported coefficient format"):
        save_coefficients(tmp_path / "face.csv", np.zeros(199), np.zeros(29))
    with pytest.raises(ExportError, match="does not exist"):
        save_coefficients(tmp_path / "missing" / "face.json", np.zeros(199), np.zeros(29))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("list.json", json.dumps([1, 2, 3])),
        ("no_exp.json", json.dumps({"alpha_id": [0.0] * 199})),
        ("broken.json", "{ not json"),
        ("nan.json", '{"alpha_id": [NaN], "alpha_exp": [0.0]}'),
        ("garbage.npz", b"\x00\x01\x02 garbage"),
        ("truncated.npz", None),
        ("missing.npz", False),
    ],
)
def test_unreadable_coefficient_files(tmp_path, name, content):
    path = tmp_path / name
    if content is None:
        save_coefficients(path, np.ones(199), np.ones(29))
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content)
    with pytest.raises(FaceExplorerError) as excinfo:
        load_coefficients(path)
    assert str(path) in str(excinfo.value)


def test_a_text_file_named_npz_is_named_as_such(tmp_path):
    path = tmp_path / "face.npz"
    path.write_text("alpha_id = 1, 2, 3")
    with pytest.raises(FaceExplorerError) as excinfo:
        load_coefficients(path)
    assert str(excinfo.value) == f"{path} is not a valid .npz file (not a zip of numpy arrays)"


@pytest.mark.parametrize(("unit", "name", "micrometres"), [("um", "micrometres", 1.0), ("mm", "millimetres", 1e3)])
@pytest.mark.parametrize(("suffix", "binary"), [(".obj", True), (".ply", True), (".ply", False)])
def test_meshes_are_written_in_the_chosen_unit_named_in_the_header(tmp_path, unit, name, micrometres, suffix, binary):
    vertices, triangles = little_face()
    path = export_mesh(tmp_path / f"face{suffix}", vertices, triangles, binary=binary, unit=unit)
    head = path.read_bytes()[:300]
    assert (f"# unit: {name}\n" if suffix == ".obj" else f"comment unit {name}\n").encode() in head
    mesh = pyvista.read(path)
    np.testing.assert_allclose(
        mesh.points if suffix == ".ply" else np.unique(mesh.points, axis=0),
        vertices / micrometres if suffix == ".ply" else np.unique(vertices / micrometres, axis=0),
        rtol=1e-6,
        atol=1e-6,
    )


def test_an_unknown_unit_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(ExportError, match="furlong"):
        export_mesh(tmp_path / "face.obj", *little_face(), unit="furlong")
    assert not (tmp_path / "face.obj").exists()
    assert export_mesh(tmp_path / "face.obj", *little_face(), unit="µm").read_text().count("# unit: micrometres") == 1


def test_an_obj_with_face_parts_has_groups_and_materials_that_trimesh_reads_at_the_chosen_unit(tmp_path):
    trimesh = pytest.importorskip("trimesh")
    vertices, triangles = little_face()
    parts = np.where(np.arange(len(triangles)) < 20, FacePart.SKIN, FacePart.TEETH).astype(np.uint8)
    colours = np.tile([0.5, 0.25, 1.0], (len(vertices), 1))
    from app.dataset.mesh_files import MeshWriter

    path = MeshWriter(triangles, len(vertices), triangle_parts=parts).write(
        tmp_path / "face.obj", vertices, colours=colours, unit="mm"
    )
    text = path.read_text()
    assert "mtllib face.mtl\n" in text and "g teeth\nusemtl teeth\n" in text and "g skin\nusemtl skin\n" in text
    assert (tmp_path / "face.mtl").read_text().count("newmtl ") == 2
    scene = trimesh.load(path, force="scene", process=False)
    materials = {geometry.visual.material.name: len(geometry.faces) for geometry in scene.geometry.values()}
    assert materials == {"skin": 20, "teeth": len(triangles) - 20}
    teeth = next(g for g in scene.geometry.values() if g.visual.material.name == "teeth")
    np.testing.assert_allclose(teeth.visual.material.diffuse[:3] / 255, (0.93, 0.90, 0.82), atol=0.01)
    mesh = trimesh.load(path, force="mesh", process=False)
    assert len(mesh.faces) == len(triangles)
    np.testing.assert_allclose(np.unique(mesh.vertices, axis=0), np.unique(vertices / 1e3, axis=0), atol=1e-6)
    # the per-vertex colour stays on the v lines
    assert next(line for line in text.splitlines() if line.startswith("v ")).split()[4:] == ["0.5", "0.25", "1"]


def test_a_foreign_mtl_beside_the_obj_is_never_replaced(tmp_path):
    vertices, triangles = little_face()
    parts = np.zeros(len(triangles), dtype=np.uint8)
    (tmp_path / "face.mtl").write_text("newmtl mine\nKd 1 0 0\n")
    with pytest.raises(ExportError, match="not written by this program"):
        export_mesh(tmp_path / "face.obj", vertices, triangles, triangle_parts=parts)
    assert (tmp_path / "face.mtl").read_text() == "newmtl mine\nKd 1 0 0\n" and not (tmp_path / "face.obj").exists()
    (tmp_path / "face.mtl").unlink()
    export_mesh(tmp_path / "face.obj", vertices, triangles, triangle_parts=parts)
    export_mesh(tmp_path / "face.obj", vertices, triangles, triangle_parts=parts)  # ours: replaced
    assert (tmp_path / "face.mtl").read_text().startswith("# face-manifold-explorer materials")
