"""What every command shares: the input options (--model, --data, --checkpoints, --device) and the
workspace they open.

Imported while the parser is built, so the workspace and the checkpoints are imported only by the
functions that use them.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
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


def add_overwrite_option(parser: argparse.ArgumentParser) -> None:
    """--overwrite: replace an existing face model, checkpoint or dataset at the output (app/output_paths.py)."""
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing face model, checkpoint or dataset at the output (never a database or an input)",
    )


def count(minimum: int, maximum: int) -> Callable[[str], int]:
    """An argparse type: an integer from ``minimum`` to ``maximum``, else one usage error naming the range.

    Every size option has one, so 10^12 faces or vectors is refused when parsed, not by the memory it exhausts.
    """

    def parse(text: str) -> int:
        digits = text.strip().lstrip("+-")
        if not (digits.isascii() and digits.isdigit()) or len(digits) > 30:
            raise argparse.ArgumentTypeError(f"expected a whole number from {minimum:,} to {maximum:,}, got {text!r}")
        value = int(text)
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"{value:,} is outside {minimum:,}..{maximum:,}")
        return value

    parse.__name__ = "count"  # argparse names the type in its message
    return parse


def fill_input_defaults(args: argparse.Namespace) -> None:
    """Set each input option that was given neither before nor after the command to its default."""
    for option, default in INPUT_DEFAULTS.items():
        if not hasattr(args, option):
            setattr(args, option, default)


def open_workspace(args: argparse.Namespace) -> Workspace:
    """The model, data and networks the input options name (each is loaded when first used)."""
    from app.workspace import Workspace

    return Workspace(args.model, args.data, args.checkpoints, args.device)
