"""The command line: info, train, denoise, export, and one `error:` line with exit 2 on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import pyvista
import torch
from core_fixtures import REPO, corner_points, write_fitted_mat

import main
from app.dataset.export import save_coefficients
from app.denoising.checkpoint import load_checkpoint
from app.denoising.checkpoint_folders import SHIPPED_CHECKPOINTS, user_checkpoints
from app.denoising.denoiser import Denoiser
from app.model.embedded_model import embedded_model


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_one_error_line(status: int, err: str, *words: str) -> None:
    assert status == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for word in words:
        assert word in lines[0], lines[0]


def test_info_describes_model_nets_and_checkpoints(capsys):
    status, out, err = run(capsys, "info")
    assert status == 0, err
    assert "embedded face model" in out
    assert f"{embedded_model().n_vertices:,} vertices" in out and "199 identity + 29 expression" in out
    assert out.count("16,353 parameters") == 2
    assert "5,837 faces loaded" in out


def test_info_reports_skipped_data_files(capsys, tmp_path):
    rng = np.random.default_rng(0)
    for i in range(3):
        write_fitted_mat(tmp_path / f"image{i}.mat", rng.normal(size=199), rng.normal(size=29))
    (tmp_path / "corrupt.mat").write_bytes(b"not matlab at all")
    status, out, err = run(capsys, "info", "--data", str(tmp_path))
    assert status == 0, err
    assert "3 faces loaded, 1 files skipped" in out
    assert "corrupt.mat" in out


def test_info_exits_2_on_a_data_path_it_cannot_use_after_printing_the_rest(capsys, tmp_path):
    status, out, err = run(capsys, "info", "--data", str(tmp_path / "nowhere"))
    assert_one_error_line(status, err, f"{tmp_path / 'nowhere'}: no such file or folder")
    assert "model:          embedded face model" in out and "data:           none" in out
    assert "checkpoints:    " in out and "shape: trained on" in out  # everything that could be read is there


def test_info_exits_2_on_checkpoints_it_cannot_use(capsys, tmp_path):
    (tmp_path / "shape.pt").write_text("not a checkpoint")
    status, out, err = run(capsys, "info", "--checkpoints", str(tmp_path))
    assert_one_error_line(status, err, f"{tmp_path / 'shape.pt'} is not a valid checkpoint file")
    assert "5,837 faces loaded" in out and "checkpoints:    not usable" in out


def test_train_writes_a_checkpoint_with_its_settings(capsys, tmp_path):
    status, _, err = run(
        capsys,
        "train",
        "shape",
        "--faces",
        "120",
        "--epochs",
        "1",
        "--copies",
        "2",
        "--test-faces",
        "20",
        "--output",
        str(tmp_path / "shape.pt"),
        "--quiet",
        "--device",
        "cpu",
    )
    assert status == 0, err
    metadata = load_checkpoint(tmp_path / "shape.pt", "shape", 199).metadata
    assert metadata["copies"] == 2 and metadata["epochs"] == 1 and metadata["test_faces"] == 20
    assert metadata["train_faces"] == 100 and metadata["device"] == "cpu"
    assert "120 faces" in metadata["data_source"]


def test_train_prints_the_improvement(capsys, tmp_path):
    status, out, err = run(
        capsys,
        "train",
        "expression",
        "--faces",
        "60",
        "--epochs",
        "1",
        "--copies",
        "2",
        "--test-faces",
        "10",
        "--output",
        str(tmp_path / "e.pt"),
        "--quiet",
        "--device",
        "cpu",
    )
    assert status == 0, err
    assert f"wrote {tmp_path / 'e.pt'}" in out and "× lower" in out


def test_train_without_an_output_writes_to_the_user_folder_never_the_shipped_weights(capsys, tmp_path, monkeypatch):
    shipped = {kind: (SHIPPED_CHECKPOINTS / f"{kind}.pt").read_bytes() for kind in ("shape", "expression")}
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    status, out, err = run(
        capsys,
        "train",
        "expression",
        "--faces",
        "60",
        "--epochs",
        "1",
        "--copies",
        "2",
        "--test-faces",
        "10",
        "--quiet",
        "--device",
        "cpu",
    )
    assert status == 0, err
    written = tmp_path / "data" / "face-manifold-explorer" / "checkpoints" / "expression.pt"
    assert f"→ {written}" in out and f"wrote {written}" in out
    assert f"use it with --checkpoints {written.parent}" in out and "the shipped weights are unchanged" in out
    assert load_checkpoint(written, "expression", 29).metadata["epochs_completed"] == 1
    assert {kind: (SHIPPED_CHECKPOINTS / f"{kind}.pt").read_bytes() for kind in ("shape", "expression")} == shipped
    monkeypatch.setenv("XDG_DATA_HOME", "relative/path")  # the XDG spec says to ignore it
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert user_checkpoints() == tmp_path / "home" / ".local" / "share" / "face-manifold-explorer" / "checkpoints"


def test_train_on_data_without_a_model_says_which_model_shows_the_coefficients(capsys, tmp_path):
    fits = tmp_path / "fits.npz"
    rng = np.random.default_rng(4)
    np.savez(fits, shape=rng.normal(size=(40, 199)) * 1e5, expression=rng.normal(size=(40, 29)))
    status, out, err = run(
        capsys,
        "train",
        "expression",
        "--data",
        str(fits),
        "--epochs",
        "1",
        "--copies",
        "1",
        "--test-faces",
        "5",
        "--quiet",
        "--device",
        "cpu",
        "--output",
        str(tmp_path / "e.pt"),
    )
    assert status == 0, err
    assert (
        f"note: no --model given, so the coefficients of {fits} will be shown on "
        f"{embedded_model().provenance.describe()}; give --model for the model they were fitted with"
    ) in out


def test_denoise_npz_to_npz(tiny_checkpoints, capsys, tmp_path):
    rng = np.random.default_rng(1)
    alpha_id, alpha_exp = rng.normal(size=(4, 199)) * 2e5, rng.normal(size=(4, 29)) * 2
    source = tmp_path / "in.npz"
    np.savez(source, alpha_id=alpha_id, alpha_exp=alpha_exp)
    status, _out, err = run(
        capsys,
        "denoise",
        str(source),
        str(tmp_path / "out.npz"),
        "--checkpoints",
        str(tiny_checkpoints),
        "--device",
        "cpu",
    )
    assert status == 0, err
    denoiser = Denoiser.from_folder(embedded_model(), tiny_checkpoints, device="cpu")
    with np.load(tmp_path / "out.npz") as result:
        np.testing.assert_array_equal(result["alpha_id"], alpha_id)
        np.testing.assert_allclose(result["alpha_id_denoised"], denoiser.denoise("shape", alpha_id), rtol=1e-6)
        np.testing.assert_allclose(result["alpha_exp_denoised"], denoiser.denoise("expression", alpha_exp), rtol=1e-6)
        assert str(result["model_digest"]) == embedded_model().digest
        assert str(result["model_name"]) == embedded_model().name


def test_denoise_accepts_dataset_names_and_one_table(tiny_checkpoints, capsys, tmp_path):
    source = tmp_path / "fits.npz"
    np.savez(source, expression=np.ones(29))
    status, _, err = run(
        capsys, "denoise", str(source), str(tmp_path / "out.npz"), "--checkpoints", str(tiny_checkpoints)
    )
    assert status == 0, err
    with np.load(tmp_path / "out.npz") as result:
        assert result["alpha_exp_denoised"].shape == (1, 29) and "alpha_id" not in result


@pytest.mark.parametrize("ascii_ply", [False, True])
def test_export_denoised_face(tiny_checkpoints, capsys, tmp_path, ascii_ply):
    rng = np.random.default_rng(2)
    alpha_id, alpha_exp = rng.normal(size=199) * 1e5, rng.normal(size=29)
    coefficients = save_coefficients(tmp_path / "face.json", alpha_id, alpha_exp)
    argv = [
        "export",
        str(tmp_path / "face.ply"),
        "--coefficients",
        str(coefficients),
        "--denoised",
        "--checkpoints",
        str(tiny_checkpoints),
    ] + (["--ascii"] if ascii_ply else [])
    status, _out, err = run(capsys, *argv)
    assert status == 0, err
    model = embedded_model()
    denoised = Denoiser.from_folder(model, tiny_checkpoints, device="cpu").denoise_face(alpha_id, alpha_exp)
    mesh = pyvista.read(tmp_path / "face.ply")
    assert mesh.n_points == model.n_vertices
    np.testing.assert_allclose(mesh.points, model.synthesize(*denoised) / 1e3, atol=1e-3)  # mm by default
    assert ((tmp_path / "face.ply").read_bytes()[:40].find(b"ascii") > 0) == ascii_ply
    assert b"comment unit millimetres\n" in (tmp_path / "face.ply").read_bytes()[:200]


def test_export_mean_face_as_obj(capsys, tmp_path):
    status, _, err = run(capsys, "export", str(tmp_path / "mean.obj"))
    assert status == 0, err
    model = embedded_model()
    mesh = pyvista.read(tmp_path / "mean.obj")
    np.testing.assert_allclose(corner_points(mesh), model.mean.reshape(-1, 3)[model.triangles] / 1e3, atol=1e-3)
    assert mesh.active_texture_coordinates is not None  # the embedded model's texture layout came along


@pytest.mark.parametrize(("unit", "name", "micrometres"), [("um", "micrometres", 1.0), ("m", "metres", 1e6)])
def test_export_writes_the_chosen_unit_and_names_it(capsys, tmp_path, unit, name, micrometres):
    status, out, err = run(capsys, "export", str(tmp_path / "mean.obj"), "--unit", unit, "--landmarks")
    assert status == 0, err
    model = embedded_model()
    text = (tmp_path / "mean.obj").read_text()
    assert text.startswith(f"# face-manifold-explorer\n# unit: {name}\nmtllib mean.mtl\n") and f"in {name}" in out
    assert "\nusemtl skin\n" in text and "newmtl skin" in (tmp_path / "mean.mtl").read_text()
    mesh = pyvista.read(tmp_path / "mean.obj")
    expected = model.mean.reshape(-1, 3)[model.triangles] / micrometres
    np.testing.assert_allclose(corner_points(mesh), expected, atol=1.0 / micrometres)
    document = json.loads((tmp_path / "mean.landmarks.json").read_text())
    assert document["unit"] == unit
    landmarks = model.mean.reshape(-1, 3)[document["vertex_indices"]] / micrometres
    np.testing.assert_allclose(document["points"], landmarks, atol=1.0 / micrometres)


def test_export_refuses_an_unknown_unit(capsys, tmp_path):
    status, _, err = run(capsys, "export", str(tmp_path / "mean.obj"), "--unit", "inch")
    assert status == 2 and "inch" in err
    assert not (tmp_path / "mean.obj").exists()


def test_export_writes_the_landmarks_beside_the_mesh(capsys, tmp_path):
    rng = np.random.default_rng(4)
    model = embedded_model()
    alpha_id, alpha_exp = rng.normal(size=199) * 1e5, np.abs(rng.normal(size=29))
    coefficients = save_coefficients(tmp_path / "face.json", alpha_id, alpha_exp)
    status, out, err = run(
        capsys, "export", str(tmp_path / "face.ply"), "--coefficients", str(coefficients), "--landmarks"
    )
    assert status == 0, err
    document = json.loads((tmp_path / "face.landmarks.json").read_text())
    assert document["model_digest"] == model.digest and len(document["vertex_indices"]) == 68
    mesh = pyvista.read(tmp_path / "face.ply")
    np.testing.assert_allclose(document["points"], mesh.points[document["vertex_indices"]], atol=1.0)
    assert "68 landmarks" in out


def test_landmarks_of_a_model_without_them_are_refused_before_writing(capsys, small_bfm, tmp_path):
    import scipy.io
    from core_fixtures import bfm_fields

    fields = bfm_fields()
    del fields["kpt_ind"]
    scipy.io.savemat(tmp_path / "BFM.mat", {"model": fields})
    status, _, err = run(
        capsys, "export", str(tmp_path / "face.obj"), "--model", str(tmp_path / "BFM.mat"), "--landmarks"
    )
    assert_one_error_line(status, err, "has no landmarks")
    assert not (tmp_path / "face.obj").exists()


# --- bad input: one line, exit status 2 ----------------------------------------------------------


def test_missing_model_file(capsys, tmp_path):
    missing = tmp_path / "BFM.mat"
    status, _, err = run(capsys, "info", "--model", str(missing))
    assert_one_error_line(status, err, str(missing))


def test_npz_without_tables_and_broken_npz(capsys, tmp_path):
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, something_else=np.zeros(3))
    status, _, err = run(capsys, "denoise", str(wrong), str(tmp_path / "out.npz"))
    assert_one_error_line(status, err, str(wrong), "alpha_id")
    truncated = tmp_path / "truncated.npz"
    np.savez(truncated, alpha_id=np.zeros((50, 199)))
    truncated.write_bytes(truncated.read_bytes()[:300])
    status, _, err = run(capsys, "denoise", str(truncated), str(tmp_path / "out.npz"))
    assert_one_error_line(status, err, str(truncated))
    assert not (tmp_path / "out.npz").exists()


def test_wrong_table_width(tiny_checkpoints, capsys, tmp_path):
    source = tmp_path / "in.npz"
    np.savez(source, alpha_id=np.zeros((2, 150)))
    status, _, err = run(
        capsys, "denoise", str(source), str(tmp_path / "out.npz"), "--checkpoints", str(tiny_checkpoints)
    )
    assert_one_error_line(status, err, "199")


def test_unwritable_outputs(tiny_checkpoints, capsys, tmp_path):
    status, _, err = run(capsys, "export", str(tmp_path / "missing" / "face.obj"))
    assert_one_error_line(status, err, "face.obj")
    status, _, err = run(capsys, "export", str(tmp_path / "face.stl"))
    assert_one_error_line(status, err, "face.stl")
    source = tmp_path / "in.npz"
    np.savez(source, alpha_exp=np.zeros((1, 29)))
    status, _, err = run(
        capsys, "denoise", str(source), str(tmp_path / "missing" / "out.npz"), "--checkpoints", str(tiny_checkpoints)
    )
    assert_one_error_line(status, err, "out.npz")
    status, _, err = run(
        capsys,
        "train",
        "expression",
        "--faces",
        "40",
        "--epochs",
        "1",
        "--copies",
        "1",
        "--test-faces",
        "5",
        "--quiet",
        "--output",
        str(tmp_path / "missing" / "e.pt"),
    )
    assert_one_error_line(status, err, "e.pt")


def test_wrong_checkpoints_folder(capsys, tmp_path):
    source = tmp_path / "in.npz"
    np.savez(source, alpha_exp=np.zeros((1, 29)))
    checkpoints = tmp_path / "weights"
    checkpoints.mkdir()
    status, _, err = run(capsys, "denoise", str(source), str(tmp_path / "out.npz"), "--checkpoints", str(checkpoints))
    assert_one_error_line(status, err, "shape.pt")


def test_bad_training_settings(capsys, tmp_path):
    for extra, word in (
        (["--faces", "30", "--test-faces", "40"], "test faces"),
        (["--faces", "30", "--epochs", "0"], "epochs"),
        (["--faces", "30", "--sigma", "-1"], "positive"),
    ):
        status, _, err = run(capsys, "train", "expression", "--quiet", "--output", str(tmp_path / "e.pt"), *extra)
        assert_one_error_line(status, err, word)
    assert not (tmp_path / "e.pt").exists()


def test_coefficients_for_another_model(capsys, tmp_path):
    coefficients = tmp_path / "c.json"
    coefficients.write_text(json.dumps({"alpha_id": [0.0] * 100, "alpha_exp": [0.0] * 29}))
    status, _, err = run(capsys, "export", str(tmp_path / "face.obj"), "--coefficients", str(coefficients))
    assert_one_error_line(status, err, "199")
    assert not (tmp_path / "face.obj").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_a_gpu(capsys, tmp_path):
    status, _, err = run(
        capsys,
        "train",
        "expression",
        "--faces",
        "30",
        "--test-faces",
        "5",
        "--quiet",
        "--device",
        "cuda",
        "--output",
        str(tmp_path / "e.pt"),
    )
    assert_one_error_line(status, err, "cuda")


def test_real_process_exit_status_and_help():
    """As a user runs it: a separate process, exit status 2 and one line on stderr."""
    done = subprocess.run(
        [sys.executable, "main.py", "info", "--model", "/nonexistent/BFM.mat"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "error: /nonexistent/BFM.mat: no such model file"
    for command in ("info", "train", "denoise", "export"):
        with pytest.raises(SystemExit) as exit_info:
            main.main([command, "--help"])
        assert exit_info.value.code == 0


def test_the_parser_imports_no_command_implementation():
    """Every command module adds its parser, but only the handler that runs imports numpy, torch, matplotlib…"""
    probe = (
        "import sys, main\n"
        "try:\n    main.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.partition('.')[0] in "
        "('numpy', 'torch', 'matplotlib', 'PySide6', 'widgets') or m in ('app.workspace', 'app.evaluation')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout + done.stderr


def test_every_command_has_a_handler_but_the_windows_main_opens():
    from app.commands import build_parser
    from app.commands.evaluate import EXPERIMENT_NAMES
    from app.evaluation import EXPERIMENTS

    parser = build_parser()
    commands = next(action for action in parser._actions if action.dest == "command").choices
    assert commands is not None and len(commands) == 13
    without_handler = {name for name, command in commands.items() if command.get_default("handler") is None}
    assert without_handler == {"rate"} and without_handler | {None} == set(main.WINDOWS)
    assert set(EXPERIMENT_NAMES) == {*EXPERIMENTS, "frontier"}  # listed apart so that parsing imports no matplotlib


# --- a real (small) BFM file with --model ---------------------------------------------------------


@pytest.fixture
def small_bfm(tmp_path):
    from core_fixtures import bfm_fields, write_bfm

    return write_bfm(tmp_path / "BFM.mat", bfm_fields())


def test_info_with_a_bfm_file_warns_about_the_checkpoints(capsys, small_bfm):
    status, out, err = run(capsys, "info", "--model", str(small_bfm))
    assert status == 0, err
    assert str(small_bfm) in out and "20 vertices, 24 triangles" in out
    assert "data:           none" in out and "--data" in out
    model = embedded_model().provenance.describe()
    assert f"warning: the shape network was made on {model}, but {small_bfm} [" in out
    assert f"; the expression network was made on {model}" in out


def test_export_with_a_bfm_file(capsys, small_bfm, tmp_path):
    from core_fixtures import bfm_fields

    coefficients = save_coefficients(tmp_path / "c.npz", np.linspace(-1, 1, 199) * 1e4, np.linspace(1, -1, 29))
    status, _, err = run(
        capsys, "export", str(tmp_path / "face.obj"), "--model", str(small_bfm), "--coefficients", str(coefficients)
    )
    assert status == 0, err
    fields = bfm_fields()
    expected = (
        fields["shapeMU"][:, 0]
        + fields["expMU"][:, 0]
        + fields["shapePC"] @ (np.linspace(-1, 1, 199) * 1e4)
        + fields["expPC"] @ np.linspace(1, -1, 29)
    ).reshape(-1, 3) / 1e3  # the file is in mm, export's default
    mesh = pyvista.read(tmp_path / "face.obj")
    np.testing.assert_allclose(mesh.points, expected, atol=1e-5 * np.abs(expected).max())
    np.testing.assert_array_equal(mesh.faces.reshape(-1, 4)[:, 1:], fields["tri"].T.astype(int) - 1)


def test_training_a_bfm_needs_its_fitted_data(capsys, small_bfm, tmp_path):
    status, _, err = run(capsys, "train", "shape", "--model", str(small_bfm), "--output", str(tmp_path / "s.pt"))
    assert_one_error_line(status, err, "--data")
    status, _, err = run(
        capsys, "train", "shape", "--model", str(small_bfm), "--faces", "50", "--output", str(tmp_path / "s.pt")
    )
    assert_one_error_line(status, err, "--faces")


def test_training_a_bfm_on_a_folder_of_fitted_files(capsys, small_bfm, tmp_path):
    rng = np.random.default_rng(3)
    for i in range(12):
        write_fitted_mat(tmp_path / "fits" / f"image{i:05d}.mat", rng.normal(size=199) * 1e5, rng.normal(size=29))
    status, out, err = run(
        capsys,
        "train",
        "expression",
        "--model",
        str(small_bfm),
        "--data",
        str(tmp_path / "fits"),
        "--epochs",
        "1",
        "--copies",
        "2",
        "--test-faces",
        "3",
        "--quiet",
        "--device",
        "cpu",
        "--output",
        str(tmp_path / "expression.pt"),
    )
    assert status == 0, err
    metadata = load_checkpoint(tmp_path / "expression.pt", "expression", 29).metadata
    assert metadata["model_name"] == str(small_bfm) and metadata["data_source"] == str(tmp_path / "fits")
    assert len(metadata["model_digest"]) == 64 and "note: no --model given" not in out
    assert metadata["train_faces"] == 9 and metadata["test_faces"] == 3


def test_explorer_without_a_display_says_so_instead_of_aborting():
    environment = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    finished = subprocess.run(
        [sys.executable, str(REPO / "main.py")], env=environment, capture_output=True, text=True, timeout=120
    )
    assert finished.returncode == 2, finished.stderr
    assert finished.stderr.startswith("error: no display") and "xvfb-run" in finished.stderr


def test_main_only_parses_and_dispatches() -> None:
    """Adding a command touches its own module of app/commands/, never main.py: it stays short."""
    assert len((REPO / "main.py").read_text().splitlines()) < 60
