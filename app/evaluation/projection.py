"""What the learned prior's projection keeps: clean faces and fully activated action units.

The paper's network moves clean held-out faces by a share of their variance and, on the embedded
model, erases a single action unit set to full activation (a smile, an open jaw, a blink). The
projection at strength t is measured the same way: the mean squared change of the held-out faces
over their total variance, beside the network's, and the value an action unit at 3 (full
activation) keeps, averaged over 32 seeded projections. Only the embedded model's expression
coefficients are action units, so the second part needs it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from app.errors import FaceExplorerError
from app.evaluation.context import KIND_ORDER, EvaluationContext
from app.evaluation.report import Report, Row, new_figure
from app.model.action_units import ACTION_UNITS
from app.model.embedded_model import UNITS_PER_ACTIVATION
from app.prior.learned_prior import DEFAULT_STRENGTH, seeded_generator

STRENGTHS = (0.1, DEFAULT_STRENGTH, 0.25, 0.5)
UNITS = ("AU12", "AU27", "AU45")  # smile, jaw open, blink
COPIES = 32
NOT_IN_PAPER = "not in the paper"


def clean_change(faces: np.ndarray, output: np.ndarray) -> float:
    """Mean squared change of the faces over their total variance."""
    return float(np.mean(np.sum((output - faces) ** 2, axis=1)) / np.var(faces, axis=0).sum())


def projection(context: EvaluationContext) -> Report:
    rows: list[Row] = []
    series: dict[str, Any] = {}
    notes = list(context.notes)
    figure, axes = new_figure(columns=2)
    try:
        prior = context.prior
    except FaceExplorerError as problem:
        prior = None
        notes.append(f"no learned prior to measure ({problem})")
    for axis, kind in zip(axes, KIND_ORDER, strict=True):
        faces = context.held_out_faces(kind)
        network = clean_change(faces, context.denoiser.denoise(kind, faces))
        rows.append(Row(f"{kind}: clean held-out faces, network's change / variance", network, NOT_IN_PAPER))
        series[kind] = {"network": network}
        if prior is None:
            continue
        changes = [
            clean_change(faces, prior.project(kind, faces, t, seeded_generator(context.seed, 50, i)))
            for i, t in enumerate(STRENGTHS)
        ]
        for t, change in zip(STRENGTHS, changes, strict=True):
            default = " (the default)" if t == DEFAULT_STRENGTH else ""
            rows.append(
                Row(
                    f"{kind}: clean held-out faces, prior t={t:g}{default} change / variance",
                    change,
                    NOT_IN_PAPER,
                    f"{change / network:.2f}× the network's (the issue's bar: ≤ 0.5× at the default)",
                )
            )
        series[kind]["prior"] = dict(zip(map(str, STRENGTHS), changes, strict=True))
        axis.plot(STRENGTHS, [c / network for c in changes], "o-", label="learned prior")
        axis.axhline(0.5, color="gray", linestyle=":", label="0.5× the network")
        axis.axvline(DEFAULT_STRENGTH, color="#17becf", linestyle="--", label="default strength")
        axis.set_xlabel("strength t")
        axis.set_ylabel("change of clean faces / the network's")
        axis.set_title(kind)
        axis.legend(fontsize=7)
    if prior is not None and context.model.is_embedded:
        rows += _action_units(context)
    return Report("prior-projection", "What the learned prior's projection keeps", rows, figure, notes, series)


def _action_units(context: EvaluationContext) -> list[Row]:
    rows = []
    for code in UNITS:
        unit = next(k for k, action in enumerate(ACTION_UNITS) if action.code == code)
        faces = np.zeros((COPIES, len(ACTION_UNITS)))
        faces[:, unit] = UNITS_PER_ACTIVATION
        network = float(context.denoiser.denoise("expression", faces[:1])[0, unit])
        for t in STRENGTHS:
            kept = context.prior.project("expression", faces, t, seeded_generator(context.seed, 51, unit))[:, unit]
            rows.append(
                Row(
                    f"expression: {ACTION_UNITS[unit].label} at {UNITS_PER_ACTIVATION:g}, kept by the prior at t={t:g}",
                    float(np.mean(kept)),
                    NOT_IN_PAPER,
                    f"{100 * np.mean(kept) / UNITS_PER_ACTIVATION:.0f} % "
                    f"(lowest of {COPIES} seeds {np.min(kept):.2f}); the network keeps {network:.2f}",
                )
            )
    return rows
