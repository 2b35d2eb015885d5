"""What a generation request needs in memory and on disk, estimated before anything is written.

A request that cannot fit (``generate --count 1000000000000``) is refused before the folder is
prepared, with one line saying how much it needs and how much there is, instead of a MemoryError
halfway. The estimates err on the large side: PNG sizes are about twice what faces compress
to, OBJ lines are counted at their longest, and every file is rounded up to whole 4 KiB blocks.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from app.dataset.settings import GenerationSettings
from app.dataset.shards import FACE_BATCH
from app.dataset.view_options import map_kinds
from app.errors import FaceExplorerError
from app.model.morphable_model import MorphableModel

BLOCK = 4096
PLY_HEADER = 320
OBJ_VERTEX_LINES = 60  # "v x y z" and "vn x y z" at 9 and 6 significant digits
OBJ_TRIANGLE_LINE = 45
PNG_BYTES_PER_PIXEL = 0.5
DEPTH_BYTES_PER_PIXEL = 4  # float32 .npy
LABEL_FILE_BYTES = 4096  # a 300W-LP .mat: the coefficients, Pose_Para and pt2d in doubles
VIEW_TABLE_BYTES = 1300  # the shard's record of a view: Pose_Para, 68 landmarks, light, background name
NPZ_OVERHEAD = 8192  # zip and .npy headers, the provenance strings
MANIFEST_BYTES_PER_SHARD = 160
TRACKING_BYTES_PER_SHARD = 400  # the manifest in memory: a record, its dict entry, its JSON
PROCESS_BASELINE = 400 * 2**20  # interpreter, numpy, torch and the networks
PEAK_COPIES_OF_A_SHARD = 10  # noisy + denoised, the network's float32 copies, the .npz being built


@dataclass(frozen=True)
class Needs:
    disk: int  # bytes the shards still to make will take on disk
    memory: int  # peak bytes of all processes together


def estimate_needs(
    settings: GenerationSettings, model: MorphableModel, workers: int, faces_to_make: int, shards_to_make: int
) -> Needs:
    """Needs of making ``faces_to_make`` faces in ``shards_to_make`` shards with ``workers`` processes."""
    coefficients = (model.n_id + model.n_exp) * 8
    views = 1 + settings.random_views if settings.images else 0
    per_face = 2 * coefficients + 8 + VIEW_TABLE_BYTES * views + _blocks(_mesh_bytes(settings, model))
    per_face += views * _view_bytes(settings)
    disk = (
        faces_to_make * per_face
        + shards_to_make * (NPZ_OVERHEAD + BLOCK)
        + _blocks(settings.shard_count * MANIFEST_BYTES_PER_SHARD)
    )

    shard_faces = min(settings.shard_size, settings.count)
    model_arrays = model.mean.nbytes + model.basis_id.nbytes + model.basis_exp.nbytes
    per_process = PROCESS_BASELINE + model_arrays + PEAK_COPIES_OF_A_SHARD * shard_faces * coefficients
    if settings.mesh_format or settings.images:
        per_process += 4 * FACE_BATCH * model.n_vertices * 3 * 8  # a batch of synthesized faces and its temporaries
    processes = workers + (workers > 1)  # parallel workers report to the main process
    memory = processes * per_process + settings.shard_count * TRACKING_BYTES_PER_SHARD
    return Needs(disk, memory)


def _view_bytes(settings: GenerationSettings) -> int:
    """Disk taken by one view's files: its image (or 300W-LP's .jpg + .mat) and its per-pixel maps."""
    pixels = settings.image_size**2
    files = [int(PNG_BYTES_PER_PIXEL * pixels) + 1024]  # a JPEG is smaller than this PNG estimate
    if settings.image_format == "300w-lp":
        files.append(LABEL_FILE_BYTES)
    sizes = {
        "mask": int(PNG_BYTES_PER_PIXEL * pixels / 3),
        "depth": DEPTH_BYTES_PER_PIXEL * pixels + 128,
        "normals": int(PNG_BYTES_PER_PIXEL * pixels),
    }
    files += [sizes[kind] + 1024 for kind in map_kinds(settings.maps)]
    return sum(_blocks(size) for size in files)


def refuse_unaffordable(folder: Path, settings: GenerationSettings, needs: Needs, workers: int, freed: int = 0) -> None:
    """Refuse a request whose estimate exceeds the memory or the free disk (plus ``freed``, the bytes an overwrite
    deletes)."""
    free = shutil.disk_usage(_existing_ancestor(folder)).free + freed
    if needs.disk > free:
        raise FaceExplorerError(
            f"{folder}: this dataset needs about {describe_bytes(needs.disk)} on disk, "
            f"but only {describe_bytes(free)} are free there"
        )
    memory = physical_memory()
    if memory is not None and needs.memory > memory:
        raise FaceExplorerError(
            f"this request needs about {describe_bytes(needs.memory)} of memory ({workers} worker(s), shards of "
            f"{min(settings.shard_size, settings.count):,} faces, {settings.shard_count:,} shards to track), but this "
            f"machine has {describe_bytes(memory)}: use a smaller --shard-size or --count, or fewer --workers"
        )


def physical_memory() -> int | None:
    """The machine's memory in bytes, where the platform says (POSIX systems)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def describe_bytes(count: float) -> str:
    units = ("B", "kB", "MB", "GB", "TB", "PB")
    power = 0
    while count >= 1000 and power < len(units) - 1:
        count /= 1000
        power += 1
    return f"{count:,.0f} B" if power == 0 else f"{count:,.1f} {units[power]}"


def _mesh_bytes(settings: GenerationSettings, model: MorphableModel) -> int:
    if settings.mesh_format == "ply":  # binary: x y z nx ny nz as float32, then (count, a, b, c) per triangle
        return PLY_HEADER + 24 * model.n_vertices + 13 * len(model.triangles)
    if settings.mesh_format == "obj":
        return OBJ_VERTEX_LINES * model.n_vertices + OBJ_TRIANGLE_LINE * len(model.triangles)
    return 0


def _blocks(size: int) -> int:
    return -(-size // BLOCK) * BLOCK if size else 0


def _existing_ancestor(folder: Path) -> Path:
    folder = folder.absolute()
    while not folder.exists():
        folder = folder.parent
    return folder
