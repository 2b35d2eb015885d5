"""Atomic, durable writes: sync before and after the rename, a full disk named as such, PNG files."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import app.atomic_files
from app.atomic_files import atomic_output, write_atomically
from app.errors import ExportError
from app.png_files import write_png


def test_the_file_is_synced_before_the_rename_and_the_folder_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def recording_fsync(descriptor: int) -> None:
        events.append("sync folder" if stat.S_ISDIR(os.fstat(descriptor).st_mode) else "sync file")
        real_fsync(descriptor)

    def recording_replace(source: Path, target: Path) -> None:
        events.append("rename")
        real_replace(source, target)

    monkeypatch.setattr(app.atomic_files.os, "fsync", recording_fsync)
    monkeypatch.setattr(app.atomic_files.os, "replace", recording_replace)
    write_atomically(tmp_path / "data.bin", [b"abc", memoryview(np.arange(4, dtype=np.int32))])
    assert events == ["sync file", "rename", "sync folder"]
    assert (tmp_path / "data.bin").read_bytes() == b"abc" + np.arange(4, dtype=np.int32).tobytes()


def test_a_full_disk_is_named_and_the_old_file_kept(tmp_path: Path, disk_full_at_sync: list[Path]) -> None:
    target = tmp_path / "table.npz"
    target.write_bytes(b"old")
    with pytest.raises(ExportError, match=f"^disk full while writing {target}$"), atomic_output(target) as temp:
        temp.write_bytes(b"new")
    assert target.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["table.npz"]


def test_other_write_failures_keep_their_reason(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"^cannot write .*: folder .* does not exist$"):
        write_atomically(tmp_path / "missing" / "x.bin", [b"x"])
    (tmp_path / "taken").mkdir()
    with pytest.raises(ExportError, match=r"^cannot write .*taken: Is a directory$"):
        write_atomically(tmp_path / "taken", [b"x"])


def test_a_short_file_on_disk_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer that loses bytes without an error must not leave a short file under the name."""

    class LosingWriter(io.FileIO):
        def write(self, data: bytes) -> int:
            super().write(bytes(data)[:2])
            return len(data)

    monkeypatch.setattr(app.atomic_files, "open", lambda path, mode: LosingWriter(path, "w"), raising=False)
    with pytest.raises(ExportError, match=r"^cannot write .*out\.bin: 2 of 6 bytes reached the disk$"):
        write_atomically(tmp_path / "out.bin", [b"abcdef"])
    assert list(tmp_path.iterdir()) == []


def test_png_round_trip_and_a_name_that_is_not_utf8(tmp_path: Path) -> None:
    pixels = np.random.default_rng(0).integers(0, 256, size=(12, 20, 3), dtype=np.uint8)
    path = write_png(tmp_path / os.fsdecode(b"view-\xe9.png"), pixels)
    with Image.open(path) as image:
        np.testing.assert_array_equal(np.asarray(image), pixels)
    assert os.listdir(os.fsencode(tmp_path)) == [b"view-\xe9.png"]


def test_png_on_a_real_full_disk(small_disk: Path) -> None:
    noise = np.random.default_rng(1).integers(0, 256, size=(800, 800, 3), dtype=np.uint8)  # 1.9 MB, incompressible
    with pytest.raises(ExportError, match=r"^disk full while writing"):
        write_png(small_disk / "big.png", noise)
    assert list(small_disk.iterdir()) == []
