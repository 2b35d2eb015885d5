"""Full disks for the tests: a real one-megabyte file system where possible, a simulated one always.

A pytest plugin (conftest.py loads it), so any test can ask for these fixtures by name.
``small_disk`` mounts a tmpfs, which needs root (it skips cleanly elsewhere);
``disk_full_at_sync`` makes the flush before the rename fail with ENOSPC, which is where network
and delayed-allocation file systems report it.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import app.atomic_files

SMALL_DISK_BYTES = 1 << 20


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An empty folder on a file system of SMALL_DISK_BYTES."""
    mount_point = tmp_path / "small_disk"
    mount_point.mkdir()
    if getattr(os, "geteuid", lambda: -1)() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SMALL_DISK_BYTES}", "tmpfs", str(mount_point)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


@pytest.fixture
def disk_full_at_sync(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every atomic write fails with ENOSPC when its file is flushed; lists the paths it failed."""
    failed: list[Path] = []

    def no_space(path: Path, mode: int) -> None:
        failed.append(Path(path))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(app.atomic_files, "_sync", no_space)
    return failed
