"""Numbers typed by a user, read the same way in every locale.

Only plain decimal notation with a point is accepted ("1.5", "-2e5", "+.25"). A comma is
refused rather than guessed at: "1,5" is 1.5 in German and 15 to a reader that takes the comma
for a thousands separator, and silently turning a typed 1.5 into 15 moves a face by 10×.

A coefficient may be typed in standard deviations with a "σ" (or "sigma", "sd") after the
number ("2.5σ"); a plain number is read in the unit the panel shows (σ or model units).
"""

from __future__ import annotations

import math
import re

from app.errors import FaceExplorerError
from app.explorer.coefficient_display import Unit

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
