"""Where each file of a dataset lives, so the plan alone says which files are the dataset's own.

::

    manifest.json
    shard-00000.npz
    meshes/shard-00000/face-00000000.ply
    images/shard-00000/face-00000000-front.png, face-00000000-view1.png, …

``--overwrite`` deletes exactly the files the previous plan names (and the temporary files an
interrupted write of one of them left), never anything else a user keeps in the folder.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from app.dataset.settings import GenerationSettings

MANIFEST = "manifest.json"
FACE_FOLDERS = ("meshes", "images")

_SHARD_FOLDER = re.compile(r"shard-\d{5,}")
# atomic_output's temporary name for one of our files: ".NAME.XXXXXXXX.part.SUFFIX".
_OWN_TEMPORARY = re.compile(r"\.(manifest|shard-\d{5,}|face-\d{8,}(-front|-view\d+)?)\.[a-z0-9_]{8}\.part\.(json|npz|ply|obj|png)")


def shard_name(shard: int) -> str:
    return f"shard-{shard:05d}"


def shard_file(shard: int) -> str:
    return f"{shard_name(shard)}.npz"


def face_files(settings: GenerationSettings, shard: int, face: int) -> list[Path]:
    """The mesh and images of face ``face`` (a global index) of ``shard``, relative to the dataset folder."""
    name = f"face-{face:08d}"
    files = []
    if settings.mesh_format:
        files.append(Path("meshes", shard_name(shard), f"{name}.{settings.mesh_format}"))
    if settings.images:
        files += [Path("images", shard_name(shard), f"{name}-{'front' if view == 0 else f'view{view}'}.png")
                  for view in range(1 + settings.random_views)]
    return files


def shard_files(settings: GenerationSettings, shard: int) -> list[Path]:
    """Everything shard ``shard`` writes: its faces' files, then its .npz (written last)."""
    return [path for face in settings.shard_rows(shard) for path in face_files(settings, shard, face)] + [Path(shard_file(shard))]


def own_files(settings: GenerationSettings) -> Iterator[Path]:
    """Every file the shards of a dataset with these settings write (the manifest aside), relative to its folder."""
    for shard in range(settings.shard_count):
        yield from shard_files(settings, shard)


def shard_folders(folder: Path) -> list[Path]:
    """The per-shard folders under meshes/ and images/ that exist."""
    return [sub for kind in FACE_FOLDERS if (folder / kind).is_dir()
            for sub in (folder / kind).iterdir() if _SHARD_FOLDER.fullmatch(sub.name) and sub.is_dir()]


def own_temporary_files(folder: Path) -> Iterator[Path]:
    """Temporary files an interrupted write of one of the dataset's files left behind."""
    for place in (folder, *shard_folders(folder)):
        yield from (path for path in place.iterdir() if _OWN_TEMPORARY.fullmatch(path.name) and path.is_file())
