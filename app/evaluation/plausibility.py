"""A plausibility proxy that needs no raters, per generation condition.

Two checks, so the reliability of a generated set can be estimated before a rater study:
- vector level: the Mahalanobis distance of each identity and expression vector to the clean
  training corpus (tolerating half a model standard deviation per mode off the corpus's
  manifold, see baselines.corpus_distance); a vector is in-distribution when it is within the
  distance that contains 99 % of held-out real faces (so real faces score ≈ 99 %).
- mesh level: edge-length distortion against the mean face (the worst edge of the face, as
  |log2(length / mean-face length)|; over 1 means an edge more than doubled or halved) and folded
  triangles (normal turned by more than 90° from the mean face's: the surface crossed itself
  locally, a cheap stand-in for a self-intersection test).
A face passes when both vectors are in-distribution and its mesh stays within the mesh limits
(the fixed ones, widened to what 99 % of held-out real faces reach).
"""

from __future__ import annotations

import numpy as np

from app.evaluation.baselines import (
    CLIP_K,
    ELLIPSOID_K,
    clip_to_ev,
    corpus_distance,
    in_distribution_threshold,
    scale_into_ellipsoid,
    snap_to_nearest,
)
from app.evaluation.context import KIND_ORDER, EvaluationContext
from app.evaluation.report import Report, Row, new_figure
from app.model.morphable_model import MorphableModel
from app.model.sampling import sample_coefficients, sampling_scale

PAPER_RELIABILITY = {"expression": 0.982, "shape": 0.998}  # share of 500 faces no rater rejected
MAX_EDGE_LOG2 = 1.0
REAL_CONDITION = "held-out real faces"


class MeshCheck:
    """Edge distortion and folded triangles of faces relative to the model's mean face."""

    def __init__(self, model: MorphableModel) -> None:
        self.model = model
        triangles = model.triangles
        edges = np.sort(np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]]), axis=1)
        self.edges = np.unique(edges, axis=0)
        mean = model.mean.reshape(-1, 3).astype(np.float64)
        self.mean_lengths = np.maximum(self._lengths(mean), 1e-12)
        self.mean_normals = self._normals(mean)

    def _lengths(self, vertices: np.ndarray) -> np.ndarray:
        return np.linalg.norm(vertices[self.edges[:, 0]] - vertices[self.edges[:, 1]], axis=1)

    def _normals(self, vertices: np.ndarray) -> np.ndarray:
        t = self.model.triangles
        return np.cross(vertices[t[:, 1]] - vertices[t[:, 0]], vertices[t[:, 2]] - vertices[t[:, 0]])

    def measure(self, alpha_id: np.ndarray, alpha_exp: np.ndarray, batch: int = 32) -> tuple[np.ndarray, np.ndarray]:
        """Per face: worst |log2 edge ratio| and the number of folded triangles."""
        distortion, folds = [], []
        for start in range(0, len(alpha_id), batch):
            faces = self.model.synthesize(alpha_id[start:start + batch], alpha_exp[start:start + batch])
            for vertices in faces.astype(np.float64):
                ratio = np.maximum(self._lengths(vertices), 1e-12) / self.mean_lengths
                distortion.append(float(np.abs(np.log2(ratio)).max()))
                folds.append(int(np.sum(np.einsum("ij,ij->i", self._normals(vertices), self.mean_normals) < 0)))
        return np.array(distortion), np.array(folds)


def conditions(context: EvaluationContext, count: int) -> dict[str, dict[str, np.ndarray]]:
    """condition → {"shape": (count, 199), "expression": (count, 29)} coefficient sets."""
    sets: dict[str, dict[str, np.ndarray]] = {}
    for kind in KIND_ORDER:
        stream = KIND_ORDER.index(kind)
        raw = sample_coefficients(context.model, kind, "uniform", count, context.rng(30, stream))
        scale = sampling_scale(context.model, kind)
        held_out = context.held_out_faces(kind)
        per_kind = {
            "raw uniform": raw,
            "uniform + network": context.denoiser.denoise(kind, raw),
            "normal": sample_coefficients(context.model, kind, "normal", count, context.rng(31, stream)),
            REAL_CONDITION: held_out[context.rng(32, stream).choice(len(held_out), size=count, replace=len(held_out) < count)],
            f"uniform + clip ±{CLIP_K[-1]:g}·EV": clip_to_ev(raw, scale, CLIP_K[-1]),
            f"uniform + ellipsoid {ELLIPSOID_K[-1]:g}σ": scale_into_ellipsoid(raw, scale, ELLIPSOID_K[-1]),
            "uniform + nearest training face": snap_to_nearest(raw, context.training_faces(kind)),
        }
        for name, vectors in per_kind.items():
            sets.setdefault(name, {})[kind] = vectors
    return sets


def plausibility(context: EvaluationContext) -> Report:
    count = context.mesh_faces
    sets = conditions(context, count)
    distances = {kind: corpus_distance(context, kind) for kind in KIND_ORDER}
    thresholds = {kind: in_distribution_threshold(context, kind, distances[kind]) for kind in KIND_ORDER}
    check = MeshCheck(context.model)
    rows, series = [], {}
    measured = {name: check.measure(vectors["shape"], vectors["expression"]) for name, vectors in sets.items()}
    # Calibrated like the vector check: the fixed limits, widened to what 99 % of real faces reach
    # (a coarse or anisotropic mesh folds a few triangles even for real faces).
    real_distortion, real_folds = measured[REAL_CONDITION]
    edge_limit = max(MAX_EDGE_LOG2, float(np.percentile(real_distortion, 99)))
    fold_limit = float(np.percentile(real_folds, 99))
    for name, vectors in sets.items():
        inside = {kind: distances[kind](vectors[kind]) <= thresholds[kind] for kind in KIND_ORDER}
        distortion, folds = measured[name]
        mesh_ok = (distortion <= edge_limit) & (folds <= fold_limit)
        passes = inside["shape"] & inside["expression"] & mesh_ok
        result = {
            "in_distribution_shape": float(inside["shape"].mean()),
            "in_distribution_expression": float(inside["expression"].mean()),
            "median_mahalanobis_shape": float(np.median(distances["shape"](vectors["shape"]))),
            "median_mahalanobis_expression": float(np.median(distances["expression"](vectors["expression"]))),
            "median_worst_edge_log2": float(np.median(distortion)),
            "share_extreme_edges": float(np.mean(distortion > MAX_EDGE_LOG2)),
            "share_folded": float(np.mean(folds > 0)),
            "mesh_ok": float(mesh_ok.mean()),
            "plausible": float(passes.mean()),
        }
        series[name] = result
        paper_note = name == "uniform + network"
        rows += [
            Row(f"{name}: expression in-distribution share", result["in_distribution_expression"],
                PAPER_RELIABILITY["expression"] if paper_note else None, "paper: rater acceptance" if paper_note else ""),
            Row(f"{name}: shape in-distribution share", result["in_distribution_shape"],
                PAPER_RELIABILITY["shape"] if paper_note else None, "paper: rater acceptance" if paper_note else ""),
            Row(f"{name}: meshes without extreme edges or folds", result["mesh_ok"], None,
                f"median worst edge |log2 ratio| {result['median_worst_edge_log2']:.3f}, folded {100 * result['share_folded']:.1f} %"),
            Row(f"{name}: plausible (all checks)", result["plausible"], None, f"{count} faces"),
        ]
    figure, axes = new_figure(columns=2, width=6.0)
    names = list(series)
    positions = np.arange(len(names))
    for offset, (key, label) in enumerate((("in_distribution_expression", "expression in-distribution"),
                                           ("in_distribution_shape", "shape in-distribution"),
                                           ("mesh_ok", "mesh check"), ("plausible", "all checks"))):
        axes[0].bar(positions + (offset - 1.5) * 0.2, [series[n][key] for n in names], width=0.2, label=label)
    axes[0].set_xticks(positions, names, rotation=35, ha="right", fontsize=8)
    axes[0].set_ylabel("share of faces")
    axes[0].set_ylim(0, 1.05)
    axes[0].legend(fontsize=7)
    axes[0].set_title("Plausibility proxy per condition")
    for name in names:
        axes[1].scatter(series[name]["median_mahalanobis_shape"], series[name]["median_mahalanobis_expression"], label=name)
    axes[1].axvline(thresholds["shape"], color="gray", linestyle=":")
    axes[1].axhline(thresholds["expression"], color="gray", linestyle=":")
    axes[1].set_xscale("log")
    axes[1].set_yscale("log")
    axes[1].set_xlabel("median Mahalanobis distance (shape)")
    axes[1].set_ylabel("median Mahalanobis distance (expression)")
    axes[1].legend(fontsize=7)
    axes[1].set_title("Distance to the clean corpus (dotted: 99 % of real faces)")
    notes = list(context.notes) + [
        "the paper's 98.2 % / 99.8 % are shares of faces no human rater rejected; ours are automatic proxies, "
        "comparable in spirit only",
        f"in-distribution: within the 99th-percentile Mahalanobis distance of held-out real faces "
        f"(shape {thresholds['shape']:.3g}, expression {thresholds['expression']:.3g})",
        f"mesh check: worst edge |log2 ratio| ≤ {edge_limit:.3g} and at most {fold_limit:g} folded triangles "
        "(the larger of the fixed limit and the 99th percentile of held-out real faces)",
    ]
    return Report("plausibility", "Plausibility proxy: distance to real faces and mesh sanity, per condition", rows,
                  figure, notes, {"thresholds": {**thresholds, "edge_log2": edge_limit, "folded_triangles": fold_limit}, "conditions": series})
