"""Writing images as PNG files that are verified on disk.

The pixels are encoded in memory (Pillow) and written by ``write_atomically``, which reports
every failure, a full disk included, and checks the size on disk. VTK's own PNG writer, used by
a plotter's ``screenshot(filename)``, reports neither, and cannot open non-UTF-8 file names.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from app.atomic_files import write_atomically


def write_png(path: str | Path, pixels: np.ndarray) -> Path:
    """Write an (H, W, 3) or (H, W, 4) uint8 image to ``path``."""
    encoded = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8)).save(encoded, format="PNG")
    return write_atomically(path, [encoded.getbuffer()])
