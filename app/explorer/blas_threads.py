"""Interactive numpy work on one BLAS thread.

numpy's OpenBLAS starts a pool of threads for a matrix product as small as one face's synthesis
(228 coefficients × 69k coordinates), and after each product those threads spin, waiting for
more work, for a good fraction of a second. In the explorer that spinning competes with the
software-GL rasteriser for the same cores and slows both many times over (README, Benchmarks).
A single thread does the product as fast and leaves the other cores to the renderer. Batch work
(generation, evaluation) keeps the pool, where it pays off.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from threadpoolctl import ThreadpoolController


@cache
def _controller() -> ThreadpoolController:
    # Finding the loaded BLAS libraries takes ~0.2 ms; a controller made once limits them in µs.
    return ThreadpoolController()


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block with numpy's BLAS limited to one thread, then restore the previous limits."""
    with _controller().limit(limits=1, user_api="blas"):
        yield
