"""Drawing coefficient vectors: the paper's uniform-interval sampling and the usual normal one.

Each coefficient i has a scale s_i: the identity standard deviation EV_i, and for expression
EV_i / max(EV) because fitted expression parameters are O(1) (as in the reference code).
"normal" draws α_i ~ N(0, s_i²); "uniform" with range r draws α_i ~ U(−r·s_i/2, +r·s_i/2).
Which ranges, distributions and seeds are accepted is ``app.model.sampling_settings``.
"""

from __future__ import annotations

from typing import Literal, cast

import numpy as np

from app.errors import FaceExplorerError
from app.model.coefficient_scales import CoefficientScales
from app.model.morphable_model import CoefficientKind, MorphableModel

Distribution = Literal["uniform", "normal"]
DISTRIBUTIONS: tuple[str, ...] = ("uniform", "normal")
PAPER_RANGE = {"shape": 10.0, "expression": 15.0}


def check_distribution(name: object) -> Distribution:
    """``name`` if it is one of ``DISTRIBUTIONS``, else a FaceExplorerError listing them."""
    if name in DISTRIBUTIONS:
        return cast(Distribution, name)
    raise FaceExplorerError(f"unknown distribution '{name}' (use {' or '.join(DISTRIBUTIONS)})")


def sampling_scale(model: MorphableModel | CoefficientScales, kind: CoefficientKind) -> np.ndarray:
    ev = model.ev(kind)
    return ev if kind == "shape" else ev / ev.max()


def sample_coefficients(
    model: MorphableModel | CoefficientScales,
    kind: CoefficientKind,
    distribution: str,
    count: int,
    rng: np.random.Generator,
    value_range: float | None = None,
) -> np.ndarray:
    """(count, K) coefficient vectors; ``value_range`` is r (the paper's when None)."""
    scale = sampling_scale(model, kind)
    if check_distribution(distribution) == "normal":
        return rng.normal(size=(count, len(scale))) * scale
    r = PAPER_RANGE[kind] if value_range is None else value_range
    return rng.uniform(-0.5, 0.5, size=(count, len(scale))) * (r * scale)
