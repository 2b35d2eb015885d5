"""What a study's votes say, as numbers: acceptance per condition, the paper's rule, agreement, raters.

Only standing votes count (undone ones are history), and only the faces of the study's conditions: catch
and repeated faces measure the raters (``app.study.attention``), and the raters the study's exclusion rule
flags can be left out of every number. Per condition:
- acceptance rate = accept / (accept + reject), "unsure" counted but no decision, with a Wilson interval;
- the paper's rule: a face is non-possible if at least one rater rejects it, so the reliability of a
  condition is the share of its judged faces (≥ 1 accept or reject) that no rater rejected;
- Fleiss' kappa and Krippendorff's alpha over accept/reject, a bootstrap interval of the paper's rule over
  raters and faces, and the rule against the number of raters (``app.study.agreement``);
- diversity: the trace of the covariance of the faces shown, per varied part (the paper's Table I measure).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from app.evaluation.metrics import diversity
from app.study.agreement import RaterCountPoint, bootstrap_interval, krippendorff_alpha, raters_curve
from app.study.attention import RaterAttention, rater_attention
from app.study.database import RatingsDatabase, Vote
from app.study.definition import StudyDefinition, StudyFace
from app.study.web_votes import vote_source

Z_95 = 1.959963984540054  # two-sided 95 % standard normal quantile
ALL_CONDITIONS = "all"


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (good near 0 or 1 and for small counts); nan without trials."""
    if trials == 0:
        return math.nan, math.nan
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def fleiss_kappa(counts: np.ndarray) -> float | None:
    """Fleiss' kappa of a (faces, categories) table of vote counts; None when undefined.

    Faces with fewer than two votes carry no agreement information and are ignored; per-face agreement
    uses that face's own number of raters, and the chance agreement uses the pooled category shares. With
    every face judged by the same raters it is the textbook formula.
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
    alpha: float | None
    paper_rule_bootstrap_ci: tuple[float, float]  # raters and faces resampled
    raters_curve: list[RaterCountPoint]
    diversity: dict[str, float]  # varied part ("shape", "expression") → trace of covariance of the shown faces


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
    attention: list[RaterAttention] = field(default_factory=list)  # every rater, left out or not
    exclusion_rule: str = "no exclusion rule"
    left_out: list[str] = field(default_factory=list)  # raters whose votes these numbers do not include
    sources: dict[str, int] = field(default_factory=dict)  # standing votes per rater ("desktop", "web")

    def condition(self, name: str) -> ConditionSummary:
        return next(summary for summary in self.conditions if summary.condition == name)

    @property
    def flagged(self) -> list[str]:
        """Raters the study's exclusion rule flags."""
        return [entry.rater for entry in self.attention if entry.excluded]


def study_statistics(
    database: RatingsDatabase,
    leave_out: frozenset[str] = frozenset(),
    seed: int = 0,
    replicates: int = 1000,
    curve_draws: int = 200,
) -> StudyStatistics:
    """Every number of the report, from the study's faces and standing votes, without the raters in ``leave_out``.

    ``seed`` makes the bootstrap (``replicates`` resamples) and the raters curve (``curve_draws``
    subsets per size) reproducible.
    """
    faces = database.faces()
    definition = database.definition
    every_vote = database.votes()
    attention = rater_attention(definition, faces, every_vote)
    study_conditions = list(definition.conditions)
    votes = [v for v in every_vote if v.condition in study_conditions and v.rater not in leave_out]
    summaries = [
        _summarise(
            definition,
            condition,
            [f for f in faces.values() if f.condition == condition],
            [v for v in votes if v.condition == condition],
            np.random.default_rng([seed, index]),
            replicates,
            curve_draws,
        )
        for index, condition in enumerate(study_conditions)
    ]
    summaries.append(
        _summarise(
            definition,
            ALL_CONDITIONS,
            [f for f in faces.values() if f.condition in study_conditions],
            votes,
            np.random.default_rng([seed, len(study_conditions)]),
            replicates,
            curve_draws,
        )
    )

    by_rater: dict[str, list[Vote]] = {}
    for vote in votes:
        by_rater.setdefault(vote.rater, []).append(vote)
    raters = []
    for rater in sorted(by_rater):
        own = by_rater[rater]
        raters.append(
            RaterSummary(
                rater=rater,
                votes=len(own),
                acceptance=acceptance_rate(own),
                acceptance_by_condition={
                    c: acceptance_rate([v for v in own if v.condition == c]) for c in study_conditions
                },
                median_decision_ms=float(np.median([vote.decision_ms for vote in own])),
            )
        )

    by_face: dict[int, list[Vote]] = {}
    for vote in votes:
        by_face.setdefault(vote.face_id, []).append(vote)
    rejected = []
    for face_id in sorted({vote.face_id for vote in votes if vote.vote == "reject"}):
        face = faces[face_id]
        on_face = by_face[face_id]
        rejected.append(
            RejectedFace(
                face_id,
                face.condition,
                face.source,
                rejected_by=sorted(v.rater for v in on_face if v.vote == "reject"),
                accepted_by=sorted(v.rater for v in on_face if v.vote == "accept"),
                alpha_id=face.alpha_id,
                alpha_exp=face.alpha_exp,
            )
        )
    return StudyStatistics(
        definition.name,
        database.model.describe(),
        summaries,
        raters,
        rejected,
        attention,
        definition.exclusion_rule,
        sorted(leave_out),
        dict(Counter(vote_source(vote) for vote in every_vote)),
    )


def _decisions(votes: list[Vote]) -> tuple[int, int]:
    """(accepts, rejects): the votes that are a decision."""
    return sum(vote.vote == "accept" for vote in votes), sum(vote.vote == "reject" for vote in votes)


def decision_table(faces: list[StudyFace], votes: list[Vote]) -> np.ndarray:
    """Raters (sorted) × faces: 1 accept, 0 reject, NaN for no decision."""
    raters = sorted({vote.rater for vote in votes})
    row = {rater: index for index, rater in enumerate(raters)}
    column = {face.face_id: index for index, face in enumerate(faces)}
    table = np.full((len(raters), len(faces)), np.nan)
    for vote in votes:
        if vote.vote in ("accept", "reject"):
            table[row[vote.rater], column[vote.face_id]] = 1.0 if vote.vote == "accept" else 0.0
    return table


def _diversity(definition: StudyDefinition, condition: str, faces: list[StudyFace]) -> dict[str, float]:
    if condition == ALL_CONDITIONS or len(faces) < 2:
        return {}
    parsed = definition.condition(condition)
    values = {}
    if parsed.varies_shape:
        values["shape"] = diversity(np.array([face.alpha_id for face in faces]))
    if parsed.varies_expression:
        values["expression"] = diversity(np.array([face.alpha_exp for face in faces]))
    return values


def _summarise(
    definition: StudyDefinition,
    condition: str,
    faces: list[StudyFace],
    votes: list[Vote],
    rng: np.random.Generator,
    replicates: int,
    curve_draws: int,
) -> ConditionSummary:
    accepts, rejects = _decisions(votes)
    decisions = decision_table(faces, votes)
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
        alpha=krippendorff_alpha(decisions),
        paper_rule_bootstrap_ci=bootstrap_interval(decisions, rng, replicates),
        raters_curve=raters_curve(decisions, rng, curve_draws),
        diversity=_diversity(definition, condition, faces),
    )
