"""The standard deviations of a model's coefficients, without its geometry.

Sampling coefficients needs only these few hundred numbers, while a model's bases are 100 MB
or more. A process that only draws and denoises coefficients gets this instead of the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.model.morphable_model import CoefficientKind, MorphableModel


@dataclass(frozen=True)
class CoefficientScales:
    """``ev(kind)`` of a MorphableModel: the standard deviation of each identity and expression coefficient."""

    ev_id: np.ndarray
    ev_exp: np.ndarray

    @classmethod
    def of(cls, model: MorphableModel) -> CoefficientScales:
        return cls(model.ev_id.copy(), model.ev_exp.copy())

    def ev(self, kind: CoefficientKind) -> np.ndarray:
        return self.ev_id if kind == "shape" else self.ev_exp
