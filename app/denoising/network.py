"""The paper's denoising autoencoder (``AutoEncoder4`` in the authors' code).

Four Conv1d(k=3, padding=1) layers with 8, 16, 32, 64 channels, each followed by MaxPool1d(2)
that keeps its indices; the decoder mirrors it with MaxUnpool1d (stored indices and pre-pool
length, so odd lengths come back exactly) and ConvTranspose1d. There is deliberately no
activation function: max-pooling is the only non-linearity, as in the paper.
Lengths: 199→99→49→24→12 (shape), 29→14→7→3→1 (expression).
"""

from __future__ import annotations

import torch
from torch import nn

CHANNELS = (1, 8, 16, 32, 64)
MIN_INPUT_LENGTH = 16  # four halvings must leave at least one element


class AutoEncoder4(nn.Module):
    """Denoiser for coefficient vectors of shape (B, 1, L)."""

    def __init__(self, input_length: int) -> None:
        super().__init__()
        if input_length < MIN_INPUT_LENGTH:
            raise ValueError(f"input length {input_length} is too short for four pooling stages (need ≥ 16)")
        self.input_length = input_length
        self.encoder = nn.ModuleList(
            nn.Conv1d(c_in, c_out, kernel_size=3, padding=1) for c_in, c_out in zip(CHANNELS, CHANNELS[1:])
        )
        self.decoder = nn.ModuleList(
            nn.ConvTranspose1d(c_in, c_out, kernel_size=3, padding=1)
            for c_in, c_out in zip(CHANNELS[::-1], CHANNELS[-2::-1])
        )
        self.pool = nn.MaxPool1d(2, return_indices=True)
        self.unpool = nn.MaxUnpool1d(2)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Size]]]:
        """The (B, 64, L/16) code and, per stage, the pooling indices and pre-pool size."""
        skips = []
        for conv in self.encoder:
            x = conv(x)
            size = x.shape
            x, indices = self.pool(x)
            skips.append((indices, size))
        return x, skips

    def decode(self, x: torch.Tensor, skips: list[tuple[torch.Tensor, torch.Size]]) -> torch.Tensor:
        for deconv, (indices, size) in zip(self.decoder, reversed(skips)):
            x = self.unpool(x, indices, output_size=size)
            x = deconv(x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        code, skips = self.encode(x)
        return self.decode(code, skips)


def parameter_count(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


@torch.no_grad()
def apply_in_batches(net: nn.Module, vectors: torch.Tensor, batch_size: int = 8192) -> torch.Tensor:
    """Run the net over (M, L) vectors already normalised and on the net's device; returns (M, L).

    Chunks bound the activations and int64 pooling indices (≈ 100 MB per 8,192 shape vectors)
    while staying large enough to keep the device busy.
    """
    outputs = [net(chunk.unsqueeze(1)).squeeze(1) for chunk in vectors.split(batch_size)]
    return torch.cat(outputs) if outputs else vectors.clone()
