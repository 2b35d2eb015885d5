"""Inference on one torch thread.

Denoising one face is about 0.15 ms of network work. With torch's default intra-op pool (one
thread per core), every call waits for all pool threads to be scheduled, so when other processes
keep the cores busy a denoise, and a batch too, is many times slower than on a single thread
(README, Benchmarks). The explorer and dataset generation (whose shards spend little time in the
networks) therefore run them on one thread; training keeps the default, where the pool pays off.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run the block with a single intra-op torch thread, then restore the previous count."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
