"""One shard of a dataset: its faces drawn from (seed, shard) alone, its files, and reading it back.

Shard i draws its faces from ``np.random.default_rng([seed, i])`` and nothing else, so any
shard can be (re)made alone and gives byte-identical coefficient files for the same settings.
Per shard, in this order: optional meshes, optional images, then ``shard-XXXXX.npz`` with the
noisy and denoised coefficients and the provenance (seed, sampling settings, model name and
digest, checkpoint digests). Each file is written atomically and synced, and the .npz last, so
a shard is complete once its .npz exists with the digest the manifest records.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from app.atomic_files import create_folder, write_atomically
from app.dataset.batch_synthesis import Synthesis, batch_synthesis
from app.dataset.deterministic_npz import deterministic_npz
from app.dataset.layout import MANIFEST, face_files, shard_file
from app.dataset.manifest import Manifest, ShardRecord, file_digest
from app.dataset.mesh_files import MeshWriter
from app.dataset.settings import GenerationSettings, Provenance
from app.dataset.views import ShardViews
from app.denoising.denoiser import Denoiser
from app.errors import FaceExplorerError
from app.model.coefficient_scales import CoefficientScales
from app.model.morphable_model import MorphableModel
from app.model.sampling import sample_coefficients
from app.npz_files import read_npz
from app.prior.learned_prior import LearnedPrior, seeded_generator

if TYPE_CHECKING:
    from app.rendering.face_renderer import FaceRenderer

TABLES = ("face_index", "alpha_id_noisy", "alpha_exp_noisy", "alpha_id", "alpha_exp")
# Faces are synthesized this many at a time for meshes and images: a shard's vertices at once
# could be gigabytes.
FACE_BATCH = 64
# Two threads keep one mesh's fsync overlapping the next mesh's normals on a 2-core machine;
# more only queue on the same disk.
WRITING_THREADS = 2


@dataclass(frozen=True)
class WrittenShard:
    record: ShardRecord
    files: int
    bytes: int


def shard_rng(seed: int, shard: int) -> np.random.Generator:
    """The only randomness shard ``shard`` uses for its coefficients."""
    return np.random.default_rng([seed, shard])


class FaceFileWriters:
    """A process's mesh writer, off-screen renderer and file-writing threads, made on first use and then reused.

    The renderer is only made when images are wanted, so VTK's start-up is only paid then.
    Meshes are written by ``WRITING_THREADS`` threads while the caller synthesizes and renders
    the next faces: a mesh file is mostly normals (numpy), write and fsync, which release the
    GIL, so the disk's wait overlaps the CPU's work.
    """

    def __init__(self, model: MorphableModel | CoefficientScales) -> None:
        self.model = model
        self._mesh_writer: MeshWriter | None = None
        self._renderer: FaceRenderer | None = None
        self._renderer_size = 0
        self._threads: ThreadPoolExecutor | None = None
        self._synthesis: tuple[torch.device, Synthesis] | None = None

    def synthesis(self, device: torch.device) -> Synthesis:
        """Batch synthesis on the networks' device (``batch_synthesis``), made once per device."""
        if self._synthesis is None or self._synthesis[0] != device:
            self._synthesis = (device, batch_synthesis(self.geometry, device))
        return self._synthesis[1]

    @property
    def geometry(self) -> MorphableModel:
        """The whole model, for meshes and images; a process given only the scales has none."""
        if not isinstance(self.model, MorphableModel):
            raise FaceExplorerError("this process got the coefficient scales only; meshes and images need the model")
        return self.model

    def in_background(self, write: Callable[..., Path], *args: Any, **kwargs: Any) -> Future[Path]:
        """Run ``write(*args, **kwargs)`` on a writing thread; its future gives the path written."""
        if self._threads is None:
            self._threads = ThreadPoolExecutor(WRITING_THREADS, thread_name_prefix="dataset-writer")
        return self._threads.submit(write, *args, **kwargs)

    def mesh_writer(self) -> MeshWriter:
        if self._mesh_writer is None:
            model = self.geometry
            self._mesh_writer = MeshWriter(model.triangles, model.n_vertices, model.uv_layout)
        return self._mesh_writer

    def renderer(self, size: int) -> FaceRenderer:
        if self._renderer is None or self._renderer_size != size:
            from app.rendering.face_renderer import FaceRenderer  # VTK takes a second to start

            self.close()
            model = self.geometry
            self._renderer = FaceRenderer(model.mean.reshape(-1, 3), model.triangles, size, model.triangle_parts)
            self._renderer_size = size
        return self._renderer

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        if self._threads is not None:
            self._threads.shutdown()
            self._threads = None


def model_for_shards(model: MorphableModel, settings: GenerationSettings) -> MorphableModel | CoefficientScales:
    """What a process making shards needs of ``model``: all of it for meshes and images, else its scales."""
    return model if settings.needs_geometry else CoefficientScales.of(model)


def face_maker(
    settings: GenerationSettings, denoiser: Denoiser | None, prior: LearnedPrior | None
) -> Denoiser | LearnedPrior:
    """What makes the clean faces of ``settings.method``: the learned prior or the paper's networks.

    Refused with one line when the method's maker was not loaded.
    """
    if settings.method == "prior":
        if prior is None:
            raise FaceExplorerError("the prior method needs the learned prior (prior-shape.pt, prior-expression.pt)")
        return prior
    if denoiser is None:
        raise FaceExplorerError("the network method needs the paper's networks (shape.pt, expression.pt)")
    return denoiser


def write_shard(
    folder: Path,
    shard: int,
    settings: GenerationSettings,
    model: MorphableModel | CoefficientScales,
    denoiser: Denoiser | None,
    provenance: Provenance,
    writers: FaceFileWriters,
    prior: LearnedPrior | None = None,
) -> WrittenShard:
    """Make shard ``shard`` completely; its record carries the digest of the .npz it wrote.

    The clean faces are the networks' denoised noisy ones (which needs ``denoiser``), or with
    ``settings.method == "prior"`` (which needs ``prior`` and no ``denoiser``) their projection by
    the learned prior, drawn from stream 3 of the shard (streams 1 and 2 are its views' and colours').
    """
    rows = settings.shard_rows(shard)
    rng = shard_rng(settings.seed, shard)
    noisy_id = sample_coefficients(model, "shape", settings.distribution, len(rows), rng, settings.r_shape)
    noisy_exp = sample_coefficients(model, "expression", settings.distribution, len(rows), rng, settings.r_exp)
    maker = face_maker(settings, denoiser, prior)
    if isinstance(maker, LearnedPrior):
        generator = seeded_generator(settings.seed, shard, 3)
        alpha_id, alpha_exp = maker.project_face(noisy_id, noisy_exp, settings.strength, generator)
    else:
        alpha_id, alpha_exp = maker.denoise_face(noisy_id, noisy_exp)
    device = maker.device
    views = (
        ShardViews(settings, shard, writers.geometry, writers.renderer, writers.in_background)
        if settings.images or settings.albedo
        else None
    )
    written = _write_face_files(folder, shard, settings, device, alpha_id, alpha_exp, writers, views)
    arrays: dict[str, np.ndarray | np.generic] = {
        "face_index": np.asarray(rows, dtype=np.int64),
        "alpha_id_noisy": noisy_id,
        "alpha_exp_noisy": noisy_exp,
        "alpha_id": alpha_id,
        "alpha_exp": alpha_exp,
        "seed": np.int64(settings.seed),
        "shard": np.int64(shard),
        "sampling": np.array(json.dumps(settings.sampling(), sort_keys=True)),
        **{key: np.array(value) for key, value in provenance.model.to_record().items()},
        "checkpoints": np.array(json.dumps(provenance.checkpoints, sort_keys=True)),
    }
    if views is not None:
        arrays.update(views.tables())
    content = deterministic_npz(arrays)
    face_file_bytes = sum(path.stat().st_size for path in written)
    written.append(write_atomically(folder / shard_file(shard), [content]))
    record = ShardRecord(shard, len(rows), hashlib.sha256(content).hexdigest(), face_file_bytes)
    return WrittenShard(record, len(written), face_file_bytes + len(content))


def _write_face_files(
    folder: Path,
    shard: int,
    settings: GenerationSettings,
    device: torch.device,
    alpha_id: np.ndarray,
    alpha_exp: np.ndarray,
    writers: FaceFileWriters,
    views: ShardViews | None,
) -> list[Path]:
    rows = settings.shard_rows(shard)
    if not (settings.mesh_format or settings.images):
        return []
    synthesize = writers.synthesis(device)
    for sub in {path.parent for path in face_files(settings, shard, rows[0])}:
        create_folder(folder / sub)
    written: list[Path] = []
    pending: list[Future[Path]] = []  # meshes, images, maps and labels being written
    try:
        for start in range(0, len(rows), FACE_BATCH):
            # At most two batches of files in flight: synthesis must not run a shard ahead of the disk.
            written += [file.result() for file in pending[:-FACE_BATCH]]
            del pending[:-FACE_BATCH]
            vertices = synthesize(alpha_id[start : start + FACE_BATCH], alpha_exp[start : start + FACE_BATCH])
            for offset, face in enumerate(vertices):
                j = start + offset
                if settings.mesh_format:
                    colours = views.colours(j) if views else None
                    pending.append(
                        writers.in_background(
                            writers.mesh_writer().write,
                            folder / face_files(settings, shard, rows[j])[0],
                            face,
                            colours=colours,
                        )
                    )
                if views is not None and settings.images:
                    pending += views.write(folder, rows[j], j, face, alpha_id[j], alpha_exp[j])
    finally:
        wait(pending)  # nothing of this shard is still being written once it returns or fails
    return written + [file.result() for file in pending]


def load_dataset(folder: str | Path) -> dict[str, np.ndarray]:
    """All shards of a finished dataset concatenated (face_index, noisy and denoised coefficients).

    Every shard is checked against the digest the manifest records, so a damaged or replaced
    file is one error naming it, never numpy's or zipfile's.
    """
    folder = Path(folder)
    manifest = Manifest.read(folder / MANIFEST)
    missing = manifest.settings.shard_count - len(manifest.shards)
    if missing:
        raise FaceExplorerError(
            f"{folder}: the dataset is unfinished ({missing:,} of {manifest.settings.shard_count:,} "
            "shards missing); finish it with generate --resume"
        )
    tables: dict[str, list[np.ndarray]] = {key: [] for key in TABLES}
    for shard, record in sorted(manifest.shards.items()):
        path = folder / shard_file(shard)
        if file_digest(path) != record.sha256:
            raise FaceExplorerError(
                f"{path}: missing, damaged or changed since it was written (its sha256 is not the one "
                f"{MANIFEST} records); make it again with generate --resume"
            )
        content = read_npz(path)
        for key in TABLES:
            if key not in content or len(content[key]) != record.faces:
                raise FaceExplorerError(
                    f"{path}: not a shard of this dataset (no '{key}' table of {record.faces} rows)"
                )
            tables[key].append(content[key])
    return {key: np.concatenate(parts) for key, parts in tables.items()}
