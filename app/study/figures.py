"""The study's two trade-off figures: the paper's rule against the number of raters, and
reliability against diversity per condition, with the paper's own points marked.

Both use matplotlib's object-oriented API on the Agg canvas, so they never open a window.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from app.atomic_files import atomic_output
from app.evaluation.diversity import PAPER_DIVERSITY
from app.evaluation.plausibility import PAPER_RELIABILITY
from app.study.statistics import ALL_CONDITIONS, StudyStatistics

PAPER_RATERS = 30
PARTS = ("expression", "shape")  # the paper reports expression first


def _save(figure: Figure, path: str | Path) -> Path:
    path = Path(path)
    with atomic_output(path) as temp:
        figure.savefig(temp, dpi=100, format="png")
    return path


def _subtitle(statistics: StudyStatistics) -> str:
    return (
        f"\n{len(statistics.left_out)} rater(s) flagged by the exclusion rule left out" if statistics.left_out else ""
    )


def raters_curve_figure(statistics: StudyStatistics, path: str | Path) -> Path:
    """Share of faces no rater rejected, for 1 … N raters (mean over rater subsets, middle 95 % shaded)."""
    figure = Figure(figsize=(8.0, 4.4), layout="constrained")
    axis = figure.subplots()
    for summary in statistics.conditions:
        if summary.condition == ALL_CONDITIONS or not summary.raters_curve:
            continue
        counts = np.array([point.raters for point in summary.raters_curve])
        mean = np.array([point.mean for point in summary.raters_curve]) * 100
        low = np.array([point.low for point in summary.raters_curve]) * 100
        high = np.array([point.high for point in summary.raters_curve]) * 100
        (line,) = axis.plot(counts, mean, marker="o", markersize=3, label=summary.condition)
        axis.fill_between(counts, low, high, color=line.get_color(), alpha=0.15)
    for part, marker in zip(PARTS, ("*", "P"), strict=True):
        axis.plot(
            [PAPER_RATERS],
            [PAPER_RELIABILITY[part] * 100],
            marker=marker,
            markersize=12,
            color="black",
            linestyle="none",
            label=f"paper, {part} ({PAPER_RATERS} raters)",
        )
    axis.set_xlabel("number of raters")
    axis.set_ylabel("faces no rater rejected (%)")
    axis.set_ylim(-2, 102)
    axis.set_title("Faces no rater rejected, against the number of raters" + _subtitle(statistics), fontsize=10)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _save(figure, path)


def reliability_diversity_figure(statistics: StudyStatistics, path: str | Path) -> Path:
    """Per varied part: each condition's diversity (trace of covariance of its faces) against the
    share of its faces no rater rejected (bootstrap interval), beside the paper's point."""
    parts = [part for part in PARTS if any(part in s.diversity for s in statistics.conditions)] or list(PARTS)
    figure = Figure(figsize=(1.0 + 5.2 * len(parts), 4.4), layout="constrained")
    axes = figure.subplots(1, len(parts), squeeze=False)[0]
    for axis, part in zip(axes, parts, strict=True):
        shown = [s for s in statistics.conditions if part in s.diversity and not np.isnan(s.paper_rule)]
        for summary in shown:
            value = summary.paper_rule * 100
            low, high = (bound * 100 for bound in summary.paper_rule_bootstrap_ci)
            errors = np.nan_to_num([[max(0.0, value - low)], [max(0.0, high - value)]])
            axis.errorbar(
                [summary.diversity[part]], [value], yerr=errors, marker="o", capsize=4, label=summary.condition
            )
        axis.plot(
            [PAPER_DIVERSITY[part]["denoised uniform"]],
            [PAPER_RELIABILITY[part] * 100],
            marker="*",
            markersize=14,
            color="black",
            linestyle="none",
            label=f"paper: denoised uniform, {PAPER_RATERS} raters",
        )
        axis.set_xscale("log")
        axis.set_xlabel(f"diversity of the faces shown ({part}: trace of covariance)")
        axis.set_ylabel("faces no rater rejected (%)")
        axis.set_ylim(-2, 102)
        axis.set_title(
            f"{part}: reliability against diversity" + ("" if shown else " (no condition varies it)"), fontsize=10
        )
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7, loc="best")
    figure.suptitle(statistics.study + _subtitle(statistics), fontsize=11)
    return _save(figure, path)
