"""The learned prior of both kinds on one device, working in model units.

Three uses, beside the paper's networks (which stay the default everywhere):
- ``denoise``: the best estimate of a face corrupted by the paper's protocol;
- ``project``: noise a face to strength t and run the reverse process back (t = 0: the face
  itself, t = 1: a fresh sample), seeded and deterministic;
- ``log_likelihood``: the prior's log-density of a face, in nats per coefficient (a coefficient on
  a censored bound counted at the middle of the interval that stands for it, see ``censoring``).
The diffusion network computes in float32 on the device; the starting noise is always drawn on the
CPU from the caller's generator, so a seed gives the same faces on a GPU as on the CPU (to float
precision).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from app.denoising.checkpoint import KINDS
from app.denoising.checkpoint_folders import SHIPPED_CHECKPOINTS
from app.denoising.devices import pick_device
from app.errors import FaceExplorerError
from app.model.morphable_model import CoefficientKind, MorphableModel
from app.prior import diffusion, split_prior
from app.prior.checkpoint import PriorCheckpoint, load_prior_checkpoint, prior_checkpoint_path
from app.prior.likelihood import ODE_STEPS

# t = 0.08 adds noise of 0.13 of the spread of real faces along each principal axis. On the embedded
# corpus, a fully activated action unit keeps at least 80 % of it (jaw open alone, rare among real
# faces, is pulled hardest: 83 % at 0.08, 78 % at 0.1, 67 % at 0.15) and clean faces move far less
# than the paper's network moves them; a larger strength pulls faces further onto the prior.
DEFAULT_STRENGTH = 0.08
CHUNK = 4096  # faces per call of a network


def seeded_generator(*stream: int) -> torch.Generator:
    """A CPU generator for the projection, one independent stream per tuple of seeds (e.g. seed, shard)."""
    seed = int(np.random.SeedSequence(list(stream)).generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
    return torch.Generator().manual_seed(seed)


class LearnedPrior:
    """The shape and expression priors on one device."""

    def __init__(self, checkpoints: dict[str, PriorCheckpoint], device: torch.device) -> None:
        self.device = device
        self.checkpoints = checkpoints
        self.networks = {kind: checkpoint.networks.to(device).eval() for kind, checkpoint in checkpoints.items()}
        self.metadata = {kind: checkpoint.metadata for kind, checkpoint in checkpoints.items()}
        self.digests = {kind: checkpoint.sha256 for kind, checkpoint in checkpoints.items()}

    @classmethod
    def from_folder(
        cls, model: MorphableModel, folder: str | Path = SHIPPED_CHECKPOINTS, device: str = "auto"
    ) -> LearnedPrior:
        """Load ``prior-shape.pt`` and ``prior-expression.pt`` from ``folder`` for this model."""
        checkpoints: dict[str, PriorCheckpoint] = {
            kind: load_prior_checkpoint(
                prior_checkpoint_path(folder, kind), kind, model.n_coefficients(kind), model.provenance
            )
            for kind in KINDS
        }
        return cls(checkpoints, pick_device(device))

    def denoise(self, kind: CoefficientKind, coefficients: np.ndarray) -> np.ndarray:
        """The estimate of clean (L,) or (B, L) coefficients corrupted as in the paper (float64)."""
        values = self._checked(kind, coefficients)
        denoiser = self.networks[kind].denoiser
        batch = torch.from_numpy(values.reshape(-1, values.shape[-1]))
        output = torch.cat([denoiser(chunk.to(self.device)).cpu() for chunk in batch.split(CHUNK)])
        return self._finite(kind, output.numpy().reshape(values.shape))

    def project(
        self,
        kind: CoefficientKind,
        coefficients: np.ndarray,
        strength: float = DEFAULT_STRENGTH,
        generator: torch.Generator | None = None,
    ) -> np.ndarray:
        """Each face noised to ``strength`` ∈ [0, 1] and brought back by the reverse process (float64).

        ``generator`` (a CPU torch.Generator; default seed 0) draws the noise: the same state gives
        the same faces. Strength 0 returns the input unchanged, strength 1 a fresh sample.
        """
        diffusion.check_strength(strength)
        values = self._checked(kind, coefficients)
        if strength == 0:
            return values.copy()
        generator = generator or torch.Generator().manual_seed(0)
        networks = self.networks[kind]
        batch = torch.from_numpy(values.reshape(-1, values.shape[-1]))
        parts = []
        for chunk in batch.split(CHUNK):
            projected = split_prior.project(networks, self._whitened(kind, chunk), strength, generator)
            parts.append(networks.censoring.clamp(networks.whitening.unwhiten(projected)).cpu())
        return self._finite(kind, torch.cat(parts).numpy().reshape(values.shape))

    def project_face(
        self, alpha_id: np.ndarray, alpha_exp: np.ndarray, strength: float, generator: torch.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Both parts of a face (or batch of faces) projected, identity first, from one generator."""
        return self.project("shape", alpha_id, strength, generator), self.project(
            "expression", alpha_exp, strength, generator
        )

    def sample(self, kind: CoefficientKind, count: int, generator: torch.Generator | None = None) -> np.ndarray:
        """``count`` fresh (count, L) faces from the prior (float64)."""
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise FaceExplorerError(f"the number of samples must be a positive whole number (got {count!r})")
        dimension = self.metadata[kind]["input_length"]
        return self.project(kind, np.zeros((count, dimension)), 1.0, generator)

    def log_likelihood(self, kind: CoefficientKind, coefficients: np.ndarray, steps: int = ODE_STEPS) -> np.ndarray:
        """The prior's log-density of each face in nats per coefficient, in whitened units (see ``likelihood``).

        A density in other linear units differs by one constant for all faces (``Whitening.log_det``);
        ``steps`` of the ODE solver: fewer are faster and less exact.
        """
        values = self._checked(kind, coefficients)
        networks = self.networks[kind]
        batch = torch.from_numpy(values.reshape(-1, values.shape[-1]))
        totals = torch.cat(
            [
                split_prior.prior_log_likelihood(networks, self._whitened(kind, chunk), steps).cpu()
                for chunk in batch.split(CHUNK)
            ]
        )
        per_coefficient = totals.numpy() / values.shape[-1]
        return per_coefficient.reshape(values.shape[:-1])

    def whitened(
        self, kind: CoefficientKind, coefficients: np.ndarray, generator: torch.Generator | None = None
    ) -> np.ndarray:
        """(B, L) faces in the coordinates the prior's density is over: each coefficient on a censored
        bound moved into the interval that stands for it (``censoring``: to its middle, or spread
        with ``generator`` as in training), then whitened."""
        values = self._checked(kind, coefficients)
        return self._whitened(kind, torch.from_numpy(np.atleast_2d(values)), generator).double().cpu().numpy()

    def _whitened(
        self, kind: CoefficientKind, faces: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        return self.networks[kind].coordinates(faces.to(self.device), generator)

    def _checked(self, kind: CoefficientKind, coefficients: np.ndarray) -> np.ndarray:
        if kind not in self.networks:
            raise FaceExplorerError(f"unknown coefficient kind {kind!r} (use shape or expression)")
        try:
            values = np.asarray(coefficients, dtype=np.float64)
        except (TypeError, ValueError) as failure:
            raise FaceExplorerError(f"{kind} coefficients are not numbers") from failure
        expected = self.metadata[kind]["input_length"]
        if values.ndim not in (1, 2) or values.shape[-1] != expected or values.size == 0:
            raise FaceExplorerError(f"{kind} coefficients have shape {values.shape}; the prior takes {expected}")
        if not np.all(np.isfinite(values)):
            raise FaceExplorerError(f"{kind} coefficients contain NaN or infinite values")
        return values

    @staticmethod
    def _finite(kind: str, output: np.ndarray) -> np.ndarray:
        if not np.all(np.isfinite(output)):  # float32 overflow inside a network: never pass it on as a face
            raise FaceExplorerError(f"the {kind} prior's output is not finite for these coefficients")
        return output
