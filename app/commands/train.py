"""The `train` command: train the shape or expression denoiser and write its checkpoint; `train prior
KIND` trains the learned prior of that kind instead (app/prior/)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import TYPE_CHECKING

from app.commands.common import Subcommands, add_overwrite_option, count, open_workspace
from app.errors import FaceExplorerError

if TYPE_CHECKING:
    from app.model.fitted_params import FittedParameters
    from app.workspace import Workspace


def add_parsers(commands: Subcommands, inputs: argparse.ArgumentParser) -> None:
    """`train KIND` with the paper's training settings as options."""
    train = commands.add_parser(
        "train",
        parents=[inputs],
        help="train the shape or expression denoiser",
        description="Train the shape or expression denoiser. The checkpoint goes to --output, else to "
        "<--checkpoints>/<kind>.pt, else to the user folder (~/.local/share/face-manifold-explorer/"
        "checkpoints, or $XDG_DATA_HOME/...). The shipped weights are replaced only when "
        "--checkpoints or --output names them.",
    )
    train.add_argument(
        "kind",
        choices=["shape", "expression", "prior"],
        help="the network to train; `prior shape|expression` trains the learned prior of that kind",
    )
    train.add_argument("prior_kind", nargs="?", choices=["shape", "expression"], help=argparse.SUPPRESS)
    train.add_argument("--epochs", type=count(1, 100_000), help="passes over the training pairs (default 10)")
    train.add_argument("--batch-size", type=count(1, 1_000_000), help="(default 128; the prior: 256)")
    train.add_argument("--lr", type=float, help="Adam learning rate (default 1e-3)")
    train.add_argument("--sigma", type=float, help="corruption σ in model units (paper: shape 5e5, expression 2)")
    train.add_argument(
        "--copies", type=count(1, 10_000), help="noisy copies per face (paper: shape 100, expression 50)"
    )
    train.add_argument(
        "--normalisation", type=float, help="divide vectors by this before the net (paper: shape 1e5, expression 1)"
    )
    train.add_argument(
        "--test-faces", type=count(1, 10_000_000), default=600, help="held-out faces for the test MSE (default 600)"
    )
    train.add_argument(
        "--faces", type=count(1, 1_000_000), help="size of the embedded corpus to train on (default 5837)"
    )
    train.add_argument("--seed", type=int, default=0)
    train.add_argument(
        "--output",
        metavar="PATH",
        help="checkpoint to write (default: <checkpoints>/<kind>.pt with --checkpoints, else the user folder)",
    )
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    add_overwrite_option(train)
    prior = train.add_argument_group("train prior KIND: the learned prior's diffusion network and corruption denoiser")
    prior.add_argument(
        "--diffusion-steps", type=count(1, 10_000_000), help="optimiser steps of the diffusion network (default 20000)"
    )
    prior.add_argument(
        "--denoiser-steps",
        type=count(1, 10_000_000),
        help="optimiser steps of the corruption denoiser (default: shape 4000, expression 10000)",
    )
    prior.add_argument(
        "--leading",
        type=count(1, 100_000),
        help="whitened coordinates the diffusion network models, the rest a Gaussian given them "
        "(default: all where faces sit on bounds, else the count under which held-back faces are likeliest)",
    )
    train.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Train the network on the loaded data (or a slice of the embedded corpus) and report its test MSE."""
    if args.kind == "prior":
        return _run_prior(args)
    if args.prior_kind is not None:
        raise FaceExplorerError(f"train takes one kind, got '{args.kind} {args.prior_kind}' (or: train prior KIND)")
    if args.diffusion_steps is not None or args.denoiser_steps is not None or args.leading is not None:
        raise FaceExplorerError("--diffusion-steps, --denoiser-steps and --leading are options of `train prior KIND`")
    from app.denoising.checkpoint_folders import is_shipped
    from app.denoising.training import TrainingConfig, train_denoiser
    from app.output_paths import CHECKPOINT, refuse_output_over_input

    workspace = open_workspace(args)
    data = _training_data(args, workspace)
    overrides = {
        key: value
        for key, value in {"sigma": args.sigma, "copies": args.copies, "normalisation": args.normalisation}.items()
        if value is not None
    }
    config = TrainingConfig.paper(
        args.kind,
        epochs=10 if args.epochs is None else args.epochs,
        batch_size=128 if args.batch_size is None else args.batch_size,
        learning_rate=1e-3 if args.lr is None else args.lr,
        test_faces=args.test_faces,
        seed=args.seed,
        device=args.device,
        **overrides,
    )
    if not all(0 < value < math.inf for value in (config.sigma, config.normalisation, config.learning_rate)):
        raise FaceExplorerError("sigma, normalisation and learning rate must be positive finite numbers")
    output = _training_output(args)
    refuse_output_over_input(
        output, {"--model": args.model, "--data": args.data}, writes=CHECKPOINT, overwrite=args.overwrite
    )
    model = workspace.model.provenance
    if args.data and not args.model:
        print(
            f"note: no --model given, so the coefficients of {args.data} will be shown on {model.describe()}; "
            "give --model for the model they were fitted with"
        )
    if is_shipped(output):
        print(f"note: {output} is one of the shipped weights; --checkpoints/--output asked to replace it")
    print(f"training the {args.kind} network on {data.source} for {model.describe()} → {output}")
    metadata = train_denoiser(data, config, model, output, show_progress=not args.quiet)
    print(
        f"wrote {output}: test MSE noisy input {metadata['test_mse_noisy']:.4f} → "
        f"denoised {metadata['test_mse_denoised']:.4f} "
        f"({metadata['test_mse_noisy'] / metadata['test_mse_denoised']:.1f}× lower)"
    )
    if not (args.output or args.checkpoints):
        print(
            f"use it with --checkpoints {output.parent} (the folder needs both shape.pt and expression.pt); "
            "the shipped weights are unchanged"
        )
    return 0


def _training_output(args: argparse.Namespace) -> Path:
    """--output, else <--checkpoints>/<kind>.pt, else the user's folder: the shipped weights only when named."""
    from app.atomic_files import create_folder
    from app.denoising.checkpoint import checkpoint_path
    from app.denoising.checkpoint_folders import user_checkpoints

    if args.output:
        return Path(args.output)
    if args.checkpoints:
        return checkpoint_path(args.checkpoints, args.kind)
    return checkpoint_path(create_folder(user_checkpoints()), args.kind)


def _training_data(args: argparse.Namespace, workspace: Workspace) -> FittedParameters:
    """The loaded data, or with --faces that many faces of the embedded corpus."""
    from app.model.embedded_corpus import embedded_corpus

    if args.faces is None:
        return workspace.data
    if not workspace.model.is_embedded or args.data:
        raise FaceExplorerError("--faces sets the embedded corpus size; it cannot be used with --model/--data")
    return embedded_corpus(args.faces)


def _run_prior(args: argparse.Namespace) -> int:
    """`train prior KIND`: the learned prior on the paper network's training faces, timed beside that network."""
    from app.atomic_files import create_folder
    from app.denoising.checkpoint import checkpoint_path, load_checkpoint
    from app.denoising.checkpoint_folders import is_shipped, user_checkpoints
    from app.denoising.denoiser import Denoiser
    from app.denoising.devices import pick_device
    from app.errors import CheckpointError
    from app.output_paths import CHECKPOINT, refuse_output_over_input
    from app.prior.checkpoint import prior_checkpoint_path
    from app.prior.training import PriorTrainingConfig, held_out_split, train_prior

    kind = args.prior_kind
    if kind is None:
        raise FaceExplorerError("train prior needs a kind: train prior shape, or train prior expression")
    if args.epochs is not None or args.copies is not None or args.normalisation is not None:
        raise FaceExplorerError(
            "--epochs, --copies and --normalisation are the paper network's; "
            "the prior trains for --diffusion-steps and --denoiser-steps"
        )
    workspace = open_workspace(args)
    data = _training_data(args, workspace)
    overrides = {
        "diffusion_steps": args.diffusion_steps,
        "denoiser_steps": args.denoiser_steps,
        "batch_size": args.batch_size,
        "learning_rate": args.lr,
        "sigma": args.sigma,
        "leading": args.leading,
    }
    config = PriorTrainingConfig.default(
        kind,
        test_faces=args.test_faces,
        seed=args.seed,
        device=args.device,
        **{name: value for name, value in overrides.items() if value is not None},
    )
    if args.output:
        output = Path(args.output)
    elif args.checkpoints:
        output = prior_checkpoint_path(args.checkpoints, kind)
    else:
        output = prior_checkpoint_path(create_folder(user_checkpoints()), kind)
    refuse_output_over_input(
        output, {"--model": args.model, "--data": args.data}, writes=CHECKPOINT, overwrite=args.overwrite
    )
    try:
        paper = load_checkpoint(
            checkpoint_path(workspace.checkpoints, kind), kind, workspace.model.n_coefficients(kind)
        )
    except CheckpointError:
        paper = None
    if paper is not None and paper.metadata.get("data_source") != data.source:
        paper = None  # a network of other data is no comparison: the held-out faces are `train`'s for this seed
    train_faces, test_faces = held_out_split(data, config, paper.metadata if paper else None)
    if is_shipped(output):
        print(f"note: {output} is one of the shipped priors; --checkpoints/--output asked to replace it")
    model = workspace.model.provenance
    print(f"training the {kind} prior on {data.source} for {model.describe()} → {output}")
    reference = Denoiser({kind: paper}, pick_device(config.device)) if paper else None
    metadata = train_prior(
        train_faces,
        test_faces,
        config,
        model,
        output,
        data.source,
        show_progress=not args.quiet,
        reference=(lambda noisy: reference.denoise(kind, noisy)) if reference else None,
    )
    unit = " (/1e5 units)" if metadata["test_mse_unit"] != 1 else ""
    line = (
        f"wrote {output}: held-out test MSE{unit} noisy input {metadata['test_mse_noisy']:.4f} → "
        f"prior's denoiser {metadata['test_mse_denoised']:.4f}"
    )
    if "paper_test_mse_denoised" in metadata:
        paper_mse = metadata["paper_test_mse_denoised"]
        line += f", paper network {paper_mse:.4f} on the same pairs ({metadata['test_mse_denoised'] / paper_mse:.2f}×)"
    print(line)
    paper_seconds = paper.metadata.get("training_seconds") if paper else None
    beside = (
        f"; the paper's {kind} network took {paper_seconds:.0f} s ({paper.metadata.get('device', '?')}, "
        "as its checkpoint records)"
        if paper is not None and isinstance(paper_seconds, (int, float))
        else ""
    )
    print(f"training took {metadata['training_seconds']:.0f} s on {metadata['device']}{beside}")
    if not (args.output or args.checkpoints):
        print(f"use it with --checkpoints {output.parent} (the folder needs prior-shape.pt and prior-expression.pt)")
    return 0
