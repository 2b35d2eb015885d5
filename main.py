"""Face Manifold Explorer: `python main.py` opens the explorer, `python main.py <command>` runs a tool.

This file only parses arguments and dispatches: each command's options and handler live in its
module of ``app/commands/``, and the two windows (the explorer, the rater window) are opened from
here because the core never imports Qt. Every problem is one line on stderr (app/commands/running.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.commands import parse_arguments
from app.commands.running import report, run_handler
from app.errors import FaceExplorerError


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
        return report(problem)
    if args.handler is None:  # a window: its errors go to dialogs
        return run_handler(WINDOWS[args.command], args, defer_warnings=False)
    return run_handler(args.handler, args, defer_warnings=True)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
