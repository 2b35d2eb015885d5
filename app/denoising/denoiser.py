"""Pull coefficient vectors back onto the face manifold with the two trained networks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from app.denoising.checkpoint import KINDS, Checkpoint, checkpoint_path, load_checkpoint
from app.denoising.checkpoint_folders import SHIPPED_CHECKPOINTS
from app.denoising.devices import pick_device
from app.denoising.network import apply_in_batches
from app.errors import FaceExplorerError
from app.model.morphable_model import CoefficientKind, MorphableModel
from app.model.provenance import model_mismatch


class Denoiser:
    """The shape and expression networks on one device, working in model units."""

    def __init__(self, checkpoints: dict[str, Checkpoint], device: torch.device) -> None:
        self.device = device
        self.checkpoints = checkpoints
        self.nets = {kind: checkpoint.net.to(device).eval() for kind, checkpoint in checkpoints.items()}
        self.metadata = {kind: checkpoint.metadata for kind, checkpoint in checkpoints.items()}
        # sha256 of the bytes each net was loaded from: what made a dataset or a study, exactly.
        self.digests = {kind: checkpoint.sha256 for kind, checkpoint in checkpoints.items()}
        self.trained_on = {kind: checkpoint.trained_on for kind, checkpoint in checkpoints.items()}

    @classmethod
    def from_folder(
        cls, model: MorphableModel, folder: str | Path = SHIPPED_CHECKPOINTS, device: str = "auto"
    ) -> Denoiser:
        """Load ``shape.pt`` and ``expression.pt`` from ``folder`` for this model's coefficient counts."""
        checkpoints: dict[str, Checkpoint] = {
            kind: load_checkpoint(checkpoint_path(folder, kind), kind, model.n_coefficients(kind)) for kind in KINDS
        }
        return cls(checkpoints, pick_device(device))

    def model_mismatch(self, model: MorphableModel) -> str | None:
        """Why the nets may not suit ``model`` (trained on another one), as one line; None when they do.

        A warning, not an error: nets trained on one model with the same coefficient counts still
        run on another, and trying that is legitimate.
        """
        problems = [
            model_mismatch(self.trained_on[kind], model.provenance, f"the {kind} network") for kind in self.nets
        ]
        return "; ".join(problem for problem in problems if problem) or None

    def denoise(self, kind: CoefficientKind, coefficients: np.ndarray) -> np.ndarray:
        """Denoised copy of one (L,) vector or a (B, L) batch, in model units (float64)."""
        values = np.asarray(coefficients, dtype=np.float64)
        expected = self.metadata[kind]["input_length"]
        if values.ndim not in (1, 2) or values.shape[-1] != expected:
            raise FaceExplorerError(f"{kind} coefficients have shape {values.shape}; the network takes {expected}")
        if not np.all(np.isfinite(values)):
            raise FaceExplorerError(f"{kind} coefficients contain NaN or infinite values")
        scale = self.metadata[kind]["normalisation"]
        batch = torch.from_numpy((values.reshape(-1, expected) / scale).astype(np.float32)).to(self.device)
        output = apply_in_batches(self.nets[kind], batch).cpu().numpy().astype(np.float64) * scale
        if not np.all(np.isfinite(output)):  # float32 overflow inside the net: never pass it on as a face
            raise FaceExplorerError(f"the {kind} network's output is not finite for these coefficients")
        return output.reshape(values.shape)

    def denoise_face(self, alpha_id: np.ndarray, alpha_exp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.denoise("shape", alpha_id), self.denoise("expression", alpha_exp)
