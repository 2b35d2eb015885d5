"""Stand-ins for a generate run's networks that kill the worker process using them, as the OOM killer would.

Workers import this module when they unpickle their job (the fork server has the tests folder on
its path), so the kill happens inside the worker, at a moment the test chooses by construction.
"""

from __future__ import annotations

import signal
from typing import Any

import numpy as np

from app.errors import FaceExplorerError


class DenoiserKilledAtWorkerStart:
    """Works in the parent; a worker process dies while it unpickles its job, before any shard."""

    def __init__(self, denoiser: Any) -> None:
        self.denoiser = denoiser
        self.device = denoiser.device

    def denoise_face(self, alpha_id: np.ndarray, alpha_exp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.denoiser.denoise_face(alpha_id, alpha_exp)

    def __reduce__(self) -> tuple[Any, ...]:
        return signal.raise_signal, (signal.SIGKILL,)


class DenoiserKilledOnItsSecondShard:
    """The worker process that denoises a second shard with it is killed mid-shard."""

    def __init__(self, denoiser: Any) -> None:
        self.denoiser = denoiser
        self.device = denoiser.device
        self.shards = 0

    def denoise_face(self, alpha_id: np.ndarray, alpha_exp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.shards += 1
        if self.shards == 2:
            signal.raise_signal(signal.SIGKILL)
        return self.denoiser.denoise_face(alpha_id, alpha_exp)


class DenoiserFailingOnItsSecondShard(DenoiserKilledOnItsSecondShard):
    """The second shard a worker denoises with it fails with an error of the product's own."""

    def denoise_face(self, alpha_id: np.ndarray, alpha_exp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.shards += 1
        if self.shards == 2:
            raise FaceExplorerError("the networks refused this shard")
        return self.denoiser.denoise_face(alpha_id, alpha_exp)
