"""Synthetic face datasets: sample coefficients, denoise them, write shards.

A dataset of N faces is cut into shards of ``shard_size`` faces. Shard i draws its faces from
``np.random.default_rng([seed, i])`` and nothing else, so any shard can be (re)made alone: a
run can be resumed, split over processes (``workers``) or machines, and gives byte-identical
coefficient files for the same settings (written with a fixed zip date, see deterministic_npz).

Per shard, in this order: optional meshes, optional images, then ``shard-XXXXX.npz`` with the
noisy and denoised coefficients and the provenance (seed, sampling settings, model name and
digest, checkpoint digests). Every file is written to a temporary name and renamed, and the shard's
.npz is written last, so a shard counts as done exactly when its .npz exists: an interruption
leaves nothing that looks complete. ``manifest.json`` marks the folder as ours and records the
plan, so a resume with other settings is refused instead of mixing two datasets.
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app import __version__
from app.atomic_files import atomic_output
from app.dataset.deterministic_npz import save_npz_deterministic
from app.denoising.denoiser import Denoiser
from app.errors import ExportError, FaceExplorerError
from app.model.morphable_model import MorphableModel
from app.model.provenance import ModelProvenance, require_same_model
from app.model.sampling import DISTRIBUTIONS, PAPER_RANGE, sample_coefficients
from app.npz_files import read_npz

MANIFEST = "manifest.json"
DATASET_FORMAT = "face-manifold-dataset/1"
MESH_FORMATS = ("ply", "obj")


@dataclass(frozen=True)
class GenerationSettings:
    """Everything that decides the contents of a dataset (the plan recorded in the manifest)."""

    count: int
    seed: int = 0
    shard_size: int = 1000
    distribution: str = "uniform"
    range_shape: float = PAPER_RANGE["shape"]
    range_expression: float = PAPER_RANGE["expression"]
    mesh_format: str | None = None  # "ply" (binary), "obj", or None for coefficients only
    images: bool = False
    image_size: int = 256
    random_views: int = 0  # extra images per face at random yaw/pitch
    max_yaw: float = 45.0
    max_pitch: float = 20.0

    def check(self) -> None:
        if self.count < 1:
            raise FaceExplorerError(f"the number of faces must be at least 1 (got {self.count})")
        if self.shard_size < 1:
            raise FaceExplorerError(f"the shard size must be at least 1 (got {self.shard_size})")
        if self.distribution not in DISTRIBUTIONS:
            raise FaceExplorerError(f"unknown distribution '{self.distribution}' (use {' or '.join(DISTRIBUTIONS)})")
        if not (self.range_shape > 0 and self.range_expression > 0):
            raise FaceExplorerError("the uniform sampling ranges r_shape and r_exp must be positive")
        if self.mesh_format not in (None, *MESH_FORMATS):
            raise FaceExplorerError(f"unknown mesh format '{self.mesh_format}' (use {' or '.join(MESH_FORMATS)})")
        if self.random_views < 0:
            raise FaceExplorerError(f"random views per face cannot be negative (got {self.random_views})")
        if self.random_views and not self.images:
            raise FaceExplorerError("random views are images: ask for images as well")
        if self.images and self.image_size < 16:
            raise FaceExplorerError(f"image size {self.image_size} is too small (at least 16 pixels)")
        if self.seed < 0:
            raise FaceExplorerError(f"the seed must be a non-negative integer (got {self.seed})")

    @property
    def shard_count(self) -> int:
        return -(-self.count // self.shard_size)

    def shard_rows(self, shard: int) -> range:
        """Global face indices of one shard."""
        start = shard * self.shard_size
        return range(start, min(start + self.shard_size, self.count))

    def sampling(self) -> dict[str, Any]:
        """The settings that decide the coefficients (stored in every shard)."""
        sampling: dict[str, Any] = {"distribution": self.distribution}
        if self.distribution == "uniform":
            sampling.update(range_shape=self.range_shape, range_expression=self.range_expression)
        return sampling


@dataclass(frozen=True)
class Provenance:
    """What produced the faces: the model and the two networks' weights."""

    model: ModelProvenance
    checkpoints: dict[str, str]  # kind → sha256 of the checkpoint bytes the denoiser loaded

    @classmethod
    def of(cls, model: MorphableModel, denoiser: Denoiser) -> Provenance:
        return cls(model.provenance, dict(denoiser.digests))


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
        return (f"{self.faces:,} faces in {self.shards_written} shard(s) ({self.shards_skipped} already done), "
                f"{self.files:,} files, {self.bytes / 1e6:,.1f} MB, {self.seconds:.1f} s ({rate:,.0f} faces/s)")


def shard_name(shard: int) -> str:
    return f"shard-{shard:05d}"


def shard_rng(seed: int, shard: int) -> np.random.Generator:
    """The only randomness shard ``shard`` uses for its coefficients."""
    return np.random.default_rng([seed, shard])


def pose_rng(seed: int, shard: int) -> np.random.Generator:
    """A separate stream for image poses, so asking for images never changes the coefficients."""
    return np.random.default_rng([seed, shard, 1])


def prepare_output(
    folder: Path, settings: GenerationSettings, provenance: Provenance, resume: bool, overwrite: bool
) -> None:
    """Make ``folder`` ready for this plan, refusing anything that could mix or destroy data."""
    if resume and overwrite:
        raise FaceExplorerError("--resume and --overwrite contradict each other: choose one")
    plan = _plan(settings, provenance)
    manifest_path = folder / MANIFEST
    if folder.exists() and not folder.is_dir():
        raise FaceExplorerError(f"{folder}: exists and is not a folder")
    ours = manifest_path.is_file()
    nonempty = folder.is_dir() and any(folder.iterdir())
    if ours:
        previous = _read_manifest(manifest_path)
        if overwrite:
            _remove_dataset(folder)
        elif resume:
            require_same_model(ModelProvenance.from_record(previous.get("plan", {}), str(manifest_path)),
                               provenance.model, f"the dataset in {folder}")
            if previous.get("plan") != plan:
                changed = sorted(k for k in set(plan) | set(previous.get("plan", {}))
                                 if plan.get(k) != previous.get("plan", {}).get(k))
                raise FaceExplorerError(
                    f"{folder}: holds a dataset made with other settings ({', '.join(changed)} differ); "
                    "resuming would mix two datasets: use --overwrite or another folder"
                )
            _remove_partial_files(folder)
        else:
            raise FaceExplorerError(f"{folder}: already holds a dataset: use --resume to finish it or --overwrite to replace it")
    elif nonempty:
        if resume:
            raise FaceExplorerError(f"{folder}: is not a dataset folder (no {MANIFEST}); there is nothing to resume")
        if not overwrite:
            raise FaceExplorerError(
                f"{folder}: exists, is not empty and is not a dataset folder (no {MANIFEST}); "
                "choose an empty or new folder, or --overwrite to write into it anyway (other files are kept)"
            )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as failure:
        raise ExportError(f"cannot create {folder}: {failure.strerror or failure}") from failure
    write_manifest(folder, settings, provenance, complete=False)


def write_manifest(folder: Path, settings: GenerationSettings, provenance: Provenance, complete: bool,
                   summary: GenerationSummary | None = None) -> None:
    document: dict[str, Any] = {
        "format": DATASET_FORMAT,
        "app_version": __version__,
        "plan": _plan(settings, provenance),
        "shards": [f"{shard_name(i)}.npz" for i in range(settings.shard_count)],
        "complete": complete,
    }
    if summary is not None:
        document["last_run"] = asdict(summary)
    with atomic_output(folder / MANIFEST) as temp:
        temp.write_text(json.dumps(document, indent=1) + "\n")


def write_shard(
    folder: Path, shard: int, settings: GenerationSettings, model: MorphableModel, denoiser: Denoiser,
    provenance: Provenance, renderer_factory: Callable[[int], Any] | None = None,
) -> tuple[int, int]:
    """Make shard ``shard`` completely; returns (files written, bytes written)."""
    rows = settings.shard_rows(shard)
    rng = shard_rng(settings.seed, shard)
    noisy_id = sample_coefficients(model, "shape", settings.distribution, len(rows), rng, settings.range_shape)
    noisy_exp = sample_coefficients(model, "expression", settings.distribution, len(rows), rng, settings.range_expression)
    alpha_id, alpha_exp = denoiser.denoise_face(noisy_id, noisy_exp)
    written: list[Path] = []
    if settings.mesh_format or settings.images:
        written += _write_face_files(folder, shard, rows, settings, model, alpha_id, alpha_exp, renderer_factory)
    arrays = {
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
    if settings.images:
        arrays["view_yaw_pitch"] = _poses(settings, shard, len(rows))
    path = folder / f"{shard_name(shard)}.npz"
    with atomic_output(path) as temp:
        save_npz_deterministic(temp, arrays)
    written.append(path)
    return len(written), sum(p.stat().st_size for p in written)


def completed_shards(folder: Path, settings: GenerationSettings) -> set[int]:
    return {i for i in range(settings.shard_count) if (folder / f"{shard_name(i)}.npz").is_file()}


def load_dataset(folder: str | Path) -> dict[str, np.ndarray]:
    """All shards of a dataset concatenated (face_index, noisy and denoised coefficients)."""
    folder = Path(folder)
    manifest = _read_manifest(folder / MANIFEST)
    tables: dict[str, list[np.ndarray]] = {}
    for name in manifest["shards"]:
        shard = read_npz(folder / name)
        for key in ("face_index", "alpha_id_noisy", "alpha_exp_noisy", "alpha_id", "alpha_exp"):
            if key not in shard:
                raise FaceExplorerError(f"{folder / name}: not a shard of this dataset (no '{key}' table)")
            tables.setdefault(key, []).append(shard[key])
    return {key: np.concatenate(parts) for key, parts in tables.items()}


def generate(
    folder: str | Path,
    settings: GenerationSettings,
    model: MorphableModel,
    denoiser: Denoiser,
    provenance: Provenance,
    workers: int = 1,
    resume: bool = False,
    overwrite: bool = False,
    show_progress: bool = True,
    worker_setup: Callable[[], tuple[MorphableModel, Denoiser]] | None = None,
) -> GenerationSummary:
    """Write the dataset into ``folder``; ``worker_setup`` rebuilds model + denoiser in a worker process."""
    from tqdm import tqdm

    settings.check()
    folder = Path(folder)
    if workers < 1:
        raise FaceExplorerError(f"--workers must be at least 1 (got {workers})")
    if workers > 1 and worker_setup is None:
        raise FaceExplorerError("parallel generation needs a way to open the model in each worker")
    prepare_output(folder, settings, provenance, resume, overwrite)
    done = completed_shards(folder, settings)
    todo = [i for i in range(settings.shard_count) if i not in done]
    summary = GenerationSummary(shards_skipped=len(done))
    started = time.perf_counter()
    progress = tqdm(total=sum(len(settings.shard_rows(i)) for i in todo), unit="face", unit_scale=True,
                    desc="generating", disable=not show_progress, smoothing=0.1)
    try:
        for shard, files, size in _run_shards(folder, todo, settings, model, denoiser, provenance, workers, worker_setup):
            faces = len(settings.shard_rows(shard))
            summary.faces += faces
            summary.shards_written += 1
            summary.files += files
            summary.bytes += size
            progress.update(faces)
    finally:
        progress.close()
        summary.seconds = time.perf_counter() - started
    write_manifest(folder, settings, provenance, complete=True, summary=summary)
    return summary


def _run_shards(
    folder: Path, todo: list[int], settings: GenerationSettings, model: MorphableModel, denoiser: Denoiser,
    provenance: Provenance, workers: int, worker_setup: Callable[[], tuple[MorphableModel, Denoiser]] | None,
) -> Iterator[tuple[int, int, int]]:
    if workers == 1 or len(todo) < 2:
        renderer = _LazyRenderer(model) if settings.images else None
        try:
            for shard in todo:
                yield (shard, *write_shard(folder, shard, settings, model, denoiser, provenance, renderer))
        finally:
            if renderer is not None:
                renderer.close()
        return
    # spawn, not fork: a forked child of a process that already ran torch or VTK can hang.
    context = multiprocessing.get_context("spawn")
    with context.Pool(min(workers, len(todo)), initializer=_worker_init,
                      initargs=(worker_setup, str(folder), settings, provenance)) as pool:
        yield from pool.imap_unordered(_worker_shard, todo)


_worker_state: dict[str, Any] = {}


def _worker_init(setup: Callable[[], tuple[MorphableModel, Denoiser]], folder: str, settings: GenerationSettings,
                 provenance: Provenance) -> None:
    """Runs once per worker process: its own model, denoiser and (lazily) renderer."""
    import torch

    torch.set_num_threads(1)  # the parallelism is across shards; threads per worker would oversubscribe
    model, denoiser = setup()
    _worker_state.update(model=model, denoiser=denoiser, folder=Path(folder), settings=settings,
                         provenance=provenance, renderer=_LazyRenderer(model) if settings.images else None)


def _worker_shard(shard: int) -> tuple[int, int, int]:
    s = _worker_state
    return (shard, *write_shard(s["folder"], shard, s["settings"], s["model"], s["denoiser"], s["provenance"], s["renderer"]))


class _LazyRenderer:
    """Opens the off-screen renderer on the first image (VTK start-up is only paid when used)."""

    def __init__(self, model: MorphableModel) -> None:
        self.model = model
        self.renderer: Any = None
        self.size: int | None = None

    def __call__(self, size: int) -> Any:
        if self.renderer is None or self.size != size:
            from app.dataset.face_images import FaceRenderer

            self.close()
            self.renderer = FaceRenderer(self.model.mean.reshape(-1, 3), self.model.triangles, size)
            self.size = size
        return self.renderer

    def close(self) -> None:
        if self.renderer is not None:
            self.renderer.close()
            self.renderer = None


def _write_face_files(
    folder: Path, shard: int, rows: range, settings: GenerationSettings, model: MorphableModel,
    alpha_id: np.ndarray, alpha_exp: np.ndarray, renderer_factory: Callable[[int], Any] | None,
) -> list[Path]:
    from app.dataset.mesh_files import export_mesh

    written: list[Path] = []
    poses = _poses(settings, shard, len(rows)) if settings.images else None
    mesh_folder = folder / "meshes" / shard_name(shard)
    image_folder = folder / "images" / shard_name(shard)
    for target, wanted in ((mesh_folder, settings.mesh_format), (image_folder, settings.images)):
        if wanted:
            try:
                target.mkdir(parents=True, exist_ok=True)
            except OSError as failure:
                raise ExportError(f"cannot create {target}: {failure.strerror or failure}") from failure
    # Synthesize in small batches: a face is 3N floats, a whole shard of them could be gigabytes.
    batch = 64
    for start in range(0, len(rows), batch):
        vertices = model.synthesize(alpha_id[start:start + batch], alpha_exp[start:start + batch])
        for offset, face in enumerate(vertices):
            j = start + offset
            name = f"face-{rows[j]:08d}"
            if settings.mesh_format:
                path = mesh_folder / f"{name}.{settings.mesh_format}"
                written.append(export_mesh(path, face, model.triangles, binary=True))
            if settings.images and renderer_factory is not None:
                renderer = renderer_factory(settings.image_size)
                for view, (yaw, pitch) in enumerate(poses[j]):
                    suffix = "front" if view == 0 else f"view{view}"
                    written.append(renderer.render(image_folder / f"{name}-{suffix}.png", face, yaw, pitch))
    return written


def _poses(settings: GenerationSettings, shard: int, faces: int) -> np.ndarray:
    """(faces, 1 + random_views, 2) yaw/pitch in degrees; view 0 is frontal."""
    rng = pose_rng(settings.seed, shard)
    poses = np.zeros((faces, 1 + settings.random_views, 2))
    poses[:, 1:, 0] = rng.uniform(-settings.max_yaw, settings.max_yaw, size=(faces, settings.random_views))
    poses[:, 1:, 1] = rng.uniform(-settings.max_pitch, settings.max_pitch, size=(faces, settings.random_views))
    return poses


def _plan(settings: GenerationSettings, provenance: Provenance) -> dict[str, Any]:
    return {**asdict(settings), **provenance.model.to_record(), "checkpoints": provenance.checkpoints}


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as failure:
        raise FaceExplorerError(f"{path}: not a readable dataset manifest ({failure})") from failure
    if not isinstance(document, dict) or document.get("format") != DATASET_FORMAT:
        raise FaceExplorerError(f"{path}: not a manifest of this tool (format {DATASET_FORMAT} expected)")
    return document


def _remove_dataset(folder: Path) -> None:
    """Delete only what this tool writes: shards, their meshes and images, the manifest."""
    for shard in folder.glob("shard-*.npz"):
        shard.unlink()
    for sub in ("meshes", "images"):
        if (folder / sub).is_dir():
            shutil.rmtree(folder / sub)
    _remove_partial_files(folder)
    (folder / MANIFEST).unlink(missing_ok=True)


def _remove_partial_files(folder: Path) -> None:
    """Temporary files an interrupted run left behind (atomic_output's ``.name.*.part.ext``)."""
    for leftover in folder.rglob(".*.part*"):
        if leftover.is_file():
            leftover.unlink()
