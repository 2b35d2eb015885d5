"""The prior's network: a residual MLP over a whitened vector, conditioned on the noise level.

Coefficient vectors have no spatial order for convolutions to exploit (a PCA mode's neighbour is
an unrelated mode), so the network is a stack of pre-norm residual MLP blocks, as DPoser uses for
FLAME parameters. The noise level enters every block as a scale and a shift of its normalised
input (FiLM), from sine/cosine features of log σ. Each block's last layer and the output layer
start at zero, so a new network is the identity on its residual path and learns from there.
"""

from __future__ import annotations

import math

import torch
from torch import nn

FREQUENCIES = 16  # sine/cosine pairs of the noise-level features
LOG_SIGMA_RANGE = (math.log(1e-4), math.log(1e4))  # beyond: indistinguishable from clean / from noise


class ResidualBlock(nn.Module):
    """h + W₂ SiLU(W₁ (LN(h)·(1 + scale) + shift)), scale and shift from the noise embedding."""

    def __init__(self, width: int, embedding: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width, elementwise_affine=False)
        self.modulation = nn.Linear(embedding, 2 * width)
        self.inner = nn.Linear(width, width)
        self.outer = nn.Linear(width, width)
        nn.init.zeros_(self.outer.weight)
        nn.init.zeros_(self.outer.bias)

    def forward(self, h: torch.Tensor, embedded: torch.Tensor) -> torch.Tensor:
        scale, shift = self.modulation(embedded).chunk(2, dim=-1)
        return h + self.outer(nn.functional.silu(self.inner(self.norm(h) * (1 + scale) + shift)))


class ScoreNetwork(nn.Module):
    """F(z_t, σ) for (B, L) inputs and (B,) noise levels: the raw output the preconditioning scales."""

    frequencies: torch.Tensor

    def __init__(self, dimension: int, width: int = 256, depth: int = 3, embedding: int = 64) -> None:
        super().__init__()
        self.dimension, self.width, self.depth = dimension, width, depth
        self.register_buffer("frequencies", torch.pi * 2.0 ** torch.linspace(-2, 5, FREQUENCIES), persistent=False)
        self.embed = nn.Sequential(
            nn.Linear(2 * FREQUENCIES, embedding), nn.SiLU(), nn.Linear(embedding, embedding), nn.SiLU()
        )
        self.input = nn.Linear(dimension, width)
        self.blocks = nn.ModuleList(ResidualBlock(width, embedding) for _ in range(depth))
        self.output_norm = nn.LayerNorm(width)
        self.output = nn.Linear(width, dimension)
        nn.init.zeros_(self.output.weight)
        nn.init.zeros_(self.output.bias)

    def forward(self, z: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        # log σ mapped to [-1, 1]: t = 1 (σ = ∞) and anything past 1e4 look alike, and so do σ ≤ 1e-4
        low, high = LOG_SIGMA_RANGE
        level = (2 * (torch.log(sigma).clamp(low, high) - low) / (high - low) - 1).to(z.dtype)
        angles = level[:, None] * self.frequencies
        embedded = self.embed(torch.cat([angles.sin(), angles.cos()], dim=-1))
        h = self.input(z)
        for block in self.blocks:
            h = block(h, embedded)
        return self.output(nn.functional.silu(self.output_norm(h)))
