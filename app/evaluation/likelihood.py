"""How plausible held-out real faces are under the learned prior, a Gaussian and a Gaussian mixture.

All three are densities of the prior's coordinates (``LearnedPrior.whitened``: censored
coefficients moved off their bound as the prior models them, then whitened) at the prior's
resolution (app/prior/likelihood.py): the Gaussian and the mixture are fitted to the training
faces as the prior saw them and get the resolution's variance added to their covariances, so
they are blurred exactly as the prior's density is. Another linear choice of
units moves all three by the same constant, so their order and differences hold in model units
too. The Gaussian and the mixture are fitted to the same training faces as the prior; the
mixture's number of components is chosen on a tenth of those faces held back from its fit (never
on the held-out test faces), then refitted on all of them. Reported in nats per coefficient.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from app.errors import FaceExplorerError
from app.evaluation.context import KIND_ORDER, EvaluationContext
from app.evaluation.report import Report, Row, new_figure
from app.prior.learned_prior import LearnedPrior
from app.prior.likelihood import RESOLUTION
from app.prior.whitening import Whitening

if TYPE_CHECKING:
    from sklearn.mixture import GaussianMixture

MIXTURE_COMPONENTS = (1, 2, 3, 5, 10, 20)
VALIDATION_SHARE = 0.1


def gaussian_log_likelihood(training: np.ndarray, vectors: np.ndarray, resolution: float = RESOLUTION) -> np.ndarray:
    """log N(v; mean, cov + resolution²·I) per row, the Gaussian fitted to ``training`` (rows)."""
    mean = training.mean(axis=0)
    covariance = np.cov(training, rowvar=False) + resolution**2 * np.eye(training.shape[1])
    factor = np.linalg.cholesky(covariance)
    solved = np.linalg.solve(factor, (vectors - mean).T)
    log_det = 2 * np.log(np.diag(factor)).sum()
    return -0.5 * (np.sum(solved**2, axis=0) + log_det + training.shape[1] * np.log(2 * np.pi))


def fit_mixture(training: np.ndarray, seed: int, resolution: float = RESOLUTION) -> GaussianMixture:
    """A full-covariance mixture with the component count that scores best on held-back training rows."""
    from sklearn.mixture import GaussianMixture  # scikit-learn takes a second to import: only here

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(training))
    validation_rows = max(1, int(VALIDATION_SHARE * len(training)))
    fit_rows, validation = training[order[validation_rows:]], training[order[:validation_rows]]
    candidates = [k for k in MIXTURE_COMPONENTS if k <= len(fit_rows) // 2] or [1]

    def fitted(components: int, rows: np.ndarray) -> GaussianMixture:
        # reg_covar adds resolution² to every component's covariance: the same blur as the prior's
        mixture = GaussianMixture(components, covariance_type="full", reg_covar=resolution**2, random_state=seed)
        return mixture.fit(rows)

    best = max(candidates, key=lambda k: fitted(k, fit_rows).score(validation))
    return fitted(best, training)


def likelihood(context: EvaluationContext) -> Report:
    """Mean held-out log-likelihood per coefficient: learned prior, Gaussian, mixture."""
    rows: list[Row] = []
    series: dict[str, Any] = {}
    notes = list(context.notes)
    figure, axes = new_figure(columns=2)
    for axis, kind in zip(axes, KIND_ORDER, strict=True):
        training_faces, held_out_faces = context.training_faces(kind), context.held_out_faces(kind)
        try:
            prior: LearnedPrior | None = context.prior
        except FaceExplorerError as problem:
            prior = None
            notes.append(f"{kind}: no learned prior to compare ({problem})")
        # The prior's own coordinates when there is one, so all three densities share them.
        if prior is not None:
            spread = torch.Generator().manual_seed(context.seed)
            training = prior.whitened(kind, training_faces, spread)
            held_out = prior.whitened(kind, held_out_faces)
        else:
            whitening = Whitening.fit(training_faces)
            training, held_out = (
                whitening.whiten(torch.from_numpy(np.asarray(faces, np.float64))).numpy()
                for faces in (training_faces, held_out_faces)
            )
        dimension = held_out.shape[1]
        mixture = fit_mixture(training, context.seed)
        scores = {
            "Gaussian": gaussian_log_likelihood(training, held_out) / dimension,
            f"Gaussian mixture ({mixture.n_components} components)": mixture.score_samples(held_out) / dimension,
        }
        if prior is not None:
            scores = {"learned prior": prior.log_likelihood(kind, held_out_faces), **scores}
        for name, values in scores.items():
            mean, error = float(np.mean(values)), float(np.std(values, ddof=1) / np.sqrt(len(values)))
            note = f"± {error:.3f} (standard error over {len(values)} held-out faces)"
            if name != "learned prior" and prior is not None:
                note += f"; the prior is {float(np.mean(scores['learned prior'])) - mean:+.3f} above it"
            rows.append(Row(f"{kind}: {name}, nats per coefficient", mean, "not in the paper", note))
            axis.hist(values, bins=40, histtype="step", label=f"{name}: {mean:.3f}")
        series[kind] = {name: [float(v) for v in values] for name, values in scores.items()}
        axis.set_xlabel("log-likelihood per coefficient (nats, whitened units)")
        axis.set_ylabel("held-out real faces")
        axis.set_title(kind)
        axis.legend(fontsize=7)
    notes.append(
        f"densities of whitened coefficients at a resolution of {RESOLUTION:g} (the prior's σmin); higher is better"
    )
    return Report(
        "likelihood", "Held-out log-likelihood: learned prior vs Gaussian vs mixture", rows, figure, notes, series
    )
