"""How a coefficient is named and shown to a person: as activation, in standard deviations (σ) or in model units.

Nobody thinks of an identity coefficient as 1878037 model units; the field thinks in standard
deviations. σ_i is the coefficient's sampling scale: EV_i for identity, EV_i / max(EV) for
expression, so that "normal" sampling draws N(0, 1) in σ and the paper's uniform range r spans
±r/2 σ. The embedded model's expression modes are FACS action units, and a person thinks of those
as activation: 0 is neutral and ``UNITS_PER_ACTIVATION`` (3) full, whatever the unit's σ, so they
are shown so by default and every slider reaches full activation. A mode the model does not name
is called "identity mode k" / "expression mode k", never left blank.
"""

from __future__ import annotations

from typing import Literal

from app.model.action_units import ACTION_UNITS
from app.model.coefficient_names import KIND_WORDS
from app.model.coefficient_names import coefficient_label as mode_label  # noqa: F401 - the explorer's name for it
from app.model.embedded_model import UNITS_PER_ACTIVATION
from app.model.morphable_model import CoefficientKind, MorphableModel
from app.model.sampling import sampling_scale

Unit = Literal["activation", "sigma", "raw"]
UNITS: tuple[Unit, ...] = ("activation", "sigma", "raw")
DEFAULT_SPAN = 8.0  # a σ slider spans ±8 σ, so the paper's uniform ranges (±5 σ and ±7.5 σ) fit
# An activation slider spans ±2 × full activation, the same for every unit: full activation is a
# tick mark halfway out, and a slider at the same place means the same activation on every row.
ACTIVATION_REACH = 2.0
_ACTION_UNIT_NAMES = [unit.mode_name for unit in ACTION_UNITS]


def sigma_of(model: MorphableModel, kind: CoefficientKind, index: int) -> float:
    """One σ of coefficient ``index``, in model units."""
    return float(sampling_scale(model, kind)[index])


def to_sigma(model: MorphableModel, kind: CoefficientKind, index: int, value: float) -> float:
    return float(value) / sigma_of(model, kind, index)


def mode_name(model: MorphableModel, kind: CoefficientKind, index: int) -> str:
    """The model's name for the mode, or "identity mode k" when it has none."""
    return model.names(kind)[index] or f"{KIND_WORDS[kind]} mode {index}"


def full_activation(model: MorphableModel, kind: CoefficientKind) -> float | None:
    """The coefficient of a fully activated mode where the modes of ``kind`` are action units, else None.

    They are on the embedded model (or a copy of it saved to a file): its expression modes carry the
    names of ``ACTION_UNITS`` in that order, each at full activation at ``UNITS_PER_ACTIVATION``. A
    BFM's or FLAME's expression modes are PCA modes, with no activation to speak of.
    """
    if kind == "expression" and model.names_exp == _ACTION_UNIT_NAMES:
        return UNITS_PER_ACTIVATION
    return None


def default_unit(model: MorphableModel) -> Unit:
    """Activation where the model's expression modes are action units, σ otherwise."""
    return "activation" if full_activation(model, "expression") is not None else "sigma"


def unit_of_row(model: MorphableModel, kind: CoefficientKind, unit: Unit) -> Unit:
    """The unit a row of ``kind`` shows for the panel's ``unit``: σ for activation where modes are no action units."""
    if unit == "activation" and full_activation(model, kind) is None:
        return "sigma"
    return unit


def slider_reach(unit: Unit, sigma: float, span: float, full: float | None) -> float:
    """The coefficient (model units) at a slider's end: ±``ACTIVATION_REACH`` × full activation, or ±``span`` σ."""
    if unit == "activation":
        if full is None:
            raise ValueError("an activation slider needs the mode's full activation")
        return ACTIVATION_REACH * full
    return span * sigma


def format_in_unit(value: float, sigma: float, unit: Unit) -> str:
    """``value`` (model units) as a row shows it: "1.250σ", "1878037" or, as activation, "3.000".

    An action unit's coefficient is its activation (3 is full), so a typed 3 is a coefficient of 3.
    """
    if unit == "sigma":
        return f"{value / sigma:.3f}σ"
    if unit == "activation":
        return f"{value:.3f}"
    return f"{value:.7g}"


def describe_activation(value: float, full: float) -> str:
    """ "neutral", "full activation" or "40 % of full activation": a coefficient of an action unit in words."""
    if value == 0:
        return "neutral"
    percent = f"{100.0 * value / full:.0f}"
    return "full activation" if percent == "100" else f"{percent} % of full activation"
