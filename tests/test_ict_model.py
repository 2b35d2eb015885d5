"""ICT-FaceKit folders (FaceXModel/) loaded natively, with tiny synthetic OBJs in the real layout."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from app.errors import ModelFileError
from app.model.face_parts import FacePart
from app.model.ict_facekit import load_ict_model, read_ict_folder
from app.model.model_files import load_model

UM_PER_CM = 1e4
# A 3 x 3 grid of face vertices (4 quads), a tooth quad, and an eyelash quad that must be dropped.
GRID = np.array([[x, y, 10.0 + 0.1 * x * y] for y in (-1.0, 0.0, 1.0) for x in (-1.0, 0.0, 1.0)])
TOOTH = np.array([[-0.5, -2.0, 9.0], [0.5, -2.0, 9.0], [0.5, -1.5, 9.0], [-0.5, -1.5, 9.0]])
LASH = np.array([[-1.0, 1.5, 10.5], [1.0, 1.5, 10.5], [1.0, 1.6, 10.5], [-1.0, 1.6, 10.5]])
NEUTRAL = np.vstack([GRID, TOOTH, LASH])
GROUPS = [
    ("M_Face", [(0, 1, 4, 3), (1, 2, 5, 4), (3, 4, 7, 6), (4, 5, 8, 7)]),
    ("M_Teeth", [(9, 10, 11, 12)]),
    ("M_EyeLashes", [(13, 14, 15, 16)]),
]
EXPRESSIONS = ["jawOpen", "mouthSmile_L", "mouthSmile_R"]
LANDMARKS = [0, 4, 8, 9]


def write_obj(path: Path, vertices: np.ndarray, groups=GROUPS) -> None:
    """An OBJ as ICT writes it: a header, v and vt lines, faces with per-corner UVs in material groups."""
    lines = ["# ICT FaceKit test", "mtllib ICTFaceModelMaterial.mtl"]
    lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in vertices]
    lines += ["vt 0.0 0.0", "vt 1.0 0.0", "vt 1.0 1.0", "vt 0.0 1.0"]
    for material, polygons in groups:
        lines.append(f"usemtl {material}")
        lines += ["f " + " ".join(f"{v + 1}/{k + 1}" for k, v in enumerate(polygon)) for polygon in polygons]
    path.write_text("\n".join(lines) + "\n")


def shape(seed: int) -> np.ndarray:
    return NEUTRAL + np.random.default_rng(seed).normal(0.0, 0.05, size=NEUTRAL.shape)


def write_ict_folder(folder: Path) -> Path:
    """A tiny FaceXModel folder at ``folder`` (created): the neutral mesh, two identities, the expressions
    and vertex_indices.json, as ICT lays them out. Other test modules open it as a model too."""
    folder.mkdir()
    write_obj(folder / "generic_neutral_mesh.obj", NEUTRAL)
    for k in range(2):
        write_obj(folder / f"identity{k:03d}.obj", shape(k))
    for k, name in enumerate(EXPRESSIONS):
        write_obj(folder / f"{name}.obj", shape(10 + k))
    index = {"expressions": EXPRESSIONS, "idx_to_landmark_verts": LANDMARKS}
    (folder / "vertex_indices.json").write_text(json.dumps(index))
    return folder


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = write_ict_folder(tmp_path / "FaceXModel")
    write_obj(folder / "PupilDilate_L.obj", shape(20))  # in ICT's release but not among its listed expressions
    return folder


def test_folder_loads_with_ict_counts_names_and_units(folder):
    model = load_model(folder)
    assert (model.n_id, model.n_exp) == (2, 3)
    assert model.names_id == ["identity000", "identity001"] and model.names_exp == EXPRESSIONS
    # The eyelash quad is dropped; everything else is kept, in micrometres.
    assert model.n_vertices == 13
    np.testing.assert_allclose(model.mean.reshape(-1, 3), NEUTRAL[:13] * UM_PER_CM, rtol=1e-6)
    # Quads become two triangles each, with the tooth quad's triangles marked as teeth.
    assert len(model.triangles) == 10
    assert list(np.bincount(model.triangle_parts, minlength=len(FacePart))[[FacePart.SKIN, FacePart.TEETH]]) == [8, 2]
    np.testing.assert_array_equal(model.landmarks, LANDMARKS)
    assert not model.is_embedded and str(folder) in model.name


def test_coefficients_reproduce_ict_faces(folder):
    model = load_ict_model(folder)
    # Identity: coefficient = EV × ICT weight; expression: coefficient = ICT weight.
    weights = np.array([0.7, -1.3])
    face = model.synthesize(weights * model.ev_id, np.array([0.5, 0.0, 1.0]))
    expected = NEUTRAL + 0.7 * (shape(0) - NEUTRAL) - 1.3 * (shape(1) - NEUTRAL)
    expected += 0.5 * (shape(10) - NEUTRAL) + 1.0 * (shape(12) - NEUTRAL)
    np.testing.assert_allclose(face, expected[:13] * UM_PER_CM, atol=0.05)
    np.testing.assert_allclose(np.linalg.norm(model.basis_id, axis=1), 1.0, rtol=1e-6)


def test_the_neutral_meshs_texture_layout_is_kept_corner_for_corner(folder):
    model = load_model(folder)
    layout = model.uv_layout
    assert layout is not None and layout.triangles.shape == model.triangles.shape
    # Every polygon of write_obj gives its k-th corner the k-th vt line: a corner's UV says which
    # corner of its quad it is, so each triangle's UVs follow its vertices through the split.
    quad_uv = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    for triangle, corner_uvs in zip(model.triangles, layout.uv[layout.triangles], strict=True):
        quad = next(polygon for _, polygons in GROUPS for polygon in polygons if set(triangle) <= set(polygon))
        np.testing.assert_array_equal(corner_uvs, quad_uv[[quad.index(v) for v in triangle]])


def test_a_folder_without_texture_coordinates_has_no_layout(folder):
    for obj in folder.glob("*.obj"):
        lines = obj.read_text().splitlines()
        plain = [
            " ".join(token.split("/")[0] for token in line.split()) if line.startswith("f ") else line
            for line in lines
            if not line.startswith("vt ")
        ]
        obj.write_text("\n".join(plain) + "\n")
    model = load_model(folder)
    assert model.uv_layout is None and len(model.triangles) == 10


def test_the_folder_read_is_fingerprinted(folder):
    first = read_ict_folder(folder).source_digest
    write_obj(folder / "jawOpen.obj", shape(99))
    assert read_ict_folder(folder).source_digest != first


def remove(name):
    return lambda folder: (folder / name).unlink()


def replace_obj(name, vertices=None, groups=GROUPS):
    return lambda folder: write_obj(folder / name, shape(5) if vertices is None else vertices, groups)


def write_text(name, text):
    return lambda folder: (folder / name).write_text(text)


def edit_text(name, old, new):
    return lambda folder: (folder / name).write_text((folder / name).read_text().replace(old, new))


def edit_objs(old, new):
    def edit(folder):
        for path in folder.glob("*.obj"):
            path.write_text(path.read_text().replace(old, new))

    return edit


def grow_sparse(name, size):
    """The file made ``size`` bytes long without writing them (a sparse file, as large files are on disk)."""

    def grow(folder):
        with open(folder / name, "r+b") as handle:
            handle.truncate(size)

    return grow


def edit_index(**changes):
    def edit(folder):
        index = json.loads((folder / "vertex_indices.json").read_text())
        index.update(changes)
        (folder / "vertex_indices.json").write_text(json.dumps(index))

    return edit


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (remove("generic_neutral_mesh.obj"), "not an ICT-FaceKit model folder (no generic_neutral_mesh.obj)"),
        (remove("vertex_indices.json"), "vertex_indices.json: missing"),
        (write_text("vertex_indices.json", "{not json"), "vertex_indices.json: not valid JSON"),
        (write_text("vertex_indices.json", "[" * 100_000), "vertex_indices.json: not valid JSON (nested too deeply)"),
        (
            edit_index(idx_to_landmark_verts=[0, 10**300]),
            "vertex_indices.json: not valid JSON (an integer of 301 digits)",
        ),
        (edit_objs("f 1/1 ", "f \u0661/1 "), "a face line does not hold vertex numbers"),  # an Arabic-Indic 1
        (grow_sparse("identity001.obj", 300 << 20), "identity001.obj: 314,572,800 bytes, far larger than"),
        (edit_index(expressions="jawOpen"), "'expressions' must be a list"),
        (edit_index(expressions=["jawOpen", "jawOpen"]), "the expression 'jawOpen' is listed twice"),
        (
            remove("mouthSmile_R.obj"),
            "1 expression OBJ file(s) listed in vertex_indices.json are missing: mouthSmile_R.obj",
        ),
        (remove("identity000.obj"), "mode 0 is missing"),
        (replace_obj("identity002.obj"), None),  # a third mode is fine
        (replace_obj("identity004.obj"), "mode 2 is missing"),
        (replace_obj("jawOpen copy.obj"), "unexpected OBJ file(s) jawOpen copy.obj"),
        (
            replace_obj("mouthSmile_L.obj", NEUTRAL[:12]),
            "mouthSmile_L.obj: 12 vertices, but generic_neutral_mesh.obj has 17",
        ),
        (
            replace_obj("identity001.obj", groups=[(m, [p[::-1] for p in ps]) for m, ps in GROUPS]),
            "identity001.obj: its faces differ from those of generic_neutral_mesh.obj",
        ),
        (
            replace_obj("identity001.obj", NEUTRAL),
            "identity001.obj: equals the neutral mesh, so it is no identity mode",
        ),
        (
            write_text("jawOpen.obj", "v 1 2 three\nf 1 2 3\n"),
            "jawOpen.obj: every 'v' line must hold the numbers x y z",
        ),
        (write_text("jawOpen.obj", "v 1 2 nan\n"), "jawOpen.obj: vertices contain NaN"),
        (
            write_text("generic_neutral_mesh.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 4\n"),
            "needs 3 or more vertices numbered 1..3",
        ),
        (
            replace_obj("generic_neutral_mesh.obj", NEUTRAL, [("M_EyeLashes", [p for _, ps in GROUPS for p in ps])]),
            "every face is an overlay",
        ),
        (edit_index(idx_to_landmark_verts=[0, 40]), "landmark vertex 40 is not a vertex of the mesh"),
        (edit_index(idx_to_landmark_verts=[0, 14]), "landmark vertex 14 lies on a mesh that is dropped"),
        (
            edit_text("generic_neutral_mesh.obj", "vt 1.0 0.0", "vt 1.0 zero"),
            "every 'vt' line must hold the numbers u v",
        ),
        (
            edit_text("generic_neutral_mesh.obj", "vt 0.0 1.0\n", ""),
            "face corners name texture coordinates 1..4, but the file has 3",
        ),
    ],
)
def test_bad_folders_give_one_clear_error(folder, damage, message):
    damage(folder)
    if message is None:
        assert load_ict_model(folder).n_id == 3
        return
    with pytest.raises(ModelFileError) as failure:
        load_ict_model(folder)
    assert message in str(failure.value)
    assert "\n" not in str(failure.value)


def test_non_ascii_digits_are_no_obj_numbers(folder):
    """int() reads "¹" and "١" as 1; OBJ numbers are ASCII, so a corner with "1/¹" simply has no UV."""
    edit_objs("f 1/1 ", "f 1/\u00b9 ")(folder)
    model = load_ict_model(folder)
    assert model.n_id == 2  # the layout is kept only when every corner has a UV: here there is none


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(ModelFileError, match="no such"):
        load_model(tmp_path / "nowhere")


def test_an_ict_folder_with_ict_counts_trains_and_generates_end_to_end(tmp_path, capsys):
    """100 identity + 53 expression modes, as ICT ships them: train both nets, then generate with them."""
    import main
    from app.dataset.shards import load_dataset

    folder = tmp_path / "FaceXModel"
    folder.mkdir()
    expressions = [f"shape{k:02d}" for k in range(53)]
    write_obj(folder / "generic_neutral_mesh.obj", NEUTRAL)
    for k in range(100):
        write_obj(folder / f"identity{k:03d}.obj", shape(100 + k))
    for k, name in enumerate(expressions):
        write_obj(folder / f"{name}.obj", shape(300 + k))
    (folder / "vertex_indices.json").write_text(
        json.dumps({"expressions": expressions, "idx_to_landmark_verts": LANDMARKS})
    )
    model = load_model(folder)
    assert (model.n_id, model.n_exp) == (100, 53)

    rng = np.random.default_rng(0)  # "fitted" faces: a few active modes each, in the model's units
    fits = tmp_path / "fits.npz"
    np.savez(
        fits,
        shape=rng.normal(size=(60, 100)) * model.ev("shape") * (rng.random((60, 100)) < 0.2),
        expression=np.abs(rng.normal(size=(60, 53))) * (rng.random((60, 53)) < 0.1),
    )
    checkpoints = tmp_path / "weights"
    checkpoints.mkdir()
    for kind in ("shape", "expression"):
        status = main.main(
            [
                "train",
                kind,
                "--model",
                str(folder),
                "--data",
                str(fits),
                "--epochs",
                "1",
                "--copies",
                "3",
                "--test-faces",
                "10",
                "--checkpoints",
                str(checkpoints),
                "--quiet",
            ]
        )
        assert status == 0, capsys.readouterr().err
    status = main.main(
        [
            "generate",
            str(tmp_path / "out"),
            "--model",
            str(folder),
            "--checkpoints",
            str(checkpoints),
            "--count",
            "6",
            "--quiet",
        ]
    )
    assert status == 0, capsys.readouterr().err
    dataset = load_dataset(tmp_path / "out")
    assert dataset["alpha_id"].shape == (6, 100) and dataset["alpha_exp"].shape == (6, 53)
    assert np.all(np.isfinite(dataset["alpha_id"])) and not np.allclose(dataset["alpha_id"], dataset["alpha_id_noisy"])
