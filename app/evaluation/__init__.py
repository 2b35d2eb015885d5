"""The paper's experiments, baselines and a plausibility proxy; each returns a Report."""

from __future__ import annotations

from collections.abc import Callable

from app.evaluation.baselines import baselines
from app.evaluation.context import EvaluationContext
from app.evaluation.denoising import learning_curves, noise_sweep, sigma_grid, test_mse
from app.evaluation.diversity import diversity, scatter
from app.evaluation.likelihood import likelihood
from app.evaluation.plausibility import plausibility
from app.evaluation.projection import projection
from app.evaluation.report import Report

EXPERIMENTS: dict[str, Callable[[EvaluationContext], Report]] = {
    "test-mse": test_mse,
    "learning-curves": learning_curves,
    "noise-sweep": noise_sweep,
    "sigma-grid": sigma_grid,
    "diversity": diversity,
    "scatter": scatter,
    "baselines": baselines,
    "plausibility": plausibility,
    "likelihood": likelihood,
    "prior-projection": projection,
}
