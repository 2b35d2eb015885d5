"""The manifest: marks a folder as one of our datasets, records its plan and which shards are done.

A shard is done when the manifest records the sha256 and face count of its .npz and the file
on disk still has that digest (and its meshes and images exist). A file that is merely named
like a shard (empty after a power loss, truncated, or someone else's) is therefore never taken
for a finished one: ``--resume`` makes it again.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from app import __version__
from app.atomic_files import atomic_output
from app.dataset.layout import MANIFEST, face_files, shard_file
from app.dataset.settings import GenerationSettings, Provenance, make_plan, settings_of_plan
from app.errors import FaceExplorerError
from app.json_files import parse_json

DATASET_FORMAT = "face-manifold-dataset/2"
_SHA256 = re.compile(r"[0-9a-f]{64}")
# Packages whose versions can change a dataset's bytes (numbers, meshes, images) or its making.
SOFTWARE = ("numpy", "scipy", "torch", "vtk", "pyvista", "pillow", "dask", "distributed")


@dataclass(frozen=True)
class ShardRecord:
    """A finished shard: its index, how many faces its .npz holds and the sha256 of that file.

    ``face_file_bytes`` is the total size of its meshes, images, maps and labels as written, so a
    truncated one is found without reading them all (None in manifests written before it was kept).
    """

    shard: int
    faces: int
    sha256: str
    face_file_bytes: int | None = None


@dataclass
class Manifest:
    plan: dict[str, Any]
    settings: GenerationSettings
    shards: dict[int, ShardRecord] = field(default_factory=dict)
    complete: bool = False
    last_run: dict[str, Any] | None = None
    software: dict[str, str] = field(default_factory=dict)  # as read; ``write`` records the running ones

    @classmethod
    def new(cls, settings: GenerationSettings, provenance: Provenance) -> Manifest:
        return cls(make_plan(settings, provenance), settings)

    @classmethod
    def read(cls, path: Path) -> Manifest:
        try:
            text = path.read_bytes()
        except OSError as failure:
            raise FaceExplorerError(f"{path}: not a readable dataset manifest ({failure})") from failure
        document = parse_json(text, f"{path} (dataset manifest)")
        if not isinstance(document, dict) or document.get("format") != DATASET_FORMAT:
            found = document.get("format") if isinstance(document, dict) else None
            raise FaceExplorerError(
                f"{path}: not a manifest this version can use (format {found!r}, "
                f"{DATASET_FORMAT!r} expected): generate the dataset into a new folder"
            )
        plan = document.get("plan")
        if not isinstance(plan, dict):
            raise FaceExplorerError(f"{path}: the manifest has no plan")
        settings = settings_of_plan(plan, str(path))
        try:
            records = [ShardRecord(**entry) for entry in document.get("shards", [])]
        except TypeError as failure:
            raise FaceExplorerError(f"{path}: the manifest's shard list is damaged ({failure})") from failure
        for record in records:
            if not (
                isinstance(record.shard, int)
                and 0 <= record.shard < settings.shard_count
                and record.faces == len(settings.shard_rows(record.shard))
                and isinstance(record.sha256, str)
                and _SHA256.fullmatch(record.sha256)
            ):
                raise FaceExplorerError(f"{path}: the manifest's record of shard {record.shard!r} is damaged")
        software = document.get("software")
        return cls(
            plan,
            settings,
            {record.shard: record for record in records},
            document.get("complete") is True,
            document.get("last_run"),
            software if isinstance(software, dict) else {},
        )

    def write(self, folder: Path) -> None:
        document = {
            "format": DATASET_FORMAT,
            "app_version": __version__,
            "updated": datetime.now(UTC).isoformat(timespec="seconds"),
            "software": dict(software_versions()),
            "plan": self.plan,
            "shards": [asdict(self.shards[shard]) for shard in sorted(self.shards)],
            "complete": self.complete,
        }
        if self.last_run is not None:
            document["last_run"] = self.last_run
        with atomic_output(folder / MANIFEST) as temp:
            temp.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")

    def intact_shards(self, folder: Path) -> dict[int, ShardRecord]:
        """The recorded shards whose .npz still has its digest and whose meshes and images exist."""
        return {
            shard: record
            for shard, record in self.shards.items()
            if self.shard_is_intact(folder, self.settings, record)
        }

    @staticmethod
    def shard_is_intact(folder: Path, settings: GenerationSettings, record: ShardRecord) -> bool:
        """True when ``folder`` holds the shard's .npz with the recorded digest and every mesh and image it
        names, none of them empty and, where the record has it, all of them together of the recorded size."""
        if file_digest(folder / shard_file(record.shard)) != record.sha256:
            return False
        sizes = [
            _size(folder / path)
            for face in settings.shard_rows(record.shard)
            for path in face_files(settings, record.shard, face)
        ]
        return all(sizes) and (record.face_file_bytes is None or sum(sizes) == record.face_file_bytes)


@cache  # read once per process: the manifest is rewritten every second during a run
def software_versions() -> dict[str, str]:
    """Python, the platform and the installed version of each package in ``SOFTWARE``."""
    versions = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "face-manifold-explorer": __version__,
    }
    for package in SOFTWARE:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions


def file_digest(path: Path) -> str | None:
    """sha256 of the file's bytes, or None when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def _size(path: Path) -> int:
    """The file's size in bytes; 0 when it is missing."""
    try:
        return path.stat().st_size
    except OSError:
        return 0
