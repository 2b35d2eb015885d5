"""The `train` command: train the shape or expression denoiser and write its checkpoint."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.commands.common import Subcommands, open_workspace
from app.errors import FaceExplorerError


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
    train.add_argument("kind", choices=["shape", "expression"])
    train.add_argument("--epochs", type=int, default=10)
    train.add_argument("--batch-size", type=int, default=128)
    train.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    train.add_argument("--sigma", type=float, help="corruption σ in model units (paper: shape 5e5, expression 2)")
    train.add_argument("--copies", type=int, help="noisy copies per face (paper: shape 100, expression 50)")
    train.add_argument(
        "--normalisation", type=float, help="divide vectors by this before the net (paper: shape 1e5, expression 1)"
    )
    train.add_argument("--test-faces", type=int, default=600, help="held-out faces for the test MSE (default 600)")
    train.add_argument("--faces", type=int, help="size of the embedded corpus to train on (default 5837)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument(
        "--output",
        metavar="PATH",
        help="checkpoint to write (default: <checkpoints>/<kind>.pt with --checkpoints, else the user folder)",
    )
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Train the network on the loaded data (or a slice of the embedded corpus) and report its test MSE."""
    from app.denoising.checkpoint_folders import is_shipped
    from app.denoising.training import TrainingConfig, train_denoiser
    from app.model.embedded_corpus import embedded_corpus
    from app.output_paths import refuse_output_over_input

    workspace = open_workspace(args)
    if args.faces is not None:
        if not workspace.model.is_embedded or args.data:
            raise FaceExplorerError("--faces sets the embedded corpus size; it cannot be used with --model/--data")
        data = embedded_corpus(args.faces)
    else:
        data = workspace.data
    overrides = {
        key: value
        for key, value in {"sigma": args.sigma, "copies": args.copies, "normalisation": args.normalisation}.items()
        if value is not None
    }
    config = TrainingConfig.paper(
        args.kind,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        test_faces=args.test_faces,
        seed=args.seed,
        device=args.device,
        **overrides,
    )
    for name, value in (("epochs", config.epochs), ("batch size", config.batch_size), ("copies", config.copies)):
        if value < 1:
            raise FaceExplorerError(f"{name} must be at least 1 (got {value})")
    if not (config.sigma > 0 and config.normalisation > 0 and config.learning_rate > 0):
        raise FaceExplorerError("sigma, normalisation and learning rate must be positive")
    output = _training_output(args)
    refuse_output_over_input(output, {"--model file": args.model, "--data": args.data})
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
