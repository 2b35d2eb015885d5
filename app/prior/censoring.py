"""Coefficients that real faces hold exactly at a bound, and how the prior models them.

Blendshape weights are fitted within [0, 1], so many sit exactly on 0 (83 % of the embedded
corpus's expression coefficients: action units at rest). A density puts no mass on one value, and a
diffusion prior smooths such an atom into small activations that real faces do not have. As for a
censored variable, the prior models a latent y that is the coefficient off the bound and stands
for "on the bound" beyond it: training spreads the faces on the bound uniformly over an interval
beyond it, a gap away (so the smoothing of the step stays on the bound's side), and the prior's
faces are clamped back onto the bound. A coefficient is censored where at least MIN_ATOM_SHARE of
the training faces sit exactly on its minimum (or maximum); fitted PCA coefficients (Basel, FLAME)
have no such atoms, and nothing changes for them.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

MIN_ATOM_SHARE = 0.01
GAP, WIDTH = 0.5, 1.0  # where the interval standing for the bound starts and how long it is, in spreads


class Censoring(nn.Module):
    """Per coefficient: the bound its faces sit on (if any) and the spread of the faces off it."""

    lower: torch.Tensor
    lower_spread: torch.Tensor  # 0: not censored below
    upper: torch.Tensor
    upper_spread: torch.Tensor  # 0: not censored above

    def __init__(self, dimension: int) -> None:
        super().__init__()
        for name in ("lower", "lower_spread", "upper", "upper_spread"):
            self.register_buffer(name, torch.zeros(dimension, dtype=torch.float64))

    @classmethod
    def fit(cls, faces: np.ndarray) -> Censoring:
        """The bounds that at least MIN_ATOM_SHARE of ``faces`` (rows) sit exactly on."""
        censoring = cls(faces.shape[1])
        for bound, spread, values in (
            (censoring.lower, censoring.lower_spread, faces.min(axis=0)),
            (censoring.upper, censoring.upper_spread, faces.max(axis=0)),
        ):
            on_bound = faces == values
            for index in np.flatnonzero(on_bound.mean(axis=0) >= MIN_ATOM_SHARE):
                off = faces[~on_bound[:, index], index]
                bound[index] = float(values[index])
                spread[index] = float(off.std()) if len(off) > 1 and off.std() > 0 else 1.0
        return censoring

    @property
    def censored(self) -> int:
        """How many bounds are modelled (a coefficient may have two)."""
        return int((self.lower_spread > 0).sum() + (self.upper_spread > 0).sum())

    def spread(self, faces: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """The latent of (B, L) ``faces``: a coefficient on a censored bound moves into the interval beyond it,
        uniformly with ``generator`` (training), or to the interval's middle without one."""
        if generator is None:
            position = torch.full(faces.shape, 0.5, dtype=faces.dtype, device=faces.device)
        else:
            position = torch.rand(faces.shape, generator=generator, dtype=torch.float64).to(faces.device, faces.dtype)
        offset = GAP + WIDTH * position
        lower, lower_spread = self.lower.to(faces.dtype), self.lower_spread.to(faces.dtype)
        upper, upper_spread = self.upper.to(faces.dtype), self.upper_spread.to(faces.dtype)
        latent = torch.where((lower_spread > 0) & (faces <= lower), lower - offset * lower_spread, faces)
        return torch.where((upper_spread > 0) & (faces >= upper), upper + offset * upper_spread, latent)

    def clamp(self, latent: torch.Tensor) -> torch.Tensor:
        """Faces from latents: beyond a censored bound is on it."""
        lower = torch.where(self.lower_spread > 0, self.lower, -torch.inf).to(latent.dtype)
        upper = torch.where(self.upper_spread > 0, self.upper, torch.inf).to(latent.dtype)
        return torch.minimum(torch.maximum(latent, lower), upper)
