"""Where checkpoints live: the shipped weights (read-only) and the user's own trained ones.

The shipped weights are package data of the top-level ``checkpoints`` package, so they are
found the same way from a checkout and from a plain (non-editable) install. ``train`` never
writes there unless told to: by default its checkpoints go to the user's data folder
(``$XDG_DATA_HOME/face-manifold-explorer/checkpoints``, ``~/.local/share/…`` when unset, and the
platform's equivalent on macOS and Windows).
"""

from __future__ import annotations

import os
import sys
from importlib.resources import files
from pathlib import Path

APPLICATION_FOLDER = "face-manifold-explorer"
SHIPPED_CHECKPOINTS = Path(str(files("checkpoints")))


def user_checkpoints() -> Path:
    """The folder ``train`` writes to when no --checkpoints or --output is given."""
    return _user_data_folder() / APPLICATION_FOLDER / "checkpoints"


def is_shipped(path: str | Path) -> bool:
    """Whether ``path`` is (in) the shipped weights' folder, however it is spelled."""
    return Path(path).resolve().is_relative_to(SHIPPED_CHECKPOINTS.resolve())


def _user_data_folder() -> Path:
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support"
    configured = os.environ.get("XDG_DATA_HOME", "")
    # The XDG spec says to ignore a relative value.
    return Path(configured) if os.path.isabs(configured) else Path.home() / ".local" / "share"
