"""What the views of a dataset's images may vary and carry, and the check of those settings.

Kept apart from the renderer (no VTK here) so that settings can be checked, and file names
listed, without starting a GL context.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from app.errors import FaceExplorerError

if TYPE_CHECKING:
    from app.dataset.settings import GenerationSettings

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


def check_view_settings(settings: GenerationSettings) -> None:
    """Refuse view settings that make no sense, before anything is rendered or written."""
    if settings.image_format not in IMAGE_FORMATS:
        raise FaceExplorerError(f"unknown image format '{settings.image_format}' (use {' or '.join(IMAGE_FORMATS)})")
    map_kinds(settings.maps)
    if settings.images and settings.image_size > MAX_IMAGE_SIZE:
        raise FaceExplorerError(
            f"image size {settings.image_size:,} is beyond what OpenGL renders "
            f"(at most {MAX_IMAGE_SIZE:,} pixels, often less)"
        )
    asked = [
        name
        for name, given in (
            ("--max-roll", settings.max_roll != 0.0),
            ("--light-angle", settings.max_light_angle != 0.0),
            ("--light-intensity", (settings.min_light, settings.max_light) != (1.0, 1.0)),
            ("--background", bool(settings.background)),
            ("--maps", bool(settings.maps)),
            ("--format", settings.image_format != "png"),
            ("--focal-length", settings.focal_length != 0.0),
        )
        if given
    ]
    if asked and not settings.images:
        raise FaceExplorerError(f"{asked[0]} is about images: ask for images as well")
    for name, value, top in (
        ("yaw", settings.max_yaw, 180.0),
        ("pitch", settings.max_pitch, 90.0),
        ("roll", settings.max_roll, 180.0),
        ("light angle", settings.max_light_angle, 180.0),
    ):
        if not 0.0 <= value <= top:
            raise FaceExplorerError(f"the largest {name} must lie in 0..{top:g} degrees (got {value:g})")
    if not 0.0 <= settings.min_light <= settings.max_light or not settings.max_light < float("inf"):
        raise FaceExplorerError(
            f"the light intensity range {settings.min_light:g}..{settings.max_light:g} "
            "must be finite, not negative and in increasing order"
        )
    if settings.focal_length and not settings.image_size <= settings.focal_length < float("inf"):
        raise FaceExplorerError(
            f"a focal length of {settings.focal_length:g} pixels is too short for {settings.image_size}-pixel "
            "images: at least the image size (a view angle of at most 53°), or 0 for the weak perspective"
        )
    if settings.background and background_colour(settings.background) is None:
        background_pictures(settings.background)
