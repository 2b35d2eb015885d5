"""Captions drawn into the pictures the explorer exports: a line under each tile, title lines above.

The gallery PNG and the interpolation strip leave the explorer as bare pixels; without words in
them nobody can tell which seed or which t a face is. Pillow (which writes the PNGs and GIFs
already) draws the text in DejaVu Sans from matplotlib's own files, so no font ships with the
product and σ, dashes and ✓ in a label are drawn (Pillow's built-in font has no glyph for them).
Text wider than its band ends in "…".
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageFont

CAPTION_HEIGHT = 20  # pixels of one line of text and its margins
FONT_SIZE = 13
TEXT_COLOUR = (225, 226, 230)
ELLIPSIS = "…"


@lru_cache(maxsize=1)
def caption_font() -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf", FONT_SIZE)


def fitted_text(text: str, width: int) -> str:
    """``text``, or as much of it as fits ``width`` pixels followed by "…"."""
    font = caption_font()
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + ELLIPSIS) > width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS if text else ""


def caption_band(text: str, width: int, background: tuple[int, int, int]) -> np.ndarray:
    """A (CAPTION_HEIGHT, width, 3) band of ``background`` with ``text`` centred on it."""
    band = Image.new("RGB", (width, CAPTION_HEIGHT), background)
    centre = (width / 2, CAPTION_HEIGHT / 2)
    ImageDraw.Draw(band).text(centre, fitted_text(text, width - 4), fill=TEXT_COLOUR, font=caption_font(), anchor="mm")
    return np.asarray(band)


def with_caption(image: np.ndarray, text: str, background: tuple[int, int, int]) -> np.ndarray:
    """``image`` (H, W, 3) with a line of ``text`` under it."""
    return np.vstack([image, caption_band(text, image.shape[1], background)])


def with_title(picture: np.ndarray, lines: list[str], background: tuple[int, int, int]) -> np.ndarray:
    """``picture`` (H, W, 3) with ``lines`` of text above it, one band each."""
    return np.vstack([*(caption_band(line, picture.shape[1], background) for line in lines), picture])
