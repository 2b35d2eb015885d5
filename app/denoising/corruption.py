"""The paper's corruption protocol for making (noisy, clean) training pairs.

For each copy of a clean vector of length L: draw n ~ U{1..L}, choose n distinct coefficients
uniformly, and add N(0, σ²) to each of them; the others stay exactly as they were. Fully
vectorised: one argsort of random keys per chunk gives every row its own random permutation,
and its first n entries are the corrupted coefficients.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_CHUNK_ROWS = 65_536  # bounds the temporary (rows, L) key matrix to a few tens of MB


def corrupt(params: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """A float32 noisy copy of each row of ``params`` (shape (M, L))."""
    params = np.asarray(params)
    if params.ndim != 2 or params.shape[1] < 1:
        raise ValueError(f"expected a (M, L) table of coefficient vectors, got shape {params.shape}")
    noisy = params.astype(np.float32, copy=True)
    rows, length = noisy.shape
    for start in range(0, rows, _CHUNK_ROWS):
        chunk = noisy[start : start + _CHUNK_ROWS]
        count = rng.integers(1, length + 1, size=len(chunk))
        permutation = np.argsort(rng.random(chunk.shape), axis=1)
        chosen = np.zeros(chunk.shape, dtype=bool)
        np.put_along_axis(chosen, permutation, np.arange(length)[None, :] < count[:, None], axis=1)
        chunk += (chosen * rng.normal(0.0, sigma, size=chunk.shape)).astype(np.float32)
    return noisy


@dataclass
class NoisyPairs:
    """K noisy copies of each clean vector; the clean target of row j is ``clean[source[j]]``."""

    noisy: np.ndarray  # (M*K, L) float32
    source: np.ndarray  # (M*K,) index into clean
    clean: np.ndarray  # (M, L) float32

    def __len__(self) -> int:
        return len(self.noisy)

    def targets(self, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        return self.clean[self.source[rows]]


def make_noisy_pairs(clean: np.ndarray, sigma: float, copies: int, rng: np.random.Generator) -> NoisyPairs:
    """``copies`` corrupted versions of every clean row (copy-major within each face)."""
    if copies < 1:
        raise ValueError("copies must be at least 1")
    clean = np.asarray(clean, dtype=np.float32)
    source = np.repeat(np.arange(len(clean)), copies)
    return NoisyPairs(noisy=corrupt(clean[source], sigma, rng), source=source, clean=clean)
