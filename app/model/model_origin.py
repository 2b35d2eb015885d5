"""Which published model a file is, in which units it came, and what it lacks: what ``info`` reports.

Set by the loaders of the Basel Face Model 2017/2019 (HDF5) and FLAME (pickle or .npz), and only
by them. Both publish standard-normal coefficients (one unit = one standard deviation), which is
what fitting code (EMOCA, DECA, MICA, SMIRK, scalismo-faces) writes, so a fitted face of a model
with an origin is read as published coefficient × EV; and neither ships fitted faces, so without
--data its denoisers train on samples of the model's own prior.
"""

from __future__ import annotations

from dataclasses import dataclass

PRIOR_SOURCE_PREFIX = "samples of the model's own Gaussian prior"


@dataclass(frozen=True)
class ModelOrigin:
    """The published model behind a MorphableModel and what it could not provide."""

    family: str  # "Basel Face Model (statismo HDF5)", "FLAME"
    version: str  # "2019", "2020", "2023", "unknown"
    file_units: str  # the file's length unit as read ("millimetres", "metres")
    missing: tuple[str, ...] = ()  # one line per thing the file does not provide

    def describe(self) -> str:
        return f"{self.family} {self.version}, file in {self.file_units} (read as micrometres)"
