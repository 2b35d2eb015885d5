"""The reliability-study tools: rate-study, rate-package, rate-merge, rate, rate-report, rate-export-csv, rate-face.

``rate`` opens the rater window: this module adds its options, and main.py opens the window,
since the core never imports Qt.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from app.commands.common import Subcommands, add_overwrite_option, count, open_workspace
from app.errors import FaceExplorerError

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


def add_parsers(commands: Subcommands, inputs: argparse.ArgumentParser) -> None:
    """The study's life: create it, hand out rater packages, merge them back, rate, report."""
    study = commands.add_parser(
        "rate-study", parents=[inputs], help="create a reliability study: its faces, stored in a new STUDY.db"
    )
    study.add_argument("output", help="study database to create (never overwritten)")
    study.add_argument(
        "--definition", metavar="JSON", help="study file (name, faces_per_condition, conditions, varies, seed, …)"
    )
    study.add_argument("--name", help="study name")
    study.add_argument("--faces", type=count(1, 100_000), help="faces per condition (default 50)")
    study.add_argument(
        "--conditions",
        nargs="+",
        metavar="CONDITION",
        help="conditions to compare: denoised, uniform-raw, normal, dataset, each optionally with its own "
        "range or part, e.g. denoised:r_exp=5 or denoised:varies=shape (default: denoised uniform-raw)",
    )
    study.add_argument(
        "--varies", choices=["shape", "expression", "both"], help="which part of the face varies (default both)"
    )
    study.add_argument("--seed", type=int, help="seed of the face list (default 0)")
    study.add_argument("--r-shape", type=float, help="uniform range r for identity (paper: 10)")
    study.add_argument("--r-exp", type=float, help="uniform range r for expression (paper: 15)")
    study.add_argument("--view", choices=["front-side", "rotating"], help="what raters see first (default front-side)")
    study.add_argument("--no-unsure", action="store_true", help="raters must accept or reject (no 'unsure' button)")
    study.add_argument(
        "--paper",
        action="store_true",
        help="the paper's protocol: 500 denoised faces per network (shape, expression), 30 rater slots, "
        "any rejection makes a face non-possible (no 'unsure'), front and side views; other options override it",
    )
    study.add_argument(
        "--raters", type=count(1, 10_000), help="rater slots: how many rater packages rate-package makes (default 1)"
    )
    checks = study.add_argument_group("attention checks (written into the study before anyone rates)")
    checks.add_argument(
        "--catch-trials",
        type=count(0, 100_000),
        help="catch faces: raw uniform draws at --catch-r that an attentive rater rejects",
    )
    checks.add_argument("--catch-r", type=float, help="uniform range of the catch faces (default 30)")
    checks.add_argument(
        "--repeated-faces",
        type=count(0, 100_000),
        help="study faces every rater sees a second time, far apart (intra-rater agreement)",
    )
    checks.add_argument(
        "--min-catch-rejected",
        type=float,
        metavar="SHARE",
        help="exclude a rater who rejects less than this share of the catch faces (0..1)",
    )
    checks.add_argument(
        "--min-repeat-agreement",
        type=float,
        metavar="SHARE",
        help="exclude a rater who votes the same on less than this share of the repeated faces (0..1)",
    )
    study.set_defaults(handler=rate_study)

    package = commands.add_parser(
        "rate-package",
        parents=[inputs],
        help="write one rater package per rater slot, for raters on their own computers",
    )
    package.add_argument("study", help="study database made by rate-study")
    package.add_argument(
        "output",
        nargs="?",
        help="folder for the package files (rater-01.db, …); existing packages are never overwritten",
    )
    package.add_argument(
        "--raters", type=count(1, 10_000), help="number of packages (default: the study's rater slots)"
    )
    web = package.add_argument_group("the web rater (instead of package files)")
    web.add_argument(
        "--web",
        metavar="FOLDER",
        help="write a static web page for every rater slot (open it from disk or put it on any web host)",
    )
    web.add_argument("--completion-url", help="link shown with the completion code ({code} and {slot} are filled in)")
    web.add_argument("--turntable", type=count(1, 181), help="pictures per face from -90° to 90° (odd; default 9)")
    web.add_argument("--image-size", type=count(1, 16_384), help="picture size in pixels (default 768)")
    package.set_defaults(handler=rate_package)

    merge = commands.add_parser(
        "rate-merge",
        parents=[inputs],
        help="bring the votes of rater packages and web votes files back into their study (refuses other studies')",
    )
    merge.add_argument("study", help="study database the packages were made from")
    merge.add_argument(
        "packages",
        nargs="+",
        metavar="PACKAGE",
        help="package files or web votes files (merging one again adds only new votes)",
    )
    merge.set_defaults(handler=rate_merge)

    # No handler: main.py opens the rater window, since the core never imports Qt.
    rate = commands.add_parser("rate", parents=[inputs], help="open the rater window for a study or a rater package")
    rate.add_argument("study", help="study database made by rate-study, or a rater package made by rate-package")
    rate.add_argument("--rater", help="rater ID (asked in the window when not given)")

    report = commands.add_parser(
        "rate-report",
        parents=[inputs],
        help="acceptance, paper's rule, Fleiss' kappa, plot and rejected faces of a study",
    )
    report.add_argument("study", help="study database")
    report.add_argument("--output", metavar="DIR", help="report folder (default: STUDY-report next to the database)")
    report.add_argument("--csv", metavar="PATH", help="also export the vote log as CSV")
    report.add_argument("--seed", type=int, default=0, help="seed of the bootstrap and the raters curve (default 0)")
    add_overwrite_option(report)
    report.set_defaults(handler=rate_report)

    csv = commands.add_parser("rate-export-csv", parents=[inputs], help="export a study's vote log as CSV")
    csv.add_argument("study", help="study database")
    csv.add_argument("output", help="CSV file to write")
    csv.add_argument("--standing-only", action="store_true", help="leave out votes that were undone")
    add_overwrite_option(csv)
    csv.set_defaults(handler=rate_export_csv)

    face = commands.add_parser(
        "rate-face", parents=[inputs], help="write one study face as a face preset for the explorer"
    )
    face.add_argument("study", help="study database")
    face.add_argument("face_id", type=count(1, 10**9), help="face id (as listed in the report)")
    face.add_argument("output", help="preset .json to write")
    add_overwrite_option(face)
    face.set_defaults(handler=rate_face)


def rate_study(args: argparse.Namespace) -> int:
    """Create the study database (never over an existing file) with its definition and its faces.

    The definition is the --definition file, else --paper's protocol, else the defaults; each option
    given overrides its field.
    """
    from dataclasses import asdict

    from app.output_paths import refuse_output_over_input
    from app.study.database import RatingsDatabase
    from app.study.definition import StudyDefinition, generate_study_faces

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
    refuse_output_over_input(args.output, {"--definition file": args.definition, **workspace.inputs()})
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
        f"raters: python main.py rate {args.output}  "
        f"(or rater packages: python main.py rate-package {args.output} FOLDER)"
    )
    print(f"report: python main.py rate-report {args.output}")
    return 0


def rate_package(args: argparse.Namespace) -> int:
    """Write one rater package per slot (or --raters), each a database the rater window opens; or --web."""
    from app.output_paths import refuse_output_over_input
    from app.study.database import RatingsDatabase
    from app.study.packages import export_packages

    if (args.output is None) == (args.web is None):
        raise FaceExplorerError("rate-package: give either a folder for package files or --web FOLDER, not both")
    if args.web is not None:
        return _rate_package_web(args)
    web_only = [name for name in ("completion_url", "turntable", "image_size") if getattr(args, name) is not None]
    if web_only:
        raise FaceExplorerError(f"rate-package: --{web_only[0].replace('_', '-')} is an option of --web")
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


def _rate_package_web(args: argparse.Namespace) -> int:
    """rate-package --web: the study as a static web folder that every rater slot opens in a browser."""
    from app.output_paths import refuse_output_over_input
    from app.study.database import RatingsDatabase
    from app.study.web_package import DEFAULT_IMAGE_SIZE, DEFAULT_TURNTABLE, export_web_package

    refuse_output_over_input(args.web, {"study database": args.study})
    workspace = open_workspace(args)
    with RatingsDatabase.open(args.study) as study:
        web = export_web_package(
            study,
            workspace.model,
            args.web,
            args.raters,
            args.completion_url,
            args.image_size or DEFAULT_IMAGE_SIZE,
            args.turntable or DEFAULT_TURNTABLE,
            log=lambda line: print(line, flush=True),
        )
        fingerprint = study.actual_fingerprint()
    print(
        f"wrote {web.folder}: a web rater for {len(web.slots)} rater slot(s), {web.faces} faces × "
        f"{web.pictures // web.faces} pictures (study fingerprint {fingerprint[:12]})"
    )
    print(
        f"rendering: {web.render_seconds:.1f} s, {web.render_seconds / web.faces:.2f} s per face "
        f"({web.workers} process(es))"
    )
    print(
        f"page weight: {web.page_bytes / 1024:.0f} KB once (page, script, study data), then "
        f"{web.bytes_per_face / 1024:.0f} KB per face: {100 * web.bytes_per_face / 1e6:.1f} MB per 100 faces"
    )
    print(
        f"each rater opens {Path(args.web) / 'index.html'}?rater=N (N = 1 … {len(web.slots)}); "
        f"back here: python main.py rate-merge {args.study} votes-*.json"
    )
    return 0


def rate_merge(args: argparse.Namespace) -> int:
    """Merge each package's votes into the study, in order; a refused package stops the merge."""
    from app.study.attention import rater_attention
    from app.study.database import RatingsDatabase
    from app.study.packages import merge_package
    from app.study.web_votes import is_web_votes_file, merge_web_votes

    with RatingsDatabase.open(args.study) as study:
        checks = study.definition.catch_trials > 0 or study.definition.repeated_faces > 0
        for index, package in enumerate(args.packages):
            try:
                result = (merge_web_votes if is_web_votes_file(package) else merge_package)(study, package)
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
            if checks and raters:
                # Scored here, from the study: neither a package nor the web page knows which faces are checks.
                attention = rater_attention(study.definition, study.faces(), study.votes())
                for entry in attention:
                    if entry.rater in raters:
                        print(f"  {entry.describe()}")
            if result.wal_left_behind is not None:
                print(
                    f"note: {result.wal_left_behind} lay beside it, left by a rater session that was not closed; "
                    "its votes were read from it and are now in the package file"
                )
    return 0


def rate_report(args: argparse.Namespace) -> int:
    """Print the study's statistics and write its report folder (and --csv), with and without flagged raters."""
    from app.output_paths import refuse_output_over_input
    from app.study.database import RatingsDatabase
    from app.study.report import markdown, write_report
    from app.study.statistics import study_statistics

    folder = Path(args.output) if args.output else Path(args.study).with_name(Path(args.study).stem + "-report")
    refuse_output_over_input(folder, {"study database": args.study}, overwrite=args.overwrite)
    if args.csv:
        refuse_output_over_input(args.csv, {"study database": args.study}, overwrite=args.overwrite)
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
    """Write the study's vote log as CSV, undone votes included unless --standing-only."""
    from app.output_paths import refuse_output_over_input
    from app.study.database import RatingsDatabase

    refuse_output_over_input(args.output, {"study database": args.study}, overwrite=args.overwrite)
    with RatingsDatabase.open(args.study) as database:
        rows = database.export_csv(args.output, include_undone=not args.standing_only)
    print(f"wrote {args.output}: {rows} vote(s)")
    return 0


def rate_face(args: argparse.Namespace) -> int:
    """Write one study face as a preset the explorer loads."""
    from app.output_paths import refuse_output_over_input
    from app.study.database import RatingsDatabase
    from app.study.report import save_face_preset

    refuse_output_over_input(args.output, {"study database": args.study}, overwrite=args.overwrite)
    with RatingsDatabase.open(args.study) as database:
        path = save_face_preset(database, args.face_id, args.output)
        face = database.face(args.face_id)
    print(
        f"wrote {path}: face {face.face_id} ({face.condition}); open it in the explorer with File ▸ Load face preset…"
    )
    return 0
