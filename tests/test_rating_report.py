"""The report's files (Markdown, plot, rejected faces as presets) and the rating CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hand_rated_study import MODEL, hand_rated_study

from app.explorer.face_preset import load_preset
from app.study.database import RatingsDatabase
from app.study.report import markdown, write_report
from app.study.statistics import study_statistics
from main import main


@pytest.fixture
def study(tmp_path):
    database = hand_rated_study(tmp_path / "hand.db")
    yield database
    database.close()


def test_markdown_plot_and_rejected_presets(study, tmp_path):
    statistics = study_statistics(study)
    text = markdown(statistics)
    assert "| uniform-raw | 3 | 3 | 9 | 5 | 3 | 1 | 3 | 62.5 % | [30.6, 86.3] | 33.3 % (1/3) |" in text
    assert "| 0.526 |" in text and "| x | 5 | 80.0 % | 66.7 % | 100.0 % | 300 |" in text
    written = write_report(study, statistics, tmp_path / "report")
    names = sorted(p.relative_to(tmp_path / "report").as_posix() for p in written)
    assert names == [
        "acceptance.png",
        "raters_curve.png",
        "rejected/face-0002.json",
        "rejected/face-0003.json",
        "rejected_faces.json",
        "reliability_vs_diversity.png",
        "report.md",
    ]
    for figure in ("acceptance.png", "raters_curve.png", "reliability_vs_diversity.png"):
        assert (tmp_path / "report" / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Krippendorff's alpha and the rule against the number of raters, as counted in test_study_statistics
    assert "| 0.526 | 0.533 |" in text
    assert "| 1 | 66.7 % [35.0, 98.3] | 100.0 % [100.0, 100.0] |" in text
    assert "| 3 | 33.3 % [33.3, 33.3] | 100.0 % [100.0, 100.0] |" in text
    listing = json.loads((tmp_path / "report" / "rejected_faces.json").read_text())
    assert [f["face_id"] for f in listing["faces"]] == [2, 3] and listing["faces"][1]["alpha_exp"] == [-3.0] * 29
    preset = load_preset(tmp_path / "report" / "rejected" / "face-0003.json", 199, 29)
    assert np.array_equal(preset.alpha_id, np.full(199, 3.0)) and preset.model == MODEL


def test_cli_report_export_and_errors(study, tmp_path, capsys):
    path = str(study.path)
    assert main(["rate-report", path, "--output", str(tmp_path / "out"), "--csv", str(tmp_path / "votes.csv")]) == 0
    out = capsys.readouterr().out
    assert "62.5 %" in out and (tmp_path / "out" / "report.md").exists()
    assert len((tmp_path / "votes.csv").read_text().splitlines()) == 1 + 15  # header + every vote, the undone one too
    assert main(["rate-export-csv", path, str(tmp_path / "standing.csv"), "--standing-only"]) == 0
    assert len((tmp_path / "standing.csv").read_text().splitlines()) == 1 + 14
    assert main(["rate-face", path, "2", str(tmp_path / "face2.json")]) == 0
    assert np.array_equal(load_preset(tmp_path / "face2.json", 199, 29).alpha_exp, np.full(29, -2.0))
    capsys.readouterr()

    (tmp_path / "notes.txt").write_text("not a database")
    assert main(["rate-report", str(tmp_path / "notes.txt")]) == 2
    assert main(["rate-face", path, "99", str(tmp_path / "x.json")]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert errors == [
        f"error: {tmp_path / 'notes.txt'}: not a study database (not an SQLite file)",
        f"error: {path}: no face with id 99 (ids are 1..6)",
    ]


def test_cli_rate_study_writes_the_faces_once(tmp_path, capsys):
    target = tmp_path / "made.db"
    arguments = [
        "rate-study",
        str(target),
        "--faces",
        "2",
        "--conditions",
        "normal",
        "uniform-raw",
        "--varies",
        "shape",
        "--seed",
        "9",
        "--no-unsure",
        "--device",
        "cpu",
    ]
    assert main(arguments) == 0
    with RatingsDatabase.open(target) as database:
        definition = database.definition
        assert (
            definition.faces_per_condition,
            definition.conditions,
            definition.varies,
            definition.seed,
            definition.allow_unsure,
        ) == (2, ("normal", "uniform-raw"), "shape", 9, False)
        assert len(database.faces()) == 4 and not any(f.alpha_exp.any() for f in database.faces().values())
    before = target.read_bytes()
    capsys.readouterr()
    assert main(arguments) == 2
    assert "already exists" in capsys.readouterr().err and target.read_bytes() == before
