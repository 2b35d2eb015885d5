"""The diffusion formulation: noise schedule, training loss, sampler, projection, Tweedie denoising.

Whitened vectors z are noised as z_t = α(t)·z + s(t)·ε, α = cos(πt/2), s = sin(πt/2), t ∈ [0, 1]
(variance-preserving, cosine schedule); t is the projection's strength: 0 is the face itself, ½
adds noise as strong as real faces vary (EDM's σ = s/α = 1), 1 keeps nothing of it. The network
predicts x₀ = α·z_t + s·F(z_t, σ) (EDM's preconditioning, σ_data = 1); F's target is the "v"
s·z − α·ε, so every level weighs alike, and F = 0 is the Gaussian prior. Sampling and projection
run the probability-flow ODE from t down to σ = 0.002 with Heun's method on EDM's grid (ρ = 7),
deterministic but for the seeded starting noise, ending with Tweedie's posterior mean E[z | z + σε].
"""

from __future__ import annotations

import itertools
import math

import torch

from app.errors import FaceExplorerError
from app.prior.network import ScoreNetwork

SIGMA_MIN, SIGMA_MAX, RHO = 0.002, 80.0, 7.0  # the sampler's grid (EDM's)
FULL_STRENGTH_STEPS = (
    18  # noise levels of a sample from pure noise (2·18 − 1 evaluations); weaker projections take fewer
)
# Training noise levels: half from EDM's log-normal (moved to σ_data = 1), which matters most for
# samples, half log-uniform over [1e-3, 1e3], so the small levels that the likelihood integrates
# over and the pure noise that a fresh sample starts from are learned too.
LOG_NORMAL = (-1.2 + math.log(2.0), 1.2)
LOG_UNIFORM = (math.log(1e-3), math.log(1e3))


def signal_and_noise(t: float) -> tuple[float, float]:
    """(α, s) at time t, exact at both ends (α(1) = 0, s(0) = 0)."""
    if t >= 1.0:
        return 0.0, 1.0
    if t <= 0.0:
        return 1.0, 0.0
    return math.cos(math.pi * t / 2), math.sin(math.pi * t / 2)


def time_of_sigma(sigma: float) -> float:
    """The time whose noise level s/α is ``sigma`` (EDM's σ)."""
    return 2.0 / math.pi * math.atan(sigma)


def predict_clean(net: ScoreNetwork, z_t: torch.Tensor, t: float) -> torch.Tensor:
    """The network's estimate of the clean z from z_t at time t (its posterior mean)."""
    alpha, s = signal_and_noise(t)
    sigma = torch.full((len(z_t),), s / alpha if alpha > 0 else math.inf, dtype=z_t.dtype, device=z_t.device)
    return alpha * z_t + s * net(z_t, sigma)


def tweedie_denoise(net: ScoreNetwork, noisy: torch.Tensor, sigma: float) -> torch.Tensor:
    """E[z | z + σ·ε = noisy] for whitened vectors with Gaussian noise of known σ (Tweedie's formula)."""
    if not (math.isfinite(sigma) and sigma >= 0):
        raise FaceExplorerError(f"the noise level must be a finite number ≥ 0 (got {sigma})")
    if sigma == 0:
        return noisy.clone()
    t = time_of_sigma(sigma)
    return predict_clean(net, noisy * signal_and_noise(t)[0], t)


def training_loss(net: ScoreNetwork, clean: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """The denoising score-matching loss for a (B, L) batch of whitened vectors."""
    count = len(clean)
    normal = torch.randn(count, generator=generator) * LOG_NORMAL[1] + LOG_NORMAL[0]
    low, high = LOG_UNIFORM
    uniform = low + (high - low) * torch.rand(count, generator=generator)
    log_sigma = torch.where(torch.rand(count, generator=generator) < 0.5, normal, uniform).to(clean.device)
    noise = torch.randn(clean.shape, generator=generator).to(clean.device, clean.dtype)
    sigma = log_sigma.exp().to(clean.dtype)
    alpha, s = (1 / torch.sqrt(1 + sigma**2))[:, None], (sigma / torch.sqrt(1 + sigma**2))[:, None]
    z_t = alpha * clean + s * noise
    return torch.mean((net(z_t, sigma) - (s * clean - alpha * noise)) ** 2)


def sigma_grid(start: float, steps: int = FULL_STRENGTH_STEPS) -> list[float]:
    """Noise levels from ``start`` (capped at SIGMA_MAX) down to SIGMA_MIN: the full grid's levels below ``start``."""
    ramp = [
        (SIGMA_MAX ** (1 / RHO) + i / (steps - 1) * (SIGMA_MIN ** (1 / RHO) - SIGMA_MAX ** (1 / RHO))) ** RHO
        for i in range(steps)
    ]
    top = min(start, SIGMA_MAX)
    return [top, *(sigma for sigma in ramp if sigma < top)] if top > SIGMA_MIN else [top]


def ode_slope(net: ScoreNetwork, z: torch.Tensor, sigma: float) -> torch.Tensor:
    """dz/d(log σ) of the probability-flow ODE in the variance-preserving variable z = α·(x + σ·ε).

    It is −α·s·F: zero for a Gaussian prior (F = 0), whose z stays put, so the solver only has to
    follow what the network adds to the Gaussian.
    """
    levels = torch.full((len(z),), sigma, dtype=z.dtype, device=z.device)
    return -(sigma / (1 + sigma**2)) * net(z, levels)


@torch.no_grad()
def solve(net: ScoreNetwork, z: torch.Tensor, sigmas: list[float]) -> torch.Tensor:
    """Run the ODE from z at ``sigmas[0]`` down through ``sigmas`` (Heun's method in log σ), then denoise.

    The last step is Tweedie's posterior mean at the lowest level, as in EDM's sampler.
    """
    for sigma, sigma_next in itertools.pairwise(sigmas):
        step = math.log(sigma_next) - math.log(sigma)
        slope = ode_slope(net, z, sigma)
        guess = z + step * slope
        z = z + step / 2 * (slope + ode_slope(net, guess, sigma_next))
    return predict_clean(net, z, time_of_sigma(sigmas[-1]))


def project(
    net: ScoreNetwork, z: torch.Tensor, strength: float, generator: torch.Generator, steps: int = FULL_STRENGTH_STEPS
) -> torch.Tensor:
    """SDEdit: noise whitened ``z`` (B, L) to time ``strength`` with seeded noise, then solve back to 0."""
    check_strength(strength)
    if strength == 0:
        return z.clone()
    alpha, s = signal_and_noise(strength)
    noise = torch.randn(z.shape, generator=generator, dtype=torch.float32).to(z.device, z.dtype)
    # Above SIGMA_MAX (t > 0.992) the network sees the noisy face as at SIGMA_MAX: α < 0.0125 there.
    return solve(net, alpha * z + s * noise, sigma_grid(s / alpha if alpha > 0 else math.inf, steps))


def sample(
    net: ScoreNetwork, count: int, generator: torch.Generator, device: torch.device, steps: int = FULL_STRENGTH_STEPS
) -> torch.Tensor:
    """``count`` fresh whitened vectors from the prior."""
    noise = torch.randn((count, net.dimension), generator=generator, dtype=torch.float32).to(device)
    return solve(net, noise, sigma_grid(math.inf, steps))


def check_strength(strength: float) -> None:
    if not (isinstance(strength, (int, float)) and 0.0 <= strength <= 1.0):
        raise FaceExplorerError(f"the prior's strength must be a number in [0, 1] (got {strength!r})")
