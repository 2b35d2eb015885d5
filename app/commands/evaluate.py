"""The `evaluate` command: run one of the paper's experiments and write its figure and tables."""

from __future__ import annotations

import argparse
import time

from app.errors import FaceExplorerError
from app.evaluation import EXPERIMENTS, EvaluationContext
from app.evaluation.frontier import frontier
from app.evaluation.report import format_table, write_report
from app.workspace import Workspace

# The paper's experiments, and the rater-free diversity–plausibility frontier of the reliability study.
ALL_EXPERIMENTS = {**EXPERIMENTS, "frontier": frontier}


def evaluate(args: argparse.Namespace) -> int:
    # A covariance needs two vectors; everything else needs at least one.
    for name, minimum in (("epochs", 1), ("vectors", 2), ("scatter_points", 2), ("mesh_faces", 1)):
        if getattr(args, name) < minimum:
            raise FaceExplorerError(
                f"--{name.replace('_', '-')} must be at least {minimum} (got {getattr(args, name)})"
            )
    if args.copies is not None and args.copies < 1:
        raise FaceExplorerError(f"--copies must be at least 1 (got {args.copies})")
    workspace = Workspace(args.model, args.data, args.checkpoints, args.device)
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
    report = ALL_EXPERIMENTS[args.experiment](context)
    paths = write_report(report, args.output)
    print(format_table(report))
    print(f"wrote {', '.join(str(p) for p in paths)} ({time.perf_counter() - started:.1f} s)")
    return 0
