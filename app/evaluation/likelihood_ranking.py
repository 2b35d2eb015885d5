"""How far out a face lies, by the learned prior's log-likelihood, for ranking it among real faces.

The plausibility proxy and the explorer's badges rank a face's identity and expression among
held-out real faces. With a learned prior for the model, the measure is the prior's negative
log-likelihood per coefficient (larger is farther out), from the same probability-flow ODE as
``evaluate likelihood`` but with fewer steps (``RANKING_STEPS``). The held-out faces' own scores
are computed once, when the prior is trained, and kept in its checkpoint. Without a prior for the
model (a Basel or FLAME model it was not trained on) the Mahalanobis distance to the clean corpus
stands in.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from app.errors import FaceExplorerError
from app.evaluation.baselines import distance_to_corpus
from app.model.morphable_model import CoefficientKind, MorphableModel
from app.prior.learned_prior import LearnedPrior
from app.prior.likelihood import RANKING_DECIMALS, RANKING_STEPS

REFERENCE_CHUNK = 32  # held-out faces scored between two ``step()`` calls
LIKELIHOOD_RANKING = "the learned prior's likelihood"
CORPUS_DISTANCE_RANKING = "distance to the clean corpus"

Outlyingness = Callable[[np.ndarray], np.ndarray]  # (B, L) coefficients → (B,), larger is farther out


class NegativeLogLikelihood:
    """−log p(face) per coefficient under one kind's learned prior (nats, whitened units)."""

    def __init__(self, prior: LearnedPrior, kind: CoefficientKind) -> None:
        self.prior, self.kind = prior, kind

    def __call__(self, vectors: np.ndarray) -> np.ndarray:
        log_likelihood = self.prior.log_likelihood(self.kind, np.atleast_2d(vectors), steps=RANKING_STEPS)
        return -np.round(log_likelihood, RANKING_DECIMALS)  # the stored held-out scores' precision


def outlyingness(
    model: MorphableModel,
    kind: CoefficientKind,
    training: np.ndarray,
    load_prior: Callable[[], LearnedPrior] | None,
    notes: list[str],
) -> tuple[str, Outlyingness]:
    """(what ranks the faces, the measure): the prior's likelihood when it is there for ``model``.

    Why the corpus distance stands in, when it does, is added to ``notes``.
    """
    if load_prior is not None:
        try:
            return LIKELIHOOD_RANKING, NegativeLogLikelihood(load_prior(), kind)
        except FaceExplorerError as problem:
            notes.append(f"{kind} ranked by {CORPUS_DISTANCE_RANKING}: no learned prior ({problem})")
    return CORPUS_DISTANCE_RANKING, distance_to_corpus(model, kind, training)


def reference_outlyingness(
    measure: Outlyingness, held_out: np.ndarray, held_out_ids: list[str] | None, step: Callable[[], None]
) -> np.ndarray:
    """``measure`` of every held-out face: the prior checkpoint's own scores when it held out exactly
    these faces, else computed here in chunks (``step()`` before each)."""
    if isinstance(measure, NegativeLogLikelihood):
        record = measure.prior.metadata[measure.kind]
        stored = record.get("held_out_ranking_log_likelihood")
        if held_out_ids is not None and record.get("held_out_faces") == held_out_ids and stored is not None:
            return -np.asarray(stored, dtype=np.float64)
    scores = []
    for start in range(0, len(held_out), REFERENCE_CHUNK):
        step()
        scores.append(measure(held_out[start : start + REFERENCE_CHUNK]))
    return np.concatenate(scores)
