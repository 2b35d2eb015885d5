"""Synthetic face datasets: make the shards of a plan, in one process or several, safely.

Before anything is written, the folder is inspected and the request is costed: a folder that
holds another plan or someone else's files is refused (unless told what to do), ``--resume``
keeps only the shards that verify against the manifest's digests, ``--overwrite`` deletes
exactly the previous dataset's own files, and a request whose memory or disk needs exceed what
the machine has is refused. While shards are made, the manifest records each finished one (at
most once a second, and when the run ends or fails), so an interruption costs at most the
shards of its last second.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.atomic_files import write_error
from app.dataset.layout import FACE_FOLDERS, MANIFEST, own_files, own_temporary_files, shard_folders
from app.dataset.manifest import Manifest
from app.dataset.requirements import estimate_needs, refuse_unaffordable
from app.dataset.settings import GenerationSettings, Provenance
from app.dataset.shard_workers import ShardJob, run_shards_in_workers
from app.dataset.shards import FaceFileWriters, WrittenShard, face_maker, model_for_shards, write_shard
from app.denoising.denoiser import Denoiser
from app.denoising.torch_threads import one_torch_thread
from app.errors import ExportError, FaceExplorerError
from app.model.morphable_model import MorphableModel
from app.model.provenance import ModelProvenance, require_same_model
from app.prior.learned_prior import LearnedPrior

if TYPE_CHECKING:
    from dask.distributed import Client

MANIFEST_INTERVAL = 1.0  # seconds between manifest updates while shards finish


@dataclass
class GenerationSummary:
    faces: int = 0
    shards_written: int = 0
    shards_skipped: int = 0
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0

    def describe(self) -> str:
        rate = self.faces / self.seconds if self.seconds > 0 else float("nan")
        return (
            f"{self.faces:,} faces in {self.shards_written} shard(s) ({self.shards_skipped} already done), "
            f"{self.files:,} files, {self.bytes / 1e6:,.1f} MB, {self.seconds:.1f} s ({rate:,.0f} faces/s)"
        )


@dataclass(frozen=True)
class OutputFolder:
    """What a run will do to its folder, found without writing anything."""

    folder: Path
    manifest: Manifest  # the manifest of this run; on --resume it holds the shards that verified
    stale: list[Path]  # the previous dataset's own files, which --overwrite deletes

    @property
    def stale_bytes(self) -> int:
        return sum(path.stat().st_size for path in self.stale)


def inspect_output(
    folder: Path, settings: GenerationSettings, provenance: Provenance, resume: bool, overwrite: bool
) -> OutputFolder:
    """Decide what to keep and what to delete in ``folder``, refusing anything that could mix or destroy data."""
    if resume and overwrite:
        raise FaceExplorerError("--resume and --overwrite contradict each other: choose one")
    if folder.exists() and not folder.is_dir():
        raise FaceExplorerError(f"{folder}: exists and is not a folder")
    manifest = Manifest.new(settings, provenance)
    manifest_path = folder / MANIFEST
    if manifest_path.is_file():
        previous = Manifest.read(manifest_path)
        if overwrite:
            return OutputFolder(
                folder, manifest, [folder / path for path in own_files(previous.settings) if (folder / path).is_file()]
            )
        if not resume:
            raise FaceExplorerError(
                f"{folder}: already holds a dataset: use --resume to finish it or --overwrite to replace it"
            )
        require_same_model(
            ModelProvenance.from_record(previous.plan, str(manifest_path)), provenance.model, f"the dataset in {folder}"
        )
        if previous.plan != manifest.plan:
            changed = sorted(
                key
                for key in set(manifest.plan) | set(previous.plan)
                if manifest.plan.get(key) != previous.plan.get(key)
            )
            raise FaceExplorerError(
                f"{folder}: holds a dataset made with other settings ({', '.join(changed)} differ); "
                "resuming would mix two datasets: use --overwrite or another folder"
            )
        manifest.shards = previous.intact_shards(folder)
    elif folder.is_dir() and any(folder.iterdir()):
        if resume:
            raise FaceExplorerError(f"{folder}: is not a dataset folder (no {MANIFEST}); there is nothing to resume")
        if not overwrite:
            raise FaceExplorerError(
                f"{folder}: exists, is not empty and is not a dataset folder (no {MANIFEST}); "
                "choose an empty or new folder, or --overwrite to write into it anyway (other files are kept)"
            )
    return OutputFolder(folder, manifest, [])


def prepare_output(output: OutputFolder) -> None:
    """Create the folder, delete what ``inspect_output`` found stale, and write the run's manifest."""
    folder = output.folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for path in [*output.stale, *own_temporary_files(folder)]:
            path.unlink(missing_ok=True)
    except OSError as failure:
        raise write_error(folder, failure) from failure
    for sub in [*shard_folders(folder), *(folder / kind for kind in FACE_FOLDERS)]:
        with contextlib.suppress(OSError):  # not empty (a user's file is kept, and its folder) or not there
            sub.rmdir()
    output.manifest.write(folder)


def default_workers(settings: GenerationSettings, shards: int, cores: int | None = None) -> int:
    """Worker processes that make a run no slower than one: one per two cores for mesh and image work, else one.

    Coefficients alone are a sampling and one batched network pass per shard, thousands of faces
    a second in one process; a worker process costs seconds to start (torch, the model), so more
    of them only pay off for large runs, where ``--workers`` asks for them. For meshes and
    images one process already keeps two cores busy (it synthesizes and renders while its two
    writing threads compute normals and wait on the disk): on a 2-core machine a second process
    measured 0.96-1.0x of one on 960-2,000 PLY faces, less on smaller runs (about 2 s of start-up),
    never faster. Never more processes than shards.
    """
    if not (settings.mesh_format or settings.images):
        return 1
    return max(1, min((cores or usable_cores()) // 2, shards))


def usable_cores() -> int:
    """The cores this process may run on: a batch job's or container's share, not the whole host's."""
    if hasattr(os, "sched_getaffinity"):  # Linux; a Slurm job given 4 of 64 cores sees 4 here
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def generate(
    folder: str | Path,
    settings: GenerationSettings,
    model: MorphableModel,
    denoiser: Denoiser | None,
    provenance: Provenance,
    workers: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    show_progress: bool = True,
    scheduler: str | Client | None = None,
    prior: LearnedPrior | None = None,
) -> GenerationSummary:
    """Write the dataset into ``folder``.

    ``workers``: local processes (None: ``default_workers``); with ``scheduler`` (an address,
    ``"local"`` or a connected ``dask.distributed.Client``) the shards are Dask tasks instead.
    ``denoiser``: the paper's networks, which the network method needs (None with the prior method).
    ``prior``: the learned prior, which ``settings.method == "prior"`` needs (see ``write_shard``).
    """
    settings.check()
    face_maker(settings, denoiser, prior)  # refused before anything is written when it is missing
    folder = Path(folder)
    if workers is not None and workers < 1:
        raise FaceExplorerError(f"--workers must be at least 1 (got {workers})")
    output = inspect_output(folder, settings, provenance, resume, overwrite)
    faces_done = sum(record.faces for record in output.manifest.shards.values())
    shards_to_make = settings.shard_count - len(output.manifest.shards)
    if workers is None:  # a cluster of this machine's cores, or what a local run needs
        workers = usable_cores() if scheduler is not None else default_workers(settings, shards_to_make)
    local_processes = 1 if scheduler is not None else workers
    needs = estimate_needs(settings, model, local_processes, settings.count - faces_done, shards_to_make)
    refuse_unaffordable(folder, settings, needs, local_processes, freed=output.stale_bytes)
    if isinstance(scheduler, str):
        from app.dataset.cluster import cluster_client

        # Connected before the folder is touched: a scheduler that cannot be reached leaves nothing behind.
        with cluster_client(scheduler, workers) as client:
            return _make_shards(
                output, settings, model, denoiser, provenance, workers, show_progress, client, scheduler, prior
            )
    return _make_shards(
        output,
        settings,
        model,
        denoiser,
        provenance,
        workers,
        show_progress,
        scheduler,
        None if scheduler is None else str(scheduler.scheduler_info()["address"]),
        prior,
    )


def _make_shards(
    output: OutputFolder,
    settings: GenerationSettings,
    model: MorphableModel,
    denoiser: Denoiser | None,
    provenance: Provenance,
    workers: int,
    show_progress: bool,
    client: Client | None,
    scheduler_name: str | None,
    prior: LearnedPrior | None,
) -> GenerationSummary:
    """Prepare the folder, make every shard still to do, record each as it finishes."""
    folder, manifest = output.folder, output.manifest
    prepare_output(output)
    todo = [shard for shard in range(settings.shard_count) if shard not in manifest.shards]
    summary = GenerationSummary(shards_skipped=len(manifest.shards))
    started = saved = time.perf_counter()
    progress = progress_bar(settings.count - sum(record.faces for record in manifest.shards.values()), show_progress)
    try:
        with one_torch_thread():  # the networks' share of a shard is small; a busy pool is 10x slower
            for written in _run_shards(folder, todo, settings, model, denoiser, provenance, workers, client, prior):
                if written.record.shard in manifest.shards:
                    continue  # a shard is committed once, whatever a cluster reports twice
                manifest.shards[written.record.shard] = written.record
                summary.faces += written.record.faces
                summary.shards_written += 1
                summary.files += written.files
                summary.bytes += written.bytes
                progress.update(written.record.faces)
                if time.perf_counter() - saved >= MANIFEST_INTERVAL:
                    manifest.write(folder)
                    saved = time.perf_counter()
    except BaseException:
        _record_what_finished(manifest, folder)
        raise
    finally:
        progress.close()
        summary.seconds = time.perf_counter() - started
    manifest.complete = True
    manifest.last_run = {
        **asdict(summary),
        "workers": workers,
        "scheduler": scheduler_name,
        "denoising_device": str(face_maker(settings, denoiser, prior).device),
    }
    manifest.write(folder)
    return summary


def progress_bar(faces: int, show: bool) -> Any:
    """A bar of faces with their rate (faces/s) and the time left."""
    from tqdm import tqdm

    return tqdm(
        total=faces,
        unit=" faces",
        desc="generating",
        disable=not show,
        smoothing=0.1,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} faces "
        "[{rate_noinv_fmt}, ETA {remaining}, {elapsed} elapsed]",
    )


def _record_what_finished(manifest: Manifest, folder: Path) -> None:
    """After a failure, record the shards that did finish, so --resume keeps them."""
    # e.g. the disk that just filled up: those shards are made again on --resume, nothing is lost
    with contextlib.suppress(ExportError):
        manifest.write(folder)


def _run_shards(
    folder: Path,
    todo: list[int],
    settings: GenerationSettings,
    model: MorphableModel,
    denoiser: Denoiser | None,
    provenance: Provenance,
    workers: int,
    client: Client | None,
    prior: LearnedPrior | None,
) -> Iterator[WrittenShard]:
    if client is not None:
        from app.dataset.cluster import run_shards_on_cluster

        yield from run_shards_on_cluster(client, folder, todo, settings, model, denoiser, provenance, prior)
        return
    if workers == 1 or len(todo) < 2:
        writers = FaceFileWriters(model)
        try:
            for shard in todo:
                yield write_shard(folder, shard, settings, model, denoiser, provenance, writers, prior)
        finally:
            writers.close()
        return
    # Each worker gets what it uses, pickled once at its start: the scales alone for coefficients.
    job = ShardJob(folder, settings, model_for_shards(model, settings), denoiser, provenance, prior)
    yield from run_shards_in_workers(job, todo, workers)
