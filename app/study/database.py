"""The study database: the study's faces and a durable log of every rater's votes (SQLite).

One file per study holds the definition, the generated faces and one row per vote. It is meant to
survive anything a rating session can go through:
- every vote is its own transaction, committed (``synchronous = FULL``; a package's in the file itself,
  see ``journal_mode``) before the next face is shown, so a killed session loses at most that vote;
- several raters (processes) can vote into the same file at once: writers take the lock with
  ``BEGIN IMMEDIATE`` and wait for each other (busy timeout, then retries) instead of failing;
- an undo never deletes anything: the vote is marked undone, so the log stays a full history;
- a file that is not a study database is refused with a clear error, and opening never creates a file;
- a full disk or a failing drive is reported as such, and a corrupted row as one error naming the row.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import numpy as np

from app import __version__
from app.atomic_files import atomic_output
from app.errors import FaceExplorerError
from app.model.provenance import ModelProvenance, require_same_model
from app.study.definition import StudyDefinition, StudyFace, normalise_rater_id
from app.study.fingerprint import study_fingerprint

VOTES: tuple[str, ...] = ("accept", "reject", "unsure")
APPLICATION_ID = 0x464D4552  # "FMER" in the SQLite header: marks the file as ours
SCHEMA_VERSION = 1
SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_S = 10.0  # SQLite's own wait for a lock held by another rater's process
RETRY_FOR_S = 60.0  # then keep retrying: a vote is never dropped because someone else was writing
_NEARLY_FULL_BYTES = 1 << 20  # less free space than this makes an SQLite I/O error a full disk
CSV_COLUMNS: tuple[str, ...] = (
    "vote_id",
    "study",
    "rater",
    "face_id",
    "condition",
    "vote",
    "shown_at",
    "voted_at",
    "decision_ms",
    "app_version",
    "model_identity",
    "undone_at",
)

_SCHEMA = """
CREATE TABLE study (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE faces (
    face_id INTEGER PRIMARY KEY,
    condition TEXT NOT NULL,
    sample INTEGER NOT NULL,
    source TEXT NOT NULL,
    alpha_id TEXT NOT NULL,   -- JSON list: exact float round-trip, readable with any SQLite tool
    alpha_exp TEXT NOT NULL
);
CREATE TABLE votes (
    vote_id INTEGER PRIMARY KEY AUTOINCREMENT,
    study TEXT NOT NULL,
    rater TEXT NOT NULL,
    face_id INTEGER NOT NULL REFERENCES faces(face_id),
    condition TEXT NOT NULL,
    vote TEXT NOT NULL CHECK (vote IN ('accept', 'reject', 'unsure')),
    shown_at TEXT NOT NULL,
    voted_at TEXT NOT NULL,
    decision_ms INTEGER NOT NULL CHECK (decision_ms >= 0),
    app_version TEXT NOT NULL,
    model_identity TEXT NOT NULL,
    undone_at TEXT
);
-- One standing vote per rater and face, whichever process tries to cast a second one.
CREATE UNIQUE INDEX one_standing_vote ON votes(rater, face_id) WHERE undone_at IS NULL;
"""
# Where merged votes came from: a package's vote is merged once, however often the package is.
# Studies made before rater packages get these tables at their first merge.
_MERGE_SCHEMA = """
CREATE TABLE IF NOT EXISTS merged_votes (
    package_id TEXT NOT NULL,
    package_vote_id INTEGER NOT NULL,
    vote_id INTEGER NOT NULL REFERENCES votes(vote_id),
    PRIMARY KEY (package_id, package_vote_id)
);
CREATE TABLE IF NOT EXISTS merges (
    merge_id INTEGER PRIMARY KEY AUTOINCREMENT,
    package_id TEXT NOT NULL,
    slot TEXT NOT NULL,
    merged_at TEXT NOT NULL,
    added INTEGER NOT NULL,
    undone INTEGER NOT NULL
);
"""

T = TypeVar("T")


@dataclass(frozen=True)
class Vote:
    vote_id: int
    study: str
    rater: str
    face_id: int
    condition: str
    vote: str
    shown_at: str
    voted_at: str
    decision_ms: int
    app_version: str
    model_identity: str  # digest of the model the rater's session had loaded
    undone_at: str | None


@dataclass(frozen=True)
class PackageRecord:
    """What makes a study file a rater package: its own id, the slot it was made for, its study's fingerprint."""

    package_id: str
    slot: str
    fingerprint: str
    exported_from: str  # the study file's name when the package was made, for messages only

    def to_record(self) -> dict[str, str]:
        return {
            "package_id": self.package_id,
            "package_slot": self.slot,
            "package_fingerprint": self.fingerprint,
            "package_exported_from": self.exported_from,
        }


@dataclass(frozen=True)
class MergeResult:
    """What one merge of a package changed, per rater: votes added and votes marked undone."""

    package: PackageRecord
    added: dict[str, int]
    undone: dict[str, int]
    already_merged: int
    wal_left_behind: Path | None = None  # a PACKAGE-wal file that lay beside the package and was read


def journal_mode(package: bool) -> str:
    """WAL for a study (raters in several processes read while one writes), a rollback journal for a package.

    In WAL mode a committed vote may live only in ``FILE-db-wal`` until a checkpoint; a rater who
    sends back just the package file would lose it. With ``DELETE`` every commit is in the file
    itself, and switching an older package to it checkpoints what its -wal file holds.
    """
    return "DELETE" if package else "WAL"


def utc_now() -> str:
    """Wall-clock time as ISO 8601 UTC with milliseconds (what the log stores)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class RatingsDatabase:
    """An open study database. Use ``create`` for a new study and ``open`` for an existing one."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._connection = connection
        meta = dict(self._read("SELECT key, value FROM study"))
        try:
            self.definition = StudyDefinition.from_json(meta["definition"], f"{path} (study definition)")
            self.study_key = meta["study_key"]
            self.checkpoints: dict[str, str] = json.loads(meta["checkpoints"])
        except (KeyError, TypeError, ValueError, RecursionError) as failure:
            raise FaceExplorerError(f"{path}: the study description inside is incomplete ({failure})") from None
        if not (isinstance(self.checkpoints, dict) and all(isinstance(v, str) for v in self.checkpoints.values())):
            raise FaceExplorerError(f"{path}: the study's checkpoint record is not a table of digests")
        self.model = ModelProvenance.from_record(meta, str(path))
        self.fingerprint: str | None = meta.get("fingerprint")  # None in studies made before fingerprints
        self.package = (
            PackageRecord(
                meta["package_id"],
                meta["package_slot"],
                meta["package_fingerprint"],
                meta.get("package_exported_from", "?"),
            )
            if "package_id" in meta and "package_slot" in meta and "package_fingerprint" in meta
            else None
        )
        self._faces: dict[int, StudyFace] | None = None

    # ---- creating and opening ------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        path: str | Path,
        definition: StudyDefinition,
        faces: list[StudyFace],
        model: ModelProvenance,
        checkpoints: dict[str, str] | None = None,
        package: PackageRecord | None = None,
    ) -> RatingsDatabase:
        """Write a new study database with its faces, made on ``model``; an existing file is never replaced.

        With ``package`` the file is a rater package of the study whose fingerprint it records.
        """
        path = Path(path)
        if path.exists():
            raise FaceExplorerError(f"{path} already exists; a study database is never overwritten (choose a new name)")
        definition_json = definition.to_json()
        study_key = f"{definition.name} [{hashlib.sha256(definition_json.encode()).hexdigest()[:12]}]"
        with atomic_output(path) as temp:
            connection = sqlite3.connect(temp, isolation_level=None)
            try:
                connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                connection.executescript(_SCHEMA + _MERGE_SCHEMA)
                connection.execute("BEGIN")
                connection.executemany(
                    "INSERT INTO study VALUES (?, ?)",
                    [
                        ("definition", definition_json),
                        ("study_key", study_key),
                        *model.to_record().items(),
                        ("checkpoints", json.dumps(checkpoints or {})),
                        ("created_at", utc_now()),
                        ("app_version", __version__),
                        ("fingerprint", study_fingerprint(definition, faces)),
                        *(package.to_record().items() if package else ()),
                    ],
                )
                connection.executemany(
                    "INSERT INTO faces VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (
                            face.face_id,
                            face.condition,
                            face.sample,
                            face.source,
                            json.dumps(np.asarray(face.alpha_id, dtype=float).tolist()),
                            json.dumps(np.asarray(face.alpha_exp, dtype=float).tolist()),
                        )
                        for face in faces
                    ],
                )
                connection.execute("COMMIT")
                # WAL is a property of the file; closing checkpoints it, so no -wal file is left behind.
                connection.execute(f"PRAGMA journal_mode = {journal_mode(package is not None)}")
            except sqlite3.Error as failure:
                raise FaceExplorerError(
                    f"{path}: the study could not be written ({_explain(failure, path.parent)}); nothing was created"
                ) from None
            finally:
                connection.close()
            if path.exists():
                raise FaceExplorerError(f"{path} appeared while the study was being written; it was left untouched")
        return cls.open(path)

    @classmethod
    def open(cls, path: str | Path) -> RatingsDatabase:
        """Open an existing study database; anything else is a FaceExplorerError, never a new file."""
        path = Path(path)
        if not path.exists():
            raise FaceExplorerError(f"{path}: no such study database (make one with `python main.py rate-study`)")
        if not path.is_file():
            raise FaceExplorerError(f"{path}: is not a file")
        try:
            with open(path, "rb") as handle:
                header = handle.read(len(SQLITE_HEADER))
        except OSError as failure:
            raise FaceExplorerError(f"{path}: cannot read it ({failure.strerror})") from failure
        if header != SQLITE_HEADER:
            # SQLite would happily turn an empty file into a fresh database: refuse before it can.
            raise FaceExplorerError(
                f"{path}: not a study database (not an SQLite file{'; it is empty' if not header else ''})"
            )
        try:
            connection = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None
            )
        except sqlite3.Error as failure:
            raise FaceExplorerError(f"{path}: cannot open the study database ({failure})") from failure
        try:
            (application_id,) = connection.execute("PRAGMA application_id").fetchone()
            if application_id != APPLICATION_ID:
                raise FaceExplorerError(f"{path}: an SQLite file, but not a Face Manifold Explorer study database")
            (version,) = connection.execute("PRAGMA user_version").fetchone()
            if version != SCHEMA_VERSION:
                raise FaceExplorerError(
                    f"{path}: study database format {version}; this version reads format {SCHEMA_VERSION}"
                )
            (check,) = connection.execute("PRAGMA quick_check").fetchone()
            if check != "ok":
                raise FaceExplorerError(f"{path}: the study database is damaged ({check})")
            (is_package,) = connection.execute("SELECT count(*) FROM study WHERE key = 'package_id'").fetchone()
            connection.execute(f"PRAGMA journal_mode = {journal_mode(bool(is_package))}")
            connection.execute("PRAGMA synchronous = FULL")
            return cls(path, connection)
        except sqlite3.DatabaseError as failure:
            connection.close()
            if _is_damage(failure):
                raise FaceExplorerError(f"{path}: the study database is damaged or unreadable ({failure})") from None
            raise FaceExplorerError(
                f"{path}: cannot open the study database ({_explain(failure, path.parent)}); the file was not changed"
            ) from None
        except FaceExplorerError:
            connection.close()
            raise

    def close(self) -> None:
        self._connection.close()

    def require_model(self, loaded: ModelProvenance) -> None:
        """Refuse to show this study's faces on a model they were not made on."""
        require_same_model(self.model, loaded, f"the study {self.path}")

    def __enter__(self) -> RatingsDatabase:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ---- faces ------------------------------------------------------------------------------------
    def faces(self) -> dict[int, StudyFace]:
        """All faces by id (read once: they never change after creation)."""
        if self._faces is None:
            rows = self._read(
                "SELECT face_id, condition, sample, source, alpha_id, alpha_exp FROM faces ORDER BY face_id"
            )
            faces = {row[0]: self._face_from_row(*row) for row in rows}
            for name in ("alpha_id", "alpha_exp"):
                lengths = Counter(getattr(face, name).size for face in faces.values())
                usual = lengths.most_common(1)[0][0] if lengths else 0
                odd = next((face for face in faces.values() if getattr(face, name).size != usual), None)
                if odd is not None:
                    raise FaceExplorerError(
                        f"{self.path}: face {odd.face_id} has {getattr(odd, name).size} {name} values, "
                        f"the study's other faces have {usual}"
                    )
            for face in faces.values():
                if face.repeats is not None and (face.repeats not in faces or faces[face.repeats].repeats is not None):
                    raise FaceExplorerError(
                        f"{self.path}: face {face.face_id} repeats face {face.repeats}, "
                        "which is not a face of the study's conditions"
                    )
            self._check_fingerprint(faces)
            self._faces = faces
        return self._faces

    def _check_fingerprint(self, faces: dict[int, StudyFace]) -> None:
        """Refuse faces that are not the ones the study (or the package's study) was made with."""
        actual = study_fingerprint(self.definition, faces.values())
        if self.fingerprint is not None and actual != self.fingerprint:
            changed = "after the package was exported" if self.package else "after the study was made"
            raise FaceExplorerError(
                f"{self.path}: the faces were altered {changed} (they no longer match the "
                "study's fingerprint); its votes cannot be trusted or merged"
            )
        if self.package is not None and actual != self.package.fingerprint:
            raise FaceExplorerError(
                f"{self.path}: the faces were altered after the package was exported "
                "(they no longer match the fingerprint of the study it was made from)"
            )

    def actual_fingerprint(self) -> str:
        """The fingerprint of the faces as they are in the file now (verified against the recorded one)."""
        return study_fingerprint(self.definition, self.faces().values())

    def repeats(self) -> dict[int, int]:
        """Repeated face id → the id of the face it shows again."""
        return {face.face_id: face.repeats for face in self.faces().values() if face.repeats is not None}

    def _face_from_row(
        self, face_id: int, condition: str, sample: int, source: str, alpha_id: str, alpha_exp: str
    ) -> StudyFace:
        if condition not in self.definition.face_groups:
            raise FaceExplorerError(
                f"{self.path}: face {face_id} has condition {condition!r}, which the study does not compare"
            )
        vectors = []
        for name, text in (("alpha_id", alpha_id), ("alpha_exp", alpha_exp)):
            try:
                values = np.array(json.loads(text), dtype=np.float64)
            except (TypeError, ValueError, OverflowError, RecursionError):  # JSONDecodeError is a ValueError
                raise FaceExplorerError(
                    f"{self.path}: face {face_id} has corrupt {name} (not a JSON list of numbers)"
                ) from None
            if values.ndim != 1 or not values.size:
                raise FaceExplorerError(f"{self.path}: face {face_id} has corrupt {name} (not a flat list of numbers)")
            if not np.all(np.isfinite(values)):
                raise FaceExplorerError(f"{self.path}: face {face_id} has NaN or infinite values in {name}")
            vectors.append(values)
        return StudyFace(face_id, condition, sample, source, *vectors)

    def face(self, face_id: int) -> StudyFace:
        try:
            return self.faces()[face_id]
        except KeyError:
            raise FaceExplorerError(
                f"{self.path}: no face with id {face_id} (ids are 1..{len(self.faces())})"
            ) from None

    # ---- votes ------------------------------------------------------------------------------------
    def record_vote(
        self,
        rater: str,
        face_id: int,
        vote: str,
        shown_at: str,
        voted_at: str,
        decision_ms: int,
        model_digest: str,
    ) -> Vote:
        """Append one vote, cast on the model with ``model_digest``, and commit it durably before returning."""
        rater = normalise_rater_id(rater)
        if vote not in VOTES:
            raise FaceExplorerError(f"unknown vote '{vote}' (use {', '.join(VOTES)})")
        if vote == "unsure" and not self.definition.allow_unsure:
            raise FaceExplorerError(f"study '{self.definition.name}' does not allow 'unsure' votes")
        face = self.face(face_id)
        row = (
            self.study_key,
            rater,
            face_id,
            face.condition,
            vote,
            shown_at,
            voted_at,
            max(0, int(decision_ms)),
            __version__,
            model_digest,
        )

        def insert(connection: sqlite3.Connection) -> int:
            cursor = connection.execute(
                "INSERT INTO votes (study, rater, face_id, condition, vote, shown_at, voted_at, decision_ms, "
                "app_version, model_identity) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            vote_id = cursor.lastrowid
            assert vote_id is not None  # set by every INSERT
            return vote_id

        try:
            vote_id = self._write(insert)
        except sqlite3.IntegrityError:
            raise FaceExplorerError(
                f"rater '{rater}' has already voted on face {face_id} (is a second session open for this rater?)"
            ) from None
        return Vote(vote_id, *row, None)

    def undo_last_vote(self, rater: str) -> Vote | None:
        """Mark the rater's latest standing vote as undone; None when there is nothing to undo."""
        rater = normalise_rater_id(rater)

        def undo(connection: sqlite3.Connection) -> Vote | None:
            row = connection.execute(
                f"SELECT {', '.join(CSV_COLUMNS)} FROM votes WHERE rater = ? AND undone_at IS NULL "
                "ORDER BY vote_id DESC LIMIT 1",
                (rater,),
            ).fetchone()
            if row is None:
                return None
            undone_at = utc_now()
            connection.execute("UPDATE votes SET undone_at = ? WHERE vote_id = ?", (undone_at, row[0]))
            return replace(Vote(*row), undone_at=undone_at)

        return self._write(undo)

    def votes(self, rater: str | None = None, include_undone: bool = False) -> list[Vote]:
        """Votes in the order they were cast; by default only the standing ones."""
        where, parameters = [], []
        if not include_undone:
            where.append("undone_at IS NULL")
        if rater is not None:
            where.append("rater = ?")
            parameters.append(normalise_rater_id(rater))
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        rows = self._read(f"SELECT {', '.join(CSV_COLUMNS)} FROM votes{clause} ORDER BY vote_id", tuple(parameters))
        votes = [Vote(*row) for row in rows]
        faces = self.faces()
        for vote in votes:
            face = faces.get(vote.face_id)
            if face is None:
                raise FaceExplorerError(
                    f"{self.path}: vote {vote.vote_id} is for face {vote.face_id}, which the study does not have"
                )
            if vote.condition != face.condition:
                raise FaceExplorerError(
                    f"{self.path}: vote {vote.vote_id} files face {vote.face_id} under "
                    f"'{vote.condition}', but the face belongs to '{face.condition}'"
                )
        return votes

    def export_csv(self, path: str | Path, include_undone: bool = True) -> int:
        """Write the vote log as CSV (atomically); returns the number of rows written."""
        votes = self.votes(include_undone=include_undone)
        with atomic_output(path) as temp, open(temp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(CSV_COLUMNS)
            for vote in votes:
                writer.writerow(
                    [getattr(vote, column) if getattr(vote, column) is not None else "" for column in CSV_COLUMNS]
                )
        return len(votes)

    # ---- rater packages ------------------------------------------------------------------------------
    def merge_votes(self, package: PackageRecord, votes: list[Vote]) -> MergeResult:
        """Bring a package's votes (all of them, undone ones included) into this study, in one transaction.

        A vote merged before is recognised by (package id, its id in the package) and never added
        twice; if the rater has since taken it back in the package, it is marked undone here too.
        Anything that cannot be merged (the same rater voting on the same face in two places)
        rolls the whole package back.
        """
        added: Counter[str] = Counter()
        undone: Counter[str] = Counter()
        seen = 0

        def merge(connection: sqlite3.Connection) -> None:
            nonlocal seen
            added.clear()  # a retried transaction counts from zero
            undone.clear()
            seen = 0
            for statement in _MERGE_SCHEMA.split(";"):
                if statement.strip():
                    connection.execute(statement)
            for vote in votes:
                merged = connection.execute(
                    "SELECT votes.vote_id, votes.undone_at FROM merged_votes JOIN votes USING (vote_id) "
                    "WHERE package_id = ? AND package_vote_id = ?",
                    (package.package_id, vote.vote_id),
                ).fetchone()
                if merged is None:
                    cursor = connection.execute(
                        "INSERT INTO votes (study, rater, face_id, condition, vote, shown_at, voted_at, decision_ms, "
                        "app_version, model_identity, undone_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            self.study_key,
                            vote.rater,
                            vote.face_id,
                            vote.condition,
                            vote.vote,
                            vote.shown_at,
                            vote.voted_at,
                            vote.decision_ms,
                            vote.app_version,
                            vote.model_identity,
                            vote.undone_at,
                        ),
                    )
                    connection.execute(
                        "INSERT INTO merged_votes VALUES (?, ?, ?)",
                        (package.package_id, vote.vote_id, cursor.lastrowid),
                    )
                    added[vote.rater] += 1
                elif vote.undone_at is not None and merged[1] is None:
                    connection.execute("UPDATE votes SET undone_at = ? WHERE vote_id = ?", (vote.undone_at, merged[0]))
                    undone[vote.rater] += 1
                else:
                    seen += 1
            connection.execute(
                "INSERT INTO merges (package_id, slot, merged_at, added, undone) VALUES (?, ?, ?, ?, ?)",
                (package.package_id, package.slot, utc_now(), sum(added.values()), sum(undone.values())),
            )

        try:
            self._write(merge)
        except sqlite3.IntegrityError:
            raise FaceExplorerError(
                f"{self.path}: a rater of package '{package.slot}' already has a standing vote on one of its faces "
                "in this study (the same rater ID voted in another package or directly in the study); "
                "nothing was merged"
            ) from None
        return MergeResult(package, dict(added), dict(undone), seen)

    # ---- transactions -------------------------------------------------------------------------------
    def _read(self, sql: str, parameters: tuple = ()) -> list[tuple]:
        try:
            return self._retrying(lambda: self._connection.execute(sql, parameters).fetchall())
        except sqlite3.DatabaseError as failure:
            raise FaceExplorerError(
                f"{self.path}: cannot read the study database ({_explain(failure, self.path.parent)})"
            ) from None

    def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` in its own immediate transaction and commit it (durably) before returning."""

        def attempt() -> T:
            with self._transaction() as connection:
                return work(connection)

        try:
            return self._retrying(attempt)
        except sqlite3.IntegrityError:
            raise
        except sqlite3.DatabaseError as failure:
            raise FaceExplorerError(
                f"{self.path}: the vote could not be saved ({_explain(failure, self.path.parent)})"
            ) from None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock up front, so two writers queue instead of deadlocking.
        self._connection.execute("BEGIN IMMEDIATE")
        try:
            yield self._connection
            self._connection.execute("COMMIT")
        except BaseException:
            if self._connection.in_transaction:
                self._connection.execute("ROLLBACK")
            raise

    def _retrying(self, operation: Callable[[], T]) -> T:
        deadline = time.monotonic() + RETRY_FOR_S
        while True:
            try:
                return operation()
            except sqlite3.OperationalError as failure:
                busy = "locked" in str(failure) or "busy" in str(failure)
                if not busy or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)


def _explain(failure: sqlite3.Error, folder: Path) -> str:
    """What an SQLite failure means for the user: a full disk and a failing drive are named as such.

    On a full disk SQLite often says only "disk I/O error" (it cannot create its shared-memory
    file), so an I/O error is checked against the free space where the file lives.
    """
    name = getattr(failure, "sqlite_errorname", "") or ""
    text = str(failure)
    if name == "SQLITE_FULL" or "disk is full" in text:
        return "the disk is full"
    if name.startswith("SQLITE_IOERR") or "disk I/O error" in text:
        try:
            full = shutil.disk_usage(folder).free < _NEARLY_FULL_BYTES
        except OSError:
            full = False
        return f"the disk is full ({text})" if full else f"a disk read or write failed ({text})"
    if name == "SQLITE_READONLY" or "readonly" in text:
        return "the file or its folder is read-only"
    return text


def _is_damage(failure: sqlite3.Error) -> bool:
    """Whether the file itself is bad, as opposed to the disk or the system around it."""
    name = getattr(failure, "sqlite_errorname", "") or ""
    return name in ("SQLITE_NOTADB", "SQLITE_CORRUPT") or any(
        sign in str(failure) for sign in ("file is not a database", "malformed")
    )
