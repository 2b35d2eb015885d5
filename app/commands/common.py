"""What every command shares: the input options (--model, --data, --checkpoints, --device) and the
workspace they open.

Imported while the parser is built, so the workspace and the checkpoints are imported only by the
functions that use them.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from app.workspace import Workspace

# The table of subcommands each command module adds its commands to.
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

# The inputs when given nowhere: the embedded model, its corpus, the shipped weights, CUDA if available.
INPUT_DEFAULTS: dict[str, str | None] = {"model": None, "data": None, "checkpoints": None, "device": "auto"}


def input_options() -> argparse.ArgumentParser:
    """--model/--data/--checkpoints/--device: a parent parser of the main parser and of every command."""
    # SUPPRESS keeps a subcommand's unset option from overwriting one given before the command;
    # fill_input_defaults then sets the ones given nowhere.
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    group = common.add_argument_group("inputs")
    group.add_argument(
        "--model", metavar="PATH", help="BFM.mat, 3DDFA Model_Shape.mat or model .npz (default: embedded model)"
    )
    group.add_argument(
        "--data", metavar="PATH", help="folder of fitted-parameter .mat files (AFLW2000-3D, 300W-3D) or .npz"
    )
    group.add_argument(
        "--checkpoints", metavar="DIR", help="folder with shape.pt and expression.pt (default: shipped weights)"
    )
    group.add_argument("--device", help="auto (CUDA if available), cpu or cuda (default: auto)")
    return common


def fill_input_defaults(args: argparse.Namespace) -> None:
    """Set each input option that was given neither before nor after the command to its default."""
    for option, default in INPUT_DEFAULTS.items():
        if not hasattr(args, option):
            setattr(args, option, default)


def open_workspace(args: argparse.Namespace) -> Workspace:
    """The model, data and networks the input options name (each is loaded when first used)."""
    from app.workspace import Workspace

    return Workspace(args.model, args.data, args.checkpoints, args.device)


def workspace_inputs(workspace: Workspace) -> dict[str, Path | None]:
    """What a command may read besides its own arguments: --model, --data, the checkpoints.

    A command refuses an output path that is one of them.
    """
    from app.denoising.checkpoint import KINDS, checkpoint_path

    return {
        "--model file": workspace.model_path,
        "--data": workspace.data_path,
        "--checkpoints folder": workspace.checkpoints,
        **{f"{kind} checkpoint": checkpoint_path(workspace.checkpoints, kind) for kind in KINDS},
    }
