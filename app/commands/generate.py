"""The `generate` command: a synthetic face dataset in shards."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from app.commands.common import Subcommands, count, open_workspace
from app.dataset.mesh_formats import MESH_FORMATS
from app.errors import FaceExplorerError

if TYPE_CHECKING:
    from app.denoising.denoiser import Denoiser
    from app.prior.learned_prior import LearnedPrior


def add_parsers(commands: Subcommands, inputs: argparse.ArgumentParser) -> None:
    """`generate OUTPUT`: the dataset's size and sampling, its meshes and images, and how it is made."""
    generate = commands.add_parser(
        "generate", parents=[inputs], help="write a synthetic face dataset (coefficients, meshes, images) in shards"
    )
    generate.add_argument("output", help="dataset folder (new or empty; see --resume/--overwrite)")
    generate.add_argument("--count", type=count(1, 10**10), default=1000, help="number of faces (default 1000)")
    generate.add_argument("--seed", type=int, default=0)
    generate.add_argument("--shard-size", type=count(1, 1_000_000), default=1000, help="faces per shard (default 1000)")
    generate.add_argument("--distribution", choices=["uniform", "normal"], default="uniform")
    generate.add_argument("--r-shape", type=float, default=10.0, help="uniform range r for identity (paper: 10)")
    generate.add_argument("--r-exp", type=float, default=15.0, help="uniform range r for expression (paper: 15)")
    generate.add_argument(
        "--method",
        choices=["network", "prior"],
        default="network",
        help="what makes the clean faces from the noisy ones: network, the paper's networks (default); prior, "
        "the learned prior's projection (prior-shape.pt, prior-expression.pt)",
    )
    generate.add_argument(
        "--strength",
        type=float,
        metavar="T",
        help="with --method prior: noise each face to strength T in [0, 1] and run the prior's reverse process "
        "back (default 1: uniform draws at the paper's range lie far outside real faces, so a lower strength "
        "leaves them implausible; the prior's own 0.08 is for faces that are already plausible)",
    )
    generate.add_argument(
        "--meshes", nargs="?", const="ply", choices=MESH_FORMATS, help="also write meshes (binary PLY, or obj)"
    )
    generate.add_argument("--images", action="store_true", help="also render a frontal PNG of each face (off-screen)")
    generate.add_argument(
        "--random-views", type=count(0, 1000), default=0, help="extra images per face at random yaw/pitch"
    )
    generate.add_argument(
        "--image-size", type=count(1, 1_000_000), default=256, help="image width and height in pixels (default 256)"
    )
    views = generate.add_argument_group("images: views, variation and ground truth")
    views.add_argument(
        "--format",
        choices=["png", "300w-lp"],
        default="png",
        help="png, or 300w-lp: NAME.jpg + NAME.mat (Shape_Para, Exp_Para, Pose_Para, pt2d) per image "
        "(implies --images)",
    )
    views.add_argument(
        "--focal-length",
        type=float,
        default=0.0,
        metavar="PX",
        help="a pinhole camera with this focal length in pixels (at least --image-size); "
        "default 0: 3DDFA's weak perspective, which makes Pose_Para exact",
    )
    views.add_argument("--max-yaw", type=float, default=45.0, help="random views: largest yaw in degrees (default 45)")
    views.add_argument(
        "--max-pitch", type=float, default=20.0, help="random views: largest pitch in degrees (default 20)"
    )
    views.add_argument("--max-roll", type=float, default=0.0, help="random views: largest roll in degrees (default 0)")
    views.add_argument(
        "--light-angle",
        type=float,
        default=0.0,
        help="largest angle in degrees between a view's key light and the default one (default 0)",
    )
    views.add_argument(
        "--light-intensity",
        type=float,
        nargs=2,
        metavar=("MIN", "MAX"),
        default=(1.0, 1.0),
        help="key light intensity drawn in MIN..MAX times the default (default 1 1)",
    )
    views.add_argument(
        "--background",
        default="",
        metavar="COLOUR|FOLDER",
        help="#rrggbb, or a folder of pictures drawn at random behind each view (default: the explorer's)",
    )
    views.add_argument(
        "--colour",
        action="store_true",
        help="per-vertex colour drawn per face: the model's texture (BFM texMU/texPC/texEV), else skin tones",
    )
    views.add_argument(
        "--maps",
        nargs="+",
        choices=["mask", "depth", "normals"],
        default=[],
        help="per-pixel ground truth beside each image: mask (PNG), depth (.npy), normals (PNG)",
    )
    generate.add_argument(
        "--workers",
        type=count(1, 1024),
        help="processes for mesh and image work (default: one per two cores; coefficients alone: 1, "
        "torch already uses every core); with --scheduler local: the LocalCluster's workers",
    )
    generate.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="make the shards as tasks on a Dask cluster: a scheduler address (tcp://host:8786), or "
        "'local' for a LocalCluster; workers write to OUT, which they must share with this machine",
    )
    generate.add_argument("--describe", action="store_true", help="print what the dataset in OUT holds and exit")
    generate.add_argument("--resume", action="store_true", help="finish an interrupted dataset with the same settings")
    generate.add_argument("--overwrite", action="store_true", help="replace the dataset in the folder")
    generate.add_argument("--quiet", action="store_true", help="no progress bar")
    generate.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Describe the dataset in OUT, or make it (new, resumed or overwritten) with the settings the options give."""
    from app.dataset.description import describe_dataset
    from app.dataset.format_300w_lp import LANDMARKS_300W_LP
    from app.dataset.generation import default_workers
    from app.dataset.generation import generate as generate_dataset
    from app.dataset.landmark_files import require_landmarks
    from app.dataset.settings import PRIOR_STRENGTH, GenerationSettings, Provenance
    from app.dataset.shard_workers import start_worker_server
    from app.denoising.devices import describe
    from app.output_paths import DATASET, refuse_output_over_input

    if args.describe:
        print(describe_dataset(args.output))
        return 0
    if args.strength is not None and args.method != "prior":
        raise FaceExplorerError("--strength is the learned prior's: give it with --method prior")
    workspace = open_workspace(args)
    background = Path(args.background) if args.background and not args.background.startswith("#") else None
    refuse_output_over_input(
        args.output,
        {**workspace.inputs(), "--background folder": background},
        writes=DATASET,
        overwrite=args.overwrite,
    )
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
        method=args.method,
        strength=PRIOR_STRENGTH if args.strength is None else args.strength,
    )
    settings.check()
    if not args.scheduler and (args.workers or default_workers(settings, settings.shard_count)) > 1:
        start_worker_server()  # while this process reads the model and the networks
    model = workspace.model
    # Only what makes the faces is loaded, and only it is recorded: the prior method needs no paper network.
    denoiser: Denoiser | None = None
    prior: LearnedPrior | None = None
    if settings.method == "prior":
        prior = workspace.prior
        provenance = Provenance.of_prior(model, prior)
        maker = f"the learned prior at strength {settings.strength:g} on {describe(prior.device)}"
    else:
        denoiser = workspace.denoiser
        provenance = Provenance.of(model, denoiser)
        maker = f"denoising on {describe(denoiser.device)}"
    if settings.image_format == "300w-lp":
        landmarks = require_landmarks(model)  # pt2d is (2, 68) in the format: refused before anything is written
        if len(landmarks) != LANDMARKS_300W_LP:
            raise FaceExplorerError(
                f"{model.name} has {len(landmarks)} landmarks; 300W-LP files need {LANDMARKS_300W_LP} (pt2d)"
            )
    print(
        f"{settings.count:,} faces ({settings.distribution}) in {settings.shard_count:,} shard(s) of "
        f"≤{settings.shard_size:,} → {args.output}; {maker}, "
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
        prior=prior,
    )
    print(f"done: {summary.describe()}")
    return 0
