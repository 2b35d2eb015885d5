"""Simple alternatives to the networks that a reviewer would ask about.

- clip: each coefficient clipped to ±k·s_i (s = the sampling scale: EV for identity, EV/max(EV)
  for expression, as in app.model.sampling).
- ellipsoid: the vector scaled back into the k-σ ellipsoid of the prior. Its radius is k·√L in
  whitened units, i.e. at most k standard deviations per coefficient in the root-mean-square
  sense; a plain radius k would put every vector of 199 coefficients near the mean face.
- nearest: the nearest clean training face (Euclidean in model units, the metric of the MSE).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from app.evaluation.context import KIND_ORDER, PAPER_TEST_MSE, EvaluationContext
from app.evaluation.diversity import PAPER_DIVERSITY
from app.evaluation.metrics import MahalanobisDistance, diversity
from app.evaluation.report import Report, Row, new_figure
from app.model.morphable_model import CoefficientKind, MorphableModel
from app.model.sampling import sample_coefficients, sampling_scale

Method = Callable[[np.ndarray], np.ndarray]
PLAUSIBLE_DEVIATION = 0.5  # model standard deviations per mode, see corpus_distance
# Surface deviation (RMS over the vertices, mm) that costs one unit of corpus distance, per kind;
# see corpus_distance for why identity has one and expression none.
SURFACE_TOLERANCE_MM: dict[CoefficientKind, float] = {"shape": 1.0, "expression": 0.0}
MODEL_UNITS_PER_MM = 1000.0  # model coordinates are micrometres (BFM, 3DDFA, the embedded model)
CLIP_K = (2.0, 3.0)
ELLIPSOID_K = (1.0, 2.0)


def clip_to_ev(vectors: np.ndarray, scale: np.ndarray, k: float) -> np.ndarray:
    return np.clip(vectors, -k * scale, k * scale)


def scale_into_ellipsoid(vectors: np.ndarray, scale: np.ndarray, k: float) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float64)
    radius = np.sqrt(np.mean((vectors / scale) ** 2, axis=-1, keepdims=True))
    return vectors * np.minimum(1.0, k / np.maximum(radius, 1e-300))


def snap_to_nearest(vectors: np.ndarray, corpus: np.ndarray, chunk: int = 2048) -> np.ndarray:
    """Each row replaced by its nearest corpus row (chunked so the distance matrix stays small)."""
    vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float64))
    corpus = np.asarray(corpus, dtype=np.float64)
    unit = np.abs(corpus).max() or 1.0  # distances in well-scaled numbers; the argmin is unchanged
    c = corpus / unit
    c_norms = np.einsum("ij,ij->i", c, c)
    nearest = np.empty(len(vectors), dtype=np.int64)
    for start in range(0, len(vectors), chunk):
        v = vectors[start : start + chunk] / unit
        nearest[start : start + chunk] = np.argmin(c_norms[None, :] - 2.0 * v @ c.T, axis=1)
    return corpus[nearest]


def methods(context: EvaluationContext, kind: CoefficientKind) -> dict[str, Method]:
    """Name → function on (M, L) model-unit vectors, the networks first."""
    scale = sampling_scale(context.model, kind)
    corpus = context.training_faces(kind)
    table: dict[str, Method] = {"network (paper)": lambda v: context.denoiser.denoise(kind, v)}
    for k in CLIP_K:
        table[f"clip ±{k:g}·EV"] = partial(clip_to_ev, scale=scale, k=k)
    for k in ELLIPSOID_K:
        table[f"ellipsoid {k:g}σ"] = partial(scale_into_ellipsoid, scale=scale, k=k)
    table["nearest training face"] = lambda v: snap_to_nearest(v, corpus)
    return table


def uniform_samples(model: MorphableModel, kind: CoefficientKind, count: int, rng: np.random.Generator) -> np.ndarray:
    return sample_coefficients(model, kind, "uniform", count, rng)


def corpus_distance(context: EvaluationContext, kind: CoefficientKind) -> MahalanobisDistance:
    return distance_to_corpus(context.model, kind, context.training_faces(kind))


def distance_to_corpus(model: MorphableModel, kind: CoefficientKind, corpus: np.ndarray) -> MahalanobisDistance:
    """Distance to clean faces, tolerating deviations too small to see.

    Two tolerances are added to the corpus's covariance:
    - half a model standard deviation per mode (the model's own prior: ordinary variation
      between people), independently per mode;
    - for identity, a deviation that moves the whole surface by 1 mm RMS costs one unit in any
      direction. The corpus of fitted identities is thin (a few dimensions out of 199), and a
      per-mode tolerance alone adds up over the 199 modes like a chi-square: networks that leave
      ≈ 2.6 σ in each of the model's small high modes, about half a millimetre on the surface
      in all, land about 9× beyond every held-out real face, so 0 % of denoised identities counted
      as in-distribution while their meshes behaved like real ones. 1 mm is about the accuracy
      of fitting a 3DMM to a real face, i.e. the noise the "real" corpus itself carries.
      Expression has no such term: an action unit moves a small region, and an RMS over the
      whole head would average a torn lip away.
    """
    tolerance_mm = SURFACE_TOLERANCE_MM[kind]
    surface = surface_tolerance_covariance(model, kind, tolerance_mm) if tolerance_mm > 0 else None
    return MahalanobisDistance(
        corpus, tolerance=PLAUSIBLE_DEVIATION * sampling_scale(model, kind), tolerance_covariance=surface
    )


def surface_tolerance_covariance(model: MorphableModel, kind: CoefficientKind, tolerance_mm: float) -> np.ndarray:
    """The coefficient covariance of isotropic surface noise of ``tolerance_mm`` RMS per vertex.

    A coefficient step δ moves the surface by RMS √(δᵀ G δ) with G = B Bᵀ / N (B the kind's
    basis, N vertices); noise of RMS τ in every direction of the surface is τ² G⁻¹ in coefficients.
    """
    basis = model.basis_id if kind == "shape" else model.basis_exp
    # float32 products (no 110 MB float64 copy of the basis): the Gram differs by ~1e-7 relative.
    gram = (basis @ basis.T).astype(np.float64) / model.n_vertices
    # A direction that does not move the surface at all gets a huge (not infinite) tolerance.
    gram += 1e-12 * np.trace(gram) / len(gram) * np.eye(len(gram))
    return (tolerance_mm * MODEL_UNITS_PER_MM) ** 2 * np.linalg.inv(gram)


def in_distribution_threshold(
    context: EvaluationContext, kind: CoefficientKind, distance: MahalanobisDistance
) -> float:
    """The 99th percentile of the held-out clean faces' distances: 99 % of real faces lie inside."""
    return float(np.percentile(distance(context.held_out_faces(kind)), 99))


def baselines(context: EvaluationContext) -> Report:
    rows: list[Row] = []
    series: dict[str, Any] = {}
    notes: list[str] = []
    figure, axes = new_figure(columns=2)
    for axis, kind in zip(axes, KIND_ORDER, strict=True):
        pairs = context.test_pairs(kind)
        targets = pairs.targets()
        samples = uniform_samples(context.model, kind, context.vectors, context.rng(10, KIND_ORDER.index(kind)))
        distance = corpus_distance(context, kind)
        threshold = in_distribution_threshold(context, kind, distance)
        results = {
            "noisy input / raw uniform": {
                "test_mse": context.normalised_mse(kind, pairs.noisy, targets),
                "diversity": diversity(samples),
                "in_distribution": float(np.mean(distance(samples) <= threshold)),
            }
        }
        for name, method in methods(context, kind).items():
            generated = method(samples)
            results[name] = {
                "test_mse": context.normalised_mse(kind, method(pairs.noisy), targets),
                "diversity": diversity(generated),
                "in_distribution": float(np.mean(distance(generated) <= threshold)),
            }
        for name, r in results.items():
            rows.append(Row(f"{kind}: {name} — test MSE", r["test_mse"], _paper_mse(kind, name)))
            rows.append(
                Row(
                    f"{kind}: {name} — diversity",
                    r["diversity"],
                    _paper_diversity(kind, name),
                    f"{100 * r['in_distribution']:.1f} % within the real faces' 99th-percentile Mahalanobis distance",
                )
            )
        series[kind] = results
        notes += _verdict(kind, results)
        for name, r in results.items():
            axis.scatter(r["test_mse"], r["diversity"], s=20 + 180 * r["in_distribution"], label=name)
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("test MSE (network units, lower is better)")
        axis.set_ylabel("diversity of 2,000 generated vectors")
        axis.set_title(f"{kind} (marker size: share in-distribution)")
        axis.legend(fontsize=7)
    notes.append(
        "diversity alone is not a goal (raw uniform vectors are the most diverse and the least plausible): "
        "read it together with the in-distribution share"
    )
    return Report(
        "baselines",
        "Networks vs simple baselines: accuracy, diversity, plausibility",
        rows,
        figure,
        list(context.notes) + notes,
        series,
    )


def _paper_mse(kind: CoefficientKind, name: str) -> float | None:
    if name == "network (paper)":
        return PAPER_TEST_MSE[kind][1]
    if name.startswith("noisy input"):
        return PAPER_TEST_MSE[kind][0]
    return None


def _paper_diversity(kind: CoefficientKind, name: str) -> float | None:
    return PAPER_DIVERSITY[kind]["denoised uniform"] if name == "network (paper)" else None


def _verdict(kind: CoefficientKind, results: dict[str, dict[str, float]]) -> list[str]:
    """Plain sentences on where a baseline beats the network, so nobody has to read it off the table."""
    net = results["network (paper)"]
    lines = []
    for name, r in results.items():
        if name == "network (paper)" or name.startswith("noisy"):
            continue
        wins = []
        if r["test_mse"] < net["test_mse"]:
            wins.append(f"lower test MSE ({r['test_mse']:.4g} vs {net['test_mse']:.4g})")
        # Both at 0 % in-distribution is no evidence either way, so it is not counted as a win.
        if (
            r["diversity"] > net["diversity"]
            and r["in_distribution"] >= net["in_distribution"]
            and r["in_distribution"] > 0
        ):
            wins.append(
                f"more diversity ({r['diversity']:.4g} vs {net['diversity']:.4g}) at an equal or higher "
                f"in-distribution share ({100 * r['in_distribution']:.1f} % vs {100 * net['in_distribution']:.1f} %)"
            )
        if wins:
            lines.append(f"{kind}: the baseline '{name}' beats the network on " + " and ".join(wins))
    if net["in_distribution"] == 0:
        lines.append(f"{kind}: no network output lies within the real faces' 99th-percentile Mahalanobis distance")
    if not lines:
        lines.append(
            f"{kind}: no baseline beats the network on test MSE, nor on diversity at an equal in-distribution share"
        )
    return lines
