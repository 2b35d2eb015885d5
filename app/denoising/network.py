"""The paper's denoising autoencoder (``AutoEncoder4`` in the authors' code).

Four Conv1d(k=3, padding=1) layers with 8, 16, 32, 64 channels, each followed by a max-pool of width 2
that remembers which element of each pair won; the decoder mirrors it by putting each value back where
its maximum came from (zeros elsewhere, and a zero for the unpaired last element of an odd length), then
a ConvTranspose1d. There is deliberately no activation function: max-pooling is the only non-linearity,
as in the paper. Lengths: 199→99→49→24→12 (shape), 29→14→7→3→1 (expression).

The pooling is what ``MaxPool1d(2, return_indices=True)`` + ``MaxUnpool1d(2)`` compute (the first element
wins a tie, gradients go to the winner; tests/test_network.py compares them), written as an element-wise
comparison of the even and odd elements and a 0/1 mask: the indexed pair spends most of its time on indices.
"""

from __future__ import annotations

from itertools import pairwise

import torch
from torch import nn

from app.errors import FaceExplorerError

CHANNELS = (1, 8, 16, 32, 64)
MIN_INPUT_LENGTH = 16  # four halvings must leave at least one element
# Vectors per forward pass in ``apply_in_batches``. The activations of ~1,000 shape vectors
# (8 channels × 199 float32 values each, plus the masks) stay in the CPU's cache; much larger
# chunks do not and run slower per vector. A GPU is kept busy by far larger chunks.
CPU_CHUNK = 1024
GPU_CHUNK = 65536


def max_pool_pairs(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Max of each pair (x[2i], x[2i+1]) along the last axis, and 1.0 where the even one won, else 0.0."""
    even, odd = x[..., 0 : x.shape[-1] - 1 : 2], x[..., 1::2]
    # MaxPool1d keeps the first of equal values. A float mask, not a bool one: multiplying by it
    # is the cheapest way back on the CPU (cheaper than torch.where or masked_fill).
    return torch.maximum(even, odd), (even >= odd).to(x.dtype)


def unpool_pairs(x: torch.Tensor, even_won: torch.Tensor, length: int) -> torch.Tensor:
    """Each value back at the place ``max_pool_pairs`` took it from, zeros elsewhere; ``length`` as before pooling."""
    out = x.new_zeros((*x.shape[:-1], length))
    kept = x * even_won
    out[..., 0 : 2 * x.shape[-1] : 2] = kept
    out[..., 1 : 2 * x.shape[-1] : 2] = x - kept  # exactly x or exactly 0: the mask is 0.0 or 1.0
    return out


class AutoEncoder4(nn.Module):
    """Denoiser for coefficient vectors of shape (B, 1, L)."""

    def __init__(self, input_length: int) -> None:
        super().__init__()
        if input_length < MIN_INPUT_LENGTH:
            raise FaceExplorerError(
                f"a denoising network needs at least {MIN_INPUT_LENGTH} coefficients, since its four pooling "
                f"stages halve the length; this model has {input_length}"
            )
        self.input_length = input_length
        self.encoder = nn.ModuleList(
            nn.Conv1d(c_in, c_out, kernel_size=3, padding=1) for c_in, c_out in pairwise(CHANNELS)
        )
        self.decoder = nn.ModuleList(
            nn.ConvTranspose1d(c_in, c_out, kernel_size=3, padding=1) for c_in, c_out in pairwise(CHANNELS[::-1])
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, list[tuple[torch.Tensor, int]]]:
        """The (B, 64, L/16) code and, per stage, which element of each pair won and the pre-pool length."""
        skips = []
        for conv in self.encoder:
            x = conv(x)
            length = x.shape[-1]
            x, even_won = max_pool_pairs(x)
            skips.append((even_won, length))
        return x, skips

    def decode(self, x: torch.Tensor, skips: list[tuple[torch.Tensor, int]]) -> torch.Tensor:
        for deconv, (even_won, length) in zip(self.decoder, reversed(skips), strict=True):
            x = deconv(unpool_pairs(x, even_won, length))
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        code, skips = self.encode(x)
        return self.decode(code, skips)


def parameter_count(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


@torch.no_grad()
def apply_in_batches(net: nn.Module, vectors: torch.Tensor, batch_size: int | None = None) -> torch.Tensor:
    """Run the net over (M, L) vectors already normalised and on the net's device; returns (M, L).

    ``batch_size`` defaults to the chunk that suits the vectors' device (``CPU_CHUNK``, ``GPU_CHUNK``).
    """
    if batch_size is None:
        batch_size = GPU_CHUNK if vectors.device.type == "cuda" else CPU_CHUNK
    outputs = [net(chunk.unsqueeze(1)).squeeze(1) for chunk in vectors.split(batch_size)]
    return torch.cat(outputs) if outputs else vectors.clone()
