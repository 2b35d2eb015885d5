"""`evaluate frontier`: the rater-free diversity–plausibility frontier of the study's methods."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from app.denoising.denoiser import Denoiser
from app.evaluation import EvaluationContext
from app.evaluation.frontier import (
    REAL,
    REAL_TRAINING,
    FacePoint,
    face_sets,
    frontier,
    most_diverse_at,
    pareto_front,
)
from app.evaluation.metrics import diversity
from app.evaluation.report import write_report
from app.model.embedded_corpus import embedded_corpus
from app.model.embedded_model import embedded_model
from main import main


@pytest.fixture(scope="module")
def tiny_context(tmp_path_factory: pytest.TempPathFactory, tiny_checkpoints: Path) -> EvaluationContext:
    model = embedded_model()
    return EvaluationContext(
        model,
        embedded_corpus(200),
        Denoiser.from_folder(model, tiny_checkpoints, "cpu"),
        tmp_path_factory.mktemp("out"),
        mesh_faces=4,
    )


def test_the_frontier_is_what_nothing_beats_on_both_axes():
    points = [
        FacePoint("a", "", 10.0, 0.1),
        FacePoint("b", "", 5.0, 0.5),
        FacePoint("c", "", 4.0, 0.4),  # c: b beats it
        FacePoint("d", "", 1.0, 1.0),
        FacePoint(REAL, "", 50.0, 1.0),
    ]  # real faces are no method
    assert [p.method for p in pareto_front(points)] == ["a", "b", "d"]
    assert most_diverse_at(points, 0.45).method == "b" and most_diverse_at(points, 0.95).method == "d"
    assert most_diverse_at(points[:3], 0.9) is None


def test_face_sets_sweep_each_methods_knob(tiny_context):
    sets = {(method, setting): vectors for method, setting, vectors in face_sets(tiny_context, "expression", 4)}
    assert np.allclose(sets["raw uniform", "r=30"], 2 * sets["raw uniform", "r=15"])  # the same draws, scaled
    scale = tiny_context.model.ev_exp / tiny_context.model.ev_exp.max()
    assert np.all(np.abs(sets["clip ±k·EV", "k=1"]) <= scale + 1e-12)
    corpus = tiny_context.training_faces("expression")
    assert all(any(np.array_equal(row, face) for face in corpus) for row in sets["nearest training face", ""])
    assert {method for method, _ in sets} == {
        "raw uniform",
        "network",
        "normal",
        "clip ±k·EV",
        "ellipsoid kσ",
        "nearest training face",
        REAL_TRAINING,
        REAL,
    }


def test_frontier_experiment_end_to_end(tiny_context, tmp_path):
    report = frontier(tiny_context)
    rows = {row.quantity: row for row in report.rows}
    assert len(rows) == 2 * (22 + 21)  # every set's diversity, and its two-sample test but for the reference's
    assert 0 <= rows["shape: network r=10 — two-sample accuracy"].ours <= 1
    assert any(note.startswith("expression: realism bar") for note in report.notes)
    raw = face_sets(tiny_context, "shape", 4)[0]
    assert rows["shape: raw uniform r=5 — diversity"].ours == pytest.approx(diversity(raw[2]))
    assert any("the most diverse method is" in note for note in report.notes)
    written = write_report(report, tmp_path)
    document = json.loads(written[1].read_text())
    assert set(document["data"]) == {"expression", "shape"} and document["data"]["shape"]["front"]
    assert written[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_evaluate_frontier(tmp_path, tiny_checkpoints, capsys):
    assert (
        main(
            [
                "evaluate",
                "frontier",
                "--output",
                str(tmp_path),
                "--mesh-faces",
                "3",
                "--device",
                "cpu",
                "--checkpoints",
                str(tiny_checkpoints),
            ]
        )
        == 0
    )
    assert "Diversity against proxy plausibility" in capsys.readouterr().out
    assert (tmp_path / "frontier.png").exists()
