"""The 68 landmarks drawn over dataset images, tiled into one contact sheet, to check labels by eye.

The points are drawn as the iBUG 68-point layout's contours (jaw, brows, nose, eyes, lips), so
a label that is shifted, mirrored or assigned to the wrong vertex is visible at a glance.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from app.dataset.format_300w_lp import read_300w_lp
from app.errors import FaceExplorerError
from app.png_files import read_rgb

# (first, last, closed) index ranges of the iBUG 68-point contours.
CONTOURS = (
    (0, 16, False),
    (17, 21, False),
    (22, 26, False),
    (27, 30, False),
    (31, 35, False),
    (36, 41, True),
    (42, 47, True),
    (48, 59, True),
    (60, 67, True),
)
LINE_COLOUR = (40, 230, 250)  # cyan, as the explorer's landmarks
POINT_COLOUR = (255, 60, 40)


def draw_landmarks(pixels: np.ndarray, points: np.ndarray, scale: int = 2) -> np.ndarray:
    """``pixels`` (H, W, 3) uint8 enlarged ``scale`` times with the 68 ``points`` (0-based pixels) drawn on it."""
    points = np.asarray(points, dtype=np.float64)
    if points.shape != (68, 2):
        raise FaceExplorerError(f"expected 68 landmarks as (68, 2) pixel coordinates, got shape {points.shape}")
    height, width = pixels.shape[:2]
    image = Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8)).resize(
        (width * scale, height * scale), Image.Resampling.NEAREST
    )
    canvas = ImageDraw.Draw(image)
    # A pixel's centre (c, r) lies at ((c + 0.5)·scale, (r + 0.5)·scale) in the enlarged picture.
    enlarged = (points + 0.5) * scale
    for first, last, closed in CONTOURS:
        line = [tuple(p) for p in enlarged[first : last + 1]]
        canvas.line(line + line[:1] if closed else line, fill=LINE_COLOUR, width=1)
    for x, y in enlarged:
        canvas.ellipse((x - 1.5, y - 1.5, x + 1.5, y + 1.5), fill=POINT_COLOUR)
    return np.asarray(image)


def contact_sheet(tiles: Sequence[np.ndarray], columns: int) -> np.ndarray:
    """Equal-sized (H, W, 3) tiles in rows of ``columns``; a short last row is padded with black."""
    if not tiles or columns < 1:
        raise FaceExplorerError("a contact sheet needs at least one image and one column")
    height, width = tiles[0].shape[:2]
    rows = -(-len(tiles) // columns)
    sheet = np.zeros((rows * height, columns * width, 3), dtype=np.uint8)
    for i, tile in enumerate(tiles):
        row, column = divmod(i, columns)
        sheet[row * height : (row + 1) * height, column * width : (column + 1) * width] = tile
    return sheet


def labelled_tile(mat_path: Path, scale: int = 2) -> np.ndarray:
    """The image beside a 300W-LP ``.mat`` (same name, ``.jpg``) with the .mat's ``pt2d`` drawn on it."""
    label = read_300w_lp(mat_path)
    image_path = mat_path.with_suffix(".jpg")
    pixels = read_rgb(image_path, f"the image of {mat_path.name},")
    return draw_landmarks(pixels, label.landmarks, scale)
