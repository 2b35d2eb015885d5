"""Running one command or window: every problem it reports is exactly one line on stderr.

A FaceExplorerError becomes ``error: …`` and exit status 2, with line breaks and other control
characters escaped (a file name may hold one); running out of memory is one line too, and Ctrl+C
is ``interrupted`` with status 130. A command's warnings wait until it succeeds, so a failing
command prints its error and nothing else.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable

from app.errors import FaceExplorerError
from app.seeds import check_seed

Handler = Callable[[argparse.Namespace], "int | None"]


def run_handler(handler: Handler, args: argparse.Namespace, defer_warnings: bool) -> int:
    """Run ``handler(args)`` and return its exit status; a window (``defer_warnings=False``) shows its own."""
    if not defer_warnings:
        return _run(handler, args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status = _run(handler, args)
    if status == 0:
        for warning in caught:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return status


def report(problem: FaceExplorerError) -> int:
    """Print ``problem`` as one ``error:`` line on stderr; the exit status of a refused command."""
    print(f"error: {one_line(str(problem))}", file=sys.stderr)
    return 2


def one_line(message: str) -> str:
    """``message`` with its line breaks and other control characters escaped, so it stays one line."""
    return "".join(
        character if character.isprintable() or character == " " else character.encode("unicode_escape").decode()
        for character in message
    )


def _run(handler: Handler, args: argparse.Namespace) -> int:
    try:
        if getattr(args, "seed", None) is not None:
            args.seed = check_seed(args.seed, "--seed")
        return handler(args) or 0
    except FaceExplorerError as problem:
        return report(problem)
    except MemoryError:
        print("error: not enough memory for what was asked; ask for fewer faces, vectors or copies", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
