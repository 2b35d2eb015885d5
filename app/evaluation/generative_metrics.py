"""Standard measures of a generated set against real faces: precision, recall, density, coverage and a
classifier two-sample test.

- Precision and recall (Kynkäänniemi et al. 2019), density and coverage (Naeem et al. 2020), from
  ``prdc``: each face gets a ball reaching its k-th nearest neighbour in its own set; precision is the
  share of generated faces inside some real ball, recall the share of real faces inside some generated one.
- Two-sample accuracy: a gradient-boosted classifier tells the set from real faces, 5-fold; 0.5 is chance.
Both work in the model's standard-deviation units (each coefficient over its mode's σ, the units of the
paper's sampling range), fixed by the model: a whitening fitted on the training faces gave them exactly
unit variance where unseen faces spread 0.96–1.17×, and made modes the fits barely use count like the
main ones (most of the embedded identities' whitened variance was their fitting noise).
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

import numpy as np

NEAREST_K = 5
FOLDS = 5


@dataclass(frozen=True)
class SetScores:
    precision: float
    recall: float
    density: float
    coverage: float
    two_sample_accuracy: float


def set_scores(real: np.ndarray, generated: np.ndarray, standard_deviations: np.ndarray, seed: int) -> SetScores:
    """How ``generated`` compares with ``real``: rows of coefficients whose modes have these σ."""
    from prdc import compute_prdc  # imports scikit-learn: only when a frontier is measured

    real, generated = (np.asarray(vectors, np.float64) / standard_deviations for vectors in (real, generated))
    nearest = min(NEAREST_K, len(real) - 2, len(generated) - 2)  # tiny sets: the farthest neighbour there is
    if nearest < 1:
        raise ValueError(f"three faces per set at least, got {len(real)} real and {len(generated)} generated")
    with contextlib.redirect_stdout(io.StringIO()):  # prdc prints the set sizes
        scores = compute_prdc(real.astype(np.float32), generated.astype(np.float32), nearest)
    return SetScores(
        float(scores["precision"]),
        float(scores["recall"]),
        float(scores["density"]),
        float(scores["coverage"]),
        two_sample_accuracy(real, generated, seed),
    )


def two_sample_accuracy(real: np.ndarray, generated: np.ndarray, seed: int) -> float:
    """Mean 5-fold accuracy of a classifier telling ``generated`` from ``real`` on balanced sets."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(seed)
    size = min(len(real), len(generated))  # balanced, so that 0.5 is chance
    features = np.concatenate(
        [real[rng.permutation(len(real))[:size]], generated[rng.permutation(len(generated))[:size]]]
    )
    labels = np.repeat([0, 1], size)
    folds = StratifiedKFold(min(FOLDS, size), shuffle=True, random_state=seed)
    classifier = HistGradientBoostingClassifier(max_iter=100, early_stopping=size >= 50, random_state=seed)
    # One OpenMP thread: on a busy 2-core machine its thread pool made one test 9× slower (84 s against 9 s).
    with threadpool_limits(1):
        return float(np.mean(cross_val_score(classifier, features, labels, cv=folds)))
