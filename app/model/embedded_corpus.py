"""A corpus of "fitted" clean coefficient vectors for the embedded model.

Real fitted 3DMM parameters (300W-3D, AFLW2000-3D) are not independent Gaussians: identity
traits are correlated and expressions are sparse, mostly symmetric activations of a few facial
actions. The corpus imitates that so denoising is a real task (recover the manifold), not
shrinkage toward zero:

- identity: an 8-dimensional latent drawn from a 3-component Gaussian mixture, mapped through
  a fixed linear map plus a saturating non-linearity, with a small isotropic residual. Total
  variance ≈ 0.86e12 (the paper's "real" diversity, Table I).
- expression: 10 facial actions (smile, blink, jaw drop, surprise …), each active with some
  probability and a non-negative Gamma intensity, mixed into the 29 coefficients. Total
  variance ≈ 7 (paper: 7.08).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from app.model.embedded_model import N_EXPRESSION, N_IDENTITY, embedded_model
from app.model.fitted_params import FittedParameters

PAPER_FACE_COUNT = 5837  # 300W-3D (3,837) + AFLW2000-3D (2,000)
_LATENT = 8
_STRUCTURE_SEED = 300_2000  # fixes the manifold itself; the sample seed only picks faces on it
_IDENTITY_TOTAL_VARIANCE = 0.86e12
_EXPRESSION_TOTAL_VARIANCE = 7.0

# (probability, mean intensity, {expression coefficient index: weight}); indices follow the
# named expression modes of the embedded model (0 jaw open, 1/2 smile L/R, 3 brow raise,
# 4 brow furrow, 5/6 eye close L/R, 7 pucker, 8 stretch, 9 frown, 10 cheek puff, 11 upper lip
# raise, 12 lower lip depress, 16/17 brow raise L/R, 18 squint, 21 funnel, 22 dimple).
_ACTIONS: list[tuple[float, float, dict[int, float]]] = [
    (0.35, 1.2, {1: 1.0, 2: 1.0, 18: 0.4, 22: 0.3}),  # smile
    (0.06, 1.0, {1: 1.0, 18: 0.2}),  # smirk (left)
    (0.06, 1.0, {2: 1.0, 18: 0.2}),  # smirk (right)
    (0.20, 1.3, {5: 1.0, 6: 1.0}),  # blink
    (0.25, 1.1, {0: 1.0, 12: 0.4}),  # jaw drop / talking
    (0.12, 1.2, {0: 0.8, 3: 1.0, 16: 0.3, 17: 0.3, 11: 0.2}),  # surprise
    (0.10, 1.0, {7: 1.0, 21: 0.6}),  # pucker
    (0.12, 1.0, {9: 1.0, 4: 0.7, 15: 0.3}),  # frown
    (0.08, 1.0, {8: 1.0, 12: 0.5, 4: 0.4}),  # fear / stretch
    (0.05, 1.0, {10: 1.0}),  # cheek puff
]


def embedded_corpus(count: int = PAPER_FACE_COUNT, seed: int = 0) -> FittedParameters:
    """``count`` clean (identity, expression) coefficient vectors on the embedded manifold.

    The manifold is fixed; ``seed`` only chooses which faces on it are drawn, so corpora with
    different seeds are different faces from the same population (train vs held-out test).
    """
    manifold = _manifold()
    rng = np.random.default_rng(seed)
    return FittedParameters(
        shape=manifold.identity(count, rng),
        expression=manifold.expression(count, rng),
        face_ids=[f"embedded-{seed}-{i:06d}" for i in range(count)],
        source=f"embedded corpus (seed {seed}, {count} faces)",
    )


class _Manifold:
    """The fixed population: mixing maps and scales drawn once from the structure seed."""

    def __init__(self) -> None:
        structure = np.random.default_rng(_STRUCTURE_SEED)
        self.cluster_means = structure.normal(0.0, 1.2, size=(3, _LATENT))
        self.cluster_means -= np.array([0.45, 0.35, 0.20]) @ self.cluster_means
        self.id_mixing = structure.normal(size=(N_IDENTITY, _LATENT)) / np.sqrt(_LATENT)
        self.id_bending = structure.normal(size=(N_IDENTITY, _LATENT)) / np.sqrt(_LATENT)
        self.exp_mixing = np.zeros((len(_ACTIONS), N_EXPRESSION))
        for action, (_, _, weights) in enumerate(_ACTIONS):
            for index, weight in weights.items():
                self.exp_mixing[action, index] = weight
        # Real fits leak a little of every action into the unnamed higher modes.
        self.exp_mixing[:, 23:] = structure.normal(0.0, 0.15, size=(len(_ACTIONS), N_EXPRESSION - 23))
        self.probability = np.array([p for p, _, _ in _ACTIONS])
        self.mean_intensity = np.array([m for _, m, _ in _ACTIONS])
        # Scales from a large reference sample, so every corpus size has the same population.
        self.id_scale = 1.0
        self.exp_scale = 1.0
        self.id_offset = np.zeros(N_IDENTITY)
        self.exp_offset = np.zeros(N_EXPRESSION)
        reference = np.random.default_rng(_STRUCTURE_SEED + 1)
        shape = self.identity(50_000, reference)
        expression = self.expression(50_000, reference)
        self.id_offset = shape.mean(axis=0)
        self.id_scale = np.sqrt(_IDENTITY_TOTAL_VARIANCE / np.var(shape, axis=0).sum())
        self.exp_scale = np.sqrt(_EXPRESSION_TOTAL_VARIANCE / np.var(expression, axis=0).sum())

    def identity(self, count: int, rng: np.random.Generator) -> np.ndarray:
        cluster = rng.choice(3, size=count, p=[0.45, 0.35, 0.20])
        latent = self.cluster_means[cluster] + rng.normal(size=(count, _LATENT))
        # Saturating traits: the manifold is curved, so no single linear subspace explains it.
        unit = latent @ self.id_mixing.T + 0.8 * np.tanh(latent @ self.id_bending.T)
        unit += 0.15 * rng.normal(size=unit.shape)
        # Centred on the mean face, as PCA coefficients are.
        return (unit * embedded_model().ev_id - self.id_offset) * self.id_scale

    def expression(self, count: int, rng: np.random.Generator) -> np.ndarray:
        active = rng.random((count, len(_ACTIONS))) < self.probability
        intensity = rng.gamma(shape=3.0, scale=self.mean_intensity / 3.0, size=(count, len(_ACTIONS)))
        coefficients = (active * intensity) @ self.exp_mixing + 0.05 * rng.normal(size=(count, N_EXPRESSION))
        return coefficients * self.exp_scale


@lru_cache(maxsize=1)
def _manifold() -> _Manifold:
    return _Manifold()
