"""The numbers the experiments report: MSE, diversity, Mahalanobis distance to a corpus."""

from __future__ import annotations

import numpy as np


def mse(prediction: np.ndarray, target: np.ndarray) -> float:
    return float(np.mean((np.asarray(prediction, np.float64) - np.asarray(target, np.float64)) ** 2))


def diversity(vectors: np.ndarray) -> float:
    """The paper's diversity (Table I): trace of the covariance of the vectors (rows)."""
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim != 2 or len(vectors) < 2:
        raise ValueError(f"diversity needs at least two vectors as rows, got shape {vectors.shape}")
    return float(np.var(vectors, axis=0, ddof=1).sum())


class MahalanobisDistance:
    """Distance to the distribution of a clean corpus (its mean and covariance).

    A small ridge keeps the covariance invertible when the corpus is (nearly) low-rank, as
    fitted identities are; it is relative to each coefficient's own variance, so coefficients
    whose scales differ by orders of magnitude (the EVs do) are treated alike.
    """

    def __init__(
        self,
        corpus: np.ndarray,
        ridge: float = 1e-6,
        tolerance: np.ndarray | None = None,
        tolerance_covariance: np.ndarray | None = None,
    ) -> None:
        corpus = np.asarray(corpus, dtype=np.float64)
        self.mean = corpus.mean(axis=0)
        covariance = np.cov(corpus, rowvar=False)
        covariance += ridge * np.diag(np.diag(covariance))
        if tolerance is not None:
            # An independent deviation of this size per coefficient costs one unit of distance
            # at most: without it a corpus lying on a thin manifold makes any visually
            # negligible step off the manifold look like an outlier.
            covariance += np.diag(np.square(np.asarray(tolerance, dtype=np.float64)))
        if tolerance_covariance is not None:
            # The same forgiveness for correlated deviations (one surface-sized step spread over
            # many coefficients costs one unit, not one per coefficient).
            covariance += np.asarray(tolerance_covariance, dtype=np.float64)
        self._whiten = np.linalg.cholesky(np.linalg.inv(covariance))

    def __call__(self, vectors: np.ndarray) -> np.ndarray:
        centred = np.atleast_2d(np.asarray(vectors, dtype=np.float64)) - self.mean
        return np.linalg.norm(centred @ self._whiten, axis=1)
