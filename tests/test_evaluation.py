"""The experiments: metrics on known inputs, baselines, and every experiment end to end (tiny)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from app.denoising.denoiser import Denoiser
from app.evaluation import EXPERIMENTS, EvaluationContext
from app.evaluation.baselines import clip_to_ev, scale_into_ellipsoid, snap_to_nearest
from app.evaluation.metrics import MahalanobisDistance, diversity
from app.evaluation.report import write_report
from app.model.embedded_corpus import embedded_corpus
from app.model.embedded_model import embedded_model

# Every experiment end to end: sigma-grid trains nine small nets (about 25 s on a quiet 2-core machine).
pytestmark = pytest.mark.timeout(300)


def test_diversity_is_the_trace_of_the_covariance() -> None:
    exact = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0], [0.0, -2.0]])
    assert diversity(exact) == pytest.approx(2 / 3 + 8 / 3)
    variances = np.array([4.0, 1.0, 0.25, 9.0])
    sample = np.random.default_rng(0).normal(size=(200_000, 4)) * np.sqrt(variances) + 5.0
    assert diversity(sample) == pytest.approx(variances.sum(), rel=0.01)
    with pytest.raises(ValueError):
        diversity(np.ones((1, 3)))


def test_mahalanobis_distance_whitens_the_corpus() -> None:
    rng = np.random.default_rng(1)
    corpus = rng.normal(size=(50_000, 3)) * np.array([100.0, 1.0, 0.01])
    distance = MahalanobisDistance(corpus)
    assert distance(np.array([[300.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 0.03]])) == pytest.approx(
        [3, 3, 3], rel=0.02
    )


def test_baselines_do_what_they_say() -> None:
    scale = np.array([1.0, 10.0, 100.0])
    vectors = np.array([[5.0, -50.0, 10.0], [0.1, 1.0, 10.0]])
    np.testing.assert_allclose(clip_to_ev(vectors, scale, 2.0), [[2.0, -20.0, 10.0], [0.1, 1.0, 10.0]])
    inside = scale_into_ellipsoid(vectors, scale, 1.0)
    radius = np.sqrt(np.mean((inside / scale) ** 2, axis=1))
    assert radius[0] == pytest.approx(1.0)  # pulled onto the ellipsoid, direction kept
    np.testing.assert_allclose(inside[0] / np.linalg.norm(inside[0]), vectors[0] / np.linalg.norm(vectors[0]))
    np.testing.assert_allclose(inside[1], vectors[1])  # already inside: untouched
    corpus = np.array([[0.0, 0.0, 0.0], [10.0, 10.0, 10.0], [-5.0, 0.0, 5.0]])
    np.testing.assert_array_equal(
        snap_to_nearest(np.array([[9.0, 8.0, 12.0], [-4.0, 1.0, 4.0]]), corpus, chunk=1), corpus[[1, 2]]
    )


@pytest.fixture(scope="module")
def tiny_context(tmp_path_factory: pytest.TempPathFactory, tiny_checkpoints: Path) -> EvaluationContext:
    corpus = embedded_corpus(200)
    model = embedded_model()
    return EvaluationContext(
        model,
        corpus,
        Denoiser.from_folder(model, tiny_checkpoints, "cpu"),
        tmp_path_factory.mktemp("out"),
        epochs=1,
        vectors=50,
        scatter_points=10,
        mesh_faces=3,
        train_copies=1,
    )


@pytest.mark.parametrize("experiment", sorted(EXPERIMENTS))
def test_experiment_runs_end_to_end_and_writes_figure_and_tables(
    experiment: str, tiny_context: EvaluationContext, tmp_path: Path
) -> None:
    report = EXPERIMENTS[experiment](tiny_context)
    png, table_json, table_md = write_report(report, tmp_path)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5_000
    document = json.loads(table_json.read_text())
    assert document["experiment"] == experiment == png.stem
    assert document["rows"], "every experiment reports at least one number"
    ours = [row["ours"] for row in document["rows"] if row["ours"] is not None]
    assert ours and all(np.isfinite(ours))
    assert any(row["paper"] is not None for row in document["rows"]), "the paper's value is printed beside ours"
    markdown = table_md.read_text()
    assert markdown.startswith(f"## {report.title}") and "| quantity | paper | ours | note |" in markdown


def test_test_mse_numbers_match_a_direct_computation(tiny_context: EvaluationContext, tmp_path: Path) -> None:
    report = EXPERIMENTS["test-mse"](tiny_context)
    pairs = tiny_context.test_pairs("expression")
    denoised = tiny_context.denoiser.denoise("expression", pairs.noisy)
    expected = float(np.mean((denoised - pairs.targets()) ** 2))
    row = next(r for r in report.rows if r.quantity == "expression: denoised MSE")
    assert row.ours == pytest.approx(expected)
    assert len(pairs.clean) == 20  # exactly the 20 faces the checkpoint held out


def test_held_out_faces_are_the_ones_training_never_saw(tiny_context: EvaluationContext) -> None:
    train = {v.tobytes() for v in tiny_context.training_faces("shape")}
    held_out = [v.tobytes() for v in tiny_context.held_out_faces("shape")]
    assert len(held_out) == 20 and not train.intersection(held_out)


def test_mahalanobis_tolerance_forgives_small_steps_off_a_thin_manifold() -> None:
    rng = np.random.default_rng(2)
    line = rng.normal(size=(20_000, 1)) * np.array([[10.0, 10.0]])  # a 1-D manifold in 2-D
    corpus = line + rng.normal(size=line.shape) * 0.01
    step_off = np.array([[0.5, -0.5]])
    strict = MahalanobisDistance(corpus)(step_off)[0]
    tolerant = MahalanobisDistance(corpus, tolerance=np.array([1.0, 1.0]))(step_off)[0]
    assert strict > 30  # 0.7 units across a manifold 0.01 thick
    assert tolerant < 1.0
    along = MahalanobisDistance(corpus, tolerance=np.array([1.0, 1.0]))(np.array([[30.0, 30.0]]))[0]
    assert along == pytest.approx(3.0, rel=0.05)  # three standard deviations along the manifold
