"""How a coefficient is named and shown to a person: in standard deviations (σ) or in the model's own units.

Nobody thinks of an identity coefficient as 1878037 model units; the field thinks in standard
deviations. σ_i is the coefficient's sampling scale: EV_i for identity, EV_i / max(EV) for
expression (fitted expression parameters are O(1)), so that "normal" sampling draws
N(0, 1) in σ and the paper's uniform range r spans ±r/2 σ. A mode the model does not name is
called "identity mode k" / "expression mode k", never left blank.
"""

from __future__ import annotations

from typing import Literal

from app.model.coefficient_names import KIND_WORDS
from app.model.coefficient_names import coefficient_label as mode_label  # noqa: F401 - the explorer's name for it
from app.model.morphable_model import CoefficientKind, MorphableModel
from app.model.sampling import sampling_scale

Unit = Literal["sigma", "raw"]
UNITS: tuple[Unit, ...] = ("sigma", "raw")


def sigma_of(model: MorphableModel, kind: CoefficientKind, index: int) -> float:
    """One σ of coefficient ``index``, in model units."""
    return float(sampling_scale(model, kind)[index])


def to_sigma(model: MorphableModel, kind: CoefficientKind, index: int, value: float) -> float:
    return float(value) / sigma_of(model, kind, index)


def mode_name(model: MorphableModel, kind: CoefficientKind, index: int) -> str:
    """The model's name for the mode, or "identity mode k" when it has none."""
    return model.names(kind)[index] or f"{KIND_WORDS[kind]} mode {index}"


def format_in_unit(value: float, sigma: float, unit: Unit) -> str:
    """``value`` (model units) as a row shows it: "1.250σ" or "1878037"."""
    if unit == "sigma":
        return f"{value / sigma:.3f}σ"
    return f"{value:.7g}"
