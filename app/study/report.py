"""The rating report as files: Markdown tables, a plot, and the rejected faces as presets.

The numbers come from ``app.study.statistics``. Rejected faces are written as face presets so
that the explorer opens any of them (File ▸ Load face preset…), and so does ``save_face_preset``
for any face id.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from app.atomic_files import atomic_output, create_folder
from app.dataset.face_preset_file import write_preset_file
from app.model.sampling_settings import SamplingSettings
from app.study.database import RatingsDatabase
from app.study.figures import raters_curve_figure, reliability_diversity_figure
from app.study.statistics import ALL_CONDITIONS, StudyStatistics


def _percent(value: float) -> str:
    return "–" if math.isnan(value) else f"{100 * value:.1f} %"


def _interval(bounds: tuple[float, float]) -> str:
    return "–" if math.isnan(bounds[0]) else f"[{100 * bounds[0]:.1f}, {100 * bounds[1]:.1f}]"


def _number(value: float | None, digits: int = 3) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def _diversity(values: dict[str, float]) -> str:
    return ", ".join(f"{part} {value:.3g}" for part, value in values.items()) or "–"


def condition_table(statistics: StudyStatistics) -> list[str]:
    """One row per condition (then all of them): votes, acceptance, the paper's rule, agreement, diversity."""
    lines = [
        "| condition | faces | judged | votes | accept | reject | unsure | raters | acceptance | 95 % CI | "
        "no rater rejected | 95 % CI | Fleiss κ | Krippendorff α | 95 % CI (raters × faces bootstrap) | diversity |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|---:|---:|---|---|",
    ]
    for s in statistics.conditions:
        name = f"**{s.condition}**" if s.condition == ALL_CONDITIONS else s.condition
        lines.append(
            f"| {name} | {s.faces} | {s.judged_faces} | {s.votes} | {s.accepts} | {s.rejects} | {s.unsure} | "
            f"{s.raters} | "
            f"{_percent(s.acceptance)} | {_interval(s.acceptance_ci)} | {_percent(s.paper_rule)} "
            f"({s.never_rejected}/{s.judged_faces}) | {_interval(s.paper_rule_ci)} | {_number(s.kappa)} | "
            f"{_number(s.alpha)} | {_interval(s.paper_rule_bootstrap_ci)} | {_diversity(s.diversity)} |"
        )
    return lines


def markdown(
    statistics: StudyStatistics, preset_folder: str = "rejected", without_flagged: StudyStatistics | None = None
) -> str:
    """The report as Markdown: condition table, raters, attention checks, the rule against the number
    of raters, the numbers again without the flagged raters (``without_flagged``), rejected faces."""
    lines = [
        f"# Rating report: {statistics.study}",
        "",
        f"Model: {statistics.model_identity}. Acceptance = accept / (accept + reject), 95 % Wilson interval. "
        "Paper's rule = share of judged faces that no rater rejected (Wilson interval over faces, and a bootstrap "
        "that resamples raters and faces). Agreement over accept/reject (unsure = no decision). Diversity = trace "
        "of the covariance of the faces shown, per varied part. Catch and repeated faces are not counted here.",
        "",
        f"Standing votes, attention checks included: {statistics.sources.get('desktop', 0)} from the desktop "
        f"rater, {statistics.sources.get('web', 0)} from the web rater; both count alike.",
        "",
        *condition_table(statistics),
    ]
    conditions = [s.condition for s in statistics.conditions if s.condition != ALL_CONDITIONS]
    lines += [
        "",
        "## Raters",
        "",
        "| rater | votes | acceptance | " + " | ".join(conditions) + " | median decision (ms) |",
        "|---|---:|---:|" + "---:|" * len(conditions) + "---:|",
    ]
    for r in statistics.raters:
        by_condition = " | ".join(_percent(r.acceptance_by_condition[c]) for c in conditions)
        lines.append(
            f"| {r.rater} | {r.votes} | {_percent(r.acceptance)} | {by_condition} | {r.median_decision_ms:.0f} |"
        )
    lines += _attention_lines(statistics)
    lines += _curve_lines(statistics)
    if without_flagged is not None:
        lines += [
            "",
            f"## Without the flagged raters ({', '.join(without_flagged.left_out)})",
            "",
            f"Exclusion rule, fixed in the study file before rating: {statistics.exclusion_rule}.",
            "",
            *condition_table(without_flagged),
        ]
    lines += ["", f"## Faces rejected by at least one rater ({len(statistics.rejected)})", ""]
    if statistics.rejected:
        lines += ["| face | condition | rejected by | accepted by | preset |", "|---:|---|---|---|---|"]
        for face in statistics.rejected:
            lines.append(
                f"| {face.face_id} | {face.condition} | {', '.join(face.rejected_by)} | "
                f"{', '.join(face.accepted_by) or '–'} | {preset_folder}/{preset_name(face.face_id)} |"
            )
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def _attention_lines(statistics: StudyStatistics) -> list[str]:
    if not any(entry.catch_votes or entry.repeat_pairs for entry in statistics.attention):
        return []
    lines = [
        "",
        "## Attention checks",
        "",
        f"Exclusion rule (fixed in the study file before rating): {statistics.exclusion_rule}.",
        "",
        "| rater | catch faces rejected | repeated faces voted the same | flagged |",
        "|---|---:|---:|---|",
    ]
    for entry in statistics.attention:
        lines.append(
            f"| {entry.rater} | {entry.catch_rejected}/{entry.catch_votes} ({_percent(entry.catch_share)}) | "
            f"{entry.repeat_agreed}/{entry.repeat_pairs} ({_percent(entry.repeat_agreement)}) | "
            f"{'; '.join(entry.reasons) or 'no'} |"
        )
    return lines


def _curve_lines(statistics: StudyStatistics) -> list[str]:
    """The paper's rule with 1 … N raters: mean over rater subsets [middle 95 % of subsets]."""
    summaries = [s for s in statistics.conditions if s.condition != ALL_CONDITIONS and s.raters_curve]
    if not summaries:
        return []
    lines = [
        "",
        "## The paper's rule against the number of raters",
        "",
        "Mean over subsets of n raters [2.5th, 97.5th percentile of the subsets].",
        "",
        "| raters | " + " | ".join(s.condition for s in summaries) + " |",
        "|---:|" + "---|" * len(summaries),
    ]
    by_count = [{point.raters: point for point in s.raters_curve} for s in summaries]
    for count in sorted(set().union(*by_count)):
        cells = [
            f"{_percent(points[count].mean)} {_interval((points[count].low, points[count].high))}"
            if count in points
            else "–"
            for points in by_count
        ]
        lines.append(f"| {count} | " + " | ".join(cells) + " |")
    return lines


def plot(statistics: StudyStatistics, path: str | Path) -> Path:
    """PNG: acceptance with Wilson intervals and the paper's rule per condition; per-rater acceptance."""
    import matplotlib

    matplotlib.use("Agg")  # files only: never a window, works without a display
    import matplotlib.pyplot as plt

    summaries = [s for s in statistics.conditions if s.condition != ALL_CONDITIONS]
    x = np.arange(len(summaries))
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    for offset, label, value_of, interval_of, colour in (
        (-0.18, "acceptance (votes)", lambda s: s.acceptance, lambda s: s.acceptance_ci, "#4c72b0"),
        (0.18, "no rater rejected (paper)", lambda s: s.paper_rule, lambda s: s.paper_rule_ci, "#dd8452"),
    ):
        values = np.array([value_of(s) for s in summaries], dtype=float)
        bounds = np.array([interval_of(s) for s in summaries], dtype=float).reshape(-1, 2)
        errors = np.abs(np.stack([values - bounds[:, 0], bounds[:, 1] - values]))
        left.bar(
            x + offset,
            np.nan_to_num(values) * 100,
            width=0.36,
            color=colour,
            label=label,
            yerr=np.nan_to_num(errors) * 100,
            capsize=4,
        )
    left.set_xticks(x, [s.condition for s in summaries])
    left.set_ylim(0, 119)  # headroom for the legend above 100 %
    left.set_ylabel("% (95 % Wilson interval)")
    left.set_title(f"{statistics.study}")
    left.legend(loc="upper center", ncol=2, fontsize=8)
    for index, summary in enumerate(summaries):
        points = [r.acceptance_by_condition[summary.condition] * 100 for r in statistics.raters]
        right.scatter(np.full(len(points), index, dtype=float), points, alpha=0.7, color="#4c72b0")
    right.set_xticks(x, [s.condition for s in summaries])
    right.set_xlim(-0.5, len(summaries) - 0.5)
    right.set_ylim(-5, 105)
    right.set_ylabel("acceptance per rater (%)")
    right.set_title(f"{len(statistics.raters)} rater(s)")
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
    return write_preset_file(
        path,
        face.alpha_id,
        face.alpha_exp,
        database.model,
        SamplingSettings(),
        study=database.study_key,
        study_face_id=face.face_id,
        condition=face.condition,
        source=face.source,
    )


def write_report(
    database: RatingsDatabase,
    statistics: StudyStatistics,
    folder: str | Path,
    without_flagged: StudyStatistics | None = None,
) -> list[Path]:
    """report.md, acceptance.png, raters_curve.png, reliability_vs_diversity.png, rejected_faces.json
    and one preset per rejected face, in ``folder``. With ``without_flagged`` (the numbers without the
    raters the exclusion rule flags) the report adds them and the two trade-off figures show them."""
    folder = Path(folder)
    create_folder(folder / "rejected")
    written = []
    with atomic_output(folder / "report.md") as temp:
        temp.write_text(markdown(statistics, without_flagged=without_flagged), encoding="utf-8")
    written.append(folder / "report.md")
    written.append(plot(statistics, folder / "acceptance.png"))
    shown = without_flagged or statistics
    written.append(raters_curve_figure(shown, folder / "raters_curve.png"))
    written.append(reliability_diversity_figure(shown, folder / "reliability_vs_diversity.png"))
    listing = [
        {
            "face_id": f.face_id,
            "condition": f.condition,
            "source": f.source,
            "rejected_by": f.rejected_by,
            "accepted_by": f.accepted_by,
            "preset": f"rejected/{preset_name(f.face_id)}",
            "alpha_id": f.alpha_id.tolist(),
            "alpha_exp": f.alpha_exp.tolist(),
        }
        for f in statistics.rejected
    ]
    with atomic_output(folder / "rejected_faces.json") as temp:
        temp.write_text(
            json.dumps(
                {"study": statistics.study, "model_identity": statistics.model_identity, "faces": listing}, indent=1
            ),
            encoding="utf-8",
        )
    written.append(folder / "rejected_faces.json")
    for face in statistics.rejected:
        written.append(save_face_preset(database, face.face_id, folder / "rejected" / preset_name(face.face_id)))
    return written
