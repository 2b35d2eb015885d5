"""Votes files of the web rater: read one, verify it, and merge its votes into the study.

A votes file (JSON, downloaded by a rater at the end) carries the study's fingerprint, the
rater slot, a random session id of the browser that cast the votes, every vote (undone ones
included, with times and decision times) and a SHA-256 checksum of the rest. ``merge_web_votes``
gives it the guarantees of a desktop package: a file that is not a votes file, was edited or cut
short (the checksum), belongs to another study (the fingerprint) or names faces the study does
not have is refused with one line and nothing merged; votes are merged in one transaction and
recognised by (session, vote number), so merging a file again adds nothing. The checksum shows
edits and truncation, not forgery: anyone can recompute it.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from app.errors import FaceExplorerError
from app.model.provenance import SHORT_DIGEST
from app.study.database import VOTES, MergeResult, PackageRecord, RatingsDatabase, Vote
from app.study.web_ids import opaque_face_ids

FILE_FORMAT = "face-manifold-explorer web votes"
FILE_VERSION = 1
WEB_APP_PREFIX = "web rater "  # a merged web vote's app_version: "web rater face-manifold-explorer 0.1.0"
MAX_FILE_BYTES = 64 << 20
_SLOT = re.compile(r"rater-\d{2,}")
_SESSION = re.compile(r"[0-9a-f]{32}")
_VOTE_KEYS = ("n", "face", "vote", "shown_at", "voted_at", "decision_ms", "undone_at")


def is_web_votes_file(path: str | Path) -> bool:
    """Whether ``path`` looks like a votes file (JSON) rather than a rater package (SQLite)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(64).lstrip().startswith(b"{")
    except OSError:
        return False


def vote_source(vote: Vote) -> str:
    """Where a vote was cast: "web" (merged from a web votes file) or "desktop" (the rater window)."""
    return "web" if vote.app_version.startswith(WEB_APP_PREFIX) else "desktop"


def read_web_votes(study: RatingsDatabase, path: str | Path) -> tuple[PackageRecord, list[Vote]]:
    """The votes file at ``path`` as a package record and its votes (see the module docstring)."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise FaceExplorerError(f"{path}: larger than any votes file; not a web votes file")
        text = path.read_bytes().decode("utf-8")
    except OSError as failure:
        raise FaceExplorerError(f"{path}: cannot read it ({failure.strerror or failure})") from failure
    except UnicodeDecodeError:
        raise FaceExplorerError(f"{path}: not a rater package or a web votes file (not UTF-8 text)") from None
    try:
        content = json.loads(text)
    except json.JSONDecodeError as failure:
        raise FaceExplorerError(
            f"{path}: not complete JSON (cut short or damaged: {failure.msg} at character {failure.pos}); "
            "nothing was merged"
        ) from None
    except (ValueError, RecursionError):  # integers of thousands of digits, nesting deep enough to exhaust the stack
        raise FaceExplorerError(f"{path}: not a rater package or a web votes file") from None
    if not isinstance(content, dict) or content.get("format") != FILE_FORMAT:
        raise FaceExplorerError(f"{path}: not a rater package or a web votes file")
    if content.get("version") != FILE_VERSION:
        raise FaceExplorerError(
            f"{path}: votes file version {content.get('version')!r}; this version reads {FILE_VERSION}"
        )
    checksum = content.pop("checksum", None)
    canonical = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    if checksum != hashlib.sha256(canonical.encode()).hexdigest():
        raise FaceExplorerError(
            f"{path}: the votes file was changed or cut short after it was saved (its checksum does not match); "
            "nothing was merged"
        )
    fingerprint = study.actual_fingerprint()
    if content.get("fingerprint") != fingerprint:
        raise FaceExplorerError(
            f"{path}: votes of another study (fingerprint {str(content.get('fingerprint'))[:SHORT_DIGEST]}), "
            f"not of {study.path} (fingerprint {fingerprint[:SHORT_DIGEST]}); nothing was merged"
        )
    slot, session = content.get("slot"), content.get("session")
    if not isinstance(slot, str) or not _SLOT.fullmatch(slot):
        raise FaceExplorerError(f"{path}: names no rater slot ({slot!r}); nothing was merged")
    if not isinstance(session, str) or not _SESSION.fullmatch(session):
        raise FaceExplorerError(f"{path}: has no valid browser session id; nothing was merged")
    votes = _votes(study, path, slot, str(content.get("made_by")), content.get("votes"))
    return PackageRecord(f"web-{session}", slot, fingerprint, path.name), votes


def _votes(study: RatingsDatabase, path: Path, slot: str, made_by: str, entries: object) -> list[Vote]:
    if not isinstance(entries, list):
        raise FaceExplorerError(f"{path}: has no list of votes; nothing was merged")
    face_of = {name: face_id for face_id, name in opaque_face_ids(study).items()}
    faces = study.faces()
    model_digest = study.model.digest or ""
    votes: list[Vote] = []
    standing: set[int] = set()
    for position, entry in enumerate(entries, start=1):
        where = f"{path}: vote {position}"
        if not isinstance(entry, dict) or tuple(entry) != _VOTE_KEYS:
            raise FaceExplorerError(f"{where} is not a vote ({', '.join(_VOTE_KEYS)}); nothing was merged")
        number, decision_ms, undone_at = entry["n"], entry["decision_ms"], entry["undone_at"]
        if type(number) is not int or number != position:
            raise FaceExplorerError(f"{where} is numbered {number!r}; nothing was merged")
        face_id = face_of.get(entry["face"])
        if face_id is None:
            raise FaceExplorerError(f"{where} is for face {entry['face']!r}, which the study does not have")
        if entry["vote"] not in VOTES or (entry["vote"] == "unsure" and not study.definition.allow_unsure):
            raise FaceExplorerError(f"{where} is {entry['vote']!r}, which the study does not allow")
        if type(decision_ms) is not int or not 0 <= decision_ms < 1 << 63:
            raise FaceExplorerError(f"{where} has decision time {decision_ms!r}; nothing was merged")
        if not all(isinstance(entry[key], str) for key in ("shown_at", "voted_at")) or not (
            undone_at is None or isinstance(undone_at, str)
        ):
            raise FaceExplorerError(f"{where} has a time that is not a text; nothing was merged")
        if undone_at is None:
            if face_id in standing:
                raise FaceExplorerError(f"{where} is a second standing vote on one face; nothing was merged")
            standing.add(face_id)
        votes.append(
            Vote(
                number,
                study.study_key,
                slot,
                face_id,
                faces[face_id].condition,
                entry["vote"],
                entry["shown_at"],
                entry["voted_at"],
                decision_ms,
                WEB_APP_PREFIX + made_by,
                model_digest,
                undone_at,
            )
        )
    return votes


def merge_web_votes(study: RatingsDatabase, path: str | Path) -> MergeResult:
    """Merge the votes file at ``path`` into ``study`` (see the module docstring)."""
    if study.package is not None:
        raise FaceExplorerError(f"{study.path} is a rater package, not a study: merge into the study it came from")
    package, votes = read_web_votes(study, path)
    return study.merge_votes(package, votes)
