"""What the product refuses: no bad input reaches a traceback, no output lands on data the user has.

One section per class of problem: training that diverges, outputs over inputs or other data,
hostile values, readers that trust sizes, rater ids and model identity, votes outside a package's
file, output consistency, and errors that must stay one line.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from core_fixtures import REPO, bfm_fields, write_bfm, write_fitted_mat
from test_ratings import MODEL, make_study

import main
from app.dataset.export import save_coefficients
from app.dataset.face_preset_file import write_preset_file
from app.dataset.format_300w_lp import read_300w_lp, write_label
from app.dataset.views import _picture
from app.denoising.checkpoint import load_checkpoint
from app.denoising.checkpoint_folders import SHIPPED_CHECKPOINTS
from app.denoising.training import TrainingConfig, train_denoiser
from app.errors import DatasetError, FaceExplorerError
from app.model.embedded_corpus import embedded_corpus
from app.model.embedded_model import embedded_model
from app.model.provenance import ModelProvenance
from app.model.sampling_settings import SamplingSettings
from app.npz_files import read_npz
from app.rendering.camera import framing_camera
from app.study.database import RatingsDatabase
from app.study.packages import export_packages
from app.workspace import Workspace

OTHER_MODEL = ModelProvenance("another model", "ef" * 32)


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    status = main.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def one_error_line(status: int, err: str, *words: str) -> str:
    assert status == 2, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def corpus_files(folder: Path, count: int) -> None:
    corpus = embedded_corpus(count, seed=3)
    for row in range(count):
        write_fitted_mat(folder / f"face{row:03d}.mat", corpus.shape[row], corpus.expression[row])


@pytest.fixture
def checkpoints(tmp_path: Path) -> Path:
    """A copy of the shipped weights: good checkpoints that a run must not spoil."""
    folder = tmp_path / "weights"
    shutil.copytree(SHIPPED_CHECKPOINTS, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return folder


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --- training that diverges ---------------------------------------------------------------------


def test_a_fitted_file_far_beyond_any_plausible_value_is_skipped_at_load(tmp_path: Path) -> None:
    corpus_files(tmp_path / "data", 3)
    corpus = embedded_corpus(1, seed=3)
    write_fitted_mat(tmp_path / "data" / "huge.mat", corpus.shape[0], np.full(29, 1e300))
    data = Workspace(data_path=tmp_path / "data").data
    assert len(data) == 3
    ((file, reason),) = data.skipped
    assert file.endswith("huge.mat") and "Exp_Para holds 1e+300, beyond any plausible" in reason

    table = tmp_path / "table.npz"
    shape = np.zeros((4, 199))
    shape[2, 5] = -1e300
    np.savez(table, shape=shape, expression=np.zeros((4, 29)))
    with pytest.raises(DatasetError, match=r"the shape table holds 1e\+300, beyond any plausible .* \(row 2\)"):
        _ = Workspace(data_path=table).data


def test_a_published_coefficient_fit_far_beyond_any_plausible_value_is_skipped(tmp_path: Path) -> None:
    from published_models import write_flame_pickle

    flame = write_flame_pickle(tmp_path / "generic_model.pkl")
    fits = tmp_path / "fits"
    fits.mkdir()
    np.savez(fits / "a.npz", shape=np.full(100, 0.5), exp=np.full(50, 1.0))
    np.savez(fits / "huge.npz", shape=np.full(100, 0.5), exp=np.full(50, 1e300))
    data = Workspace(flame, fits).data
    assert data.face_ids == ["a"]
    assert "exp holds 1e+300, beyond any plausible fit" in dict(data.skipped)[str(fits / "huge.npz")]


def test_training_on_data_with_one_implausible_file_trains_on_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture, checkpoints: Path
) -> None:
    corpus_files(tmp_path / "data", 40)
    write_fitted_mat(tmp_path / "data" / "huge.mat", np.zeros(199), np.full(29, 1e300))
    status, out, err = run(
        capsys,
        *("train", "expression", "--data", str(tmp_path / "data"), "--checkpoints", str(checkpoints)),
        *("--epochs", "1", "--copies", "2", "--test-faces", "5", "--quiet"),
    )
    assert status == 0, err
    assert "nan" not in out
    assert load_checkpoint(checkpoints / "expression.pt", "expression", 29).metadata["train_faces"] == 35


def test_a_run_whose_loss_diverges_leaves_every_checkpoint_byte_identical(
    tmp_path: Path, capsys: pytest.CaptureFixture, checkpoints: Path
) -> None:
    before = folder_bytes(checkpoints)
    status, _, err = run(
        capsys,
        *("train", "expression", "--faces", "60", "--test-faces", "10", "--epochs", "2", "--copies", "2"),
        *("--lr", "1e30", "--checkpoints", str(checkpoints), "--quiet"),
    )
    one_error_line(status, err, "training diverged", "expression.pt is as it was before this run")
    assert folder_bytes(checkpoints) == before


@pytest.mark.parametrize("existed", [True, False])
def test_divergence_after_a_saved_epoch_puts_back_what_the_output_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, existed: bool
) -> None:
    import app.denoising.training as training

    output = tmp_path / "expression.pt"
    if existed:
        shutil.copy(SHIPPED_CHECKPOINTS / "expression.pt", output)
    before = output.read_bytes() if existed else None
    measured: list[float] = []
    measure = training._test_mse

    def second_epoch_diverges(*args: object) -> float:
        measured.append(measure(*args))
        return measured[-1] if len(measured) < 2 else float("nan")

    monkeypatch.setattr(training, "_test_mse", second_epoch_diverges)
    config = TrainingConfig.paper("expression", epochs=3, copies=2, test_faces=10, device="cpu")
    with pytest.raises(FaceExplorerError, match="the test MSE became nan in epoch 2"):
        train_denoiser(embedded_corpus(60, seed=1), config, MODEL, output, show_progress=False, log=lambda _: None)
    assert len(measured) == 2  # epoch 1 was saved over the output before epoch 2 diverged
    assert (output.read_bytes() if output.exists() else None) == before


def test_non_finite_learning_rates_and_sigmas_are_refused(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    for option in ("--lr", "--sigma", "--normalisation"):
        for value in ("inf", "nan"):
            status, _, err = run(
                capsys,
                *("train", "expression", "--faces", "30", "--test-faces", "5", "--epochs", "1", "--copies", "1"),
                *(option, value, "--quiet", "--output", str(tmp_path / "e.pt")),
            )
            one_error_line(status, err, "positive finite")
    assert not (tmp_path / "e.pt").exists()


# --- outputs inside inputs, or over other data -------------------------------------------------------


def test_the_helper_knows_the_kinds_it_guards(tmp_path: Path) -> None:
    from app.output_paths import CHECKPOINT, DATABASE, DATASET, MATLAB, existing_kind
    from app.output_paths import MODEL as FACE_MODEL

    study = tmp_path / "study.db"
    make_study(study).close()
    np.savez(tmp_path / "fitted.npz", shape=np.zeros((1, 199)), expression=np.zeros((1, 29)))
    save_coefficients(tmp_path / "face.npz", np.zeros(199), np.zeros(29))
    write_fitted_mat(tmp_path / "fitted.mat", np.zeros(199), np.zeros(29))
    (tmp_path / "dataset").mkdir()
    (tmp_path / "dataset" / "manifest.json").write_text("{}")
    (tmp_path / "ict").mkdir()
    (tmp_path / "ict" / "generic_neutral_mesh.obj").write_text("v 0 0 0\n")
    (tmp_path / "notes.txt").write_text("mine")
    kinds = {
        study: DATABASE,
        SHIPPED_CHECKPOINTS / "shape.pt": CHECKPOINT,
        REPO / "app/model/data/embedded_face.npz": FACE_MODEL,
        REPO / "app/model/data/embedded_face_uv.npz": FACE_MODEL,
        tmp_path / "fitted.npz": DATASET,
        tmp_path / "fitted.mat": MATLAB,
        tmp_path / "dataset": DATASET,
        tmp_path / "ict": FACE_MODEL,
        tmp_path / "face.npz": None,  # a coefficient file: any writer may replace it
        tmp_path / "notes.txt": None,
        tmp_path / "missing": None,
    }
    assert {path: existing_kind(path) for path in kinds} == kinds


def test_the_rule_of_the_helper(tmp_path: Path) -> None:
    from app.output_paths import CHECKPOINT, refuse_output_over_input

    study = tmp_path / "study.db"
    make_study(study).close()
    folder = tmp_path / "data"
    folder.mkdir()
    inputs = {"study database": study, "--data": folder, "--model file": None}
    with pytest.raises(FaceExplorerError, match="is also the study database"):
        refuse_output_over_input(tmp_path / "sub" / ".." / "study.db", inputs, overwrite=True)
    with pytest.raises(FaceExplorerError, match=r"lies inside .*, the --data of this command"):
        refuse_output_over_input(folder / "deep" / "out.csv", inputs, overwrite=True)
    with pytest.raises(FaceExplorerError, match=r"holds .*study.db, the study database of this command"):
        refuse_output_over_input(tmp_path, inputs, overwrite=True)
    other = tmp_path / "other.db"
    shutil.copy(study, other)
    with pytest.raises(FaceExplorerError, match=r"is an SQLite database .* never overwritten"):
        refuse_output_over_input(other, {}, overwrite=True)
    weights = tmp_path / "weights.pt"
    shutil.copy(SHIPPED_CHECKPOINTS / "shape.pt", weights)
    with pytest.raises(FaceExplorerError, match="is a network checkpoint; give --overwrite"):
        refuse_output_over_input(weights, {})
    refuse_output_over_input(weights, {}, overwrite=True)
    refuse_output_over_input(weights, {}, writes=CHECKPOINT)  # train writes checkpoints
    refuse_output_over_input(tmp_path / "elsewhere" / "out.csv", inputs)


def test_export_into_the_model_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from test_ict_model import write_ict_folder

    model = write_ict_folder(tmp_path / "FaceXModel")
    before = folder_bytes(model)
    for name in ("face.obj", "sub/face.ply", "identity002.obj"):
        status, _, err = run(capsys, "export", str(model / name), "--model", str(model), "--overwrite")
        one_error_line(status, err, "lies inside", "the --model folder of this command")
    assert folder_bytes(model) == before
    status, _, err = run(capsys, "export", str(tmp_path / "face.obj"), "--model", str(model))
    assert status == 0, err


def test_a_3ddfa_models_other_half_is_an_input(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from core_fixtures import write_3ddfa

    shape, expression = write_3ddfa(tmp_path, bfm_fields())
    np.savez(tmp_path / "in.npz", alpha_exp=np.zeros((1, 29)))
    before = expression.read_bytes()
    status, _, err = run(capsys, "denoise", str(tmp_path / "in.npz"), str(expression), "--model", str(shape))
    one_error_line(status, err, "Model_Exp.mat")
    assert expression.read_bytes() == before


@pytest.fixture(scope="module")
def study_in_its_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("study") / "S.db"
    assert main.main(["rate-study", str(path), "--faces", "2", "--conditions", "uniform-raw"]) == 0
    return path


def test_rate_report_into_the_studys_own_folder_is_refused(
    study_in_its_folder: Path, capsys: pytest.CaptureFixture
) -> None:
    folder = study_in_its_folder.parent
    before = folder_bytes(folder)
    for output in (folder, folder / "..", folder.parent):
        status, _, err = run(capsys, "rate-report", str(study_in_its_folder), "--output", str(output))
        one_error_line(status, err, "S.db, the study database of this command")
    status, _, err = run(capsys, "rate-package", str(study_in_its_folder), str(folder))
    one_error_line(status, err, "S.db, the study database of this command")
    assert folder_bytes(folder) == before


def test_no_writer_replaces_another_study_or_package(
    study_in_its_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    other = tmp_path / "other.db"
    make_study(other).close()
    with RatingsDatabase.open(other) as study:
        (package,) = export_packages(study, tmp_path / "packages", 1)
    named_like_a_preset = tmp_path / "other.json"  # the kind is read from the content, not the name
    shutil.copy(other, named_like_a_preset)
    table = tmp_path / "in.npz"
    np.savez(table, alpha_exp=np.zeros((1, 29)))
    study = str(study_in_its_folder)
    for target in (other, package, named_like_a_preset):
        before = target.read_bytes()
        for argv in (
            ["rate-export-csv", study, str(target)],
            ["rate-report", study, "--output", str(tmp_path / "report"), "--csv", str(target)],
            ["rate-report", study, "--output", str(target)],
            ["rate-face", study, "1", str(target)],
            ["rate-package", study, str(target)],
            ["denoise", str(table), str(target)],
            ["train", "expression", "--faces", "30", "--output", str(target)],
            ["export", str(target), "--coefficients", str(tmp_path / "missing.json")],
            ["generate", str(target), "--count", "1"],
            ["evaluate", "diversity", "--output", str(target)],
        ):
            for overwrite in ([], ["--overwrite"]):  # --overwrite never applies to a database
                if overwrite and argv[0] == "rate-package":
                    continue  # packages are never overwritten: it has no such option
                status, _, err = run(capsys, *argv, *overwrite)
                one_error_line(status, err, "is an SQLite database", "never overwritten")
        assert target.read_bytes() == before


def test_models_checkpoints_and_datasets_are_replaced_only_with_overwrite(
    study_in_its_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    table = tmp_path / "in.npz"
    np.savez(table, alpha_exp=np.zeros((1, 29)))
    model = tmp_path / "model.npz"
    shutil.copy(REPO / "app/model/data/embedded_face_uv.npz", model)
    fitted = tmp_path / "fitted.npz"
    np.savez(fitted, shape=np.zeros((2, 199)), expression=np.zeros((2, 29)))
    weights = tmp_path / "weights.csv"
    shutil.copy(SHIPPED_CHECKPOINTS / "shape.pt", weights)
    for argv, target, kind in (
        (["denoise", str(table), str(model)], model, "a face model"),
        (["denoise", str(table), str(fitted)], fitted, "a dataset"),
        (["rate-export-csv", str(study_in_its_folder), str(weights)], weights, "a network checkpoint"),
    ):
        before = target.read_bytes()
        status, _, err = run(capsys, *argv)
        one_error_line(status, err, f"is {kind}; give --overwrite")
        assert target.read_bytes() == before
        status, _, err = run(capsys, *argv, "--overwrite")
        assert status == 0 and target.read_bytes() != before, err
    save_coefficients(tmp_path / "face.npz", np.zeros(199), np.zeros(29))
    status, _, err = run(capsys, "denoise", str(table), str(tmp_path / "face.npz"))  # an ordinary file
    assert status == 0, err


def test_generate_refuses_to_write_into_its_background_folder(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    pictures = tmp_path / "backgrounds"
    pictures.mkdir()
    (pictures / "sky.png").write_bytes(b"")
    status, _, err = run(
        capsys, "generate", str(pictures / "out"), "--images", "--background", str(pictures), "--count", "1"
    )
    one_error_line(status, err, "lies inside", "the --background folder of this command")
    assert sorted(p.name for p in pictures.iterdir()) == ["sky.png"]


# --- hostile values -------------------------------------------------------------------------------

DEEP = "[" * 100_000
HUGE_INTEGER = "9" * 400


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (DEEP, "nested too deeply"),
        ('{"alpha_id": [' + HUGE_INTEGER + '], "alpha_exp": [0]}', "an integer of 400 digits"),
        ('{"alpha_id": [1e400], "alpha_exp": [0]}', "the number 1e400 is too large"),
        ('{"alpha_id": [Infinity], "alpha_exp": [0]}', "Infinity is not a number JSON allows"),
        ('{"alpha_id": [[0, [1]]], "alpha_exp": [0]}', "'alpha_id' must be a list of numbers (it holds a nested list)"),
        ('{"alpha_id": [[0, 1], [2]], "alpha_exp": [0]}', "'alpha_id' holds rows of different lengths"),
        ('{"alpha_id": [0], "alpha_exp": {"a": 1}}', "'alpha_exp' must be a list of numbers (found dict)"),
        ("\udcff", "not valid JSON"),
    ],
)
def test_hostile_coefficient_files_are_one_line_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture, text: str, message: str
) -> None:
    path = tmp_path / "face.json"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    status, _, err = run(capsys, "export", str(tmp_path / "face.obj"), "--coefficients", str(path))
    one_error_line(status, err, str(path), message)
    assert not (tmp_path / "face.obj").exists()


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        (DEEP, "nested too deeply"),
        ('{"faces_per_condition": ' + "1" * 300 + "}", "an integer of 300 digits"),
        ('{"seed": Infinity}', "Infinity is not a number JSON allows"),
        ('{"r_shape": NaN}', "NaN is not a number JSON allows"),
    ],
)
def test_hostile_study_definitions_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, definition: str, message: str
) -> None:
    (tmp_path / "study.json").write_text(definition)
    status, _, err = run(capsys, "rate-study", str(tmp_path / "S.db"), "--definition", str(tmp_path / "study.json"))
    one_error_line(status, err, "study.json", message)
    assert not (tmp_path / "S.db").exists()


def test_an_infinite_seed_in_a_presets_origin_is_refused(tmp_path: Path) -> None:
    from app.explorer.face_origin import FaceOrigin
    from app.explorer.face_preset import load_preset

    model = embedded_model()
    origin = {"source": "sampled", "seed": 1e300, "distribution": "uniform", "value_range": 10.0}
    path = write_preset_file(
        tmp_path / "p.json", np.zeros(199), np.zeros(29), model.provenance, SamplingSettings(), origin={}
    )
    document = json.loads(path.read_text())
    for seed in ("Infinity", "1e300", '"\\u0661"'):
        document["origin"] = {"shape": origin, "expression": origin}
        path.write_text(json.dumps(document).replace("1e+300", seed))
        with pytest.raises(FaceExplorerError, match=str(path)):
            load_preset(path, 199, 29)
    with pytest.raises(FaceExplorerError, match="seed"):
        FaceOrigin.from_record({"shape": {**origin, "seed": 10**30}, "expression": origin})


def test_a_deep_manifest_and_a_deep_face_row_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "dataset").mkdir()
    (tmp_path / "dataset" / "manifest.json").write_text(DEEP)
    status, _, err = run(capsys, "generate", "--describe", str(tmp_path / "dataset"))
    one_error_line(status, err, "manifest.json", "nested too deeply")

    make_study(tmp_path / "study.db").close()
    with sqlite3.connect(tmp_path / "study.db") as connection:
        connection.execute("UPDATE faces SET alpha_id = ? WHERE face_id = 2", (DEEP,))
        connection.execute("UPDATE faces SET alpha_exp = ? WHERE face_id = 3", ("[" + HUGE_INTEGER * 2 + "]",))
    connection.close()
    status, _, err = run(capsys, "rate-export-csv", str(tmp_path / "study.db"), str(tmp_path / "votes.csv"))
    one_error_line(status, err, "face 2 has corrupt alpha_id")


SIZE_OPTIONS = [
    ["evaluate", "diversity", "--vectors"],
    ["evaluate", "plausibility", "--mesh-faces"],
    ["evaluate", "scatter", "--scatter-points"],
    ["evaluate", "sigma-grid", "--epochs"],
    ["evaluate", "sigma-grid", "--copies"],
    ["train", "shape", "--epochs"],
    ["train", "shape", "--batch-size"],
    ["train", "shape", "--copies"],
    ["train", "shape", "--test-faces"],
    ["train", "shape", "--faces"],
    ["generate", "OUT", "--count"],
    ["generate", "OUT", "--shard-size"],
    ["generate", "OUT", "--random-views"],
    ["generate", "OUT", "--image-size"],
    ["generate", "OUT", "--workers"],
    ["rate-study", "OUT", "--faces"],
    ["rate-study", "OUT", "--raters"],
    ["rate-study", "OUT", "--catch-trials"],
    ["rate-study", "OUT", "--repeated-faces"],
    ["rate-package", "S.db", "OUT", "--raters"],
    ["rate-package", "S.db", "--web", "OUT", "--turntable"],
    ["rate-package", "S.db", "--web", "OUT", "--image-size"],
]


@pytest.mark.parametrize("option", SIZE_OPTIONS, ids=lambda option: " ".join(option[::2]))
@pytest.mark.parametrize("value", ["1000000000000", "-5", "9" * 400, "\u0661\u0662", "2.5"])
def test_every_size_option_refuses_absurd_sizes_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, option: list[str], value: str
) -> None:
    argv = [str(tmp_path / part) if part in ("OUT", "S.db") else part for part in option]
    status, _, err = run(capsys, *argv, value)
    one_error_line(status, err, option[-1])
    assert not (tmp_path / "OUT").exists()


def few_modes_model(path: Path, n_exp: int) -> Path:
    fields = bfm_fields()
    fields["expPC"], fields["expEV"] = fields["expPC"][:, :n_exp], fields["expEV"][:n_exp]
    return write_bfm(path, fields)


def test_a_model_with_fewer_modes_than_the_network_pools_is_described_and_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    model = few_modes_model(tmp_path / "BFM.mat", 10)
    for row in range(20):
        write_fitted_mat(tmp_path / "data" / f"f{row}.mat", np.full(199, row * 10.0), np.full(10, row / 20))
    status, out, err = run(capsys, "info", "--model", str(model), "--data", str(tmp_path / "data"))
    assert status == 0, err
    assert "expression net: none (a denoising network needs at least 16 coefficients" in out
    status, _, err = run(
        capsys,
        *("train", "expression", "--model", str(model), "--data", str(tmp_path / "data")),
        *("--test-faces", "4", "--quiet", "--output", str(tmp_path / "e.pt")),
    )
    one_error_line(status, err, "at least 16 coefficients", "this model has 10")
    assert not (tmp_path / "e.pt").exists()


def png_header(path: Path, width: int, height: int) -> Path:
    """A PNG that declares ``width`` × ``height`` pixels in a few bytes (a decompression bomb's header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    )
    return path


@pytest.mark.parametrize("side", [10_000, 40_000])  # beyond Pillow's warning, and beyond its error
def test_a_decompression_bomb_background_is_refused_undecoded(tmp_path: Path, side: int) -> None:
    from app.png_files import read_rgb

    bomb = png_header(tmp_path / "bomb.png", side, side)
    with pytest.raises(FaceExplorerError, match=r"bomb.png: more pixels than a picture here may have"):
        _picture(bomb, 64)
    with pytest.raises(FaceExplorerError, match=r"bomb.png: more pixels"):
        read_rgb(bomb)


def test_a_damaged_picture_is_one_error(tmp_path: Path) -> None:
    png_header(tmp_path / "empty.png", 8, 8)  # declares 64 pixels, holds none
    with pytest.raises(FaceExplorerError, match=r"background picture .*empty.png: cannot read it"):
        _picture(tmp_path / "empty.png", 16)


def strict_utf8_run(*argv: str | bytes) -> subprocess.CompletedProcess[bytes]:
    """``python main.py`` in a UTF-8 locale whose stdout and stderr refuse what is not UTF-8."""
    environment = {**os.environ, "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8:strict"}
    return subprocess.run(
        [sys.executable, str(REPO / "main.py"), *argv], capture_output=True, env=environment, timeout=300, check=False
    )


def test_file_names_that_are_not_utf8_are_printed_escaped(tmp_path: Path) -> None:
    name = os.fsencode(tmp_path) + b"/face\xff.obj"
    done = strict_utf8_run("export", name)
    assert done.returncode == 0, done.stderr
    assert b"face\\udcff.obj" in done.stdout and os.path.exists(name)
    done = strict_utf8_run("export", os.fsencode(tmp_path) + b"/out.obj", "--coefficients", name + b".json")
    assert done.returncode == 2 and done.stderr.count(b"\n") == 1 and b"face\\udcff.obj.json" in done.stderr


# --- readers that trust sizes ----------------------------------------------------------------------


def npy_bytes(shape: tuple[int, ...], values: np.ndarray) -> bytes:
    """An .npy member whose header declares ``shape`` while it holds ``values``."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f8", "fortran_order": False, "shape": shape})
    return buffer.getvalue() + values.astype("<f8").tobytes()


def test_an_npz_whose_header_declares_more_than_it_holds_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "liar.npz"
    with zipfile.ZipFile(path, "w") as archive:  # what np.savez writes, but for the header of 'shape'
        archive.writestr("shape.npy", npy_bytes((10**13,), np.zeros(10)))
        archive.writestr("expression.npy", npy_bytes((10,), np.zeros(10)))
    with pytest.raises(FaceExplorerError, match=r"'shape.npy' declares \(10000000000000,\) values but holds fewer"):
        read_npz(path)
    with pytest.raises(DatasetError, match="declares"):
        _ = Workspace(data_path=path).data


def test_a_fitted_parameter_file_far_larger_than_any_is_skipped_unread(tmp_path: Path) -> None:
    corpus_files(tmp_path, 2)
    with open(tmp_path / "huge.mat", "wb") as handle:
        handle.truncate(100 << 20)  # sparse: no disk used
    data = Workspace(data_path=tmp_path).data
    assert len(data) == 2 and "far larger than a fitted-parameter file can be" in data.skipped[0][1]


# --- rater ids and model identity -----------------------------------------------------------------


@pytest.fixture
def study_and_package(tmp_path: Path) -> tuple[Path, Path]:
    make_study(tmp_path / "study.db").close()
    with RatingsDatabase.open(tmp_path / "study.db") as study:
        (package,) = export_packages(study, tmp_path / "packages", 1)
    return tmp_path / "study.db", package


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("rater", "", "rater ID '' is refused by the rater window"),
        ("rater", " ann ", "rater ID ' ann ' has spaces around it"),
        ("rater", "ann\nbob", "rater ID 'ann\\nbob' is refused by the rater window (rater ID contains control"),
        ("rater", "x" * 65, "is refused by the rater window (rater ID is 65 characters long"),
        ("model_identity", "cd" * 32, "it was cast on another face model ('cdcdcdcdcdcd')"),
    ],
)
def test_rate_merge_refuses_votes_the_rater_window_could_not_have_cast(
    study_and_package: tuple[Path, Path], capsys: pytest.CaptureFixture, column: str, value: str, message: str
) -> None:
    study, package = study_and_package
    with RatingsDatabase.open(package) as database:
        database.record_vote("ann", 1, "accept", "t0", "t1", 5, MODEL.digest)
        database.record_vote("ann", 2, "reject", "t2", "t3", 5, MODEL.digest)
    with sqlite3.connect(package) as connection:
        connection.execute(f"UPDATE votes SET {column} = ? WHERE vote_id = 2", (value,))
    connection.close()
    status, _, err = run(capsys, "rate-merge", str(study), str(package))
    one_error_line(status, err, "vote 2 cannot be merged", message, "nothing was merged")
    with RatingsDatabase.open(study) as database:
        assert database.votes(include_undone=True) == []


def test_export_refuses_coefficients_recorded_for_another_model(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    files = [
        save_coefficients(tmp_path / "face.json", np.zeros(199), np.zeros(29), **OTHER_MODEL.to_record()),
        save_coefficients(tmp_path / "face.npz", np.zeros(199), np.zeros(29), **OTHER_MODEL.to_record()),
        write_preset_file(tmp_path / "preset.json", np.zeros(199), np.zeros(29), OTHER_MODEL, SamplingSettings()),
        save_coefficients(tmp_path / "old.json", np.zeros(199), np.zeros(29), model_identity="embedded:v1"),
    ]
    for path in files:
        status, _, err = run(capsys, "export", str(tmp_path / "face.obj"), "--coefficients", str(path))
        one_error_line(status, err, f"the coefficient file {path}")
    assert not (tmp_path / "face.obj").exists()
    mine = save_coefficients(
        tmp_path / "mine.json", np.zeros(199), np.zeros(29), **embedded_model().provenance.to_record()
    )
    status, _, err = run(capsys, "export", str(tmp_path / "face.obj"), "--coefficients", str(mine))
    assert status == 0, err


# --- votes outside the package file ------------------------------------------------------------------

KILLED_SESSION = """
import os, signal, sys
sys.path[:0] = [{tests!r}, {repo!r}]
from test_ratings import MODEL
from app.study.database import RatingsDatabase
from app.study.session import RatingSession
session = RatingSession(RatingsDatabase.open({package!r}), "ann", MODEL)
for choice in ("accept", "reject", "accept"):
    session.vote(choice)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_sessions_votes_are_in_the_package_file_alone(
    study_and_package: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    study, package = study_and_package
    code = KILLED_SESSION.format(tests=str(REPO / "tests"), repo=str(REPO), package=str(package))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=300, check=False)
    assert done.returncode == -signal.SIGKILL, done.stderr
    sent = tmp_path / "sent back" / package.name  # what the rater mails: the one file
    sent.parent.mkdir()
    shutil.copy(package, sent)
    status, out, err = run(capsys, "rate-merge", str(study), str(sent))
    assert status == 0 and "ann +3 vote(s)" in out, (out, err)


def test_a_wal_file_left_beside_a_package_is_read_and_named(
    study_and_package: tuple[Path, Path], capsys: pytest.CaptureFixture
) -> None:
    """A package of an older version kept its votes in PACKAGE-wal until the session closed."""
    study, package = study_and_package
    code = f"""
import os, sqlite3
connection = sqlite3.connect({str(package)!r}, isolation_level=None)
connection.execute("PRAGMA journal_mode = WAL")
study_key = connection.execute("SELECT value FROM study WHERE key = 'study_key'").fetchone()[0]
for face in (1, 2):
    connection.execute(
        "INSERT INTO votes (study, rater, face_id, condition, vote, shown_at, voted_at, decision_ms, app_version, "
        "model_identity) SELECT ?, 'bob', face_id, condition, 'accept', 't0', 't1', 5, 'old', ? FROM faces "
        "WHERE face_id = ?",
        (study_key, {MODEL.digest!r}, face),
    )
os._exit(0)
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)
    wal = Path(f"{package}-wal")
    assert wal.stat().st_size > 0
    status, out, err = run(capsys, "rate-merge", str(study), str(package))
    assert status == 0 and "bob +2 vote(s)" in out, (out, err)
    assert f"note: {wal} lay beside it" in out and not wal.exists()


# --- consistency of outputs ---------------------------------------------------------------------------


def test_300w_lp_files_need_exactly_68_landmarks(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    fields = bfm_fields()
    fields["kpt_ind"] = fields["kpt_ind"][:, :5]
    write_bfm(tmp_path / "BFM.mat", fields)
    status, _, err = run(
        capsys,
        *(
            "generate",
            str(tmp_path / "out"),
            "--count",
            "2",
            "--format",
            "300w-lp",
            "--model",
            str(tmp_path / "BFM.mat"),
        ),
    )
    one_error_line(status, err, "has 5 landmarks; 300W-LP files need 68 (pt2d)")
    assert not (tmp_path / "out").exists()

    camera = framing_camera(np.array([[-1.0, 1.0], [-1.0, 1.0], [-1.0, 1.0]]), 32, 32)
    with pytest.raises(DatasetError, match=r"300W-LP needs 68 landmarks \(pt2d\), got \(5, 2\)"):
        write_label(tmp_path / "face.mat", np.zeros(199), np.zeros(29), camera, np.zeros((5, 2)))
    assert not (tmp_path / "face.mat").exists()
    scipy.io.savemat(
        tmp_path / "label.mat",
        {
            "Shape_Para": np.zeros((199, 1)),
            "Exp_Para": np.zeros((29, 1)),
            "Pose_Para": np.zeros((1, 7)),
            "pt2d": np.zeros((2, 5)),
        },
    )
    with pytest.raises(DatasetError, match=r"pt2d has shape \(2, 5\), expected \(2, 68\)"):
        read_300w_lp(tmp_path / "label.mat")


def test_describe_and_resume_find_a_truncated_face_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    assert main.main(["generate", str(out), "--count", "2", "--shard-size", "1", "--meshes", "--quiet"]) == 0
    status, described, _ = run(capsys, "generate", "--describe", str(out))
    assert status == 0 and f"dataset {out}: complete" in described
    mesh = out / "meshes" / "shard-00001" / "face-00000001.ply"
    whole = mesh.read_bytes()
    mesh.write_bytes(whole[: len(whole) // 2])
    status, described, _ = run(capsys, "generate", "--describe", str(out))
    assert (
        status == 0
        and "unfinished" in described
        and "damaged:     1 recorded shard(s) no longer verify: 1" in described
    )
    assert (
        main.main(["generate", str(out), "--count", "2", "--shard-size", "1", "--meshes", "--quiet", "--resume"]) == 0
    )
    assert mesh.read_bytes() == whole


# --- errors that are one line ----------------------------------------------------------------------------


def test_a_line_break_in_a_file_name_stays_in_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    name = tmp_path / "two\nlines\r.json"
    status, _, err = run(capsys, "export", str(tmp_path / "face.obj"), "--coefficients", str(name))
    one_error_line(status, err, "two\\nlines\\r.json")


def test_warnings_never_print_before_an_error_and_follow_a_success(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    import app.commands.info as info

    def warns_then(outcome: BaseException | None):
        def handler(_: object) -> int:
            warnings.warn("overflow encountered in multiply", RuntimeWarning, stacklevel=1)
            if outcome is not None:
                raise outcome
            return 0

        return handler

    monkeypatch.setattr(info, "run", warns_then(FaceExplorerError("bad input\nsecond line")))
    status, _, err = run(capsys, "info")
    one_error_line(status, err, "bad input\\nsecond line")
    monkeypatch.setattr(info, "run", warns_then(None))
    with pytest.warns(RuntimeWarning, match="overflow"):
        assert main.main(["info"]) == 0


def test_a_bad_option_is_one_error_line(capsys: pytest.CaptureFixture) -> None:
    for argv, words in (
        (["evaluate", "nope"], ("invalid choice: 'nope'",)),
        (["generate"], ("the following arguments are required: output",)),
        (["export", "x.obj", "--no-such-option"], ("unrecognized arguments: --no-such-option",)),
        (["info", "--device"], ("--device", "expected one argument")),
    ):
        status, _, err = run(capsys, *argv)
        one_error_line(status, err, *words)
