"""Diversity of generated sets (Table I) and their 2-D PCA scatter (Fig 12)."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.evaluation.context import KIND_ORDER, EvaluationContext
from app.evaluation.metrics import diversity as covariance_trace
from app.evaluation.report import Report, Row, new_figure
from app.model.morphable_model import CoefficientKind
from app.model.sampling import PAPER_RANGE, sample_coefficients, sampling_scale

PAPER_DIVERSITY = {
    "shape": {"denoised uniform": 15.54e12, "normal": 1.87e12, "dataset": 0.86e12},
    "expression": {"denoised uniform": 47.58, "normal": 2.48, "dataset": 7.08},
}
SET_COLOURS = {"denoised uniform": "#4c72b0", "normal": "#dd8452", "dataset": "#55a868", "raw uniform": "#c44e52"}


def coefficient_sets(context: EvaluationContext, kind: CoefficientKind, count: int) -> dict[str, np.ndarray]:
    """The three sets of Table I (plus the raw uniform draw the networks start from)."""
    stream = KIND_ORDER.index(kind)
    raw = sample_coefficients(context.model, kind, "uniform", count, context.rng(20, stream))
    normal = sample_coefficients(context.model, kind, "normal", count, context.rng(21, stream))
    faces = context.data.coefficients(kind)
    rows = context.rng(22, stream).choice(len(faces), size=min(count, len(faces)), replace=False)
    return {
        "denoised uniform": context.denoiser.denoise(kind, raw),
        "normal": normal,
        "dataset": faces[rows],
        "raw uniform": raw,
    }


def diversity(context: EvaluationContext) -> Report:
    rows: list[Row] = []
    series: dict[str, Any] = {}
    notes = list(context.notes)
    figure, axes = new_figure(columns=2)
    for axis, kind in zip(axes, KIND_ORDER, strict=True):
        sets = coefficient_sets(context, kind, context.vectors)
        values = {name: covariance_trace(vectors) for name, vectors in sets.items()}
        for name, value in values.items():
            rows.append(Row(f"{kind}: {name}", value, PAPER_DIVERSITY[kind].get(name), f"{len(sets[name]):,} vectors"))
        ours_ratio = values["denoised uniform"] / values["dataset"]
        paper_ratio = PAPER_DIVERSITY[kind]["denoised uniform"] / PAPER_DIVERSITY[kind]["dataset"]
        rows.append(Row(f"{kind}: denoised uniform / dataset", ours_ratio, round(paper_ratio, 2)))
        theory = PAPER_RANGE[kind] ** 2 / 12 * float(np.sum(sampling_scale(context.model, kind) ** 2))
        paper_value = PAPER_DIVERSITY[kind]["denoised uniform"]
        notes.append(
            f"{kind}: the raw uniform draw has diversity r²/12·Σs² = {theory:.4g} in theory; the paper's "
            f"denoised-uniform value {paper_value:.4g} is {paper_value / theory:.2f}× that, "
            f"ours after the networks is {values['denoised uniform'] / theory:.2f}× that"
        )
        if len(sets["dataset"]) < context.vectors:
            notes.append(f"{kind}: the dataset has only {len(sets['dataset'])} faces; its diversity uses all of them")
        names = list(values)
        axis.bar(range(len(names)), [values[n] for n in names], color=[SET_COLOURS[n] for n in names])
        paper = [PAPER_DIVERSITY[kind].get(n, np.nan) for n in names]
        axis.plot(range(len(names)), paper, "k_", markersize=22, label="paper")
        axis.set_xticks(range(len(names)), names, rotation=20)
        axis.set_yscale("log")
        axis.set_title(f"{kind}: trace of covariance")
        axis.legend()
        series[kind] = values
    if context.model.is_embedded:
        notes.append(
            "embedded model: its EVs are set so normal sampling has the paper's normal diversity, and its corpus "
            "is scaled to the paper's dataset diversity; only the denoised-uniform number is a measured result"
        )
    return Report(
        "diversity", "Diversity: trace of the covariance of generated vectors (Table I)", rows, figure, notes, series
    )


def scatter(context: EvaluationContext) -> Report:
    rows: list[Row] = []
    series: dict[str, Any] = {}
    figure, axes = new_figure(columns=2)
    for axis, kind in zip(axes, KIND_ORDER, strict=True):
        sets = coefficient_sets(context, kind, context.scatter_points)
        del sets["raw uniform"]  # Fig 12 shows the three sets of Table I
        stacked = np.vstack(list(sets.values()))
        centre = stacked.mean(axis=0)
        _, singular, components = np.linalg.svd(stacked - centre, full_matrices=False)
        explained = singular[:2] ** 2 / np.sum(singular**2)
        series[kind] = {"explained_variance_ratio": explained.tolist()}
        for name, vectors in sets.items():
            points = (vectors - centre) @ components[:2].T
            axis.scatter(points[:, 0], points[:, 1], s=12, color=SET_COLOURS[name], label=name, alpha=0.8)
            spread = float(np.sqrt(np.mean(np.sum((points - points.mean(0)) ** 2, axis=1))))
            rows.append(
                Row(f"{kind}: {name} RMS spread in the PCA plane", spread, "figure only", f"{len(vectors)} samples")
            )
            series[kind][name] = points.tolist()
        axis.set_xlabel(f"PC 1 ({100 * explained[0]:.0f} %)")
        axis.set_ylabel(f"PC 2 ({100 * explained[1]:.0f} %)")
        axis.set_title(kind)
        axis.legend(fontsize=8)
    return Report("scatter", "2-D PCA scatter of the three sets (Fig 12)", rows, figure, list(context.notes), series)
