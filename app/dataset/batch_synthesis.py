"""Synthesizing a dataset's faces in batches where the networks run: numpy on the CPU, torch on a GPU.

On the CPU, ``MorphableModel.synthesize`` (one float32 GEMM through numpy's BLAS) is already
at the GEMM's speed. On a GPU the same GEMM is one ``torch.addmm`` with the basis kept on the
device, and only the vertices come back; a batch of 64 embedded faces is 18 MB to copy.
GPU and CPU float32 GEMMs round differently, so meshes made on a GPU match CPU-made ones to
float32 precision, not bit for bit; the manifest records the device.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from app.model.morphable_model import MorphableModel

Synthesis = Callable[[np.ndarray, np.ndarray], np.ndarray]


class TorchSynthesis:
    """Faces (B, N, 3) float32 from coefficient rows, computed by torch on ``device``."""

    def __init__(self, model: MorphableModel, device: torch.device) -> None:
        self.n_vertices = model.n_vertices
        self.device = device
        self.basis = torch.from_numpy(np.vstack([model.basis_id, model.basis_exp])).to(device)
        self.mean = torch.from_numpy(model.mean).to(device)

    @torch.no_grad()
    def __call__(self, alpha_id: np.ndarray, alpha_exp: np.ndarray) -> np.ndarray:
        alpha = torch.from_numpy(np.hstack([alpha_id, alpha_exp]).astype(np.float32)).to(self.device)
        flat = torch.addmm(self.mean, alpha, self.basis)
        return flat.cpu().numpy().reshape(len(alpha), self.n_vertices, 3)


def batch_synthesis(model: MorphableModel, device: torch.device) -> Synthesis:
    """How a dataset synthesizes its faces when its networks run on ``device``."""
    if device.type == "cuda":
        return TorchSynthesis(model, device)
    return model.synthesize
