"""What a study's votes say, as numbers: acceptance per condition, the paper's rule, agreement, raters.

Definitions (only standing votes count; undone ones are history):

- acceptance rate = accept / (accept + reject); "unsure" votes are counted but are not a decision,
  with a 95 % Wilson score interval (good for rates near 0 or 1 and small counts);
- the paper's rule: a face is non-possible if at least one rater rejects it, so the reliability
  of a condition is the share of its judged faces (≥ 1 accept or reject) that no rater rejected;
- Fleiss' kappa over accept/reject, generalised to faces judged by different numbers of raters
  (faces with fewer than two decisions carry no agreement information and are left out); with
  every face judged by the same raters it is the textbook formula.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from app.study.database import RatingsDatabase, Vote
from app.study.definition import StudyFace

Z_95 = 1.959963984540054  # two-sided 95 % standard normal quantile
ALL_CONDITIONS = "all"


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion; (nan, nan) without trials."""
    if trials == 0:
        return math.nan, math.nan
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def fleiss_kappa(counts: np.ndarray) -> float | None:
    """Fleiss' kappa of a (faces, categories) table of vote counts; None when undefined.

    Faces with fewer than two votes are ignored; per-face agreement uses that face's own
    number of raters, and the chance agreement uses the pooled category shares.
    """
    counts = np.asarray(counts, dtype=np.float64)
    raters = counts.sum(axis=1)
    counts, raters = counts[raters >= 2], raters[raters >= 2]
    if len(counts) == 0:
        return None
    agreement = ((counts * (counts - 1)).sum(axis=1) / (raters * (raters - 1))).mean()
    shares = counts.sum(axis=0) / raters.sum()
    chance = float((shares**2).sum())
    if chance >= 1.0:  # every vote in one category: agreement beyond chance is undefined
        return None
    return float((agreement - chance) / (1.0 - chance))


def acceptance_rate(votes: list[Vote]) -> float:
    """accept / (accept + reject) over ``votes``; nan without a decision."""
    accepts, rejects = _decisions(votes)
    return accepts / (accepts + rejects) if accepts + rejects else math.nan


@dataclass(frozen=True)
class ConditionSummary:
    condition: str
    faces: int
    votes: int
    accepts: int
    rejects: int
    unsure: int
    raters: int
    acceptance: float
    acceptance_ci: tuple[float, float]
    judged_faces: int
    never_rejected: int
    paper_rule: float
    paper_rule_ci: tuple[float, float]
    kappa: float | None


@dataclass(frozen=True)
class RaterSummary:
    rater: str
    votes: int
    acceptance: float
    acceptance_by_condition: dict[str, float]
    median_decision_ms: float


@dataclass(frozen=True)
class RejectedFace:
    face_id: int
    condition: str
    source: str
    rejected_by: list[str]
    accepted_by: list[str]
    alpha_id: np.ndarray
    alpha_exp: np.ndarray


@dataclass
class StudyStatistics:
    study: str
    model_identity: str
    conditions: list[ConditionSummary]  # one per study condition, then "all"
    raters: list[RaterSummary]
    rejected: list[RejectedFace] = field(default_factory=list)  # faces rejected by at least one rater

    def condition(self, name: str) -> ConditionSummary:
        return next(summary for summary in self.conditions if summary.condition == name)


def study_statistics(database: RatingsDatabase) -> StudyStatistics:
    """Every number of the report, from the study's faces and standing votes."""
    faces = database.faces()
    votes = database.votes()
    study_conditions = list(database.definition.conditions)
    summaries = [
        _summarise(condition, [f for f in faces.values() if f.condition == condition],
                   [v for v in votes if v.condition == condition])
        for condition in study_conditions
    ]
    summaries.append(_summarise(ALL_CONDITIONS, list(faces.values()), votes))

    raters = []
    for rater in sorted({vote.rater for vote in votes}):
        own = [vote for vote in votes if vote.rater == rater]
        raters.append(RaterSummary(
            rater=rater,
            votes=len(own),
            acceptance=acceptance_rate(own),
            acceptance_by_condition={c: acceptance_rate([v for v in own if v.condition == c]) for c in study_conditions},
            median_decision_ms=float(np.median([vote.decision_ms for vote in own])),
        ))

    rejected = []
    for face_id in sorted({vote.face_id for vote in votes if vote.vote == "reject"}):
        face = faces[face_id]
        on_face = [vote for vote in votes if vote.face_id == face_id]
        rejected.append(RejectedFace(
            face_id, face.condition, face.source,
            rejected_by=sorted(v.rater for v in on_face if v.vote == "reject"),
            accepted_by=sorted(v.rater for v in on_face if v.vote == "accept"),
            alpha_id=face.alpha_id, alpha_exp=face.alpha_exp,
        ))
    return StudyStatistics(database.definition.name, database.model.describe(), summaries, raters, rejected)


def _decisions(votes: list[Vote]) -> tuple[int, int]:
    """(accepts, rejects): the votes that are a decision."""
    return sum(vote.vote == "accept" for vote in votes), sum(vote.vote == "reject" for vote in votes)


def _summarise(condition: str, faces: list[StudyFace], votes: list[Vote]) -> ConditionSummary:
    accepts, rejects = _decisions(votes)
    per_face: dict[int, list[int]] = {face.face_id: [0, 0] for face in faces}
    for vote in votes:
        if vote.vote in ("accept", "reject"):
            per_face[vote.face_id][0 if vote.vote == "accept" else 1] += 1
    table = np.array(list(per_face.values()), dtype=np.int64).reshape(-1, 2)
    judged = table[table.sum(axis=1) > 0]
    never_rejected = int((judged[:, 1] == 0).sum())
    raters = len({vote.rater for vote in votes if vote.vote in ("accept", "reject")})
    return ConditionSummary(
        condition=condition,
        faces=len(faces),
        votes=len(votes),
        accepts=accepts,
        rejects=rejects,
        unsure=len(votes) - accepts - rejects,
        raters=raters,
        acceptance=acceptance_rate(votes),
        acceptance_ci=wilson_interval(accepts, accepts + rejects),
        judged_faces=len(judged),
        never_rejected=never_rejected,
        paper_rule=never_rejected / len(judged) if len(judged) else math.nan,
        paper_rule_ci=wilson_interval(never_rejected, len(judged)),
        kappa=fleiss_kappa(table) if raters >= 2 else None,
    )
