"""Write a file completely or not at all.

Every file the product writes (meshes, coefficient files, checkpoints, dataset shards) goes
through ``atomic_output``: the writer fills a temporary file in the destination folder and only
a successful write is renamed over the final name, so an interrupted or failed write never
leaves something that looks complete, and never destroys the previous version.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.errors import ExportError

# mkstemp creates files readable by the owner only; written files should get the usual
# permissions instead, so read the process umask once.
_UMASK = os.umask(0)
os.umask(_UMASK)


def ensure_writable(path: str | os.PathLike[str]) -> None:
    """Fail now, with the message a later write would give, if ``path`` cannot be written.

    For long jobs (training) that would otherwise find out only when they first save.
    """
    path = Path(path)
    try:
        with tempfile.TemporaryFile(dir=_existing_folder(path)):
            pass
    except OSError as error:
        raise ExportError(f"cannot write {path}: {error.strerror or error}") from error


def _existing_folder(path: Path) -> Path:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ExportError(f"cannot write {path}: folder {folder} does not exist")
    return folder


@contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` if the block succeeds.

    The temporary name keeps the final suffix because some writers (VTK) pick the format from it.
    """
    path = Path(path)
    folder = _existing_folder(path)
    try:
        handle, temp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".part{path.suffix}", dir=folder)
        os.close(handle)
        os.chmod(temp_name, 0o666 & ~_UMASK)
    except OSError as error:
        raise ExportError(f"cannot write {path}: {error.strerror or error}") from error
    temp = Path(temp_name)
    try:
        yield temp
        os.replace(temp, path)
    except OSError as error:
        temp.unlink(missing_ok=True)
        raise ExportError(f"cannot write {path}: {error.strerror or error}") from error
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
