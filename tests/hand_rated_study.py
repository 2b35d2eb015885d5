"""A six-face study with 15 votes by three raters, small enough to count every number by hand.

Imported by the statistics and report tests; nothing here is a test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.model.provenance import ModelProvenance
from app.study.database import RatingsDatabase
from app.study.definition import StudyDefinition, StudyFace

MODEL = ModelProvenance("hand model", "12" * 32)

# Faces 1–3 are "uniform-raw", 4–6 "normal". (rater, face, vote, decision ms), in voting order.
VOTES = [
    ("x", 1, "accept", 100),
    ("y", 1, "accept", 1000),
    ("z", 1, "accept", 10),
    ("x", 2, "accept", 200),
    ("y", 2, "reject", 2000),
    ("z", 2, "accept", 20),
    ("x", 3, "reject", 300),
    ("y", 3, "reject", 3000),
    ("z", 3, "unsure", 30),
    ("x", 4, "accept", 400),
    ("y", 4, "accept", 4000),
    ("x", 5, "accept", 500),
    ("y", 5, "accept", 5000),
    ("z", 5, "reject", 99),  # taken back below: undone votes do not count
]


def hand_rated_study(path: Path) -> RatingsDatabase:
    """The study at ``path``, open; face i has alpha_id = i and alpha_exp = -i everywhere."""
    definition = StudyDefinition(name="hand", faces_per_condition=3, conditions=("uniform-raw", "normal"), seed=1)
    faces = [
        StudyFace(
            i,
            "uniform-raw" if i <= 3 else "normal",
            (i - 1) % 3,
            f"face {i}",
            np.full(199, float(i)),
            np.full(29, -float(i)),
        )
        for i in range(1, 7)
    ]
    database = RatingsDatabase.create(path, definition, faces, MODEL)
    for rater, face, vote, ms in VOTES:
        database.record_vote(rater, face, vote, "shown", "voted", ms, MODEL.digest)
    database.undo_last_vote("z")
    database.record_vote("z", 5, "accept", "shown", "voted", 40, MODEL.digest)
    return database
