"""The report's numbers against a small example computed by hand, and its files and CLI."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.explorer.face_preset import load_preset  # noqa: E402
from app.study.database import RatingsDatabase  # noqa: E402
from app.study.definition import StudyDefinition, StudyFace  # noqa: E402
from app.study.report import (  # noqa: E402
    build_report,
    fleiss_kappa,
    markdown,
    wilson_interval,
    write_report,
)
from main import main  # noqa: E402

MODEL = "embedded:v1"

# Faces 1–3 are "uniform-raw", 4–6 "normal". (rater, face, vote, decision ms), in voting order.
VOTES = [
    ("x", 1, "accept", 100), ("y", 1, "accept", 1000), ("z", 1, "accept", 10),
    ("x", 2, "accept", 200), ("y", 2, "reject", 2000), ("z", 2, "accept", 20),
    ("x", 3, "reject", 300), ("y", 3, "reject", 3000), ("z", 3, "unsure", 30),
    ("x", 4, "accept", 400), ("y", 4, "accept", 4000),
    ("x", 5, "accept", 500), ("y", 5, "accept", 5000),
    ("z", 5, "reject", 99),  # taken back below: undone votes do not count
]


@pytest.fixture
def study(tmp_path):
    definition = StudyDefinition(name="hand", faces_per_condition=3, conditions=("uniform-raw", "normal"), seed=1)
    faces = [StudyFace(i, "uniform-raw" if i <= 3 else "normal", (i - 1) % 3, f"face {i}",
                       np.full(199, float(i)), np.full(29, -float(i))) for i in range(1, 7)]
    database = RatingsDatabase.create(tmp_path / "hand.db", definition, faces, MODEL)
    for rater, face, vote, ms in VOTES:
        database.record_vote(rater, face, vote, "shown", "voted", ms, MODEL)
    database.undo_last_vote("z")
    database.record_vote("z", 5, "accept", "shown", "voted", 40, MODEL)
    yield database
    database.close()


def test_wilson_interval_by_hand():
    # 5 of 8: centre (p + z²/2n)/(1 + z²/n), half-width z·√(p(1−p)/n + z²/4n²)/(1 + z²/n), z = 1.96
    assert wilson_interval(5, 8) == pytest.approx((0.30574, 0.86316), abs=1e-5)
    assert wilson_interval(5, 5) == pytest.approx((0.56552, 1.0), abs=1e-5)
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.27753), abs=1e-5)
    assert all(np.isnan(wilson_interval(0, 0)))


def test_fleiss_kappa_textbook_example():
    # Fleiss (1971) / Wikipedia: 10 subjects, 14 raters, 5 categories → κ = 0.210
    table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
             [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    assert fleiss_kappa(np.array(table)) == pytest.approx(0.20993, abs=1e-5)
    assert fleiss_kappa(np.array([[3, 0], [2, 0]])) is None  # one category only: undefined
    assert fleiss_kappa(np.array([[1, 0], [0, 0]])) is None  # nobody judged a face twice


def test_report_numbers_match_the_hand_computation(study):
    report = build_report(study)
    raw, normal, everything = report.condition("uniform-raw"), report.condition("normal"), report.condition("all")

    assert (raw.faces, raw.votes, raw.accepts, raw.rejects, raw.unsure, raw.raters) == (3, 9, 5, 3, 1, 3)
    assert raw.acceptance == pytest.approx(5 / 8)
    assert raw.acceptance_ci == pytest.approx((0.30574, 0.86316), abs=1e-5)
    assert (raw.judged_faces, raw.never_rejected, raw.paper_rule) == (3, 1, pytest.approx(1 / 3))
    # P_i = 1, 1/3, 1 (face 3 has two decisions) → P̄ = 7/9; p = (5/8, 3/8) → P_e = 34/64
    assert raw.kappa == pytest.approx((7 / 9 - 34 / 64) / (1 - 34 / 64))  # = 0.52593

    assert (normal.faces, normal.votes, normal.accepts, normal.rejects, normal.unsure) == (3, 5, 5, 0, 0)
    assert normal.acceptance == 1.0 and normal.acceptance_ci == pytest.approx((0.56552, 1.0), abs=1e-5)
    assert (normal.judged_faces, normal.never_rejected, normal.paper_rule) == (2, 2, 1.0)  # face 6 not judged
    assert normal.kappa is None

    assert (everything.faces, everything.votes, everything.accepts, everything.rejects) == (6, 14, 10, 3)
    assert (everything.judged_faces, everything.never_rejected) == (5, 3)
    # P̄ = (1 + 1/3 + 1 + 1 + 1)/5 = 13/15; p = (10/13, 3/13) → P_e = 109/169; κ = 562/900
    assert everything.kappa == pytest.approx(562 / 900)

    raters = {r.rater: r for r in report.raters}
    assert (raters["x"].votes, raters["x"].acceptance, raters["x"].median_decision_ms) == (5, 0.8, 300)
    assert raters["x"].acceptance_by_condition == pytest.approx({"uniform-raw": 2 / 3, "normal": 1.0})
    assert (raters["y"].acceptance, raters["y"].acceptance_by_condition["uniform-raw"]) == (0.6, pytest.approx(1 / 3))
    assert (raters["z"].votes, raters["z"].acceptance, raters["z"].median_decision_ms) == (4, 1.0, 25)

    assert [(f.face_id, f.rejected_by, f.accepted_by) for f in report.rejected] == [
        (2, ["y"], ["x", "z"]), (3, ["x", "y"], [])]
    assert np.array_equal(report.rejected[1].alpha_id, np.full(199, 3.0))


def test_markdown_plot_and_rejected_presets(study, tmp_path):
    report = build_report(study)
    text = markdown(report)
    assert "| uniform-raw | 3 | 3 | 9 | 5 | 3 | 1 | 3 | 62.5 % | [30.6, 86.3] | 33.3 % (1/3) |" in text
    assert "| 0.526 |" in text and "| x | 5 | 80.0 % | 66.7 % | 100.0 % | 300 |" in text
    written = write_report(study, report, tmp_path / "report")
    names = sorted(p.relative_to(tmp_path / "report").as_posix() for p in written)
    assert names == ["acceptance.png", "rejected/face-0002.json", "rejected/face-0003.json", "rejected_faces.json", "report.md"]
    assert (tmp_path / "report" / "acceptance.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    listing = json.loads((tmp_path / "report" / "rejected_faces.json").read_text())
    assert [f["face_id"] for f in listing["faces"]] == [2, 3] and listing["faces"][1]["alpha_exp"] == [-3.0] * 29
    preset = load_preset(tmp_path / "report" / "rejected" / "face-0003.json", 199, 29)
    assert np.array_equal(preset.alpha_id, np.full(199, 3.0)) and preset.model_identity == MODEL


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
    assert errors == [f"error: {tmp_path / 'notes.txt'}: not a study database (not an SQLite file)",
                      f"error: {path}: no face with id 99 (ids are 1..6)"]


def test_cli_rate_study_writes_the_faces_once(tmp_path, capsys):
    target = tmp_path / "made.db"
    arguments = ["rate-study", str(target), "--faces", "2", "--conditions", "normal", "uniform-raw", "--varies", "shape",
                 "--seed", "9", "--no-unsure", "--device", "cpu"]
    assert main(arguments) == 0
    with RatingsDatabase.open(target) as database:
        definition = database.definition
        assert (definition.faces_per_condition, definition.conditions, definition.varies, definition.seed,
                definition.allow_unsure) == (2, ("normal", "uniform-raw"), "shape", 9, False)
        assert len(database.faces()) == 4 and not any(f.alpha_exp.any() for f in database.faces().values())
    before = target.read_bytes()
    capsys.readouterr()
    assert main(arguments) == 2
    assert "already exists" in capsys.readouterr().err and target.read_bytes() == before
