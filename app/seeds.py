"""The seeds every seeded command and file accepts: integers from 0 to 2^63 - 1.

Seeds are stored as signed 64-bit integers (dataset shards, the study database) and given to
numpy's and torch's generators, so that is the range all of them can hold; anything else is
one clear error instead of an OverflowError from deep inside a writer.
"""

from __future__ import annotations

import numbers

from app.errors import FaceExplorerError

MAX_SEED = 2**63 - 1


def check_seed(seed: object, name: str = "the seed") -> int:
    """``seed`` as an int, or a FaceExplorerError naming ``name`` and the valid range."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= int(seed) <= MAX_SEED:
        raise FaceExplorerError(f"{name} must be a non-negative integer below 2^63 (got {seed!r})")
    return int(seed)
