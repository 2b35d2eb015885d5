"""The diversity–plausibility frontier without raters: which way of making faces gives the most
diversity at a given plausibility?

Each method is swept over its own knob; every set of faces is placed by its diversity (the trace
of the covariance of its coefficient vectors, the paper's Table I measure) and its plausibility
(the share passing ``PlausibilityCalibration``). Methods: raw uniform sampling and the networks at
r = 5 … 30, normal sampling, clipping to ±k·EV, the k-σ Mahalanobis ellipsoid, snapping to the
nearest training face and the learned prior's projection at t = 0.15 … 1 (the last four on uniform
draws at the paper's range). Identity and expression are judged apart. Every set is also scored
against held-out real faces (precision, recall, density, coverage, a two-sample test) beside real
training faces scored alike: the ceiling.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes

from app.errors import FaceExplorerError
from app.evaluation.baselines import clip_to_ev, scale_into_ellipsoid, snap_to_nearest
from app.evaluation.context import KIND_ORDER, EvaluationContext
from app.evaluation.diversity import PAPER_DIVERSITY
from app.evaluation.generative_metrics import SetScores, set_scores
from app.evaluation.metrics import diversity
from app.evaluation.plausibility import PAPER_RELIABILITY, PlausibilityCalibration, real_faces
from app.evaluation.report import Report, Row, new_figure
from app.model.morphable_model import CoefficientKind
from app.model.sampling import PAPER_RANGE, sample_coefficients, sampling_scale
from app.prior.learned_prior import seeded_generator

RANGES = (5.0, 10.0, 15.0, 20.0, 30.0)
CLIP_K = (1.0, 2.0, 3.0, 4.0)
ELLIPSOID_K = (0.5, 1.0, 2.0, 3.0)
PRIOR_STRENGTHS = (0.15, 0.3, 0.5, 0.7, 0.85, 1.0)
REAL = "held-out real faces"
REAL_TRAINING = "real training faces"  # real versus real: the ceiling of the generative measures
# The bar for a method at some setting, against the real-versus-real row.
RECALL_SHARE, PRECISION_SLACK, TWO_SAMPLE_LIMIT = 0.9, 0.05, 0.60
METHOD_STYLE = {  # method → (colour, marker); one line per method through its knob's settings
    "raw uniform": ("#c44e52", "o"),
    "network": ("#4c72b0", "o"),
    "normal": ("#dd8452", "s"),
    "clip ±k·EV": ("#8172b3", "^"),
    "ellipsoid kσ": ("#937860", "v"),
    "nearest training face": ("#55a868", "D"),
    "learned prior": ("#17becf", "P"),
    REAL_TRAINING: ("gray", "*"),
    REAL: ("black", "*"),
}


@dataclass(frozen=True)
class FacePoint:
    method: str
    setting: str  # the knob's value, e.g. "r=15" or "k=2"
    diversity: float
    plausible: float  # share of the faces passing the proxy
    scores: SetScores | None = None  # against the held-out real faces (None for those faces themselves)

    @property
    def label(self) -> str:
        return f"{self.method} {self.setting}".strip()


def face_sets(context: EvaluationContext, kind: CoefficientKind, count: int) -> list[tuple[str, str, np.ndarray]]:
    """(method, setting, vectors) for every method and knob value; uniform draws share one stream,
    so the sets at different r are the same draws, scaled."""
    stream = KIND_ORDER.index(kind)
    unit = sample_coefficients(context.model, kind, "uniform", count, context.rng(40, stream), 1.0)
    scale = sampling_scale(context.model, kind)
    sets = []
    for r in RANGES:
        sets.append(("raw uniform", f"r={r:g}", unit * r))
        sets.append(("network", f"r={r:g}", context.denoiser.denoise(kind, unit * r)))
    paper = unit * PAPER_RANGE[kind]
    sets.append(("normal", "", sample_coefficients(context.model, kind, "normal", count, context.rng(41, stream))))
    sets += [("clip ±k·EV", f"k={k:g}", clip_to_ev(paper, scale, k)) for k in CLIP_K]
    sets += [("ellipsoid kσ", f"k={k:g}", scale_into_ellipsoid(paper, scale, k)) for k in ELLIPSOID_K]
    sets.append(("nearest training face", "", snap_to_nearest(paper, context.training_faces(kind))))
    try:
        prior = context.prior
    except FaceExplorerError as problem:
        context.notes.append(f"{kind}: no learned prior in the frontier ({problem})")
    else:
        for t in PRIOR_STRENGTHS:
            projected = prior.project(kind, paper, t, seeded_generator(context.seed, 42, stream))
            sets.append(("learned prior", f"t={t:g}", projected))
    training = context.training_faces(kind)
    sets.append(
        (
            REAL_TRAINING,
            "",
            training[context.rng(43, stream).choice(len(training), count, replace=len(training) < count)],
        )
    )
    sets.append((REAL, "", real_faces(context, kind, count)))
    return sets


def measure_points(
    context: EvaluationContext, calibration: PlausibilityCalibration, kind: CoefficientKind, count: int
) -> list[FacePoint]:
    points = []
    reference, standard_deviations = context.held_out_faces(kind), context.model.ev(kind)
    for method, setting, vectors in face_sets(context, kind, count):
        zeros = np.zeros((len(vectors), context.model.n_coefficients("expression" if kind == "shape" else "shape")))
        alpha_id, alpha_exp = (vectors, zeros) if kind == "shape" else (zeros, vectors)
        distortion, folds = calibration.mesh_check.measure(alpha_id, alpha_exp)
        passes = calibration.in_distribution(kind, vectors) & calibration.mesh_ok(distortion, folds)
        scores = None if method == REAL else set_scores(reference, vectors, standard_deviations, context.seed)
        points.append(FacePoint(method, setting, diversity(vectors), float(passes.mean()), scores))
    return points


def pareto_front(points: list[FacePoint]) -> list[FacePoint]:
    """The methods' points no other beats on both plausibility and diversity, by rising plausibility
    (real faces are the reference, not a method)."""
    points = [p for p in points if p.method not in (REAL, REAL_TRAINING)]
    front = [
        p
        for p in points
        if not any(
            q.plausible >= p.plausible
            and q.diversity >= p.diversity
            and (q.plausible > p.plausible or q.diversity > p.diversity)
            for q in points
        )
    ]
    return sorted(front, key=lambda p: (p.plausible, -p.diversity))


def most_diverse_at(points: list[FacePoint], plausibility: float) -> FacePoint | None:
    """The most diverse set among those at least ``plausibility`` plausible (real faces left out)."""
    eligible = [p for p in points if p.plausible >= plausibility and p.method not in (REAL, REAL_TRAINING)]
    return max(eligible, key=lambda p: p.diversity) if eligible else None


def frontier(context: EvaluationContext) -> Report:
    count = context.mesh_faces
    calibration = PlausibilityCalibration.from_context(context, count)
    rows: list[Row] = []
    notes = list(context.notes)
    series: dict[str, Any] = {}
    figure, axes = new_figure(columns=2, width=6.2, height=4.8)
    for axis, kind in zip(axes, KIND_ORDER, strict=True):
        points = measure_points(context, calibration, kind, count)
        front = pareto_front(points)
        series[kind] = {"points": [asdict(p) for p in points], "front": [p.label for p in front]}
        for p in points:
            on_front = " (on the frontier)" if p in front else ""
            rows.append(
                Row(
                    f"{kind}: {p.label} — diversity",
                    p.diversity,
                    None,
                    f"{100 * p.plausible:.1f} % plausible (proxy){on_front}",
                )
            )
            if p.scores is not None:
                rows.append(
                    Row(
                        f"{kind}: {p.label} — two-sample accuracy",
                        p.scores.two_sample_accuracy,
                        None,
                        f"precision {p.scores.precision:.3f}, recall {p.scores.recall:.3f}, "
                        f"density {p.scores.density:.3f}, coverage {p.scores.coverage:.3f}",
                    )
                )
        notes += _realism_verdict(kind, points)
        for level in (0.5, 0.9):
            best = most_diverse_at(points, level)
            notes.append(
                f"{kind}: at ≥ {100 * level:.0f} % proxy-plausible faces the most diverse method is "
                + (
                    f"'{best.label}' (diversity {best.diversity:.4g}, {100 * best.plausible:.1f} % plausible)"
                    if best
                    else "none (no method reaches it)"
                )
            )
        _draw(axis, kind, points, front)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncol=5, fontsize=7)
    notes += [
        "plausibility is the rater-free proxy (the learned prior's likelihood, or the corpus distance without a "
        "prior, and the mesh check, calibrated on held-out real faces); "
        "the paper's star is a rater result (share of faces no rater rejected), plotted for orientation only",
        f"{count} faces per set; the other part of each face stays at the mean",
        "precision, recall, density, coverage and the two-sample test are in the model's standard-deviation "
        "units (each coefficient over its mode's σ)",
    ]
    return Report(
        "frontier",
        "Diversity against proxy plausibility: which method gives the most diversity at a given plausibility",
        rows,
        figure,
        notes,
        series,
    )


def _realism_verdict(kind: CoefficientKind, points: list[FacePoint]) -> list[str]:
    """Which settings reach the issue's bar against the real-versus-real row, with the paper network's numbers."""
    ceiling = next((p.scores for p in points if p.method == REAL_TRAINING), None)
    if ceiling is None:
        return []

    def describe(p: FacePoint, scores: SetScores) -> str:
        return (
            f"'{p.label}': recall {scores.recall:.3f}, precision {scores.precision:.3f}, "
            f"two-sample accuracy {scores.two_sample_accuracy:.3f}"
        )

    def meets(scores: SetScores) -> bool:
        return (
            scores.recall >= RECALL_SHARE * ceiling.recall
            and scores.precision >= ceiling.precision - PRECISION_SLACK
            and scores.two_sample_accuracy <= TWO_SAMPLE_LIMIT
        )

    bar = (
        f"recall ≥ {RECALL_SHARE:g}× {ceiling.recall:.3f}, precision ≥ {ceiling.precision:.3f} − "
        f"{PRECISION_SLACK:g}, two-sample accuracy ≤ {TWO_SAMPLE_LIMIT:g}; real versus real: "
        f"{ceiling.two_sample_accuracy:.3f}"
    )
    scored = [(p, p.scores) for p in points if p.scores is not None and p.method not in (REAL, REAL_TRAINING)]
    passing = [describe(p, scores) for p, scores in scored if meets(scores)]
    paper_range = f"r={PAPER_RANGE[kind]:g}"
    network = [describe(p, scores) for p, scores in scored if p.method == "network" and p.setting == paper_range]
    return [
        f"{kind}: realism bar ({bar}) met by " + ("; ".join(passing) if passing else "no setting"),
        f"{kind}: the paper's network at its range: " + ("; ".join(network) or "not measured"),
    ]


def _draw(axis: Axes, kind: CoefficientKind, points: list[FacePoint], front: list[FacePoint]) -> None:
    for method, (colour, marker) in METHOD_STYLE.items():
        own = [p for p in points if p.method == method]
        if not own:
            continue
        axis.plot(
            [100 * p.plausible for p in own],
            [p.diversity for p in own],
            color=colour,
            marker=marker,
            markersize=9 if method == REAL else 5,
            linestyle="-" if len(own) > 1 else "none",
            label=method,
        )
        for p in own:
            if p.setting:
                axis.annotate(
                    p.setting,
                    (100 * p.plausible, p.diversity),
                    textcoords="offset points",
                    xytext=(4, 3),
                    fontsize=6,
                    color=colour,
                )
    axis.plot(
        [100 * p.plausible for p in front],
        [p.diversity for p in front],
        color="gray",
        linestyle="--",
        linewidth=2.5,
        alpha=0.4,
        label="frontier (nothing beats it on both)",
    )
    axis.plot(
        [100 * PAPER_RELIABILITY[kind]],
        [PAPER_DIVERSITY[kind]["denoised uniform"]],
        marker="*",
        markersize=13,
        color="gold",
        markeredgecolor="black",
        linestyle="none",
        label="paper: network, rater reliability",
    )
    axis.set_yscale("log")
    axis.set_xlim(-3, 103)
    axis.set_xlabel("plausible faces, proxy (%)")
    axis.set_ylabel("diversity (trace of covariance)")
    axis.set_title(f"{kind}")
    axis.grid(alpha=0.3)
