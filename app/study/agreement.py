"""Agreement between raters and how the paper's rule depends on them, from a raters × faces table.

The table holds one row per rater and one column per face: 1 for accept, 0 for reject and
NaN where the rater gave no decision (did not see the face, or voted "unsure").

- Krippendorff's alpha (nominal) measures agreement beyond chance and, unlike Fleiss' kappa,
  is defined for any pattern of missing votes; computed with the ``krippendorff`` package.
- The paper's rule (share of judged faces that no rater rejected) can only fall as raters are
  added: one more rater is one more chance to reject. Its uncertainty therefore comes from the
  raters as much as from the faces, so the bootstrap resamples both, and ``raters_curve``
  shows the rule for 1 … N raters drawn from the study's raters.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import krippendorff
import numpy as np

CONFIDENCE = 0.95


def krippendorff_alpha(table: np.ndarray) -> float | None:
    """Nominal alpha of a raters × faces table (NaN = missing); None when it is undefined:
    no face with two decisions, or every decision the same (no variation to agree on)."""
    table = np.asarray(table, dtype=np.float64)
    present = ~np.isnan(table)
    if not (present.sum(axis=0) >= 2).any() or np.unique(table[present]).size < 2:
        return None
    return float(krippendorff.alpha(reliability_data=table, level_of_measurement="nominal"))


def no_rejection_share(table: np.ndarray) -> float:
    """The paper's rule: share of faces with at least one decision that nobody rejected (NaN if none)."""
    table = np.asarray(table, dtype=np.float64)
    judged = (~np.isnan(table)).any(axis=0)
    rejected = (table == 0).any(axis=0)
    return float((judged & ~rejected).sum() / judged.sum()) if judged.any() else math.nan


def bootstrap_interval(table: np.ndarray, rng: np.random.Generator, replicates: int = 1000) -> tuple[float, float]:
    """Percentile interval of the paper's rule, resampling raters and faces with replacement."""
    table = np.asarray(table, dtype=np.float64)
    raters, faces = table.shape
    if raters == 0 or faces == 0:
        return math.nan, math.nan
    values = np.array(
        [
            no_rejection_share(table[rng.integers(raters, size=raters)][:, rng.integers(faces, size=faces)])
            for _ in range(replicates)
        ]
    )
    values = values[~np.isnan(values)]
    if not len(values):
        return math.nan, math.nan
    tail = 100 * (1 - CONFIDENCE) / 2
    return float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))


@dataclass(frozen=True)
class RaterCountPoint:
    """The paper's rule with ``raters`` raters: mean over rater subsets and the middle 95 % of them."""

    raters: int
    mean: float
    low: float
    high: float
    subsets: int  # how many subsets of that size it averages (all of them when there are few)


def raters_curve(table: np.ndarray, rng: np.random.Generator, draws: int = 200) -> list[RaterCountPoint]:
    """The paper's rule for 1 … N raters: every subset of n raters when there are at most ``draws``
    of them, otherwise ``draws`` random subsets of n distinct raters."""
    table = np.asarray(table, dtype=np.float64)
    total = len(table)
    points = []
    for size in range(1, total + 1):
        if math.comb(total, size) <= draws:
            subsets = [list(subset) for subset in itertools.combinations(range(total), size)]
        else:
            subsets = [rng.permutation(total)[:size].tolist() for _ in range(draws)]
        values = np.array([no_rejection_share(table[subset]) for subset in subsets])
        values = values[~np.isnan(values)]
        if not len(values):
            continue
        tail = 100 * (1 - CONFIDENCE) / 2
        points.append(
            RaterCountPoint(
                size,
                float(values.mean()),
                float(np.percentile(values, tail)),
                float(np.percentile(values, 100 - tail)),
                len(subsets),
            )
        )
    return points
