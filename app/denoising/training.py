"""Training a denoiser with the paper's recipe: MSE, Adam (lr 1e-3), batch 128, 10 epochs.

Pairs come from the corruption protocol applied to the clean training faces; the validation
set is the same protocol applied to held-out faces (never seen in training). Shape vectors are
divided by 1e5 before the network (the paper's normalisation), and the factor is stored in the
checkpoint so the denoiser undoes it. The checkpoint also records the face model (name and
digest) and the ids of the held-out faces, so other weights can be scored on exactly those
faces. A checkpoint is written after every epoch, and Ctrl-C writes one for the weights of that
moment, so an interrupted run always leaves a usable net. A loss or test error that stops being a
finite number ends the run with one error and puts back the bytes the output had before it.
"""

from __future__ import annotations

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
from app.atomic_files import atomic_output, ensure_writable
from app.denoising.checkpoint import save_checkpoint
from app.denoising.corruption import NoisyPairs, make_noisy_pairs
from app.denoising.devices import pick_device
from app.denoising.network import AutoEncoder4, apply_in_batches, parameter_count
from app.errors import FaceExplorerError
from app.model.fitted_params import FittedParameters, split_by_face
from app.model.provenance import ModelProvenance


@dataclass(frozen=True)
class TrainingConfig:
    kind: str  # "shape" or "expression"
    sigma: float  # corruption σ in model units
    copies: int  # noisy copies per face
    normalisation: float  # vectors are divided by this before the network
    test_faces: int = 600
    epochs: int = 10
    batch_size: int = 128
    learning_rate: float = 1e-3
    seed: int = 0
    device: str = "auto"

    @classmethod
    def paper(cls, kind: str, **overrides: Any) -> TrainingConfig:
        """The paper's settings, with any field overridden."""
        sigma, copies, normalisation = {
            "shape": (5e5, 100, 1e5),
            "expression": (2.0, 50, 1.0),
        }[kind]
        return replace(cls(kind=kind, sigma=sigma, copies=copies, normalisation=normalisation), **overrides)


def train_denoiser(
    data: FittedParameters,
    config: TrainingConfig,
    model: ModelProvenance,
    output: str | Path,
    show_progress: bool = True,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train one network on ``data`` and write its checkpoint to ``output``; returns the metadata.

    A non-finite loss or test error raises a FaceExplorerError and leaves ``output`` byte for byte as
    it was before the run (absent if it was absent).
    """
    output = Path(output)
    ensure_writable(output)
    previous = _previous_bytes(output)
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    device = pick_device(config.device)
    train_faces, test_faces = split_by_face(data, config.test_faces, rng)
    scale = config.normalisation
    train = make_noisy_pairs(train_faces.coefficients(config.kind) / scale, config.sigma / scale, config.copies, rng)
    test = make_noisy_pairs(test_faces.coefficients(config.kind) / scale, config.sigma / scale, config.copies, rng)
    if not (np.isfinite(train.noisy).all() and np.isfinite(test.noisy).all()):
        raise FaceExplorerError(
            f"{data.source}: the {config.kind} coefficients overflow once corrupted and normalised; "
            "check the data for extreme values"
        )
    log(
        f"{config.kind}: {len(train):,} training pairs from {len(train.clean):,} faces, "
        f"{len(test):,} test pairs from {len(test.clean):,} held-out faces, on {device}"
    )

    net = AutoEncoder4(train.clean.shape[1]).to(device)
    optimiser = torch.optim.Adam(net.parameters(), lr=config.learning_rate)
    noisy = torch.from_numpy(train.noisy).to(device)
    clean = torch.from_numpy(train.clean).to(device)
    source = torch.from_numpy(train.source).to(device)
    shuffle = torch.Generator().manual_seed(config.seed)

    metadata: dict[str, Any] = {
        **asdict(config),
        "input_length": int(train.clean.shape[1]),
        "device": str(device),
        **model.to_record(),
        "data_source": data.source,
        "held_out_faces": test_faces.face_ids,
        "train_faces": len(train.clean),
        "test_faces": len(test.clean),
        "train_pairs": len(train),
        "test_pairs": len(test),
        "parameter_count": parameter_count(net),
        "test_mse_noisy": _mse(test.noisy, test.targets()),
        "history": [],
        "app_version": __version__,
    }
    started = time.perf_counter()
    written = False

    def checkpoint(epochs_done: int, interrupted: bool, test_mse: float) -> None:
        nonlocal written
        metadata.update(
            epochs_completed=epochs_done,
            interrupted=interrupted,
            training_seconds=round(time.perf_counter() - started, 1),
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            test_mse_denoised=test_mse,
        )
        save_checkpoint(output, net, metadata)
        written = True

    def diverged(what: str, value: float) -> FaceExplorerError:
        if written:
            _put_back(output, previous)
        kept = f"{output} is as it was before this run" if previous is not None else f"nothing was written to {output}"
        return FaceExplorerError(
            f"training diverged: the {what} became {value} in epoch {epoch}; {kept} "
            "(lower --lr, or look for extreme values in the data)"
        )

    epoch = 0
    try:
        for epoch in range(1, config.epochs + 1):
            net.train()
            order = torch.randperm(len(noisy), generator=shuffle).to(device)
            total, batches = 0.0, 0
            steps = tqdm(
                order.split(config.batch_size),
                desc=f"{config.kind} epoch {epoch}/{config.epochs}",
                disable=not show_progress,
                leave=False,
                mininterval=1.0,
            )
            for rows in steps:
                prediction = net(noisy[rows].unsqueeze(1)).squeeze(1)
                loss = torch.nn.functional.mse_loss(prediction, clean[source[rows]])
                value = loss.item()
                if not math.isfinite(value):
                    raise diverged("training loss", value)
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                total += value
                batches += 1
            test_mse = _test_mse(net, test, device)
            if not math.isfinite(test_mse):
                raise diverged("test MSE", test_mse)
            metadata["history"].append({"epoch": epoch, "train_loss": total / max(batches, 1), "test_mse": test_mse})
            log(
                f"{config.kind} epoch {epoch}: train loss {total / max(batches, 1):.4f}, "
                f"test MSE {test_mse:.4f} (noisy input {metadata['test_mse_noisy']:.4f})"
            )
            checkpoint(epoch, interrupted=False, test_mse=test_mse)  # measured once per epoch: it is ~17 % of a run
    except KeyboardInterrupt:
        test_mse = _test_mse(net, test, device)
        if not math.isfinite(test_mse):  # weights that already diverged are not worth keeping
            raise diverged("test MSE", test_mse) from None
        checkpoint(epoch - 1, interrupted=True, test_mse=test_mse)
        log(f"interrupted: saved the weights after {epoch - 1} complete epoch(s) (plus the partial one) to {output}")
        raise
    return metadata


def _previous_bytes(output: Path) -> bytes | None:
    """What ``output`` holds before the run (a checkpoint is tens of kB), to put back if training diverges."""
    try:
        return output.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as failure:
        raise FaceExplorerError(f"{output}: cannot read the file this run would replace ({failure.strerror})") from None


def _put_back(output: Path, previous: bytes | None) -> None:
    if previous is None:
        output.unlink(missing_ok=True)
    else:
        with atomic_output(output) as temp:
            temp.write_bytes(previous)


def _mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean((a.astype(np.float64) - b) ** 2))


def _test_mse(net: AutoEncoder4, test: NoisyPairs, device: torch.device) -> float:
    net.eval()
    output = apply_in_batches(net, torch.from_numpy(test.noisy).to(device)).cpu().numpy()
    return _mse(output, test.targets())
