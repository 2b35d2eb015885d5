"""What the views of a dataset's images may vary and carry: image formats, per-pixel maps, backgrounds.

Kept apart from the renderer (no VTK here) so that settings can be checked, and file names
listed, without starting a GL context.
"""

from __future__ import annotations

import re
from pathlib import Path

from app.errors import FaceExplorerError

IMAGE_FORMATS = ("png", "300w-lp")
# No OpenGL implementation draws larger frames (most stop at 8,192 or 16,384; the renderer finds the actual limit).
MAX_IMAGE_SIZE = 16384
MAP_KINDS = ("mask", "depth", "normals")  # per-pixel ground truth, in this order
MAP_SUFFIXES = {"mask": ".mask.png", "depth": ".depth.npy", "normals": ".normals.png"}
PICTURE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


def map_kinds(maps: str) -> list[str]:
    """``"depth,mask"`` → ``["mask", "depth"]`` (the fixed order); an unknown kind is refused."""
    kinds = {kind.strip() for kind in maps.split(",") if kind.strip()}
    unknown = sorted(kinds - set(MAP_KINDS))
    if unknown:
        raise FaceExplorerError(f"unknown per-pixel output '{unknown[0]}' (use {', '.join(MAP_KINDS)})")
    return [kind for kind in MAP_KINDS if kind in kinds]


def background_colour(background: str) -> tuple[float, float, float] | None:
    """An ``#rrggbb`` background as RGB in [0, 1]; None when ``background`` is not a colour."""
    if not _COLOUR.fullmatch(background):
        return None
    return tuple(int(background[i : i + 2], 16) / 255.0 for i in (1, 3, 5))  # type: ignore[return-value]


def background_pictures(folder: str | Path) -> list[Path]:
    """The pictures of a background folder, sorted by name; a missing or picture-less folder is refused."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FaceExplorerError(f"background {folder}: neither a colour (#rrggbb) nor a folder of pictures")
    pictures = sorted(path for path in folder.iterdir() if path.suffix.lower() in PICTURE_SUFFIXES and path.is_file())
    if not pictures:
        raise FaceExplorerError(f"background folder {folder} holds no pictures ({', '.join(PICTURE_SUFFIXES)})")
    return pictures
