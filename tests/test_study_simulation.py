"""A whole simulated study through the command line: rate-study (range sweep, catch trials,
repeated faces, exclusion rule) → rate-package → scripted raters on their packages → rate-merge
→ rate-report; and the --paper preset."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pytest

from app.commands.rating import PAPER_PRESET
from app.model.embedded_corpus import embedded_corpus
from app.model.embedded_model import embedded_model
from app.study.database import RatingsDatabase
from app.study.definition import StudyDefinition
from app.study.simulated_raters import face_oddness, rate_as, scripted_panel
from app.study.statistics import study_statistics
from main import main


def test_scripted_raters_through_packages_merge_and_report(tmp_path, tiny_checkpoints, capsys):
    study = tmp_path / "sweep.db"
    assert (
        main(
            [
                "rate-study",
                str(study),
                "--faces",
                "8",
                "--varies",
                "expression",
                "--seed",
                "3",
                "--device",
                "cpu",
                "--checkpoints",
                str(tiny_checkpoints),
                "--conditions",
                "normal",
                "uniform-raw:r_exp=5",
                "uniform-raw:r_exp=20",
                "--raters",
                "5",
                "--catch-trials",
                "4",
                "--repeated-faces",
                "4",
                "--min-catch-rejected",
                "0.75",
                "--min-repeat-agreement",
                "0.5",
                "--no-unsure",
            ]
        )
        == 0
    )
    assert "attention checks: 4 catch trial(s)" in capsys.readouterr().out
    assert main(["rate-package", str(study), str(tmp_path / "packages")]) == 0
    packages = sorted((tmp_path / "packages").glob("rater-*.db"))
    assert len(packages) == 5
    model = embedded_model()
    with RatingsDatabase.open(study) as opened:
        oddness = face_oddness(model, embedded_corpus(300), opened.faces())
    panel = scripted_panel(5, careless=2, strict=1, seed=11)
    for index, (rater, package) in enumerate(zip(panel, packages, strict=True)):
        with RatingsDatabase.open(package) as opened:
            assert (
                rate_as(rater, opened, model.provenance, oddness, np.random.default_rng([11, index])) == 3 * 8 + 4 + 4
            )
    capsys.readouterr()
    assert main(["rate-merge", str(study), *map(str, packages)]) == 0
    merged = capsys.readouterr().out.splitlines()
    attention = [line for line in merged if line.startswith("  attention checks of ")]  # one per rater merged
    packages_merged = [line for line in merged if line not in attention]
    assert [line.split(": ")[1] for line in packages_merged] == [
        f"{r.name} +32 vote(s); 0 already merged before" for r in panel
    ]
    assert [line.split(":")[0].split()[-1] for line in attention] == [r.name for r in panel]
    assert main(["rate-report", str(study), "--output", str(tmp_path / "report")]) == 0
    out = capsys.readouterr().out
    assert "flagged by the study's exclusion rule" in out and "## Without the flagged raters" in out

    with RatingsDatabase.open(study) as opened:
        faces = opened.faces()
        everyone = study_statistics(opened, replicates=100)
        cleaned = study_statistics(opened, frozenset(everyone.flagged), replicates=100)
    # the careless raters accept most catch faces; the attentive and strict ones reject every one (r = 30 is far out)
    assert all(oddness[i] > 6 for i, f in faces.items() if f.condition == "catch")
    assert set(everyone.flagged) >= {panel[0].name, panel[1].name}
    assert {entry.rater: entry.catch_rejected for entry in everyone.attention if not entry.excluded} == {
        r.name: 4 for r in panel[2:]
    }
    # without them the wide range is rejected by someone on every face, the narrow range and normal faces mostly pass
    wide, narrow = cleaned.condition("uniform-raw:r_exp=20"), cleaned.condition("uniform-raw:r_exp=5")
    assert wide.paper_rule == 0.0 and narrow.paper_rule > 0.5 and cleaned.condition("normal").paper_rule > 0.5
    assert wide.diversity["expression"] == pytest.approx(16 * narrow.diversity["expression"])  # same draws, r 4× wider
    assert cleaned.condition("normal").raters == 3 and everyone.condition("normal").raters == 5
    for name in ("report.md", "raters_curve.png", "reliability_vs_diversity.png"):
        assert (tmp_path / "report" / name).stat().st_size > 0


def test_the_paper_preset(tmp_path, tiny_checkpoints, capsys):
    study = tmp_path / "paper.db"
    # --faces overrides the preset's 500 so the test stays small; everything else is the preset
    assert (
        main(
            [
                "rate-study",
                str(study),
                "--paper",
                "--faces",
                "3",
                "--device",
                "cpu",
                "--checkpoints",
                str(tiny_checkpoints),
            ]
        )
        == 0
    )
    with RatingsDatabase.open(study) as opened:
        definition, faces = opened.definition, opened.faces()
    assert definition.conditions == ("denoised:varies=shape", "denoised:varies=expression")
    assert (definition.rater_slots, definition.allow_unsure, definition.view) == (30, False, "front-side")
    shape_faces = [f for f in faces.values() if f.condition == "denoised:varies=shape"]
    assert len(faces) == 6 and all(f.alpha_id.any() and not f.alpha_exp.any() for f in shape_faces)
    capsys.readouterr()
    assert main(["rate-package", str(study), str(tmp_path / "packages")]) == 0
    assert len(list((tmp_path / "packages").glob("rater-*.db"))) == 30
    preset = StudyDefinition(**{**asdict(StudyDefinition()), **PAPER_PRESET})
    assert (preset.faces_per_condition, preset.face_count, preset.rater_slots) == (500, 1000, 30)
