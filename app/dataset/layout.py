"""Where each file of a dataset lives, so the plan alone says which files are the dataset's own::

    manifest.json
    shard-00000.npz
    meshes/shard-00000/face-00000000.ply
    images/shard-00000/face-00000000-front.png, face-00000000-view1.png, …
        (--format 300w-lp: face-00000000-front.jpg + face-00000000-front.mat, …;
         --maps: face-00000000-front.mask.png, .depth.npy, .normals.png beside each image)

``--overwrite`` deletes exactly the files the previous plan names (and the temporary files an
interrupted write of one of them left), never anything else a user keeps in the folder.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from app.dataset.settings import GenerationSettings
from app.dataset.view_options import MAP_SUFFIXES, map_kinds

MANIFEST = "manifest.json"
FACE_FOLDERS = ("meshes", "images")

_SHARD_FOLDER = re.compile(r"shard-\d{5,}")
# atomic_output's temporary name for one of our files: ".NAME.XXXXXXXX.part.SUFFIX".
_OWN_TEMPORARY = re.compile(
    r"\.(manifest|shard-\d{5,}|face-\d{8,}(-front|-view\d+)?(\.mask|\.depth|\.normals)?)\.[a-z0-9_]{8}\.part\.(json|npz|ply|obj|png|jpg|mat|npy)"
)


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
        files += [path for view in range(1 + settings.random_views) for path in view_files(settings, shard, face, view)]
    return files


def view_files(settings: GenerationSettings, shard: int, face: int, view: int) -> list[Path]:
    """One view's image (``.png``, or ``.jpg`` + ``.mat`` for 300W-LP) and its per-pixel maps, in that order."""
    stem = f"face-{face:08d}-{'front' if view == 0 else f'view{view}'}"
    suffixes = [".jpg", ".mat"] if settings.image_format == "300w-lp" else [".png"]
    suffixes += [MAP_SUFFIXES[kind] for kind in map_kinds(settings.maps)]
    return [Path("images", shard_name(shard), stem + suffix) for suffix in suffixes]


def shard_files(settings: GenerationSettings, shard: int) -> list[Path]:
    """Everything shard ``shard`` writes: its faces' files, then its .npz (written last)."""
    return [path for face in settings.shard_rows(shard) for path in face_files(settings, shard, face)] + [
        Path(shard_file(shard))
    ]


def own_files(settings: GenerationSettings) -> Iterator[Path]:
    """Every file the shards of a dataset with these settings write (the manifest aside), relative to its folder."""
    for shard in range(settings.shard_count):
        yield from shard_files(settings, shard)


def shard_folders(folder: Path) -> list[Path]:
    """The per-shard folders under meshes/ and images/ that exist."""
    return [
        sub
        for kind in FACE_FOLDERS
        if (folder / kind).is_dir()
        for sub in (folder / kind).iterdir()
        if _SHARD_FOLDER.fullmatch(sub.name) and sub.is_dir()
    ]


def own_temporary_files(folder: Path) -> Iterator[Path]:
    """Temporary files an interrupted write of one of the dataset's files left behind."""
    for place in (folder, *shard_folders(folder)):
        yield from (path for path in place.iterdir() if _OWN_TEMPORARY.fullmatch(path.name) and path.is_file())
