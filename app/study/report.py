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
from app.dataset.export import save_coefficients
from app.explorer.face_preset import PRESET_FORMAT
from app.explorer.face_state import SamplingSettings
from app.study.database import RatingsDatabase
from app.study.statistics import ALL_CONDITIONS, StudyStatistics


def _percent(value: float) -> str:
    return "–" if math.isnan(value) else f"{100 * value:.1f} %"


def _interval(bounds: tuple[float, float]) -> str:
    return "–" if math.isnan(bounds[0]) else f"[{100 * bounds[0]:.1f}, {100 * bounds[1]:.1f}]"


def markdown(statistics: StudyStatistics, preset_folder: str = "rejected") -> str:
    """The report as Markdown: condition table, per-rater table, faces rejected by anyone."""
    lines = [
        f"# Rating report: {statistics.study}",
        "",
        f"Model: {statistics.model_identity}. Acceptance = accept / (accept + reject), 95 % Wilson interval. "
        "Paper's rule = share of judged faces that no rater rejected.",
        "",
        "| condition | faces | judged | votes | accept | reject | unsure | raters | acceptance | 95 % CI | "
        "no rater rejected | 95 % CI | Fleiss κ |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|---:|",
    ]
    for s in statistics.conditions:
        kappa = "–" if s.kappa is None else f"{s.kappa:.3f}"
        name = f"**{s.condition}**" if s.condition == ALL_CONDITIONS else s.condition
        lines.append(
            f"| {name} | {s.faces} | {s.judged_faces} | {s.votes} | {s.accepts} | {s.rejects} | {s.unsure} | {s.raters} | "
            f"{_percent(s.acceptance)} | {_interval(s.acceptance_ci)} | {_percent(s.paper_rule)} "
            f"({s.never_rejected}/{s.judged_faces}) | {_interval(s.paper_rule_ci)} | {kappa} |"
        )
    conditions = [s.condition for s in statistics.conditions if s.condition != ALL_CONDITIONS]
    lines += ["", "## Raters", "",
              "| rater | votes | acceptance | " + " | ".join(conditions) + " | median decision (ms) |",
              "|---|---:|---:|" + "---:|" * len(conditions) + "---:|"]
    for r in statistics.raters:
        by_condition = " | ".join(_percent(r.acceptance_by_condition[c]) for c in conditions)
        lines.append(f"| {r.rater} | {r.votes} | {_percent(r.acceptance)} | {by_condition} | {r.median_decision_ms:.0f} |")
    lines += ["", f"## Faces rejected by at least one rater ({len(statistics.rejected)})", ""]
    if statistics.rejected:
        lines += ["| face | condition | rejected by | accepted by | preset |", "|---:|---|---|---|---|"]
        for face in statistics.rejected:
            lines.append(f"| {face.face_id} | {face.condition} | {', '.join(face.rejected_by)} | "
                         f"{', '.join(face.accepted_by) or '–'} | {preset_folder}/{preset_name(face.face_id)} |")
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"


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
        left.bar(x + offset, np.nan_to_num(values) * 100, width=0.36, color=colour, label=label,
                 yerr=np.nan_to_num(errors) * 100, capsize=4)
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
    return save_coefficients(
        path, face.alpha_id, face.alpha_exp,
        preset=PRESET_FORMAT, **database.model.to_record(), sampling=SamplingSettings().to_dict(),
        study=database.study_key, study_face_id=face.face_id, condition=face.condition, source=face.source,
    )


def write_report(database: RatingsDatabase, statistics: StudyStatistics, folder: str | Path) -> list[Path]:
    """report.md, acceptance.png, rejected_faces.json and one preset per rejected face, in ``folder``."""
    folder = Path(folder)
    create_folder(folder / "rejected")
    written = []
    with atomic_output(folder / "report.md") as temp:
        temp.write_text(markdown(statistics), encoding="utf-8")
    written.append(folder / "report.md")
    written.append(plot(statistics, folder / "acceptance.png"))
    listing = [
        {"face_id": f.face_id, "condition": f.condition, "source": f.source, "rejected_by": f.rejected_by,
         "accepted_by": f.accepted_by, "preset": f"rejected/{preset_name(f.face_id)}",
         "alpha_id": f.alpha_id.tolist(), "alpha_exp": f.alpha_exp.tolist()}
        for f in statistics.rejected
    ]
    with atomic_output(folder / "rejected_faces.json") as temp:
        temp.write_text(json.dumps({"study": statistics.study, "model_identity": statistics.model_identity,
                                    "faces": listing}, indent=1), encoding="utf-8")
    written.append(folder / "rejected_faces.json")
    for face in statistics.rejected:
        written.append(save_face_preset(database, face.face_id, folder / "rejected" / preset_name(face.face_id)))
    return written
