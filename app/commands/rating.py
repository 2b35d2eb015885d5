"""The reliability-study tools: rate-study, rate-package, rate-merge, rate-report, rate-export-csv, rate-face."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path

from app.commands.core import open_workspace
from app.errors import FaceExplorerError
from app.output_paths import refuse_output_over_input
from app.study.database import RatingsDatabase
from app.study.definition import StudyDefinition, generate_study_faces
from app.study.packages import export_packages, merge_package
from app.study.report import markdown, save_face_preset, write_report
from app.study.statistics import study_statistics

# Options of rate-study that override the same field of a --definition file when given.
_DEFINITION_OPTIONS = {
    "name": "name",
    "faces": "faces_per_condition",
    "conditions": "conditions",
    "varies": "varies",
    "seed": "seed",
    "r_shape": "r_shape",
    "r_exp": "r_exp",
    "view": "view",
    "raters": "rater_slots",
    "catch_trials": "catch_trials",
    "catch_r": "catch_r",
    "repeated_faces": "repeated_faces",
    "min_catch_rejected": "min_catch_rejected",
    "min_repeat_agreement": "min_repeat_agreement",
}

# The paper's protocol: 500 denoised faces per network (the shape network's faces vary only the
# identity, the expression network's only the expression), 30 raters, a face counts as not
# possible if any rater rejects it (so raters must decide: no "unsure"), front and side views.
PAPER_PRESET = {
    "name": "paper protocol: 500 denoised faces per network, 30 raters",
    "faces_per_condition": 500,
    "conditions": ["denoised:varies=shape", "denoised:varies=expression"],
    "rater_slots": 30,
    "allow_unsure": False,
    "view": "front-side",
}


def rate_study(args: argparse.Namespace) -> int:
    values = asdict(StudyDefinition())
    if args.paper:
        values.update(PAPER_PRESET)
    if args.definition:
        try:
            text = Path(args.definition).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as failure:
            raise FaceExplorerError(f"{args.definition}: cannot read the study definition ({failure})") from failure
        values = asdict(StudyDefinition.from_json(text, args.definition))
    for option, key in _DEFINITION_OPTIONS.items():
        if getattr(args, option) is not None:
            values[key] = getattr(args, option)
    if args.no_unsure:
        values["allow_unsure"] = False
    definition = StudyDefinition(**values)
    if Path(args.output).exists():
        raise FaceExplorerError(
            f"{args.output} already exists; a study database is never overwritten (choose a new name)"
        )

    workspace = open_workspace(args)
    kinds = {definition.condition(label).kind for label in definition.conditions}
    needs_networks = "denoised" in kinds
    faces = generate_study_faces(
        definition,
        workspace.model,
        workspace.denoiser if needs_networks else None,
        workspace.data if "dataset" in kinds else None,
    )
    checkpoints = workspace.denoiser.digests if needs_networks else {}
    database = RatingsDatabase.create(args.output, definition, faces, workspace.model.provenance, checkpoints)
    database.close()
    print(
        f"wrote {args.output}: study '{definition.name}', {len(faces)} faces "
        f"({definition.faces_per_condition} × {', '.join(definition.conditions)}; varies {definition.varies}; "
        f"seed {definition.seed}) on {workspace.model.provenance.describe()}"
    )
    if definition.catch_trials or definition.repeated_faces:
        print(
            f"attention checks: {definition.catch_trials} catch trial(s) (raw uniform r={definition.catch_r:g}), "
            f"{definition.repeated_faces} repeated face(s); {definition.exclusion_rule}"
        )
    print(
        f"raters: python main.py rate {args.output}  (or rater packages: python main.py rate-package {args.output} FOLDER)"
    )
    print(f"report: python main.py rate-report {args.output}")
    return 0


def rate_package(args: argparse.Namespace) -> int:
    refuse_output_over_input(args.output, {"study database": args.study})
    with RatingsDatabase.open(args.study) as study:
        written = export_packages(study, args.output, args.raters)
        fingerprint = study.actual_fingerprint()
    print(
        f"wrote {len(written)} rater package(s) to {args.output}: {written[0].name} … {written[-1].name} "
        f"(study fingerprint {fingerprint[:12]})"
    )
    print(
        "each rater: python main.py rate PACKAGE.db    back here: python main.py rate-merge "
        f"{args.study} {Path(args.output) / '*.db'}"
    )
    return 0


def rate_merge(args: argparse.Namespace) -> int:
    with RatingsDatabase.open(args.study) as study:
        for index, package in enumerate(args.packages):
            try:
                result = merge_package(study, package)
            except FaceExplorerError as problem:
                if index:
                    raise FaceExplorerError(f"{problem} (the {index} package(s) before it were merged)") from problem
                raise
            raters = sorted(set(result.added) | set(result.undone))
            changes = (
                "; ".join(
                    f"{rater} +{result.added.get(rater, 0)} vote(s)"
                    + (f", {result.undone[rater]} taken back" if rater in result.undone else "")
                    for rater in raters
                )
                or "nothing new"
            )
            print(f"{package} (slot {result.package.slot}): {changes}; {result.already_merged} already merged before")
    return 0


def rate_report(args: argparse.Namespace) -> int:
    folder = Path(args.output) if args.output else Path(args.study).with_name(Path(args.study).stem + "-report")
    refuse_output_over_input(folder, {"study database": args.study})
    if args.csv:
        refuse_output_over_input(args.csv, {"study database": args.study})
    with RatingsDatabase.open(args.study) as database:
        statistics = study_statistics(database, seed=args.seed)
        flagged = statistics.flagged
        without_flagged = study_statistics(database, frozenset(flagged), seed=args.seed) if flagged else None
        print(markdown(statistics, without_flagged=without_flagged), end="")
        write_report(database, statistics, folder, without_flagged)
        print(
            f"\nwrote {folder}: report.md, acceptance.png, raters_curve.png, reliability_vs_diversity.png, "
            f"rejected_faces.json and {len(statistics.rejected)} face preset(s)"
        )
        if flagged:
            print(
                f"flagged by the study's exclusion rule ({statistics.exclusion_rule}): {', '.join(flagged)}; "
                "the report gives every number with and without them"
            )
        if args.csv:
            rows = database.export_csv(args.csv)
            print(f"wrote {args.csv}: {rows} vote(s)")
    return 0


def rate_export_csv(args: argparse.Namespace) -> int:
    refuse_output_over_input(args.output, {"study database": args.study})
    with RatingsDatabase.open(args.study) as database:
        rows = database.export_csv(args.output, include_undone=not args.standing_only)
    print(f"wrote {args.output}: {rows} vote(s)")
    return 0


def rate_face(args: argparse.Namespace) -> int:
    refuse_output_over_input(args.output, {"study database": args.study})
    with RatingsDatabase.open(args.study) as database:
        path = save_face_preset(database, args.face_id, args.output)
        face = database.face(args.face_id)
    print(
        f"wrote {path}: face {face.face_id} ({face.condition}); open it in the explorer with File ▸ Load face preset…"
    )
    return 0
