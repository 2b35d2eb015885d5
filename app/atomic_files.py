"""Write a file completely or not at all, durably, and say so when the disk is full.

Every file the product writes (meshes, images, coefficient files, checkpoints, dataset shards)
goes through ``atomic_output``: the writer fills a temporary file in the destination folder and
only a successful write is renamed over the final name, so an interrupted or failed write never
leaves something that looks complete, and never destroys the previous version. The file is
flushed to the disk before the rename and the folder after it: without that, a power loss can
leave the new name pointing at an empty file (the rename reaches the disk before the data).
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from app.errors import ExportError

# mkstemp creates files readable by the owner only; written files should get the usual
# permissions instead, so read the process umask once.
_UMASK = os.umask(0)
os.umask(_UMASK)


def write_error(path: str | os.PathLike[str], error: OSError) -> ExportError:
    """The one-line error for an OS failure while writing ``path``; a full disk is named as such."""
    if error.errno == errno.ENOSPC:
        return ExportError(f"disk full while writing {path}")
    return ExportError(f"cannot write {path}: {error.strerror or error}")


def create_folder(folder: str | os.PathLike[str]) -> Path:
    """``folder`` and its parents, made if missing; a failure is one ExportError (a full disk named)."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise write_error(folder, error) from error
    return folder


def ensure_writable(path: str | os.PathLike[str]) -> None:
    """Fail now, with the message a later write would give, if ``path`` cannot be written.

    For long jobs (training) that would otherwise find out only when they first save.
    """
    path = Path(path)
    try:
        with tempfile.TemporaryFile(dir=_existing_folder(path)):
            pass
    except OSError as error:
        raise write_error(path, error) from error


def _existing_folder(path: Path) -> Path:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ExportError(f"cannot write {path}: folder {folder} does not exist")
    return folder


@contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; if the block succeeds, sync it and rename it to ``path``.

    The temporary name keeps the final suffix because some writers pick the format from it.
    """
    path = Path(path)
    folder = _existing_folder(path)
    try:
        handle, temp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".part{path.suffix}", dir=folder)
        os.close(handle)
        os.chmod(temp_name, 0o666 & ~_UMASK)
    except OSError as error:
        raise write_error(path, error) from error
    temp = Path(temp_name)
    try:
        yield temp
        _sync(temp, os.O_RDWR)
        os.replace(temp, path)
        if os.name != "nt":  # Windows cannot open a folder; NTFS journals the rename itself
            _sync(folder, os.O_RDONLY)
    except OSError as error:
        temp.unlink(missing_ok=True)
        raise write_error(path, error) from error
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_atomically(path: str | os.PathLike[str], parts: Sequence[bytes | memoryview]) -> Path:
    """Write ``parts`` one after the other as the file ``path``, through ``atomic_output``.

    The file's size on disk is checked against the bytes handed over, so a writer or file
    system that drops data without an error cannot leave a short file under the final name.
    """
    path = Path(path)
    expected = sum(memoryview(part).nbytes for part in parts)
    with atomic_output(path) as temp:
        with open(temp, "wb") as handle:
            for part in parts:
                handle.write(part)
        written = temp.stat().st_size
        if written != expected:
            raise ExportError(f"cannot write {path}: {written:,} of {expected:,} bytes reached the disk")
    return path


def _sync(path: Path, mode: int) -> None:
    descriptor = os.open(path, mode)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
