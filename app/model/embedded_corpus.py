"""A corpus of "fitted" clean coefficient vectors for the embedded model.

Real fitted 3DMM parameters (300W-3D, AFLW2000-3D) are not independent Gaussians: identity traits are
correlated and expressions are sparse activations of a few facial actions. The corpus imitates that so
denoising is a real task (recover the manifold), not shrinkage toward zero:
- identity: an 8-dimensional latent from a 3-component Gaussian mixture, bent onto the identity modes
  (``_Manifold.identity``); total variance 0.86e12, the paper's "real" diversity (Table I);
- expression: a few facial displays per face (smile, talking, blink, surprise, anger, gaze …) set
  ICT-FaceKit's blendshape weights in [0, 1], read as action units, so the coefficients are never negative:
  a uniform sample in ±r·EV, half of it negative, is far from this manifold. Total variance 7.08 (paper: 7.08).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from app.model.action_units import ACTION_UNITS
from app.model.embedded_model import N_EXPRESSION, N_IDENTITY, UNITS_PER_ACTIVATION, embedded_model
from app.model.fitted_params import FittedParameters

PAPER_FACE_COUNT = 5837  # 300W-3D (3,837) + AFLW2000-3D (2,000)
_LATENT = 8
_STRUCTURE_SEED = 300_2000  # fixes the manifold itself; the sample seed only picks faces on it
_IDENTITY_TOTAL_VARIANCE = 0.86e12
_EXPRESSION_TOTAL_VARIANCE = 7.08


@dataclass(frozen=True)
class _Display:
    """A facial display: how often faces show it and the blendshape weights it sets at full intensity.

    ``left`` and ``right`` are the weights set by each side's intensity. Symmetric displays have
    both, with shapes that have no side (jawOpen) split half and half; one-sided displays (a
    smirk, a wink) have both too but only one side is active, drawn per face.
    """

    probability: float
    left: dict[str, float]
    right: dict[str, float]
    one_sided: bool = False


def _symmetric(probability: float, paired: dict[str, float], centre: dict[str, float] | None = None) -> _Display:
    """``paired`` stems ("mouthSmile") set both sides' shapes; ``centre`` shapes have no side."""
    halves = {name: weight / 2 for name, weight in (centre or {}).items()}
    return _Display(
        probability,
        {**{f"{stem}_L": w for stem, w in paired.items()}, **halves},
        {**{f"{stem}_R": w for stem, w in paired.items()}, **halves},
    )


_DISPLAYS: tuple[_Display, ...] = (
    _symmetric(0.28, {"mouthSmile": 1.0, "cheekSquint": 0.5, "eyeSquint": 0.25, "mouthDimple": 0.2}),  # smile
    _symmetric(0.07, {"mouthSmile": 1.0, "cheekSquint": 0.7, "eyeSquint": 0.5, "mouthUpperUp": 0.3}, {"jawOpen": 0.5}),
    _symmetric(0.25, {"mouthLowerDown": 0.3}, {"jawOpen": 0.55}),  # talking
    _symmetric(0.10, {"eyeBlink": 1.0}),
    _symmetric(0.07, {"browInnerUp": 1.0, "browOuterUp": 1.0, "eyeWide": 0.8}, {"jawOpen": 0.4}),  # surprise
    _symmetric(0.08, {"browInnerUp": 0.6, "browOuterUp": 0.8}),  # interest
    _symmetric(0.06, {"browDown": 1.0, "eyeSquint": 0.5, "mouthPress": 0.6, "noseSneer": 0.3}),  # anger
    _symmetric(0.07, {"browDown": 0.7, "eyeSquint": 0.3}),  # concentration
    _symmetric(0.06, {"browInnerUp": 0.9, "mouthFrown": 0.8}, {"mouthShrugLower": 0.5}),  # sadness
    _symmetric(0.04, {"noseSneer": 1.0, "mouthUpperUp": 0.7, "browDown": 0.4}, {"mouthShrugUpper": 0.5}),  # disgust
    _symmetric(0.03, {"browInnerUp": 1.0, "browOuterUp": 0.5, "eyeWide": 1.0, "mouthStretch": 0.8}, {"jawOpen": 0.2}),
    _symmetric(0.03, {"mouthStretch": 1.0, "browDown": 0.3}),  # grimace
    _symmetric(0.05, {"eyeSquint": 0.8, "cheekSquint": 0.3}),  # squint
    _symmetric(0.04, {}, {"mouthPucker": 1.0, "mouthFunnel": 0.3}),  # kiss
    _symmetric(0.04, {}, {"mouthFunnel": 0.9, "jawOpen": 0.25}),  # "oo"
    _symmetric(0.04, {"mouthPress": 0.4}, {"mouthRollLower": 0.7, "mouthRollUpper": 0.6}),  # lips pressed in
    _symmetric(0.04, {"mouthFrown": 0.3, "mouthPress": 0.3}, {"mouthShrugLower": 1.0}),  # doubt
    _symmetric(0.02, {"cheekPuff": 1.0}),
    _symmetric(0.015, {}, {"jawForward": 0.8}),
    _Display(
        0.05, {"mouthSmile_L": 0.9, "cheekSquint_L": 0.3}, {"mouthSmile_R": 0.9, "cheekSquint_R": 0.3}, True
    ),  # smirk
    _Display(0.015, {"eyeBlink_L": 1.0, "cheekSquint_L": 0.3}, {"eyeBlink_R": 1.0, "cheekSquint_R": 0.3}, True),  # wink
    _Display(0.02, {"jawLeft": 0.8}, {"jawRight": 0.8}, True),  # jaw sideways
)
_GAZE_PROBABILITY = 0.6  # faces whose eyes do not look straight ahead
_ASYMMETRY = 0.08  # spread of the left/right difference of a symmetric display


def embedded_corpus(count: int = PAPER_FACE_COUNT, seed: int = 0) -> FittedParameters:
    """``count`` clean (identity, expression) coefficient vectors on the embedded manifold.

    The manifold is fixed; ``seed`` only chooses which faces on it are drawn, so corpora with
    different seeds are different faces from the same population (train vs held-out test).
    """
    manifold = _manifold()
    identity_rng, expression_rng = np.random.default_rng(seed).spawn(2)
    return FittedParameters(
        shape=manifold.identity(count, identity_rng),
        expression=manifold.action_units(manifold.blendshape_weights(count, expression_rng)),
        face_ids=[f"embedded-{seed}-{i:06d}" for i in range(count)],
        source=f"embedded corpus (seed {seed}, {count} faces)",
    )


def corpus_blendshape_weights(count: int = PAPER_FACE_COUNT, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """The ICT blendshape weights (count, 50) behind ``embedded_corpus(count, seed)``'s expressions, and their names.

    These are the 50 of ICT's 53 shapes that its action units use (not mouthClose, mouthLeft, mouthRight).
    """
    manifold = _manifold()
    _, expression_rng = np.random.default_rng(seed).spawn(2)
    return list(manifold.shape_names), manifold.blendshape_weights(count, expression_rng)


class _Manifold:
    """The fixed population: mixing maps and scales drawn once from the structure seed."""

    def __init__(self) -> None:
        structure = np.random.default_rng(_STRUCTURE_SEED)
        self.cluster_means = structure.normal(0.0, 1.2, size=(3, _LATENT))
        self.cluster_means -= np.array([0.45, 0.35, 0.20]) @ self.cluster_means
        self.id_mixing = structure.normal(size=(N_IDENTITY, _LATENT)) / np.sqrt(_LATENT)
        self.id_bending = structure.normal(size=(N_IDENTITY, _LATENT)) / np.sqrt(_LATENT)
        self.shape_names = sorted({shape for unit in ACTION_UNITS for shape in unit.shapes})
        column = {name: k for k, name in enumerate(self.shape_names)}
        # Each action unit's coefficient is the mean weight of its shapes.
        self.unit_of_shapes = np.zeros((len(self.shape_names), N_EXPRESSION))
        for k, unit in enumerate(ACTION_UNITS):
            for shape in unit.shapes:
                self.unit_of_shapes[column[shape], k] = UNITS_PER_ACTIVATION / len(unit.shapes)
        # Rows: each display's left side, then its right side, at intensity 1.
        self.display_weights = np.zeros((2 * len(_DISPLAYS), len(self.shape_names)))
        for k, display in enumerate(_DISPLAYS):
            for side, weights in enumerate((display.left, display.right)):
                for name, weight in weights.items():
                    self.display_weights[2 * k + side, column[name]] = weight
        self.probability = np.array([display.probability for display in _DISPLAYS])
        self.gaze = {
            name: column[name]
            for name in (
                "eyeLookOut_L",
                "eyeLookIn_R",
                "eyeLookOut_R",
                "eyeLookIn_L",
                "eyeLookUp_L",
                "eyeLookUp_R",
                "eyeLookDown_L",
                "eyeLookDown_R",
            )
        }
        # Scales from a large reference sample, so every corpus size has the same population.
        self.id_scale = 1.0
        self.id_offset = np.zeros(N_IDENTITY)
        reference = np.random.default_rng(_STRUCTURE_SEED + 1)
        identities = self.identity(50_000, reference)
        self.id_offset = identities.mean(axis=0)
        self.id_scale = np.sqrt(_IDENTITY_TOTAL_VARIANCE / np.var(identities, axis=0).sum())
        # Weights are clipped to [0, 1] after scaling, so the scale is found by a few fixed-point steps.
        unscaled = self._unscaled_weights(50_000, reference)
        self.exp_scale = 1.0
        for _ in range(6):
            expression = self.action_units(np.clip(unscaled * self.exp_scale, 0.0, 1.0))
            self.exp_scale *= np.sqrt(_EXPRESSION_TOTAL_VARIANCE / np.var(expression, axis=0).sum())

    def identity(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """(count, K_id) identities: the latent through a fixed linear map plus a saturating non-linearity.

        The map leads onto the identity modes (weighted by their standard deviations), with a small
        isotropic residual; the total variance, 0.86e12, is on these modes about ICT's own population spread.
        """
        cluster = rng.choice(3, size=count, p=[0.45, 0.35, 0.20])
        latent = self.cluster_means[cluster] + rng.normal(size=(count, _LATENT))
        # Saturating traits: the manifold is curved, so no single linear subspace explains it.
        unit = latent @ self.id_mixing.T + 0.8 * np.tanh(latent @ self.id_bending.T)
        unit += 0.15 * rng.normal(size=unit.shape)
        # Centred on the mean face, as PCA coefficients are.
        return (unit * embedded_model().ev_id - self.id_offset) * self.id_scale

    def blendshape_weights(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """(count, shapes) weights in [0, 1]: a few displays per face, left and right mostly alike.

        Each display is active with some probability and an intensity in [0, 1]; left and right move
        together (a smile is almost symmetric, blinks are paired, the eyes turn together) except in the
        rare one-sided displays (smirk, wink). The weights never leave [0, 1], as ICT's do not.
        """
        return np.clip(self._unscaled_weights(count, rng) * self.exp_scale, 0.0, 1.0)

    def _unscaled_weights(self, count: int, rng: np.random.Generator) -> np.ndarray:
        n_displays = len(_DISPLAYS)
        active = rng.random((count, n_displays)) < self.probability
        intensity = active * rng.beta(2.5, 1.5, size=(count, n_displays))
        # Symmetric displays differ a little between the sides; one-sided ones pick a side.
        side = rng.random((count, n_displays)) < 0.5
        one_sided = np.array([display.one_sided for display in _DISPLAYS])
        asymmetry = np.clip(rng.normal(0.0, _ASYMMETRY, size=(count, n_displays)), -0.3, 0.3)
        left = np.where(one_sided, intensity * side, intensity * (1.0 + asymmetry))
        right = np.where(one_sided, intensity * ~side, intensity * (1.0 - asymmetry))
        weights = np.stack([left, right], axis=2).reshape(count, -1) @ self.display_weights
        self._look_around(weights, rng)
        return weights

    def action_units(self, weights: np.ndarray) -> np.ndarray:
        """Each action unit's coefficient: ``UNITS_PER_ACTIVATION`` × the mean weight of its shapes."""
        return weights @ self.unit_of_shapes

    def _look_around(self, weights: np.ndarray, rng: np.random.Generator) -> None:
        """Both eyes turn together: sideways and up or down, in place."""
        count = len(weights)
        looking = rng.random(count) < _GAZE_PROBABILITY
        sideways: np.ndarray = looking * np.clip(rng.normal(0.0, 0.35, size=count), -1.0, 1.0)
        vertical: np.ndarray = looking * np.clip(rng.normal(0.0, 0.25, size=count), -1.0, 1.0)
        g = self.gaze
        for first, second, amount in (
            ("eyeLookOut_L", "eyeLookIn_R", np.maximum(sideways, 0.0)),  # to the face's left
            ("eyeLookOut_R", "eyeLookIn_L", np.maximum(-sideways, 0.0)),
            ("eyeLookUp_L", "eyeLookUp_R", np.maximum(vertical, 0.0)),
            ("eyeLookDown_L", "eyeLookDown_R", np.maximum(-vertical, 0.0)),
        ):
            weights[:, g[first]] += amount
            weights[:, g[second]] += amount


@lru_cache(maxsize=1)
def _manifold() -> _Manifold:
    return _Manifold()
