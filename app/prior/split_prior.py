"""The prior over all whitened coordinates: the diffusion network's density of the leading ones, and
the rest's Gaussian given them (``conditional_rest``); with no rest, the network's alone.

The projection noises the whole face to strength t with one seeded generator (the leading
coordinates' noise first), brings the leading coordinates back with the network's reverse process
and then the rest with the Gaussian's probability-flow map given them. The log-likelihood is the
sum of the two log-densities, both at the network's resolution.
"""

from __future__ import annotations

import torch

from app.prior import diffusion
from app.prior.checkpoint import PriorNetworks
from app.prior.likelihood import RESOLUTION, log_likelihood


def project(
    networks: PriorNetworks, whitened: torch.Tensor, strength: float, generator: torch.Generator
) -> torch.Tensor:
    """SDEdit on (B, L) whitened faces at ``strength`` (see ``diffusion.project``), in float64."""
    leading = networks.leading
    head = diffusion.project(networks.diffusion, whitened[:, :leading], strength, generator).double()
    if networks.rest is None:
        return head
    alpha, s = diffusion.signal_and_noise(strength)
    noise = torch.randn((len(whitened), networks.dimension - leading), generator=generator, dtype=torch.float32)
    noised = alpha * whitened[:, leading:].double() + s * noise.to(whitened.device, torch.float64)
    return torch.cat([head, networks.rest.bring_back(head, noised, alpha, s)], dim=1)


def prior_log_likelihood(
    networks: PriorNetworks, whitened: torch.Tensor, steps: int, resolution: float = RESOLUTION
) -> torch.Tensor:
    """log p(face) in nats per face (B,), float64, for (B, L) whitened faces."""
    leading = networks.leading
    total = log_likelihood(networks.diffusion, whitened[:, :leading], resolution, steps)
    if networks.rest is None:
        return total
    return total + networks.rest.log_density(whitened[:, :leading], whitened[:, leading:], resolution)
