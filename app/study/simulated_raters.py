"""Scripted raters: pilot a study's whole pipeline (packages, rating, merge, report) without people.

A scripted rater judges a face by its oddness (``face_oddness``): how far its mesh moves from the mean
face, in units of real faces. That is a stand-in for a person, good for checking that attention checks
catch careless raters and that the report's numbers move the right way, not for predicting what people
will say about a face. An ``attentive`` rater rejects a face whose oddness, plus a little noise, is above
its threshold; a ``strict`` one has a low threshold, so it also rejects some ordinary faces; a ``careless``
one ignores the face and accepts most of them, quickly. Votes go through ``RatingSession`` like a
person's, so they are committed the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.model.fitted_params import FittedParameters
from app.model.morphable_model import MorphableModel
from app.model.provenance import ModelProvenance
from app.study.database import RatingsDatabase
from app.study.definition import StudyFace
from app.study.session import RatingSession

STYLES: tuple[str, ...] = ("attentive", "strict", "careless")
CARELESS_ACCEPTS = 0.85


@dataclass(frozen=True)
class ScriptedRater:
    name: str
    style: str
    threshold: float  # oddness above which an attentive or strict rater rejects
    noise: float  # standard deviation of the rater's judgement noise, in oddness units
    seconds_per_face: float


def face_oddness(
    model: MorphableModel, corpus: FittedParameters, faces: dict[int, StudyFace], reference_faces: int = 300
) -> dict[int, float]:
    """Face id → oddness, measured against ``reference_faces`` corpus faces.

    Oddness is the root-mean-square vertex displacement from the mean face of the face's identity part
    and of its expression part, each in units of the median displacement of real faces (the clean
    corpus), the larger of the two. Real faces score about 1 (99 % of real expressions stay under
    4.5), the networks' outputs about the same, raw uniform expressions at the paper's r = 15 about 8
    and catch faces at r = 30 about 14, with a wide spread.
    """
    rows = np.random.default_rng(0).choice(len(corpus), size=min(reference_faces, len(corpus)), replace=False)
    unit_id = float(np.median(_displacement(model, corpus.shape[rows], None)))
    unit_exp = float(np.median(_displacement(model, None, corpus.expression[rows])))
    ids = sorted(faces)
    by_id = _displacement(model, np.array([faces[i].alpha_id for i in ids]), None) / unit_id
    by_exp = _displacement(model, None, np.array([faces[i].alpha_exp for i in ids])) / unit_exp
    return dict(zip(ids, np.maximum(by_id, by_exp).tolist(), strict=True))


def _displacement(
    model: MorphableModel, alpha_id: np.ndarray | None, alpha_exp: np.ndarray | None, batch: int = 64
) -> np.ndarray:
    """RMS distance of each face's vertices from the mean face's (the other part at the mean)."""
    given = alpha_id if alpha_id is not None else alpha_exp
    if given is None:
        raise ValueError("give the identity or the expression coefficients, or both")
    count = len(given)
    alpha_id = np.zeros((count, model.n_id)) if alpha_id is None else alpha_id
    alpha_exp = np.zeros((count, model.n_exp)) if alpha_exp is None else alpha_exp
    mean = model.mean.reshape(-1, 3)
    result = []
    for start in range(0, count, batch):
        vertices = model.synthesize(alpha_id[start : start + batch], alpha_exp[start : start + batch]).reshape(
            -1, len(mean), 3
        )
        result.append(np.sqrt(np.mean(np.sum((vertices - mean) ** 2, axis=-1), axis=1)))
    return np.concatenate(result)


def scripted_panel(count: int, careless: int, strict: int, seed: int) -> list[ScriptedRater]:
    """``count`` raters (careless ones first, then strict, then attentive) with seeded individual thresholds."""
    if careless + strict > count:
        raise ValueError(f"{careless} careless + {strict} strict raters are more than {count}")
    rng = np.random.default_rng(seed)
    panel = []
    for index in range(count):
        style = "careless" if index < careless else "strict" if index < careless + strict else "attentive"
        threshold = {"careless": np.inf, "strict": rng.uniform(2.0, 3.0), "attentive": rng.uniform(3.5, 5.0)}[style]
        panel.append(
            ScriptedRater(
                f"sim-{index + 1:02d}-{style}",
                style,
                float(threshold),
                float(rng.uniform(0.1, 0.4)),
                float(rng.uniform(0.4, 0.8) if style == "careless" else rng.uniform(1.5, 4.0)),
            )
        )
    return panel


def rate_as(
    rater: ScriptedRater,
    database: RatingsDatabase,
    model: ModelProvenance,
    oddness: dict[int, float],
    rng: np.random.Generator,
) -> int:
    """Judge every face ``rater`` has not judged yet in ``database``; returns the number of votes cast."""
    clock = _SimulatedClock()
    session = RatingSession(database, rater.name, model, clock=clock)
    cast = 0
    while not session.finished:
        face = session.current
        assert face is not None  # an unfinished session shows a face
        choice, seconds = judge(rater, oddness[face.face_id], rng)
        clock.now += seconds
        session.vote(choice)
        cast += 1
    return cast


def judge(rater: ScriptedRater, oddness: float, rng: np.random.Generator) -> tuple[str, float]:
    """One scripted judgement of a face of this ``oddness``: the vote and the seconds it took."""
    seconds = rater.seconds_per_face * rng.uniform(0.5, 1.5)
    if rater.style == "careless":
        reject = rng.random() > CARELESS_ACCEPTS
    else:
        reject = oddness + rng.normal(0.0, rater.noise) > rater.threshold
    return ("reject" if reject else "accept"), seconds


class _SimulatedClock:
    """Decision times from the script, not from the wall clock, so a simulated study is reproducible."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now
