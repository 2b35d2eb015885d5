"""The ``python main.py <command>`` tools: each module here owns its command's options and handler.

A command module's ``add_parsers(commands, inputs)`` adds its subcommand (the study tools in
``rating`` add several) with the shared input options as parent, and binds each to its handler
with ``set_defaults(handler=...)``; ``rate`` has none, since main.py opens its window (the core
never imports Qt). A handler takes the parsed Namespace and returns an exit status; user-input
problems are raised as FaceExplorerError and reported by main.py. Adding a command means writing
its module and listing it in COMMAND_MODULES.

Building the parser imports no implementation: each handler imports its own when it runs, so a
command (and every ``generate --workers`` process) pays only for its own imports.
"""

from __future__ import annotations

import argparse
from typing import NoReturn, Protocol

from app.commands import denoise, evaluate, export, generate, info, rating, train
from app.commands.common import Subcommands, fill_input_defaults, input_options
from app.errors import FaceExplorerError


class CommandModule(Protocol):
    """What main.py's parser needs from a command module."""

    def add_parsers(self, commands: Subcommands, inputs: argparse.ArgumentParser) -> None: ...


# In the order ``python main.py --help`` lists their commands.
COMMAND_MODULES: tuple[CommandModule, ...] = (info, train, denoise, export, generate, evaluate, rating)


class CommandLineParser(argparse.ArgumentParser):
    """argparse, with a bad option raised as a FaceExplorerError (main.py's one error line) instead of a
    usage text and an exit. Subcommand parsers are made of the same class."""

    def error(self, message: str) -> NoReturn:
        raise FaceExplorerError(f"{self.prog}: {message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: the input options, then every command module's commands."""
    inputs = input_options()
    parser: argparse.ArgumentParser = CommandLineParser(  # its subcommand parsers are CommandLineParsers too
        prog="python main.py",
        description="Face Manifold Explorer: diverse and plausible synthetic 3D faces. "
        "Without a command, opens the explorer.",
        parents=[inputs],
    )
    parser.set_defaults(handler=None)  # without a command, or for `rate`: main.py opens a window
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.add_parsers(commands, inputs)
    return parser


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """``argv`` (default: ``sys.argv[1:]``) parsed, with the input options given nowhere at their defaults."""
    args = build_parser().parse_args(argv)
    fill_input_defaults(args)
    return args
