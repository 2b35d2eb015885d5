"""The prior's denoiser: a network trained on the paper's corruption to give E[clean | noisy].

The corruption adds N(0, σ²) to an unknown subset of the coefficients and leaves the others exactly
as they were, so the best squared-error estimate per coefficient is "keep it" weighted by the
chance it was not hit plus a guess from the rest of the face. The network has that shape: a keep
probability π and a replacement r per coefficient, returning π·y + (1 − π)·r, on coefficients
standardised by the training faces (a hit on one coefficient stays local there, unlike in PCA
coordinates). A hit can lie thousands of standard deviations out, so each value is seen clipped
to ±8 beside its asinh. Trained on fresh corruptions every step, the loss weighted by each
coefficient's variance (the model-unit MSE the paper reports).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from app.errors import FaceExplorerError

CLIP = 8.0  # standard deviations kept linear in the clipped input
KEEP_BIAS = 2.0  # a new network keeps each coefficient with probability sigmoid(2) ≈ 0.88


class CorruptionDenoiser(nn.Module):
    """(B, L) noisy vectors in model units → their estimated clean vectors, in model units."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, dimension: int, width: int = 512, depth: int = 3) -> None:
        super().__init__()
        self.dimension, self.width, self.depth = dimension, width, depth
        self.register_buffer("mean", torch.zeros(dimension, dtype=torch.float64))
        self.register_buffer("std", torch.ones(dimension, dtype=torch.float64))
        self.input = nn.Linear(2 * dimension, width)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.LayerNorm(width), nn.Linear(width, width), nn.SiLU(), nn.Linear(width, width))
            for _ in range(depth)
        )
        self.output = nn.Linear(width, 2 * dimension)

    def standardise_on(self, vectors: np.ndarray) -> None:
        """Take the per-coefficient mean and standard deviation of the training faces (M, L)."""
        vectors = np.asarray(vectors, dtype=np.float64)
        std = vectors.std(axis=0)
        if not np.all(np.isfinite(std)):
            raise FaceExplorerError("the training vectors contain NaN or infinite values")
        self.mean.copy_(torch.from_numpy(vectors.mean(axis=0)))
        # A coefficient constant over the training faces is compared at the scale of the others.
        self.std.copy_(torch.from_numpy(np.maximum(std, 1e-6 * max(std.max(), 1e-300))))

    def loss_weights(self) -> torch.Tensor:
        """Per-coefficient weights of the standardised squared error that make it the model-unit MSE (mean 1)."""
        variance = self.std.float() ** 2
        return variance / variance.mean()

    def standardise(self, vectors: torch.Tensor) -> torch.Tensor:
        return ((vectors.to(self.mean.dtype) - self.mean) / self.std).float()

    def unstandardise(self, standardised: torch.Tensor) -> torch.Tensor:
        return standardised.to(self.std.dtype) * self.std + self.mean

    def estimate(self, noisy: torch.Tensor) -> torch.Tensor:
        """The clean estimate of standardised noisy vectors, standardised (what training regresses)."""
        features = torch.cat([noisy.clamp(-CLIP, CLIP), torch.asinh(noisy)], dim=-1)
        h = self.input(features)
        for block in self.blocks:
            h = h + block(h)
        keep_logit, replacement = self.output(nn.functional.silu(h)).chunk(2, dim=-1)
        keep = torch.sigmoid(keep_logit + KEEP_BIAS)
        return keep * noisy + (1 - keep) * replacement

    @torch.no_grad()
    def forward(self, noisy: torch.Tensor) -> torch.Tensor:
        return self.unstandardise(self.estimate(self.standardise(noisy)))
