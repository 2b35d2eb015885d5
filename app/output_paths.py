"""Refusing to write a command's output over one of its own inputs.

``rate-export-csv S.db S.db`` would otherwise replace the study database with its CSV, and
``denoise IN.npz IN.npz`` its input table: the atomic rename makes the write succeed. Paths are
compared as files (``os.path.samefile``: hard links, symbolic links, ``./`` and ``..`` spellings)
when both exist, and by their resolved names otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from app.errors import FaceExplorerError


def same_file(first: str | os.PathLike[str], second: str | os.PathLike[str]) -> bool:
    try:
        return os.path.samefile(first, second)
    except OSError:  # one of them does not exist (yet)
        return Path(first).resolve() == Path(second).resolve()


def refuse_output_over_input(
    output: str | os.PathLike[str], inputs: Mapping[str, str | os.PathLike[str] | None]
) -> None:
    """Raise if ``output`` is one of ``inputs`` (what the input is → its path; None: not given)."""
    for role, source in inputs.items():
        if source is not None and same_file(output, source):
            raise FaceExplorerError(
                f"{output} is also the {role} of this command: writing it would destroy that input; "
                "choose another output"
            )
