"""Pull coefficient vectors back onto the face manifold with the two trained networks."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import torch

from app.denoising.checkpoint import KINDS, checkpoint_path, load_checkpoint
from app.denoising.devices import pick_device
from app.denoising.network import AutoEncoder4, apply_in_batches
from app.errors import FaceExplorerError
from app.model.morphable_model import CoefficientKind, MorphableModel

# The weights ship as package data of the top-level `checkpoints` package, so they are found the
# same way from a checkout and from a plain (non-editable) install run from any directory.
SHIPPED_CHECKPOINTS = Path(str(files("checkpoints")))


class Denoiser:
    """The shape and expression networks on one device, working in model units."""

    def __init__(self, nets: dict[str, AutoEncoder4], metadata: dict[str, dict[str, Any]], device: torch.device) -> None:
        self.device = device
        self.nets = {kind: net.to(device).eval() for kind, net in nets.items()}
        self.metadata = metadata

    @classmethod
    def from_folder(cls, model: MorphableModel, folder: str | Path = SHIPPED_CHECKPOINTS, device: str = "auto") -> Denoiser:
        """Load ``shape.pt`` and ``expression.pt`` from ``folder`` for this model's coefficient counts."""
        nets, metadata = {}, {}
        for kind in KINDS:
            nets[kind], metadata[kind] = load_checkpoint(checkpoint_path(folder, kind), kind, model.n_coefficients(kind))
        return cls(nets, metadata, pick_device(device))

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

    def trained_for(self) -> set[str]:
        """Model identities the checkpoints were trained on (to warn about a mismatch)."""
        return {str(meta.get("model_identity", "unknown")) for meta in self.metadata.values()}
