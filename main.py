"""Face Manifold Explorer: `python main.py` opens the explorer, `python main.py <command>` runs a tool.

This file only parses arguments and dispatches: each command's options and handler live in its
module of ``app/commands/``, and the two windows (the explorer, the rater window) are opened from
here because the core never imports Qt. Every user-input problem arrives as a FaceExplorerError
and becomes exactly one line on stderr and exit status 2: line breaks in it (a file name may hold
one) are escaped, warnings raised on the way to it are not printed, and output never fails on a
file name that is not UTF-8.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

from app.commands import parse_arguments
from app.errors import FaceExplorerError
from app.seeds import check_seed


def _open_explorer(args: argparse.Namespace) -> int:
    from widgets.explorer import run_explorer  # Qt is only imported when a window is wanted

    return run_explorer(args)


def _open_rater_window(args: argparse.Namespace) -> int:
    from widgets.rater_window import run_rater  # Qt is only imported when a window is wanted

    return run_rater(args)


# The windows: without a command, and for `rate`, whose parser sets no handler (the core never imports Qt).
WINDOWS = {None: _open_explorer, "rate": _open_rater_window}


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``) and return its exit status."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):  # a file name that is not UTF-8 is printed escaped, not a traceback
            stream.reconfigure(errors="backslashreplace")
    try:
        args = parse_arguments(argv)
    except FaceExplorerError as problem:  # a bad option
        print(f"error: {one_line(str(problem))}", file=sys.stderr)
        return 2
    if args.handler is None:  # a window: its errors go to dialogs
        return _run(WINDOWS[args.command], args)
    # A command's warnings wait until it succeeds, so an error is the only line it prints.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status = _run(args.handler, args)
    if status == 0:
        for warning in caught:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return status


def _run(handler: Callable[[argparse.Namespace], int | None], args: argparse.Namespace) -> int:
    try:
        if getattr(args, "seed", None) is not None:
            args.seed = check_seed(args.seed, "--seed")
        return handler(args) or 0
    except FaceExplorerError as problem:
        print(f"error: {one_line(str(problem))}", file=sys.stderr)
        return 2
    except MemoryError:
        print("error: not enough memory for what was asked; ask for fewer faces, vectors or copies", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def one_line(message: str) -> str:
    """``message`` with its line breaks and other control characters escaped, so it stays one line."""
    return "".join(
        character if character.isprintable() or character == " " else character.encode("unicode_escape").decode()
        for character in message
    )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
