"""Model coordinates in micrometres, whatever unit a file uses, so σ and ranges mean one thing on every model.

The paper's noise levels (σ_shape = 5e5, normalised by 1e5) were set on the BFM 2009, whose
coordinates are micrometres; identity coefficients of unit-length basis rows carry the unit of
the coordinates. The BFM 2017/2019 files are in millimetres and FLAME in metres, so their
coordinates are scaled to micrometres on reading. A statismo file does not record its unit, so
``length_unit_of`` tells it from the size of the mean face (a head is 0.1 to 0.3 m across).
"""

from __future__ import annotations

import numpy as np

MICROMETRES_PER = {"micrometres": 1.0, "millimetres": 1e3, "metres": 1e6}
# Largest extent of a mean face (face mask to full head with neck): 0.05 to 0.5 m.
_FACE_SIZE_METRES = (0.05, 0.5)


def length_unit_of(points: np.ndarray) -> str | None:
    """The unit in which ``points`` (N, 3) are a face-sized object, or None when no unit fits."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    if not len(points) or not np.isfinite(points).all():
        return None
    size = float(np.ptp(points, axis=0).max())
    low, high = _FACE_SIZE_METRES
    for unit, micrometres in MICROMETRES_PER.items():
        metres = size * micrometres * 1e-6
        if low <= metres <= high:
            return unit
    return None
