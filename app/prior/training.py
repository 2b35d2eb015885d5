"""Training one kind's prior: censored bounds and whitening, the diffusion network, then the corruption denoiser.

Both networks learn from the training faces only; the held-out faces are the paper network's
(the ids its checkpoint lists, when it was trained on the same data), else the split the paper's
``train`` makes with the same seed, so every comparison is on faces neither has seen. Each step
draws a fresh batch (faces on a censored bound spread afresh), fresh diffusion noise or a fresh
paper corruption from seeded generators,
and the diffusion weights are averaged (EMA), as diffusion models are. A loss that is not finite
stops the run with one error and writes nothing, so an existing checkpoint is never replaced by
a diverged one; the checkpoint is written once, at the end.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from app import __version__
from app.atomic_files import ensure_writable
from app.denoising.corruption import corrupt, make_noisy_pairs
from app.denoising.devices import pick_device
from app.denoising.training import TrainingConfig
from app.errors import FaceExplorerError
from app.model.fitted_params import FittedParameters, split_by_face, split_by_ids
from app.model.provenance import ModelProvenance
from app.prior.censoring import Censoring
from app.prior.checkpoint import SIZES, PriorNetworks, save_prior_checkpoint
from app.prior.conditional_rest import ConditionalRest, choose_leading
from app.prior.diffusion import training_loss
from app.prior.likelihood import RANKING_DECIMALS, RANKING_STEPS
from app.prior.split_prior import prior_log_likelihood
from app.prior.whitening import Whitening

WARMUP_STEPS = 200  # linear learning-rate warm-up, then a cosine decay to 0
# The identity denoiser needs fewer steps: a hit identity coefficient stands out by orders of magnitude
# (σ = 500,000 against standard deviations of 800 to 500,000), a hit expression one often does not
# (σ = 2 against 0.2 to 1). Both reach their held-out error well within the 10-minute budget.
DENOISER_STEPS = {"shape": 4_000, "expression": 10_000}
EVALUATION_CHUNK = 8192


@dataclass(frozen=True)
class PriorTrainingConfig:
    kind: str  # "shape" or "expression"
    diffusion_steps: int = 20_000
    denoiser_steps: int = 10_000
    batch_size: int = 256
    learning_rate: float = 1e-3
    ema_decay: float = 0.999
    diffusion_width: int = 256
    diffusion_depth: int = 3
    denoiser_width: int = 256
    denoiser_depth: int = 3
    sigma: float = 0.0  # the paper's corruption σ in model units (0: the paper's for the kind)
    test_faces: int = 600
    seed: int = 0
    device: str = "auto"
    leading: int | None = None  # whitened coordinates the network models; None: chosen (``_leading_count``)

    @classmethod
    def default(cls, kind: str, **overrides: Any) -> PriorTrainingConfig:
        """The shipped priors' settings for ``kind``, with any field overridden."""
        defaults = cls(kind=kind, sigma=TrainingConfig.paper(kind).sigma, denoiser_steps=DENOISER_STEPS[kind])
        config = replace(defaults, **overrides)
        config.check()
        return config

    def check(self) -> None:
        counts = {
            "diffusion steps": self.diffusion_steps,
            "denoiser steps": self.denoiser_steps,
            "batch size": self.batch_size,
            "diffusion width": self.diffusion_width,
            "diffusion depth": self.diffusion_depth,
            "denoiser width": self.denoiser_width,
            "denoiser depth": self.denoiser_depth,
        }
        for name, value in counts.items():
            if value < 1:
                raise FaceExplorerError(f"{name} must be at least 1 (got {value})")
        if self.leading is not None and (isinstance(self.leading, bool) or self.leading < 1):
            raise FaceExplorerError(f"the leading coordinates must be a whole number ≥ 1 (got {self.leading!r})")
        if not (0 < self.learning_rate < math.inf and 0 < self.sigma < math.inf and 0 <= self.ema_decay < 1):
            raise FaceExplorerError("learning rate and σ must be positive finite numbers and the EMA decay in [0, 1)")


def held_out_split(
    data: FittedParameters, config: PriorTrainingConfig, paper_metadata: dict[str, Any] | None
) -> tuple[FittedParameters, FittedParameters]:
    """(training, held-out) faces: the paper network's held-out faces when it lists them for this data."""
    if paper_metadata and paper_metadata.get("held_out_faces") and paper_metadata.get("data_source") == data.source:
        return split_by_ids(data, paper_metadata["held_out_faces"])
    return split_by_face(data, config.test_faces, np.random.default_rng(config.seed))


def train_prior(
    train_faces: FittedParameters,
    test_faces: FittedParameters,
    config: PriorTrainingConfig,
    model: ModelProvenance,
    output: str | Path,
    data_source: str,
    show_progress: bool = True,
    log: Callable[[str], None] = print,
    reference: Callable[[np.ndarray], np.ndarray] | None = None,
) -> dict[str, Any]:
    """Train the ``config.kind`` prior and write its checkpoint to ``output``; returns the metadata.

    ``reference`` (the paper's network, noisy → denoised in model units) is scored on the same
    held-out pairs as the prior's denoiser, and its error recorded beside the prior's.
    """
    ensure_writable(output)
    config.check()
    device = pick_device(config.device)
    clean = train_faces.coefficients(config.kind)
    held_out = test_faces.coefficients(config.kind)
    started = time.perf_counter()
    censoring = Censoring.fit(clean)
    noise = torch.Generator().manual_seed(config.seed)
    latent = censoring.spread(torch.from_numpy(clean), noise).numpy()
    whitening = Whitening.fit(latent)
    whitened = whitening.whiten(torch.from_numpy(latent)).numpy()
    leading = _leading_count(config, whitened, censoring)
    rest = (
        None
        if leading == clean.shape[1]
        else ConditionalRest.fit(whitened[:, :leading], whitened[:, leading:], config.seed)
    )
    torch.manual_seed(config.seed)  # the networks' initial weights
    sizes = {name: getattr(config, name) for name in SIZES}
    networks = PriorNetworks(clean.shape[1], sizes, leading, 0 if rest is None else len(rest.anchors))
    networks.censoring.load_state_dict(censoring.state_dict())
    networks.whitening.load_state_dict(whitening.state_dict())
    if networks.rest is not None and rest is not None:
        networks.rest.load_state_dict(rest.state_dict())
    networks.denoiser.standardise_on(clean)
    networks.to(device)
    log(
        f"{config.kind} prior: {len(clean):,} training faces, {len(held_out):,} held-out faces, on {device}; "
        f"{config.diffusion_steps:,} diffusion steps over the leading {leading} of {clean.shape[1]} whitened "
        f"coordinates, then {config.denoiser_steps:,} denoiser steps; {censoring.censored} censored bound(s)"
    )
    batches = np.random.default_rng([config.seed, 1])
    ema = _train_diffusion(networks, torch.from_numpy(clean).to(device), config, batches, noise, show_progress)
    networks.diffusion.load_state_dict(ema.state_dict())
    _train_denoiser(networks, clean, config, batches, show_progress)
    seconds = time.perf_counter() - started

    networks.eval()
    scores = _held_out_scores(networks, held_out, config, reference)
    metadata: dict[str, Any] = {
        **asdict(config),
        **networks.structure(),  # the leading count chosen, where the config leaves it open
        "device": str(device),
        **model.to_record(),
        "data_source": data_source,
        "held_out_faces": test_faces.face_ids,
        "train_faces": len(clean),
        "test_faces": len(held_out),
        **scores,
        "training_seconds": round(seconds, 1),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "app_version": __version__,
    }
    save_prior_checkpoint(output, networks.cpu(), metadata)
    return metadata


def _leading_count(config: PriorTrainingConfig, whitened: np.ndarray, censoring: Censoring) -> int:
    """How many leading whitened coordinates the diffusion network models: ``config.leading``, or all of
    them where faces sit on censored bounds (whitening mixes such atoms into every coordinate, and the
    rest's Gaussian has none), or else the count under which held-back training faces are likeliest."""
    dimension = whitened.shape[1]
    if config.leading is not None:
        if config.leading > dimension:
            raise FaceExplorerError(f"--leading {config.leading} is more than the {dimension} coefficients")
        return config.leading
    return dimension if censoring.censored else choose_leading(whitened, config.seed)


def _train_diffusion(
    networks: PriorNetworks,
    clean: torch.Tensor,
    config: PriorTrainingConfig,
    batches: np.random.Generator,
    noise: torch.Generator,
    show_progress: bool,
) -> torch.nn.Module:
    """Train the diffusion network on the whitened latents of the faces; returns its weights' moving average."""
    net = networks.diffusion
    ema = copy.deepcopy(net).eval().requires_grad_(False)
    optimiser = torch.optim.Adam(net.parameters(), lr=config.learning_rate)
    steps = tqdm(
        range(config.diffusion_steps),
        desc=f"{config.kind} prior: diffusion",
        disable=not show_progress,
        mininterval=1.0,
    )
    for step in steps:
        _set_learning_rate(optimiser, config, step, config.diffusion_steps)
        rows = torch.from_numpy(batches.integers(0, len(clean), config.batch_size)).to(clean.device)
        loss = training_loss(net, networks.coordinates(clean[rows], noise)[:, : networks.leading], noise)
        _step(optimiser, loss, "diffusion", step)
        with torch.no_grad():
            decay = min(config.ema_decay, (1 + step) / (10 + step))  # a short average while the weights move fast
            for averaged, current in zip(ema.parameters(), net.parameters(), strict=True):
                averaged.lerp_(current, 1 - decay)
    return ema


def _train_denoiser(
    networks: PriorNetworks,
    clean: np.ndarray,
    config: PriorTrainingConfig,
    batches: np.random.Generator,
    show_progress: bool,
) -> None:
    """Regress the clean faces from fresh paper corruptions of them."""
    net = networks.denoiser
    device = net.mean.device
    weights = net.loss_weights()
    optimiser = torch.optim.Adam(net.parameters(), lr=config.learning_rate)
    steps = tqdm(
        range(config.denoiser_steps),
        desc=f"{config.kind} prior: denoiser",
        disable=not show_progress,
        mininterval=1.0,
    )
    for step in steps:
        _set_learning_rate(optimiser, config, step, config.denoiser_steps)
        targets = clean[batches.integers(0, len(clean), config.batch_size)]
        noisy = corrupt(targets, config.sigma, batches)
        standardised_targets = net.standardise(torch.from_numpy(targets).to(device))
        estimate = net.estimate(net.standardise(torch.from_numpy(noisy.astype(np.float64)).to(device)))
        loss = torch.mean((estimate - standardised_targets) ** 2 * weights)
        _step(optimiser, loss, "denoiser", step)


def _set_learning_rate(optimiser: torch.optim.Optimizer, config: PriorTrainingConfig, step: int, total: int) -> None:
    warmup = min(1.0, (step + 1) / WARMUP_STEPS)
    for group in optimiser.param_groups:
        group["lr"] = config.learning_rate * warmup * 0.5 * (1 + math.cos(math.pi * step / total))


def _step(optimiser: torch.optim.Optimizer, loss: torch.Tensor, what: str, step: int) -> None:
    if not torch.isfinite(loss):
        raise FaceExplorerError(
            f"training the {what} network diverged: its loss is {loss.item()} at step {step + 1}; "
            "nothing was written (an existing checkpoint is kept). Try a lower --lr"
        )
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    optimiser.step()


@torch.no_grad()
def _held_out_scores(
    networks: PriorNetworks,
    held_out: np.ndarray,
    config: PriorTrainingConfig,
    reference: Callable[[np.ndarray], np.ndarray] | None,
) -> dict[str, Any]:
    """The denoiser's error under the paper's protocol, the diffusion loss and each face's log-likelihood
    (at the ranking resolution: what faces are ranked against), on the held-out faces."""
    paper = TrainingConfig.paper(config.kind)
    pairs = make_noisy_pairs(held_out, config.sigma, paper.copies, np.random.default_rng([config.seed, 2]))
    device = networks.denoiser.mean.device
    denoised = torch.cat(
        [
            networks.denoiser(chunk.to(device)).cpu()
            for chunk in torch.from_numpy(pairs.noisy.astype(np.float64)).split(EVALUATION_CHUNK)
        ]
    ).numpy()
    targets = pairs.targets().astype(np.float64)
    unit = paper.normalisation
    whitened = networks.coordinates(torch.from_numpy(held_out).to(device))
    leading = whitened[:, : networks.leading]
    losses = [training_loss(networks.diffusion, leading, torch.Generator().manual_seed(k)).item() for k in range(4)]
    scores = {
        "test_copies": paper.copies,
        "test_mse_unit": unit,
        "test_mse_noisy": float(np.mean(((pairs.noisy - targets) / unit) ** 2)),
        "test_mse_denoised": float(np.mean(((denoised - targets) / unit) ** 2)),
        "held_out_diffusion_loss": float(np.mean(losses)),
        "held_out_ranking_log_likelihood": [
            round(float(value) / held_out.shape[1], RANKING_DECIMALS)
            for chunk in whitened.split(EVALUATION_CHUNK)
            for value in prior_log_likelihood(networks, chunk, RANKING_STEPS).cpu()
        ],
    }
    if reference is not None:
        scores["paper_test_mse_denoised"] = float(np.mean(((reference(pairs.noisy) - targets) / unit) ** 2))
    return scores
