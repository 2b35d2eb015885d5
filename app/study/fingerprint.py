"""A study's fingerprint: the sha256 of what raters are shown, so a copy can prove it is the same study.

Rater packages travel to other computers and come back; votes may only be merged into the
study whose faces were judged. The fingerprint covers the study definition and every face
exactly (id, group, sample, source and the float64 bytes of both coefficient vectors), and
nothing that changes while raters work (votes, timestamps, paths). Two studies with the same
fingerprint showed the same faces under the same ids. The face model is checked on its own
(its digest is recorded beside the faces and compared wherever faces are shown or merged).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np

from app.study.definition import StudyDefinition, StudyFace


def study_fingerprint(definition: StudyDefinition, faces: Iterable[StudyFace]) -> str:
    digest = hashlib.sha256()
    digest.update(definition.to_json().encode())
    for face in sorted(faces, key=lambda face: face.face_id):
        digest.update(f"{face.face_id}\0{face.condition}\0{face.sample}\0{face.source}\0".encode())
        for vector in (face.alpha_id, face.alpha_exp):
            values = np.ascontiguousarray(vector, dtype="<f8")
            digest.update(len(values).to_bytes(4, "little"))
            digest.update(values.tobytes())
    return digest.hexdigest()
