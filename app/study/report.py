"""What a study's votes say: acceptance per condition, the paper's rule, agreement, per-rater numbers.

Definitions (only standing votes count; undone ones are history):

- acceptance rate = accept / (accept + reject); "unsure" votes are counted but are not a decision,
  with a 95 % Wilson score interval (good for rates near 0 or 1 and small counts);
- the paper's rule: a face is non-possible if at least one rater rejects it, so the reliability
  of a condition is the share of its judged faces (≥ 1 accept or reject) that no rater rejected;
- Fleiss' kappa over accept/reject, generalised to faces judged by different numbers of raters
  (faces with fewer than two decisions carry no agreement information and are left out); with
  every face judged by the same raters it is the textbook formula.

Rejected faces are written as face presets so that the explorer opens any of them (File ▸ Load
face preset…), and so does ``save_face_preset`` for any face id.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.atomic_files import atomic_output
from app.dataset.export import save_coefficients
from app.errors import FaceExplorerError
from app.explorer.face_preset import PRESET_FORMAT
from app.explorer.face_state import SamplingSettings
from app.study.database import RatingsDatabase, Vote

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
class RatingReport:
    study: str
    model_identity: str
    conditions: list[ConditionSummary]  # one per study condition, then "all"
    raters: list[RaterSummary]
    rejected: list[RejectedFace] = field(default_factory=list)

    def condition(self, name: str) -> ConditionSummary:
        return next(summary for summary in self.conditions if summary.condition == name)


def build_report(database: RatingsDatabase) -> RatingReport:
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
            acceptance=_acceptance(own),
            acceptance_by_condition={c: _acceptance([v for v in own if v.condition == c]) for c in study_conditions},
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
    return RatingReport(database.definition.name, database.model_identity, summaries, raters, rejected)


def _acceptance(votes: list[Vote]) -> float:
    accepts = sum(vote.vote == "accept" for vote in votes)
    decisions = accepts + sum(vote.vote == "reject" for vote in votes)
    return accepts / decisions if decisions else math.nan


def _summarise(condition: str, faces: list, votes: list[Vote]) -> ConditionSummary:
    accepts = sum(vote.vote == "accept" for vote in votes)
    rejects = sum(vote.vote == "reject" for vote in votes)
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
        acceptance=accepts / (accepts + rejects) if accepts + rejects else math.nan,
        acceptance_ci=wilson_interval(accepts, accepts + rejects),
        judged_faces=len(judged),
        never_rejected=never_rejected,
        paper_rule=never_rejected / len(judged) if len(judged) else math.nan,
        paper_rule_ci=wilson_interval(never_rejected, len(judged)),
        kappa=fleiss_kappa(table) if raters >= 2 else None,
    )


# ---- output ------------------------------------------------------------------------------------------
def _percent(value: float) -> str:
    return "–" if math.isnan(value) else f"{100 * value:.1f} %"


def _interval(bounds: tuple[float, float]) -> str:
    return "–" if math.isnan(bounds[0]) else f"[{100 * bounds[0]:.1f}, {100 * bounds[1]:.1f}]"


def markdown(report: RatingReport, preset_folder: str = "rejected") -> str:
    """The report as Markdown: condition table, per-rater table, faces rejected by anyone."""
    lines = [
        f"# Rating report: {report.study}",
        "",
        f"Model: {report.model_identity}. Acceptance = accept / (accept + reject), 95 % Wilson interval. "
        "Paper's rule = share of judged faces that no rater rejected.",
        "",
        "| condition | faces | judged | votes | accept | reject | unsure | raters | acceptance | 95 % CI | "
        "no rater rejected | 95 % CI | Fleiss κ |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|---:|",
    ]
    for s in report.conditions:
        kappa = "–" if s.kappa is None else f"{s.kappa:.3f}"
        name = f"**{s.condition}**" if s.condition == ALL_CONDITIONS else s.condition
        lines.append(
            f"| {name} | {s.faces} | {s.judged_faces} | {s.votes} | {s.accepts} | {s.rejects} | {s.unsure} | {s.raters} | "
            f"{_percent(s.acceptance)} | {_interval(s.acceptance_ci)} | {_percent(s.paper_rule)} "
            f"({s.never_rejected}/{s.judged_faces}) | {_interval(s.paper_rule_ci)} | {kappa} |"
        )
    conditions = [s.condition for s in report.conditions if s.condition != ALL_CONDITIONS]
    lines += ["", "## Raters", "",
              "| rater | votes | acceptance | " + " | ".join(conditions) + " | median decision (ms) |",
              "|---|---:|---:|" + "---:|" * len(conditions) + "---:|"]
    for r in report.raters:
        by_condition = " | ".join(_percent(r.acceptance_by_condition[c]) for c in conditions)
        lines.append(f"| {r.rater} | {r.votes} | {_percent(r.acceptance)} | {by_condition} | {r.median_decision_ms:.0f} |")
    lines += ["", f"## Faces rejected by at least one rater ({len(report.rejected)})", ""]
    if report.rejected:
        lines += ["| face | condition | rejected by | accepted by | preset |", "|---:|---|---|---|---|"]
        for face in report.rejected:
            lines.append(f"| {face.face_id} | {face.condition} | {', '.join(face.rejected_by)} | "
                         f"{', '.join(face.accepted_by) or '–'} | {preset_folder}/{preset_name(face.face_id)} |")
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def plot(report: RatingReport, path: str | Path) -> Path:
    """PNG: acceptance with Wilson intervals and the paper's rule per condition; per-rater acceptance."""
    import matplotlib

    matplotlib.use("Agg")  # files only: never a window, works without a display
    import matplotlib.pyplot as plt

    summaries = [s for s in report.conditions if s.condition != ALL_CONDITIONS]
    x = np.arange(len(summaries))
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    for offset, label, value_of, interval_of, colour in (
        (-0.18, "acceptance (votes)", lambda s: s.acceptance, lambda s: s.acceptance_ci, "#4c72b0"),
        (0.18, "no rater rejected (paper)", lambda s: s.paper_rule, lambda s: s.paper_rule_ci, "#dd8452"),
    ):
        values = np.array([value_of(s) for s in summaries], dtype=float)
        bounds = np.array([interval_of(s) for s in summaries], dtype=float).reshape(-1, 2)
        errors = np.abs(np.stack([values - bounds[:, 0], bounds[:, 1] - values]))
        left.bar(x + offset, np.nan_to_num(values) * 100, width=0.36, color=colour, label=label,
                 yerr=np.nan_to_num(errors) * 100, capsize=4)
    left.set_xticks(x, [s.condition for s in summaries])
    left.set_ylim(0, 119)  # headroom for the legend above 100 %
    left.set_ylabel("% (95 % Wilson interval)")
    left.set_title(f"{report.study}")
    left.legend(loc="upper center", ncol=2, fontsize=8)
    for index, summary in enumerate(summaries):
        points = [r.acceptance_by_condition[summary.condition] * 100 for r in report.raters]
        right.scatter(np.full(len(points), index, dtype=float), points, alpha=0.7, color="#4c72b0")
    right.set_xticks(x, [s.condition for s in summaries])
    right.set_xlim(-0.5, len(summaries) - 0.5)
    right.set_ylim(-5, 105)
    right.set_ylabel("acceptance per rater (%)")
    right.set_title(f"{len(report.raters)} rater(s)")
    path = Path(path)
    with atomic_output(path) as temp:
        figure.savefig(temp, dpi=110, format="png")
    plt.close(figure)
    return path


def preset_name(face_id: int) -> str:
    return f"face-{face_id:04d}.json"


def save_face_preset(database: RatingsDatabase, face_id: int, path: str | Path) -> Path:
    """One study face as a face preset the explorer can open; the condition is recorded too."""
    face = database.face(face_id)
    return save_coefficients(
        path, face.alpha_id, face.alpha_exp,
        preset=PRESET_FORMAT, model_identity=database.model_identity, sampling=SamplingSettings().to_dict(),
        study=database.study_key, study_face_id=face.face_id, condition=face.condition, source=face.source,
    )


def write_report(database: RatingsDatabase, report: RatingReport, folder: str | Path) -> list[Path]:
    """report.md, acceptance.png, rejected_faces.json and one preset per rejected face, in ``folder``."""
    folder = Path(folder)
    try:
        (folder / "rejected").mkdir(parents=True, exist_ok=True)
    except OSError as failure:
        raise FaceExplorerError(f"cannot create the report folder {folder} ({failure.strerror})") from failure
    written = []
    with atomic_output(folder / "report.md") as temp:
        temp.write_text(markdown(report), encoding="utf-8")
    written.append(folder / "report.md")
    written.append(plot(report, folder / "acceptance.png"))
    listing = [
        {"face_id": f.face_id, "condition": f.condition, "source": f.source, "rejected_by": f.rejected_by,
         "accepted_by": f.accepted_by, "preset": f"rejected/{preset_name(f.face_id)}",
         "alpha_id": f.alpha_id.tolist(), "alpha_exp": f.alpha_exp.tolist()}
        for f in report.rejected
    ]
    with atomic_output(folder / "rejected_faces.json") as temp:
        temp.write_text(json.dumps({"study": report.study, "model_identity": report.model_identity,
                                    "faces": listing}, indent=1), encoding="utf-8")
    written.append(folder / "rejected_faces.json")
    for face in report.rejected:
        written.append(save_face_preset(database, face.face_id, folder / "rejected" / preset_name(face.face_id)))
    return written
