"""Opaque names for a study's faces in the web rater: its pictures and its votes files use them.

The web rater's folder is public (raters open it, anyone may read its script and file names), so
a face must not be named by anything that hints at its condition. Each face gets the first 12 hex
digits of an HMAC of its id, keyed by the study's definition (which holds the seed) and
fingerprint. The folder holds neither, so the names cannot be traced back to face ids from it;
the study database can, which is how rate-merge reads a votes file.
"""

from __future__ import annotations

import hashlib
import hmac

from app.errors import FaceExplorerError
from app.study.database import RatingsDatabase

OPAQUE_ID_LENGTH = 12  # hex digits: 48 bits, so a collision among a study's faces is practically impossible


def opaque_face_ids(study: RatingsDatabase) -> dict[int, str]:
    """Face id → its opaque name in the web rater (the same for every web folder of the study)."""
    key = hashlib.sha256(
        b"face-manifold-explorer web rater\0"
        + study.definition.to_json().encode()
        + b"\0"
        + study.actual_fingerprint().encode()
    ).digest()
    names = {
        face_id: hmac.new(key, str(face_id).encode(), hashlib.sha256).hexdigest()[:OPAQUE_ID_LENGTH]
        for face_id in study.faces()
    }
    if len(set(names.values())) != len(names):
        raise FaceExplorerError(f"{study.path}: two faces got the same web name; this study cannot be put online")
    return names
