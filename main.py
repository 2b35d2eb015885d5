"""Face Manifold Explorer: `python main.py` opens the explorer, `python main.py <command>` runs a tool.

This file only parses arguments and dispatches: each command's options and handler live in its
module of ``app/commands/``, and the two windows (the explorer, the rater window) are opened from
here because the core never imports Qt. Every user-input problem arrives as a FaceExplorerError
and becomes one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
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
    args = parse_arguments(argv)
    handler = args.handler or WINDOWS[args.command]
    try:
        if getattr(args, "seed", None) is not None:
            args.seed = check_seed(args.seed, "--seed")
        return handler(args) or 0
    except FaceExplorerError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
