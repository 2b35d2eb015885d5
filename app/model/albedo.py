"""Per-vertex colour (albedo) of a face: a linear model like the shape's, ``colour = mean + β · basis``.

The Basel Face Model ships one (face3d's ``BFM.mat``: ``texMU`` (3N, 1), ``texPC`` (3N, K),
``texEV`` (K, 1), values on a 0–255 scale); 300W-LP / AFLW2000-3D store a face's fitted
coefficients as ``Tex_Para`` in the same absolute units, so ``β_i ~ N(0, texEV_i²)`` draws faces
the way the shape's "normal" sampling does. Models without one (the embedded head, 3DDFA's
shape files, ICT-FaceKit) get ``skin_tone_albedo``: their parts' colours with two small skin
modes, tone (lighter/darker) and redness, so that images of a dataset do not all share one skin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.errors import FaceExplorerError
from app.model.face_parts import FacePart, vertex_parts

COLOUR_SCALE = 255.0  # the BFM's texture values run from 0 to 255
# Skin modes of the fallback albedo (RGB directions on the 0-255 scale) and the colour change of
# one standard deviation at each skin vertex: about a tenth of the range for tone, less for redness.
_SKIN_MODES = {"skin tone (darker)": ((-0.52, -0.50, -0.45), 28.0), "skin redness": ((0.55, -0.25, -0.25), 9.0)}


@dataclass(eq=False)
class AlbedoModel:
    """Mean colour (3N,), modes (K, 3N) and their standard deviations (K,), on the 0-255 scale."""

    mean: np.ndarray
    basis: np.ndarray
    ev: np.ndarray
    name: str

    def __post_init__(self) -> None:
        self.mean = np.ascontiguousarray(self.mean, dtype=np.float32).reshape(-1)
        self.basis = np.ascontiguousarray(self.basis, dtype=np.float32)
        self.ev = np.asarray(self.ev, dtype=np.float64).reshape(-1)
        if self.mean.size % 3 or self.basis.ndim != 2 or self.basis.shape[1] != self.mean.size:
            raise FaceExplorerError(
                f"{self.name}: texture basis {self.basis.shape} does not fit a mean of {self.mean.size} values"
            )
        if self.ev.shape != (self.basis.shape[0],):
            raise FaceExplorerError(
                f"{self.name}: {self.ev.size} texture standard deviations for {self.basis.shape[0]} modes"
            )
        if (
            not (np.isfinite(self.mean).all() and np.isfinite(self.basis).all() and np.isfinite(self.ev).all())
            or (self.ev <= 0).any()
        ):
            raise FaceExplorerError(
                f"{self.name}: the texture model holds NaN, infinite or non-positive standard deviations"
            )

    @property
    def n_vertices(self) -> int:
        return self.mean.size // 3

    @property
    def n_coefficients(self) -> int:
        return self.basis.shape[0]

    def sample(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """(count, K) coefficients ``β_i ~ N(0, ev_i²)``."""
        return rng.standard_normal((count, self.n_coefficients)) * self.ev

    def colours(self, coefficients: np.ndarray) -> np.ndarray:
        """(N, 3) float32 RGB in [0, 1] for one coefficient vector (K,)."""
        coefficients = np.asarray(coefficients, dtype=np.float32).reshape(-1)
        if coefficients.shape != (self.n_coefficients,) or not np.isfinite(coefficients).all():
            raise FaceExplorerError(
                f"{self.name}: needs {self.n_coefficients} finite texture coefficients, got {coefficients.shape}"
            )
        flat = coefficients @ self.basis + self.mean
        return np.clip(flat / COLOUR_SCALE, 0.0, 1.0).reshape(-1, 3)


def skin_tone_albedo(
    triangles: np.ndarray,
    triangle_parts: np.ndarray,
    n_vertices: int,
    part_colours: dict[FacePart, tuple[float, float, float]],
) -> AlbedoModel:
    """The parts' colours (``part_colours``, RGB in [0, 1]) with a tone and a redness mode on the skin's vertices.

    Each mode is one unit vector (like the BFM's orthonormal texPC), so its standard deviation is
    the per-vertex colour change of one standard deviation times the square root of the skin's size.
    """
    parts = vertex_parts(triangles, triangle_parts, n_vertices)
    palette = np.array([part_colours[part] for part in FacePart], dtype=np.float64) * COLOUR_SCALE
    skin = parts == FacePart.SKIN
    rows, deviations = [], []
    for direction, change in _SKIN_MODES.values():
        unit = np.asarray(direction) / np.linalg.norm(direction)
        row = np.zeros((n_vertices, 3))
        row[skin] = unit / np.sqrt(skin.sum())
        rows.append(row.reshape(-1))
        deviations.append(change * np.sqrt(skin.sum()))
    return AlbedoModel(
        palette[parts].reshape(-1), np.stack(rows), np.array(deviations), "skin tones (" + ", ".join(_SKIN_MODES) + ")"
    )
