"""The reference floor for denoising: a Gaussian estimate that is told which coefficients were hit.

Fit a Gaussian N(μ, C) to the clean training faces. The paper's corruption observes y = x + n
with n_i ~ N(0, σ²) on the hit coefficients H and n_i = 0 elsewhere, so for a Gaussian prior the
posterior mean is μ + C (C + R)⁻¹ (y − μ) with R = σ² on H's diagonal and 0 elsewhere: the
untouched coefficients are kept, and the hit ones are predicted from them (and, weakly, from
their noisy values). No real denoiser knows H, so this is not a bound, but a non-Gaussian prior
has to be good to come near it, and it can go below it.
"""

from __future__ import annotations

import numpy as np

CHUNK = 256  # faces whose L × L systems are solved at once


def gaussian_oracle_estimate(
    training_faces: np.ndarray, noisy: np.ndarray, hit: np.ndarray, sigma: float
) -> np.ndarray:
    """E[x | y, which coefficients were hit] under the training faces' Gaussian, for (M, L) rows."""
    training_faces = np.asarray(training_faces, dtype=np.float64)
    mean = training_faces.mean(axis=0)
    covariance = np.cov(training_faces, rowvar=False)
    # A relative ridge keeps C + R invertible where the training faces span fewer than L directions.
    covariance += 1e-9 * np.trace(covariance) / len(covariance) * np.eye(len(covariance))
    centred = np.asarray(noisy, dtype=np.float64) - mean
    estimate = np.empty_like(centred)
    for start in range(0, len(centred), CHUNK):
        rows = slice(start, start + CHUNK)
        systems = covariance + hit[rows, :, None] * np.eye(len(covariance)) * sigma**2
        weights = np.linalg.solve(systems, centred[rows, :, None])[..., 0]
        estimate[rows] = mean + weights @ covariance
    return estimate
