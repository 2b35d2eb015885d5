"""Rater packages: the study copied for raters on other computers, and their votes brought back.

A package is one file, a study database of its own: the study's definition, faces, model and
checkpoint record, plus a package id, the rater slot it was made for and the fingerprint of
the study it came from. ``python main.py rate PACKAGE`` works on it exactly as on a study, with
the same durability (every vote committed before the next face). ``merge_package`` refuses a
package of another study or one whose faces were changed (the fingerprint says both), then
copies its votes into the study in one transaction: all of a package or nothing, and a package
merged again adds only what is new. A vote whose rater ID the rater window would refuse (empty,
padded, a line break) or that was cast on another model refuses the package. A ``-wal`` file left
beside a package by an older version's session is read with it, and the merge says so.
"""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path

from app.atomic_files import create_folder
from app.errors import FaceExplorerError
from app.model.provenance import SHORT_DIGEST
from app.study.database import MergeResult, PackageRecord, RatingsDatabase, Vote
from app.study.definition import normalise_rater_id


def slot_names(count: int) -> list[str]:
    """rater-01 … rater-NN: names that sort in order and say what the file is for."""
    width = max(2, len(str(count)))
    return [f"rater-{index:0{width}d}" for index in range(1, count + 1)]


def export_packages(study: RatingsDatabase, folder: str | Path, count: int | None = None) -> list[Path]:
    """One package file per rater slot in ``folder`` (``count``, else the study's rater_slots)."""
    if study.package is not None:
        raise FaceExplorerError(f"{study.path} is itself a rater package; make packages from the study it came from")
    count = study.definition.rater_slots if count is None else count
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise FaceExplorerError(f"the number of rater packages must be a positive integer (got {count!r})")
    faces = list(study.faces().values())  # reading them checks the study's own fingerprint
    fingerprint = study.actual_fingerprint()
    folder = Path(folder)
    targets = [(slot, folder / f"{slot}.db") for slot in slot_names(count)]
    existing = [str(path) for _, path in targets if path.exists()]
    if existing:
        raise FaceExplorerError(
            f"{existing[0]} already exists ({len(existing)} of the {count} package files do); "
            "packages are never overwritten: choose an empty folder"
        )
    create_folder(folder)
    written = []
    for slot, path in targets:
        package = PackageRecord(uuid.uuid4().hex, slot, fingerprint, study.path.name)
        RatingsDatabase.create(path, study.definition, faces, study.model, study.checkpoints, package).close()
        written.append(path)
    return written


def merge_package(study: RatingsDatabase, path: str | Path) -> MergeResult:
    """Merge the votes of the package at ``path`` into ``study`` (see the module docstring)."""
    if study.package is not None:
        raise FaceExplorerError(
            f"{study.path} is a rater package, not a study: merge into the study it was exported from"
        )
    if Path(path).resolve() == study.path.resolve():
        raise FaceExplorerError(f"{path} is the study itself, not a package of it")
    wal = Path(f"{path}-wal")
    wal_left_behind = wal if wal.is_file() and wal.stat().st_size > 0 else None  # opening reads it in
    with RatingsDatabase.open(path) as package:
        if package.package is None:
            raise FaceExplorerError(f"{path}: not a rater package (a study database; make packages with rate-package)")
        package.faces()  # refuses faces altered after the export
        fingerprint = study.actual_fingerprint()
        if package.package.fingerprint != fingerprint:
            raise FaceExplorerError(
                f"{path}: a package of another study ('{package.definition.name}' "
                f"from {package.package.exported_from}, fingerprint {package.package.fingerprint[:SHORT_DIGEST]}), "
                f"not of {study.path} (fingerprint {fingerprint[:SHORT_DIGEST]}); nothing was merged"
            )
        if package.model != study.model:
            raise FaceExplorerError(
                f"{path}: made on {package.model.describe()}, the study on {study.model.describe()}; nothing was merged"
            )
        votes = package.votes(include_undone=True)
        for vote in votes:
            _check_vote(path, vote, study)
        result = study.merge_votes(package.package, votes)
    return dataclasses.replace(result, wal_left_behind=wal_left_behind)


def _check_vote(path: str | Path, vote: Vote, study: RatingsDatabase) -> None:
    """Refuse a vote the rater window could not have cast: with a rater ID it refuses, or on another model."""
    problem = None
    if not isinstance(vote.rater, str):
        problem = "its rater ID is not text"
    else:
        try:
            if normalise_rater_id(vote.rater) != vote.rater:
                problem = f"its rater ID {vote.rater!r} has spaces around it"
        except FaceExplorerError as refusal:
            problem = f"its rater ID {vote.rater!r} is refused by the rater window ({refusal})"
    if problem is None and study.model.digest is not None and vote.model_identity != study.model.digest:
        problem = f"it was cast on another face model ({str(vote.model_identity)[:SHORT_DIGEST]!r})"
    if problem is not None:
        raise FaceExplorerError(f"{path}: vote {vote.vote_id} cannot be merged: {problem}; nothing was merged")
