"""How far a coefficient may go: ±1000 × the largest scale of its kind (max EV for identity, 1 for expression).

The scale s_i is EV_i for identity and EV_i/max(EV) for expression. The paper's widest sampling
reaches ±7.5·s_i, and a face at ±1000·max(s) is a tangle of triangles, yet its vertices stay far
inside float32 range. One limit per kind rather than per coefficient, because fitted values of
the high, small-EV modes are still O(1) (an expression coefficient of 2 is ordinary everywhere).
Beyond that, values such as 1e30 overflow the float32 vertex buffers and the views go black, so
every coefficient that enters the product (typed, sampled, from a preset, a study or a
``--coefficients`` file) is checked against this limit and refused with one message naming the
first offender.
"""

from __future__ import annotations

import numpy as np

from app.errors import FaceExplorerError
from app.model.coefficient_names import KIND_WORDS as KIND_NAMES
from app.model.coefficient_names import coefficient_label
from app.model.morphable_model import CoefficientKind, MorphableModel
from app.model.sampling import sampling_scale

LIMIT_IN_SCALES = 1000.0


def coefficient_limit(model: MorphableModel, kind: CoefficientKind) -> float:
    """Largest allowed |α_i| for every coefficient of ``kind``, in model units."""
    return LIMIT_IN_SCALES * float(sampling_scale(model, kind).max())


def _outside(model: MorphableModel, kind: CoefficientKind, index: int, value: float, limit: float) -> str:
    return (
        f"{coefficient_label(model, kind, index)} is {value:.4g}, outside ±{limit:.4g} "
        f"({LIMIT_IN_SCALES:g} × the largest {KIND_NAMES[kind]} scale)"
    )


def check_coefficient(model: MorphableModel, kind: CoefficientKind, index: int, value: float) -> float:
    """One typed or dragged value as a float if it is within the limit (NaN is not)."""
    value = float(value)
    limit = coefficient_limit(model, kind)
    if not abs(value) <= limit:
        raise FaceExplorerError(_outside(model, kind, index, value, limit))
    return value


def check_coefficients(model: MorphableModel, kind: CoefficientKind, values: np.ndarray, source: str) -> np.ndarray:
    """``values`` (one vector or a table of rows) as float64 if all are finite and within the limit.

    Otherwise one error naming ``source``, the first offending row and coefficient, and the limit.
    """
    values = np.asarray(values, dtype=np.float64)
    count = model.n_coefficients(kind)
    if values.ndim not in (1, 2) or values.shape[-1] != count:
        raise FaceExplorerError(
            f"{source}: {KIND_NAMES[kind]} coefficients have shape {values.shape}; "
            f"this model needs ({count},) or (rows, {count})"
        )
    limit = coefficient_limit(model, kind)
    rows = np.atleast_2d(values)
    bad = np.argwhere(~(np.abs(rows) <= limit))  # NaN fails the comparison too
    if bad.size:
        row, index = (int(i) for i in bad[0])
        where = f"row {row}, " if values.ndim == 2 else ""
        more = f" ({len(bad) - 1} more values too)" if len(bad) > 1 else ""
        raise FaceExplorerError(f"{source}: {where}{_outside(model, kind, index, rows[row, index], limit)}{more}")
    return values
