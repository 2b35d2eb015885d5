"""The `generate` command: a synthetic face dataset in shards."""

from __future__ import annotations

import argparse

from app.commands.core import workspace_inputs
from app.dataset.description import describe_dataset
from app.dataset.generation import default_workers, start_worker_server
from app.dataset.generation import generate as generate_dataset
from app.dataset.landmark_files import require_landmarks
from app.dataset.settings import GenerationSettings, Provenance
from app.denoising.devices import describe
from app.output_paths import refuse_output_over_input
from app.workspace import Workspace


def generate(args: argparse.Namespace) -> int:
    if args.describe:
        print(describe_dataset(args.output))
        return 0
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
        images=args.images or args.format == "300w-lp",
        image_size=args.image_size,
        random_views=args.random_views,
        max_yaw=args.max_yaw,
        max_pitch=args.max_pitch,
        max_roll=args.max_roll,
        max_light_angle=args.light_angle,
        min_light=args.light_intensity[0],
        max_light=args.light_intensity[1],
        background=args.background,
        albedo=args.colour,
        maps=",".join(args.maps),
        image_format=args.format,
        focal_length=args.focal_length,
    )
    settings.check()
    if not args.scheduler and (args.workers or default_workers(settings, settings.shard_count)) > 1:
        start_worker_server()  # while this process reads the model and the networks
    model, denoiser = workspace.model, workspace.denoiser
    if settings.image_format == "300w-lp":
        require_landmarks(model)  # pt2d needs them: refused before anything is written
    provenance = Provenance.of(model, denoiser)
    print(
        f"{settings.count:,} faces ({settings.distribution}) in {settings.shard_count:,} shard(s) of "
        f"≤{settings.shard_size:,} → {args.output}; denoising on {describe(denoiser.device)}, "
        + (
            f"Dask scheduler {args.scheduler}"
            if args.scheduler
            else f"{args.workers} worker(s)"
            if args.workers
            else "workers: one per two cores for meshes and images"
        )
    )
    summary = generate_dataset(
        args.output,
        settings,
        model,
        denoiser,
        provenance,
        workers=args.workers,
        resume=args.resume,
        overwrite=args.overwrite,
        show_progress=not args.quiet,
        scheduler=args.scheduler,
    )
    print(f"done: {summary.describe()}")
    return 0
