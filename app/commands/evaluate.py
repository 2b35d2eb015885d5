"""The `evaluate` command: run one of the paper's experiments and write its figure and tables."""

from __future__ import annotations

import argparse
import time

from app.commands.common import Subcommands, add_overwrite_option, count, open_workspace

# The paper's experiments, and the rater-free diversity–plausibility frontier of the reliability
# study: the names of app.evaluation's EXPERIMENTS and "frontier", listed here so that building the
# parser does not import the evaluation (and matplotlib).
EXPERIMENT_NAMES = (
    "test-mse",
    "learning-curves",
    "noise-sweep",
    "sigma-grid",
    "diversity",
    "scatter",
    "baselines",
    "plausibility",
    "likelihood",
    "prior-projection",
    "frontier",
)


def add_parsers(commands: Subcommands, inputs: argparse.ArgumentParser) -> None:
    """`evaluate EXPERIMENT` with the sizes the experiments use."""
    evaluate = commands.add_parser(
        "evaluate", parents=[inputs], help="run one of the paper's experiments (figure + JSON/Markdown table)"
    )
    evaluate.add_argument("experiment", choices=EXPERIMENT_NAMES)
    evaluate.add_argument(
        "--output",
        default="runs/evaluation",
        help="folder for the PNG, JSON and Markdown files (default runs/evaluation)",
    )
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument(
        "--epochs",
        type=count(1, 10_000),
        default=2,
        help="epochs for the nets sigma-grid trains (paper: 10; default 2)",
    )
    evaluate.add_argument(
        "--copies", type=count(1, 10_000), help="noisy copies per face when sigma-grid trains (default: the paper's)"
    )
    evaluate.add_argument(
        "--vectors",
        type=count(2, 1_000_000),
        default=2000,
        help="vectors per set for diversity and baselines (paper: 2000)",
    )
    evaluate.add_argument(
        "--scatter-points", type=count(2, 100_000), default=70, help="samples per set in the PCA scatter (paper: 70)"
    )
    evaluate.add_argument(
        "--mesh-faces",
        type=count(1, 100_000),
        default=500,
        help="faces per condition for the plausibility proxy and per set in frontier (default 500)",
    )
    add_overwrite_option(evaluate)
    evaluate.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the experiment, print its table and write its figure, JSON and Markdown files to --output."""
    from app.evaluation import EXPERIMENTS, EvaluationContext
    from app.evaluation.frontier import frontier
    from app.evaluation.report import format_table, write_report
    from app.output_paths import refuse_output_over_input

    workspace = open_workspace(args)
    refuse_output_over_input(args.output, workspace.inputs(), overwrite=args.overwrite)
    context = EvaluationContext.from_workspace(
        workspace,
        args.output,
        seed=args.seed,
        epochs=args.epochs,
        vectors=args.vectors,
        scatter_points=args.scatter_points,
        mesh_faces=args.mesh_faces,
        train_copies=args.copies,
    )
    started = time.perf_counter()
    report = {**EXPERIMENTS, "frontier": frontier}[args.experiment](context)
    paths = write_report(report, args.output)
    print(format_table(report))
    print(f"wrote {', '.join(str(p) for p in paths)} ({time.perf_counter() - started:.1f} s)")
    return 0
