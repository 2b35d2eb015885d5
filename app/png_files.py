"""Writing images as PNG files that are verified on disk, and reading any picture safely.

The pixels are encoded in memory (Pillow) and written by ``write_atomically``, which reports
every failure, a full disk included, and checks the size on disk. VTK's own PNG writer, used by
a plotter's ``screenshot(filename)``, reports neither, and cannot open non-UTF-8 file names.
``read_rgb`` refuses a decompression bomb (a small file declaring gigapixels) before decoding it.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from app.atomic_files import write_atomically
from app.errors import FaceExplorerError


def write_png(path: str | Path, pixels: np.ndarray, compress_level: int = 6) -> Path:
    """Write an (H, W), (H, W, 3) or (H, W, 4) uint8 image to ``path``.

    ``compress_level`` is zlib's (0-9, Pillow's default 6); dataset images use 3, which encodes a
    256-pixel face in about a third of the time for files about 10 % larger.
    """
    encoded = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8)).save(
        encoded, format="PNG", compress_level=compress_level
    )
    return write_atomically(path, [encoded.getbuffer()])


def read_rgb(path: str | Path, what: str = "picture") -> np.ndarray:
    """The picture at ``path`` as (H, W, 3) uint8; anything unreadable is one error naming ``what`` and the file.

    More pixels than Pillow's decompression-bomb limit (89 million) is refused from the header, undecoded.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as picture:
                return np.asarray(picture.convert("RGB"))
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise FaceExplorerError(
            f"{what} {path}: more pixels than a picture here may have (at most {Image.MAX_IMAGE_PIXELS:,})"
        ) from None
    except (OSError, ValueError, SyntaxError, EOFError) as failure:  # Pillow's ways of saying "damaged"
        raise FaceExplorerError(f"{what} {path}: cannot read it ({failure})") from None
