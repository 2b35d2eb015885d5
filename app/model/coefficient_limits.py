"""How far a coefficient may go: ±1000 × the largest scale of its kind (max EV for identity, 1 for expression).

The scale s_i is EV_i for identity and EV_i/max(EV) for expression. The paper's widest sampling
reaches ±7.5·s_i, and a face at ±1000·max(s) is a tangle of triangles, yet its vertices stay far
inside float32 range. One limit per kind rather than per coefficient, because fitted values of
the high, small-EV modes are still O(1) (an expression coefficient of 2 is ordinary everywhere). Beyond that, values such as 1e30
overflow the float32 vertex buffers and the views go black, so every coefficient that enters
the product (typed, sampled, from a preset, a study or a ``--coefficients`` file) is checked
against this limit and refused with one message naming the first offender.
"""

from __future__ import annotations

import numpy as np

from app.errors import FaceExplorerError
from app.model.morphable_model import CoefficientKind, MorphableModel
from app.model.sampling import sampling_scale

LIMIT_IN_SCALES = 1000.0
KIND_NAMES = {"shape": "identity", "expression": "expression"}


def coefficient_limits(model: MorphableModel, kind: CoefficientKind) -> np.ndarray:
    """Largest allowed |α_i| for each coefficient of ``kind``, in model units."""
    scale = sampling_scale(model, kind)
    return np.full(len(scale), LIMIT_IN_SCALES * float(scale.max()))


def check_coefficients(model: MorphableModel, kind: CoefficientKind, values: np.ndarray, source: str) -> np.ndarray:
    """``values`` (one vector or a table of rows) as float64 if all are finite and within the limit.

    Otherwise one error naming ``source``, the first offending row and coefficient, and the limit.
    """
    values = np.asarray(values, dtype=np.float64)
    count = model.n_coefficients(kind)
    if values.ndim not in (1, 2) or values.shape[-1] != count:
        raise FaceExplorerError(f"{source}: {KIND_NAMES[kind]} coefficients have shape {values.shape}; "
                                f"this model needs ({count},) or (rows, {count})")
    limits = coefficient_limits(model, kind)
    bad = np.argwhere(~(np.abs(np.atleast_2d(values)) <= limits))  # NaN fails the comparison too
    if bad.size:
        row, index = (int(i) for i in bad[0])
        where = f"row {row}, " if values.ndim == 2 else ""
        more = f" ({len(bad) - 1} more values too)" if len(bad) > 1 else ""
        raise FaceExplorerError(
            f"{source}: {where}{KIND_NAMES[kind]} coefficient {index} is {np.atleast_2d(values)[row, index]:.4g}, "
            f"outside ±{limits[index]:.4g} ({LIMIT_IN_SCALES:g} × the largest {KIND_NAMES[kind]} scale){more}"
        )
    return values
