"""Numbers typed by a user, read the same way in every locale.

Only plain decimal notation with a point is accepted ("1.5", "-2e5", "+.25"). A comma is
refused rather than guessed at: "1,5" is 1.5 in German and 15 to a reader that takes the comma
for a thousands separator, and silently turning a typed 1.5 into 15 moves a face by 10×.

A coefficient may be typed in standard deviations with a "σ" (or "sigma", "sd") after the
number ("2.5σ"); a plain number is read in the unit the panel shows (σ or model units; an action
unit's activation is its coefficient). A value beyond the coefficient's limit is refused in the unit
it was typed in.
"""

from __future__ import annotations

import math
import re

from app.errors import FaceExplorerError
from app.explorer.coefficient_display import Unit, sigma_of
from app.model.coefficient_limits import coefficient_limit
from app.model.morphable_model import CoefficientKind, MorphableModel

_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_SIGMA_SUFFIX = re.compile(r"\s*(σ|sigma|sd)$", re.IGNORECASE)


def parse_number(text: str) -> float:
    """The finite float ``text`` spells, or a FaceExplorerError saying why it is not one."""
    cleaned = text.strip().replace("\u2212", "-")  # a typographic minus, as copied from documents
    if not cleaned:
        raise FaceExplorerError("no number was typed")
    if "," in cleaned:
        raise FaceExplorerError(f"'{cleaned}': use a point for decimals (1.5, not 1,5); commas are ambiguous")
    if not _PLAIN_NUMBER.fullmatch(cleaned):
        raise FaceExplorerError(f"'{cleaned}' is not a number (examples: 1.5, -2e5)")
    value = float(cleaned)
    if not math.isfinite(value):
        raise FaceExplorerError(f"'{cleaned}' is too large to be a coefficient")
    return value


def parse_coefficient(text: str, unit: Unit, sigma: float) -> float:
    """A typed coefficient in model units: "2.5σ" is 2.5 × ``sigma``; a plain number is in ``unit``."""
    number, in_sigma = _SIGMA_SUFFIX.subn("", text.strip())
    value = parse_number(number)
    if in_sigma or unit == "sigma":
        value *= sigma
        if not math.isfinite(value):
            raise FaceExplorerError(f"'{text.strip()}' is too large to be a coefficient")
    return value


def read_coefficient(model: MorphableModel, kind: CoefficientKind, index: int, text: str, unit: Unit) -> float:
    """Typed ``text`` for coefficient ``index`` in model units, or why not, said in the unit it was typed in."""
    sigma = sigma_of(model, kind, index)
    value = parse_coefficient(text, unit, sigma)
    limit = coefficient_limit(model, kind)
    if not abs(value) <= limit:
        if unit == "sigma" or _SIGMA_SUFFIX.search(text.strip()):
            raise FaceExplorerError(f"{value / sigma:.4g}σ is outside ±{limit / sigma:.4g}σ, the most it may take")
        raise FaceExplorerError(f"{value:.4g} is outside ±{limit:.4g} model units, the most it may take")
    return value
