"""The embedded default face model: ICT-FaceKit's head with the Basel Face Model's interface and scales.

The geometry is ICT-FaceKit's "ICT Face Model Light" (USC ICT, MIT licence; see
``app/model/data/ICT-FaceKit-LICENSE.txt``), read from ``app/model/data/embedded_face.npz``
(``tools/build_embedded_model.py`` builds it from ICT's OBJs). The interface and the scales are those of
the BFM as 3DDFA uses it, so the paper's noise levels (σ_shape = 5e5 with /1e5 normalisation, σ_exp = 2)
and sampling ranges (r = 10 / 15) mean the same thing here as on the real model: coordinates in
micrometres; 199 identity modes with orthonormal rows and Σ EV² = 1.87e12 (the paper's "normal"
diversity), ICT's 100 identity modes then 99 small, smooth, decaying random fields like the BFM's high
modes; 29 expression modes, one per FACS action unit of ICT's table in ``ACTION_UNITS`` order, a
coefficient of ``UNITS_PER_ACTIVATION`` being the unit at full activation, with Σ (ev/max)² = 2.50.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np
import scipy.linalg
from threadpoolctl import threadpool_limits

from app.errors import ModelFileError
from app.model.action_units import ACTION_UNITS
from app.model.face_asset import ASSET_PATH, FaceAsset, load_face_asset
from app.model.face_parts import FacePart
from app.model.morphable_model import EMBEDDED_NAME_PREFIX, MorphableModel
from app.model.uv_layout import EMBEDDED_UV_PATH, load_uv_layout

# For people only: the model is told apart by its digest. v4 is the first built on ICT-FaceKit.
EMBEDDED_NAME = f"{EMBEDDED_NAME_PREFIX} v4 (ICT-FaceKit head)"
# Part of the model's identity (its recipe): raise it with any change to how the build computes.
_BUILD_VERSION = 1
N_IDENTITY = 199
N_EXPRESSION = len(ACTION_UNITS)
UNITS_PER_ACTIVATION = 3.0  # expression coefficient of a fully activated action unit: fitted ones are O(1) to a few
_SEED = 20090101
_MM = 1000.0  # model units are micrometres, as in the BFM
# Sum of identity variances on the BFM (paper Table I, "normal" sampling: 1.87e12).
_IDENTITY_TOTAL_VARIANCE = 1.87e12
_EXPRESSION_EV_MAX = 3.2e4  # arbitrary raw scale; users of expEV normalise by the maximum
_EXPRESSION_EV_DECAY = 0.775  # Σ (0.775^k)² over 29 modes = 2.50
# Rotation (axis, degrees at full activation) of both eyeballs for ICT's gaze units. The
# linearised rotation moves a point on the ball off it by 1/cos(angle) - 1: 3 % at 25°.
_GAZE = {
    "AU61 eyes turn left": ((0.0, 1.0, 0.0), 25.0),
    "AU62 eyes turn right": ((0.0, 1.0, 0.0), -25.0),
    "AU63 eyes up": ((-1.0, 0.0, 0.0), 20.0),
    "AU64 eyes down": ((-1.0, 0.0, 0.0), -20.0),
}


@lru_cache(maxsize=1)
def embedded_model() -> MorphableModel:
    """Build the embedded face model from the shipped asset (deterministic, ≈ 1 s; cached per process).

    The build runs its linear algebra on one BLAS thread, so every process on a machine (the
    explorer, dataset workers, Dask workers started with one thread) gets the same bits. Other
    BLAS libraries or CPUs may still round differently, so the model is identified by its recipe
    (the asset file's sha256 and the build constants), not by the built arrays.
    """
    with threadpool_limits(limits=1):
        return _build()


def _recipe() -> str:
    """Everything the build depends on besides this file's code: change the code, change a constant here."""
    asset_digest = hashlib.sha256(ASSET_PATH.read_bytes()).hexdigest()
    constants = (
        N_IDENTITY,
        N_EXPRESSION,
        UNITS_PER_ACTIVATION,
        _SEED,
        _IDENTITY_TOTAL_VARIANCE,
        _EXPRESSION_EV_MAX,
        _EXPRESSION_EV_DECAY,
        sorted(_GAZE.items()),
    )
    return f"{EMBEDDED_NAME}; build {_BUILD_VERSION}; asset {asset_digest}; constants {constants!r}"


def _build() -> MorphableModel:
    """The model from the shipped asset.

    Identity: ICT's 100 modes made orthonormal on the kept vertices (``_orthonormal_identity``), which
    leaves their distribution unchanged: α ~ N(0, EV²) gives exactly ICT's faces for weights ~ N(0, 1),
    scaled by one factor (≈ 1.4) to the BFM's total; then the smooth fields. Expression: each action
    unit is the sum of its left and right shapes, and the standard deviations decay so that
    Σ (ev/max)² = 2.50 as on the BFM. ICT's gaze shapes only move the eyelids (its full rig turns the
    eyeballs with joints), so the four gaze units also turn the eyeballs, by a rotation linearised about
    each eyeball's centre (``_turn_eyeballs``).
    """
    asset = load_face_asset(ASSET_PATH)
    ict_rows, ict_sd = _orthonormal_identity(asset)
    smooth = _smooth_fields(asset, N_IDENTITY - len(ict_rows), np.random.default_rng(_SEED))
    # Gram-Schmidt in mode order (as the Cholesky factor of the Gram matrix): ICT's rows, already
    # orthonormal, stay as they are, and each smooth field loses what earlier modes explain.
    fields = np.vstack([ict_rows, smooth])
    lower = np.linalg.cholesky(fields @ fields.T)
    basis_id = scipy.linalg.solve_triangular(lower, fields, lower=True)
    # The smooth modes continue the decay where ICT's smallest mode ends.
    smooth_sd = 0.8 * ict_sd[-1] * (1.0 + np.arange(len(smooth)) / 10.0) ** -0.8
    ev_id = np.concatenate([ict_sd, smooth_sd])
    ev_id *= np.sqrt(_IDENTITY_TOTAL_VARIANCE / np.sum(ev_id**2))

    units = _action_units(asset)
    _turn_eyeballs(units, asset)
    return MorphableModel(
        mean=asset.neutral.reshape(-1),
        basis_id=basis_id,
        basis_exp=units.reshape(N_EXPRESSION, -1) / UNITS_PER_ACTIVATION,
        ev_id=ev_id,
        ev_exp=_EXPRESSION_EV_MAX * _EXPRESSION_EV_DECAY ** np.arange(N_EXPRESSION),
        triangles=asset.triangles,
        name=EMBEDDED_NAME,
        # Numbered from 0, as the coefficients are everywhere (app/model/coefficient_names.py).
        names_id=[f"identity PC {k}" for k in range(len(ict_rows))]
        + [f"smooth mode {k}" for k in range(len(ict_rows), N_IDENTITY)],
        names_exp=[unit.mode_name for unit in ACTION_UNITS],
        landmarks=asset.landmarks,
        triangle_parts=asset.triangle_parts,
        recipe=_recipe(),
        uv_layout=load_uv_layout(EMBEDDED_UV_PATH, asset.source_digest),
    )


def _orthonormal_identity(asset: FaceAsset) -> tuple[np.ndarray, np.ndarray]:
    """ICT's modes as orthonormal rows and standard deviations with the same distribution of faces.

    ICT's modes are orthogonal over its whole mesh; over the kept vertices they are nearly so (cos
    ≤ 0.08). The SVD D = U S Vᵀ turns weights w ~ N(0, I) into coefficients on the rows of Vᵀ
    that are ~ N(0, S²).
    """
    modes = asset.identity.reshape(len(asset.identity), -1).astype(np.float64)
    # U and S from the small Gram matrix D Dᵀ = U S² Uᵀ (20x faster than an SVD of D), largest first.
    variances, u = np.linalg.eigh(modes @ modes.T)
    variances, u = variances[::-1], u[:, ::-1]
    sd = np.sqrt(variances)
    # Each row points the way of the ICT mode it mostly is, so "PC 1" looks like identity000.
    signs = np.sign(u[np.argmax(np.abs(u), axis=0), np.arange(len(sd))])
    return (u * (signs / sd)).T @ modes, sd


def _smooth_fields(asset: FaceAsset, count: int, rng: np.random.Generator) -> np.ndarray:
    """(count, 3N) smooth random displacement fields centred on the face, finer the higher the order."""
    points = asset.neutral.astype(np.float64)
    skin = np.unique(asset.triangles[asset.triangle_parts == FacePart.SKIN])
    front = skin[points[skin, 2] > points[:, 2].max() - 80.0 * _MM]  # within 8 cm of the nose tip
    squared_norms = (points**2).sum(axis=1)
    fields = np.empty((count, points.size))
    for order in range(count):
        length = 60.0 * _MM * (1.0 + order / 20.0) ** -0.5
        centres = points[rng.choice(front, size=12, replace=False)]
        weights = rng.normal(size=(12, 3)) * np.array([0.5, 0.5, 1.0])
        distance2 = squared_norms[:, None] + (centres**2).sum(axis=1)[None, :] - 2.0 * points @ centres.T
        fields[order] = (np.exp(-0.5 * distance2 / length**2) @ weights).reshape(-1)
    return fields


def _action_units(asset: FaceAsset) -> np.ndarray:
    """The asset's action units (K, N, 3) in ``ACTION_UNITS`` order, found by name."""
    labels = [unit.label for unit in ACTION_UNITS]
    missing = [label for label in labels if label not in asset.expression_names]
    if missing:
        raise ModelFileError(
            f"{ASSET_PATH}: lacks the action unit '{missing[0]}'; rebuild it with tools/build_embedded_model.py"
        )
    return asset.expression[[asset.expression_names.index(label) for label in labels]]


def _turn_eyeballs(units: np.ndarray, asset: FaceAsset) -> None:
    """Add each gaze unit's eyeball rotation to ``units`` (K, N, 3), in place."""
    eyeball_parts = [FacePart.EYE_WHITE, FacePart.IRIS, FacePart.PUPIL]
    eyeballs = np.unique(asset.triangles[np.isin(asset.triangle_parts, eyeball_parts)])
    points = asset.neutral[eyeballs].astype(np.float64)
    for side in (points[:, 0] < 0, points[:, 0] > 0):
        ball = points[side]
        offsets = ball - (ball.min(axis=0) + ball.max(axis=0)) / 2
        for label, (axis, degrees) in _GAZE.items():
            k = [unit.label for unit in ACTION_UNITS].index(label)
            units[k, eyeballs[side]] += np.radians(degrees) * np.cross(axis, offsets)
