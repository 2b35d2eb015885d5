"""The sampling settings (ranges r, seed, distribution) and the one rule every sampler checks them by.

The explorer, ``generate``, studies and face presets all draw faces with ``sample_coefficients``
from a seed; they check their settings here, so a setting one of them accepts is accepted by all,
and a refused one is explained in the same words. A uniform range r must be a number greater
than 0 and at most ``MAX_RANGE``: a uniform draw reaches ±r·s_i/2, so a wider r would draw
coefficients beyond the limit of ``app.model.coefficient_limits`` (±``LIMIT_IN_SCALES`` scales),
faces the views cannot draw. Seeds follow ``app.seeds``.
"""

from __future__ import annotations

import numbers
from dataclasses import asdict, dataclass, fields
from typing import Any

from app.errors import FaceExplorerError
from app.model.coefficient_limits import LIMIT_IN_SCALES
from app.model.morphable_model import CoefficientKind
from app.model.sampling import PAPER_RANGE, Distribution, check_distribution
from app.seeds import check_seed

MAX_RANGE = 2 * LIMIT_IN_SCALES


def check_range(value: object, name: str) -> float:
    """``value`` as a float if it is a uniform range r in (0, MAX_RANGE]; else an error naming the range ``name``."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if value <= MAX_RANGE and not value <= 0:  # NaN passes neither comparison
            return float(value)
        shown = str(value)
    else:
        shown = repr(value)
    raise FaceExplorerError(
        f"the sampling range {name} must be a number greater than 0 and at most {MAX_RANGE:g} (got {shown})"
    )


@dataclass(frozen=True)
class SamplingSettings:
    """Uniform-interval sampling as in the paper: r = 10 (shape), r = 15 (expression); checked when made."""

    r_shape: float = PAPER_RANGE["shape"]
    r_exp: float = PAPER_RANGE["expression"]
    seed: int = 0
    distribution: Distribution = "uniform"

    def __post_init__(self) -> None:
        object.__setattr__(self, "distribution", check_distribution(self.distribution))
        object.__setattr__(self, "r_shape", check_range(self.r_shape, "r_shape"))
        object.__setattr__(self, "r_exp", check_range(self.r_exp, "r_exp"))
        object.__setattr__(self, "seed", check_seed(self.seed))

    def value_range(self, kind: CoefficientKind) -> float:
        return self.r_shape if kind == "shape" else self.r_exp

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: object) -> SamplingSettings:
        """Settings as a preset records them; unknown keys are an error, missing ones take the defaults."""
        names = [field.name for field in fields(cls)]
        if not isinstance(values, dict):
            raise FaceExplorerError(f"sampling settings must be an object with {', '.join(names)}")
        unknown = set(values) - set(names)
        if unknown:
            raise FaceExplorerError(f"unknown sampling settings: {', '.join(sorted(unknown))}")
        return cls(**values)
