"""One experiment's result: rows of (quantity, paper value, our value), notes, a figure.

Every experiment returns a ``Report``; ``write_report`` saves it as ``<name>.png`` (the
figure), ``<name>.json`` (rows, notes and the raw series behind the figure) and ``<name>.md``
(the table), and ``format_table`` is what the CLI prints. Figures use matplotlib's
object-oriented API with its Agg canvas, so nothing here touches a GUI backend.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from app.atomic_files import atomic_output, create_folder


@dataclass
class Row:
    quantity: str
    ours: float | None
    paper: float | str | None = None  # a number, a phrase ("figure only") or None when the paper has none
    note: str = ""


@dataclass
class Report:
    name: str  # file stem, e.g. "test-mse"
    title: str
    rows: list[Row]
    figure: Figure
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)  # series behind the figure, JSON-able


def new_figure(columns: int = 1, rows: int = 1, width: float = 5.0, height: float = 4.0) -> tuple[Figure, list[Any]]:
    figure = Figure(figsize=(width * columns, height * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False)
    return figure, [axis for row in axes for axis in row]


def format_value(value: float | str | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if not math.isfinite(value):
        return str(value)
    magnitude = abs(value)
    if magnitude and (magnitude >= 1e5 or magnitude < 1e-3):
        return f"{value:.3e}"
    return f"{value:.4g}"


def format_table(report: Report) -> str:
    lines = [f"## {report.title}", "", "| quantity | paper | ours | note |", "|---|---:|---:|---|"]
    for row in report.rows:
        lines.append(f"| {row.quantity} | {format_value(row.paper)} | {format_value(row.ours)} | {row.note} |")
    if report.notes:
        lines.append("")
        lines += [f"- {note}" for note in report.notes]
    return "\n".join(lines) + "\n"


def write_report(report: Report, folder: str | Path) -> list[Path]:
    """Write the PNG, JSON and Markdown files; returns their paths."""
    folder = create_folder(folder)
    paths = [folder / f"{report.name}.{suffix}" for suffix in ("png", "json", "md")]
    with atomic_output(paths[0]) as temp:
        report.figure.savefig(temp, dpi=120, format="png")
    document = {
        "experiment": report.name,
        "title": report.title,
        "rows": [{"quantity": r.quantity, "paper": r.paper, "ours": r.ours, "note": r.note} for r in report.rows],
        "notes": report.notes,
        "data": report.data,
    }
    with atomic_output(paths[1]) as temp:
        temp.write_text(json.dumps(document, indent=1, allow_nan=True) + "\n")
    with atomic_output(paths[2]) as temp:
        temp.write_text(format_table(report))
    return paths
