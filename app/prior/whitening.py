"""PCA whitening of coefficient vectors, fitted on the training faces and stored with the prior.

Identity coefficients span five orders of magnitude (a top mode's standard deviation is about
500,000, a high mode's 800) and are correlated; in whitened coordinates every principal direction
of the training faces has unit variance. The diffusion model works there, so one noise schedule
(σ_data = 1) suits every kind and model, and noise of strength t disturbs each direction in
proportion to how much real faces vary along it. The map is linear, so densities change by one
constant Jacobian (``log_det``), the same for every face.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from app.errors import FaceExplorerError

# Directions with less variance than this share of the largest are numerically flat (fewer faces
# than coefficients, duplicated rows); they get this floor instead of an infinite scale.
VARIANCE_FLOOR = 1e-12


class Whitening(nn.Module):
    """z = ((x − mean) · componentsᵀ) / scales, and back; buffers travel with the state_dict."""

    mean: torch.Tensor
    components: torch.Tensor
    scales: torch.Tensor

    def __init__(self, dimension: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(dimension, dtype=torch.float64))
        self.register_buffer("components", torch.eye(dimension, dtype=torch.float64))
        self.register_buffer("scales", torch.ones(dimension, dtype=torch.float64))

    @classmethod
    def fit(cls, vectors: np.ndarray) -> Whitening:
        """The whitening of the rows of ``vectors`` (M, L): their mean and principal axes."""
        vectors = np.asarray(vectors, dtype=np.float64)
        if vectors.ndim != 2 or len(vectors) < 2:
            raise FaceExplorerError(f"whitening needs at least two vectors as rows, got shape {vectors.shape}")
        if not np.all(np.isfinite(vectors)):
            raise FaceExplorerError("the training vectors contain NaN or infinite values")
        mean = vectors.mean(axis=0)
        variances, axes = np.linalg.eigh(np.cov(vectors, rowvar=False))
        order = np.argsort(variances)[::-1]
        variances = np.maximum(variances[order], VARIANCE_FLOOR * max(variances.max(), np.finfo(float).tiny))
        whitening = cls(vectors.shape[1])
        whitening.mean.copy_(torch.from_numpy(mean))
        whitening.components.copy_(torch.from_numpy(np.ascontiguousarray(axes[:, order].T)))
        whitening.scales.copy_(torch.from_numpy(np.sqrt(variances)))
        return whitening

    @property
    def dimension(self) -> int:
        return len(self.mean)

    @property
    def log_det(self) -> float:
        """log |det ∂z/∂x|: a density in whitened units minus this is the density in model units."""
        return -float(torch.log(self.scales).sum())

    def whiten(self, vectors: torch.Tensor) -> torch.Tensor:
        """(B, L) model units → (B, L) whitened, in the input's dtype."""
        z = ((vectors.to(self.mean.dtype) - self.mean) @ self.components.T) / self.scales
        return z.to(vectors.dtype)

    def unwhiten(self, whitened: torch.Tensor) -> torch.Tensor:
        """(B, L) whitened → (B, L) model units, in the input's dtype."""
        x = (whitened.to(self.scales.dtype) * self.scales) @ self.components + self.mean
        return x.to(whitened.dtype)
