"""A command never writes its output over one of its inputs, however the path is spelled."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import main
from app.errors import FaceExplorerError
from app.output_paths import refuse_output_over_input, same_file


def test_same_file_sees_through_spellings_and_links(tmp_path: Path) -> None:
    original = tmp_path / "study.db"
    original.write_text("x")
    (tmp_path / "sub").mkdir()
    os.link(original, tmp_path / "hard.db")
    (tmp_path / "soft.db").symlink_to(original)
    for spelling in (tmp_path / "sub" / ".." / "study.db", tmp_path / "hard.db", tmp_path / "soft.db"):
        assert same_file(spelling, original)
    assert same_file(tmp_path / "new.csv", tmp_path / "sub" / ".." / "new.csv")  # neither exists yet
    other = tmp_path / "other.db"
    other.write_text("x")
    assert not same_file(other, original) and not same_file(tmp_path / "new.csv", original)


def test_refusal_names_the_output_and_the_input(tmp_path: Path) -> None:
    study = tmp_path / "study.db"
    with pytest.raises(FaceExplorerError, match=r"study\.db is also the study database of this command"):
        refuse_output_over_input(tmp_path / "." / "study.db", {"--model file": None, "study database": study})
    refuse_output_over_input(tmp_path / "votes.csv", {"--model file": None, "study database": study})


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("study") / "S.db"
    assert main.main(["rate-study", str(path), "--faces", "2", "--conditions", "uniform-raw"]) == 0
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["rate-export-csv", "{study}", "{study}"],
        ["rate-report", "{study}", "--csv", "{study}"],
        ["rate-report", "{study}", "--output", "{study}"],
        ["rate-face", "{study}", "1", "{study}"],
    ],
)
def test_study_commands_never_replace_the_study(study: Path, capsys: pytest.CaptureFixture, command: list[str]) -> None:
    before = study.read_bytes()
    status = main.main([part.format(study=study) for part in command])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "is also the study database of this command" in err
    assert study.read_bytes() == before


def test_denoise_export_generate_and_train_refuse_their_inputs(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    table = tmp_path / "table.npz"
    np.savez(table, shape=np.zeros((2, 199)), expression=np.zeros((2, 29)))
    checkpoints = tmp_path / "checkpoints"
    checkpoints.mkdir()
    for kind in ("shape", "expression"):
        (checkpoints / f"{kind}.pt").write_bytes(b"weights")
    coefficients = tmp_path / "face.obj"
    coefficients.write_text("{}")
    cases = [
        (["denoise", str(table), str(tmp_path / "." / "table.npz")], "input table"),
        (["denoise", str(table), str(checkpoints / "shape.pt"), "--checkpoints", str(checkpoints)], "shape checkpoint"),
        (["export", str(coefficients), "--coefficients", str(coefficients)], "--coefficients file"),
        (["generate", str(checkpoints), "--checkpoints", str(checkpoints), "--count", "1"], "--checkpoints folder"),
        (["generate", str(tmp_path), "--data", str(tmp_path), "--count", "1"], "--data"),
        (["train", "expression", "--data", str(table), "--output", str(table)], "--data"),
    ]
    for argv, role in cases:
        status = main.main(argv)
        err = capsys.readouterr().err
        assert status == 2 and err.count("\n") == 1 and f"is also the {role} of this command" in err, (argv, err)
    assert table.read_bytes().startswith(b"PK") and coefficients.read_text() == "{}"
    assert (checkpoints / "shape.pt").read_bytes() == b"weights"
