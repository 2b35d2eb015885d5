"""The `denoise` command: denoise coefficient tables, npz in, npz out."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.commands.common import Subcommands, add_overwrite_option, open_workspace
from app.errors import FaceExplorerError

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np

    from app.model.morphable_model import CoefficientKind
    from app.workspace import Workspace

# Each table's name in the .npz files and the network that denoises it (a generated dataset names
# its tables after the network, which the input may use instead).
_TABLES: tuple[tuple[str, CoefficientKind], ...] = (("alpha_id", "shape"), ("alpha_exp", "expression"))


def add_parsers(commands: Subcommands, inputs: argparse.ArgumentParser) -> None:
    """`denoise INPUT OUTPUT`."""
    denoise = commands.add_parser("denoise", parents=[inputs], help="denoise coefficient tables: npz in, npz out")
    denoise.add_argument(
        "input", help=".npz with 'alpha_id' (M,199) and/or 'alpha_exp' (M,29) (or 'shape'/'expression')"
    )
    denoise.add_argument("output", help=".npz to write with the inputs and their denoised versions")
    denoise.add_argument(
        "--method",
        choices=["network", "prior"],
        default="network",
        help="network: the paper's networks (default); prior: the learned prior's estimate for the paper's "
        "corruption, or with --strength its projection",
    )
    denoise.add_argument(
        "--strength",
        type=float,
        metavar="T",
        help="with --method prior: noise each face to strength T in [0, 1] and run the prior's reverse process "
        "back (0: unchanged, 1: a fresh sample)",
    )
    denoise.add_argument("--seed", type=int, default=0, help="the projection's noise (with --strength; default 0)")
    add_overwrite_option(denoise)
    denoise.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Write each input table, checked against the model, beside its denoised version and the model's provenance."""
    import numpy as np

    from app.atomic_files import atomic_output
    from app.model.coefficient_limits import check_coefficients
    from app.output_paths import refuse_output_over_input

    workspace = open_workspace(args)
    refuse_output_over_input(args.output, {"input table": args.input, **workspace.inputs()}, overwrite=args.overwrite)
    method, transform = _method(args, workspace)
    tables = _read_coefficient_tables(Path(args.input))
    result: dict[str, np.ndarray] = {}
    for key, kind in _TABLES:
        if key in tables:
            result[key] = check_coefficients(workspace.model, kind, tables[key], args.input)
            result[f"{key}_denoised"] = transform(kind, tables[key])
    provenance = {key: np.array(value) for key, value in workspace.model.provenance.to_record().items()}
    # Any: mypy checks the values of a **dict against savez's ``allow_pickle: bool`` as well
    arrays: dict[str, Any] = {**result, **provenance, "method": np.array(method)}
    with atomic_output(args.output) as temp, open(temp, "wb") as handle:
        np.savez(handle, **arrays)
    print(f"wrote {args.output} ({method}): " + ", ".join(f"{k} {v.shape}" for k, v in result.items()))
    return 0


def _method(
    args: argparse.Namespace, workspace: Workspace
) -> tuple[str, Callable[[CoefficientKind, np.ndarray], np.ndarray]]:
    """What makes the denoised tables, described in one line for the output file, and the function itself."""
    if args.method == "network":
        if args.strength is not None:
            raise FaceExplorerError("--strength is the learned prior's: give it with --method prior")
        return "the paper's networks", workspace.denoiser.denoise
    import torch

    from app.prior.diffusion import check_strength

    prior = workspace.prior
    if args.strength is None:
        return "the learned prior's denoiser", prior.denoise
    check_strength(args.strength)
    generator = torch.Generator().manual_seed(args.seed)
    return (
        f"the learned prior's projection at strength {args.strength:g}, seed {args.seed}",
        lambda kind, table: prior.project(kind, table, args.strength, generator),
    )


def _read_coefficient_tables(path: Path) -> dict[str, np.ndarray]:
    """alpha_id/alpha_exp tables from an .npz (also accepts the dataset names shape/expression)."""
    import numpy as np

    from app.npz_files import read_npz

    data = read_npz(path)
    tables = {}
    for key, kind in _TABLES:
        for name in (key, kind):
            if name in data:
                try:
                    tables[key] = np.atleast_2d(np.asarray(data[name], dtype=np.float64))
                except (TypeError, ValueError) as failure:
                    raise FaceExplorerError(f"{path}: table '{name}' is not numeric") from failure
                break
    if not tables:
        raise FaceExplorerError(f"{path}: no 'alpha_id' or 'alpha_exp' table inside")
    return tables
