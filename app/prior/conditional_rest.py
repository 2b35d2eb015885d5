"""The whitened coordinates after the leading ones: a Gaussian around a regression on the leading ones.

Fitted faces are often a few real degrees of freedom plus fitting noise spread over every mode;
whitened, the noise has as much weight as the structure. A diffusion network over all L coordinates
learns that structure no faster than it memorises a few thousand faces, and contracts its samples.
So the leading K coordinates get the diffusion network, and the other L − K a Gaussian whose mean
is a kernel ridge regression on the leading ones (RBF kernel, bandwidth from the median heuristic,
ridge chosen by 5-fold error, at most MAX_ANCHORS training faces) and whose covariance is that of
the out-of-fold residuals. Given the leading coordinates everything is closed-form: a sample, the
log-density, and the probability-flow map that brings a noised face back, which the projection uses.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch
from scipy.linalg import cho_factor, cho_solve
from scipy.spatial.distance import pdist, squareform
from torch import nn

RIDGES = (0.1, 0.3, 1.0, 3.0)  # candidates for the kernel ridge regression's penalty
FOLDS = 5
# The regression's memory grows with the square of its training faces and its fit with the cube:
# 6,000 take about 1 GB and a minute; larger sets (300W-LP has 61,225 fits) are subsampled.
MAX_ANCHORS = 6000
LEADING_CANDIDATES = (4, 8, 16, 32, 64)  # and all L coordinates (no rest)
MIXTURE_COMPONENTS = (1, 2, 3, 5)
HELD_BACK_SHARE = 0.2


def choose_leading(whitened: np.ndarray, seed: int) -> int:
    """How many leading coordinates the diffusion network models: the K (or all L) under which a
    held-back fifth of the training faces is most likely, with a Gaussian mixture standing in for
    the network on the leading K (training one network per candidate would take too long)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture  # scikit-learn loads in seconds: only when training

    order = np.random.default_rng([seed, 3]).permutation(len(whitened))
    cut = round(HELD_BACK_SHARE * len(whitened))
    held, kept = whitened[order[:cut]], whitened[order[cut:]]
    dimension = whitened.shape[1]

    def leading_density(k: int) -> np.ndarray:
        mixtures = [
            GaussianMixture(n, random_state=seed).fit(kept[:, :k]) for n in MIXTURE_COMPONENTS if n * k < len(kept)
        ]
        return max((mixture.score_samples(held[:, :k]) for mixture in mixtures), key=lambda scores: scores.mean())

    def held_back_likelihood(k: int) -> float:
        total = leading_density(k)
        if k < dimension:
            rest = ConditionalRest.fit(kept[:, :k], kept[:, k:], seed, ridges=(RIDGES[1],))
            total = total + rest.log_density(torch.from_numpy(held[:, :k]), torch.from_numpy(held[:, k:]), 0.0).numpy()
        return float(total.mean())

    # a stand-in needs more faces than coordinates; with too few faces for any, the network models all
    candidates = [k for k in (*LEADING_CANDIDATES, dimension) if k <= dimension and k < len(kept)]
    if not candidates or len(held) < 2:
        return dimension
    with warnings.catch_warnings():  # a stand-in mixture that stops early still ranks its candidate
        warnings.simplefilter("ignore", ConvergenceWarning)
        return max(candidates, key=held_back_likelihood)


class ConditionalRest(nn.Module):
    """p(rest | leading) = N(m(leading), V diag(variances) Vᵀ), m a kernel ridge regression."""

    anchors: torch.Tensor  # (N, K) leading coordinates of the training faces (stored in float32, as the
    weights: torch.Tensor  # (N, L − K) regression's dual coefficients: the bulk of the file; used in float64)
    bandwidth: torch.Tensor  # () γ of exp(−γ·|a − b|²)
    axes: torch.Tensor  # (L − K, L − K) eigenvectors of the residual covariance, as columns
    variances: torch.Tensor  # (L − K,) its eigenvalues

    def __init__(self, leading: int, rest: int, anchors: int) -> None:
        super().__init__()
        self.register_buffer("anchors", torch.zeros(anchors, leading, dtype=torch.float32))
        self.register_buffer("weights", torch.zeros(anchors, rest, dtype=torch.float32))
        self.register_buffer("bandwidth", torch.ones((), dtype=torch.float64))
        self.register_buffer("axes", torch.eye(rest, dtype=torch.float64))
        self.register_buffer("variances", torch.ones(rest, dtype=torch.float64))

    @classmethod
    def fit(
        cls, leading: np.ndarray, rest: np.ndarray, seed: int, ridges: tuple[float, ...] = RIDGES
    ) -> ConditionalRest:
        """Fit on whitened training faces split into their (N, K) leading and (N, L − K) other coordinates
        (a seeded MAX_ANCHORS of them where there are more)."""
        leading, rest = np.asarray(leading, np.float64), np.asarray(rest, np.float64)
        if len(leading) > MAX_ANCHORS:
            chosen = np.sort(np.random.default_rng([seed, 4]).choice(len(leading), MAX_ANCHORS, replace=False))
            leading, rest = leading[chosen], rest[chosen]
        pairs = pdist(leading, "sqeuclidean")
        bandwidth = 1.0 / float(np.median(pairs))
        gram = np.exp(-bandwidth * squareform(pairs))
        folds = np.array_split(np.random.default_rng(seed).permutation(len(leading)), FOLDS)
        residuals = {ridge: np.empty_like(rest) for ridge in ridges}
        for fold in folds:
            train = np.setdiff1d(np.arange(len(leading)), fold)
            for ridge in ridges:
                weights = _solve(gram[np.ix_(train, train)], rest[train], ridge)
                residuals[ridge][fold] = rest[fold] - gram[np.ix_(fold, train)] @ weights
        ridge = min(ridges, key=lambda r: float(np.mean(residuals[r] ** 2)))
        variances, axes = np.linalg.eigh(np.cov(residuals[ridge], rowvar=False).reshape(rest.shape[1], -1))
        fitted = cls(leading.shape[1], rest.shape[1], len(leading))
        fitted.anchors.copy_(torch.from_numpy(leading))
        fitted.weights.copy_(torch.from_numpy(_solve(gram, rest, ridge)))  # rounded to float32 here
        fitted.bandwidth.fill_(bandwidth)
        fitted.axes.copy_(torch.from_numpy(axes))
        fitted.variances.copy_(torch.from_numpy(np.maximum(variances, 1e-12)))
        return fitted

    def mean(self, leading: torch.Tensor) -> torch.Tensor:
        """m(leading): (B, K) → (B, L − K), in float64."""
        kernel = torch.exp(-self.bandwidth * torch.cdist(leading.double(), self.anchors.double()).square())
        return kernel @ self.weights.double()

    def bring_back(self, leading: torch.Tensor, noised: torch.Tensor, alpha: float, s: float) -> torch.Tensor:
        """The rest of a face from its rest noised as α·rest + s·ε, given its (already clean) leading part.

        The probability-flow map of a Gaussian: along each residual axis, the deviation from the mean
        is scaled by √(c / (α²c + s²)). s = 0 gives the rest back; α = 0 (pure noise) a fresh draw.
        """
        mean = self.mean(leading)
        scale = torch.sqrt(self.variances / (alpha**2 * self.variances + s**2))
        return mean + ((noised.double() - alpha * mean) @ self.axes * scale) @ self.axes.T

    def log_density(self, leading: torch.Tensor, rest: torch.Tensor, resolution: float) -> torch.Tensor:
        """log p(rest | leading) per face (float64), with ``resolution``² added to every variance."""
        variances = self.variances + resolution**2
        deviation = ((rest.double() - self.mean(leading.double())) @ self.axes).square()
        return -0.5 * (deviation / variances + torch.log(2 * math.pi * variances)).sum(dim=1)


def _solve(gram: np.ndarray, targets: np.ndarray, ridge: float) -> np.ndarray:
    """(G + ridge·I)⁻¹ targets, by Cholesky (G is a positive semi-definite kernel matrix)."""
    return cho_solve(cho_factor(gram + ridge * np.eye(len(gram))), targets)
