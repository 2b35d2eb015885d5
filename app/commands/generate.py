"""The `generate` command: a synthetic face dataset in shards."""

from __future__ import annotations

import argparse
import functools

from app.commands.core import workspace_inputs
from app.dataset.generation import generate as generate_dataset
from app.dataset.settings import GenerationSettings, Provenance
from app.denoising.denoiser import Denoiser
from app.denoising.devices import describe
from app.model.morphable_model import MorphableModel
from app.output_paths import refuse_output_over_input
from app.workspace import Workspace


def open_model_and_denoiser(model_path: str | None, checkpoints: str | None, device: str) -> tuple[MorphableModel, Denoiser]:
    """What a worker process needs; top-level so the spawn start method can pickle it."""
    workspace = Workspace(model_path, None, checkpoints, device)
    return workspace.model, workspace.denoiser


def generate(args: argparse.Namespace) -> int:
    workspace = Workspace(args.model, args.data, args.checkpoints, args.device)
    refuse_output_over_input(args.output, workspace_inputs(workspace))
    settings = GenerationSettings(
        count=args.count,
        seed=args.seed,
        shard_size=args.shard_size,
        distribution=args.distribution,
        r_shape=args.r_shape,
        r_exp=args.r_exp,
        mesh_format=args.meshes,
        images=args.images,
        image_size=args.image_size,
        random_views=args.random_views,
    )
    settings.check()
    model, denoiser = workspace.model, workspace.denoiser
    provenance = Provenance.of(model, denoiser)
    print(f"{settings.count:,} faces ({settings.distribution}) in {settings.shard_count:,} shard(s) of "
          f"≤{settings.shard_size:,} → {args.output}; denoising on {describe(denoiser.device)}, {args.workers} worker(s)")
    setup = functools.partial(open_model_and_denoiser, args.model, args.checkpoints, args.device)
    summary = generate_dataset(
        args.output, settings, model, denoiser, provenance, workers=args.workers, resume=args.resume,
        overwrite=args.overwrite, show_progress=not args.quiet, worker_setup=setup,
    )
    print(f"done: {summary.describe()}")
    return 0
