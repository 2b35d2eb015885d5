"""How well the networks denoise: test MSE, learning curves (Fig 5), noise sweep (Fig 8), σ grid (Fig 10)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from app.denoising.checkpoint import load_checkpoint
from app.denoising.denoiser import Denoiser
from app.denoising.training import TrainingConfig, train_denoiser
from app.errors import FaceExplorerError
from app.evaluation.context import KIND_ORDER, PAPER_TEST_MSE, EvaluationContext
from app.evaluation.gaussian_oracle import gaussian_oracle_estimate
from app.evaluation.report import Report, Row, new_figure
from app.model.fitted_params import FittedParameters
from app.model.morphable_model import CoefficientKind

TEST_SIGMA_FACTORS = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5)  # nine test σ, × the training σ
TRAIN_SIGMA_FACTORS = (0.5, 1.0, 2.0)  # three training σ, × the paper's σ


def denoised_test_mse(
    context: EvaluationContext, kind: CoefficientKind, denoiser: Denoiser, sigma: float | None = None
) -> tuple[float, float]:
    """(noisy input MSE, denoised MSE) on the held-out faces, in the network's units."""
    pairs = context.test_pairs(kind, sigma)
    targets = pairs.targets()
    output = denoiser.denoise(kind, pairs.noisy)
    return context.normalised_mse(kind, pairs.noisy, targets), context.normalised_mse(kind, output, targets)


def test_mse(context: EvaluationContext) -> Report:
    """The networks' held-out error beside the learned prior's denoiser and the Gaussian oracle's floor."""
    rows: list[Row] = []
    series: dict[str, Any] = {}
    notes = list(context.notes)
    figure, (axis,) = new_figure()
    for position, kind in enumerate(KIND_ORDER):
        noisy, denoised = denoised_test_mse(context, kind, context.denoiser)
        pairs = context.test_pairs(kind)
        targets = pairs.targets()
        paper_noisy, paper_denoised = PAPER_TEST_MSE[kind]
        unit = " (/1e5 units)" if context.normalisation(kind) != 1 else ""
        hit = pairs.noisy != targets  # the corruption leaves every other coefficient exactly as it was
        oracle = gaussian_oracle_estimate(context.training_faces(kind), pairs.noisy, hit, context.sigma(kind))
        floor = context.normalised_mse(kind, oracle, targets)
        rows += [
            Row(f"{kind}: noisy input MSE{unit}", noisy, paper_noisy),
            Row(f"{kind}: denoised MSE{unit}", denoised, paper_denoised),
            Row(f"{kind}: reduction factor", noisy / denoised, round(paper_noisy / paper_denoised, 1)),
            Row(
                f"{kind}: Gaussian told the hit coefficients (reference floor){unit}",
                floor,
                None,
                f"{floor / denoised:.2f}× the network's",
            ),
        ]
        series[kind] = {
            "noisy": noisy,
            "denoised": denoised,
            "gaussian_oracle": floor,
            "test_pairs": len(pairs),
            "held_out_faces": len(pairs.clean),
        }
        try:
            prior = context.normalised_mse(kind, context.prior.denoise(kind, pairs.noisy), targets)
        except FaceExplorerError as problem:
            notes.append(f"{kind}: no learned prior to compare ({problem})")
        else:
            if set(context.prior.metadata[kind].get("held_out_faces", [])) != set(context.splits[kind][1].face_ids):
                notes.append(f"{kind}: the learned prior held out other faces than the network: it saw some of these")
            rows.append(
                Row(
                    f"{kind}: learned prior's denoiser MSE{unit}", prior, None, f"{prior / denoised:.2f}× the network's"
                )
            )
            series[kind]["learned_prior"] = prior
        axis.bar([position - 0.2], [noisy], width=0.4, color="#c44e52", label="noisy input" if position == 0 else None)
        axis.bar([position + 0.2], [denoised], width=0.4, color="#4c72b0", label="denoised" if position == 0 else None)
        axis.plot(
            [position - 0.2, position + 0.2],
            [paper_noisy, paper_denoised],
            "k_",
            markersize=18,
            label="paper" if position == 0 else None,
        )
    axis.set_xticks(range(len(KIND_ORDER)), KIND_ORDER)
    axis.set_yscale("log")
    axis.set_ylabel("test MSE (network units)")
    axis.set_title("Held-out test MSE: noisy input vs denoised")
    axis.legend()
    return Report("test-mse", "Test MSE on held-out faces (paper §IV, Fig 5)", rows, figure, notes, series)


def learning_curves(context: EvaluationContext) -> Report:
    rows: list[Row] = []
    series: dict[str, Any] = {}
    figure, axes = new_figure(columns=2)
    for axis, kind in zip(axes, KIND_ORDER, strict=True):
        meta = context.denoiser.metadata[kind]
        history = meta.get("history") or []
        if not history:
            rows.append(
                Row(f"{kind}: final test MSE", None, PAPER_TEST_MSE[kind][1], "checkpoint has no training history")
            )
            continue
        epochs = [h["epoch"] for h in history]
        axis.plot(epochs, [h["train_loss"] for h in history], "o-", label="training loss")
        axis.plot(epochs, [h["test_mse"] for h in history], "s-", label="test MSE (held-out faces)")
        axis.axhline(meta["test_mse_noisy"], color="#c44e52", linestyle="--", label="noisy input")
        axis.axhline(PAPER_TEST_MSE[kind][1], color="k", linestyle=":", label="paper final test MSE")
        axis.set_yscale("log")
        axis.set_xlabel("epoch")
        axis.set_title(f"{kind} network")
        axis.legend(fontsize=8)
        rows += [
            Row(f"{kind}: epochs trained", float(len(history)), 10.0),
            Row(f"{kind}: final training loss", history[-1]["train_loss"], None),
            Row(f"{kind}: final test MSE", history[-1]["test_mse"], PAPER_TEST_MSE[kind][1]),
            Row(f"{kind}: noisy input MSE", meta["test_mse_noisy"], PAPER_TEST_MSE[kind][0]),
        ]
        series[kind] = history
    return Report(
        "learning-curves",
        "Learning curves from the checkpoints' training history (Fig 5)",
        rows,
        figure,
        list(context.notes),
        series,
    )


def noise_sweep(context: EvaluationContext) -> Report:
    rows: list[Row] = []
    series: dict[str, Any] = {}
    figure, axes = new_figure(columns=2)
    for axis, kind in zip(axes, KIND_ORDER, strict=True):
        base = context.sigma(kind)
        sigmas = [base * f for f in TEST_SIGMA_FACTORS]
        results = [denoised_test_mse(context, kind, context.denoiser, s) for s in sigmas]
        noisy, denoised = zip(*results, strict=True)
        axis.plot(sigmas, noisy, "o-", color="#c44e52", label="noisy input")
        axis.plot(sigmas, denoised, "s-", color="#4c72b0", label="denoised")
        axis.axvline(base, color="gray", linestyle=":", label="training σ")
        axis.set_yscale("log")
        axis.set_xlabel("test σ (model units)")
        axis.set_ylabel("MSE (network units)")
        axis.set_title(f"{kind}")
        axis.legend(fontsize=8)
        for s, n, d in zip(sigmas, noisy, denoised, strict=True):
            paper = PAPER_TEST_MSE[kind][1] if s == base else "figure only"
            rows.append(Row(f"{kind}: σ={s:g} denoised MSE", d, paper, f"noisy input {n:.4g}"))
        series[kind] = {"sigma": sigmas, "noisy": list(noisy), "denoised": list(denoised)}
    return Report(
        "noise-sweep",
        "MSE of input and output over the test noise σ (Fig 8)",
        rows,
        figure,
        list(context.notes),
        series,
    )


def sigma_grid(context: EvaluationContext) -> Report:
    """Train a net at each of three σ (``context.epochs`` epochs), test each at nine σ."""
    rows: list[Row] = []
    series: dict[str, Any] = {}
    figure, axes = new_figure(columns=2)
    with tempfile.TemporaryDirectory(prefix="sigma-grid-") as scratch:
        for axis, kind in zip(axes, KIND_ORDER, strict=True):
            paper_sigma = TrainingConfig.paper(kind).sigma
            test_sigmas = [paper_sigma * f for f in TEST_SIGMA_FACTORS]
            series[kind] = {"test_sigma": test_sigmas, "train": {}}
            for train_factor in TRAIN_SIGMA_FACTORS:
                train_sigma = paper_sigma * train_factor
                denoiser = _train_at_sigma(context, kind, train_sigma, Path(scratch) / f"{kind}-{train_factor}.pt")
                denoised = [denoised_test_mse(context, kind, denoiser, s)[1] for s in test_sigmas]
                series[kind]["train"][f"{train_sigma:g}"] = denoised
                axis.plot(test_sigmas, denoised, "o-", label=f"trained at σ={train_sigma:g}")
                at_own = (
                    denoised[TEST_SIGMA_FACTORS.index(train_factor)] if train_factor in TEST_SIGMA_FACTORS else None
                )
                rows.append(
                    Row(
                        f"{kind}: trained σ={train_sigma:g}, tested at its own σ",
                        at_own,
                        PAPER_TEST_MSE[kind][1] if train_factor == 1.0 else "figure only",
                        f"{context.epochs} epoch(s); worst over nine test σ {max(denoised):.4g}",
                    )
                )
            axis.set_yscale("log")
            axis.set_xlabel("test σ (model units)")
            axis.set_ylabel("denoised MSE (network units)")
            axis.set_title(kind)
            axis.legend(fontsize=8)
    notes = list(context.notes)
    if context.epochs < 10:
        notes.append(f"nets trained for {context.epochs} epoch(s), not the paper's 10 (--epochs to change)")
    return Report("sigma-grid", "Three training σ × nine test σ (Fig 10)", rows, figure, notes, series)


def _train_at_sigma(context: EvaluationContext, kind: CoefficientKind, sigma: float, path: Path) -> Denoiser:
    """A net of this kind trained on the training faces at ``sigma``; the other kind's net is reused."""
    # Only the checkpoint's training faces go in, so the held-out test faces stay unseen; the
    # trainer's own validation split is a small part of them.
    faces: FittedParameters = context.splits[kind][0]
    overrides = {"copies": context.train_copies} if context.train_copies else {}
    config = TrainingConfig.paper(
        kind,
        sigma=sigma,
        epochs=context.epochs,
        seed=context.seed,
        test_faces=max(1, min(100, len(faces) // 10)),
        device="auto",
        **overrides,
    )
    train_denoiser(faces, config, context.model.provenance, path, show_progress=False, log=lambda _: None)
    other = "shape" if kind == "expression" else "expression"
    trained = load_checkpoint(path, kind, context.model.n_coefficients(kind))
    return Denoiser({kind: trained, other: context.denoiser.checkpoints[other]}, context.denoiser.device)
