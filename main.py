"""Face Manifold Explorer: `python main.py` opens the explorer, `python main.py <command>` runs a tool.

This file only parses arguments and dispatches to the core library (``app/``) or the GUI
(``widgets/``). Every user-input problem arrives as a FaceExplorerError and becomes one line
on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from importlib import import_module
from pathlib import Path

from app.dataset.mesh_formats import MESH_FORMATS
from app.errors import FaceExplorerError


def _common_options() -> argparse.ArgumentParser:
    """--model/--data/--checkpoints/--device, accepted by every command."""
    # SUPPRESS keeps a subcommand's unset option from overwriting one given before the command.
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    group = common.add_argument_group("inputs")
    group.add_argument(
        "--model", metavar="PATH", help="BFM.mat, 3DDFA Model_Shape.mat or model .npz (default: embedded model)"
    )
    group.add_argument(
        "--data", metavar="PATH", help="folder of fitted-parameter .mat files (AFLW2000-3D, 300W-3D) or .npz"
    )
    group.add_argument(
        "--checkpoints", metavar="DIR", help="folder with shape.pt and expression.pt (default: shipped weights)"
    )
    group.add_argument("--device", help="auto (CUDA if available), cpu or cuda (default: auto)")
    return common


def _build_parser() -> argparse.ArgumentParser:
    common = _common_options()
    parser = argparse.ArgumentParser(
        prog="python main.py",
        description="Face Manifold Explorer: diverse and plausible synthetic 3D faces. Without a command, opens the explorer.",
        parents=[common],
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    commands.add_parser("info", parents=[common], help="describe the loaded model, data and checkpoints")

    train = commands.add_parser(
        "train",
        parents=[common],
        help="train the shape or expression denoiser",
        description="Train the shape or expression denoiser. The checkpoint goes to --output, else to "
        "<--checkpoints>/<kind>.pt, else to the user folder (~/.local/share/face-manifold-explorer/"
        "checkpoints, or $XDG_DATA_HOME/...). The shipped weights are replaced only when "
        "--checkpoints or --output names them.",
    )
    train.add_argument("kind", choices=["shape", "expression"])
    train.add_argument("--epochs", type=int, default=10)
    train.add_argument("--batch-size", type=int, default=128)
    train.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    train.add_argument("--sigma", type=float, help="corruption σ in model units (paper: shape 5e5, expression 2)")
    train.add_argument("--copies", type=int, help="noisy copies per face (paper: shape 100, expression 50)")
    train.add_argument(
        "--normalisation", type=float, help="divide vectors by this before the net (paper: shape 1e5, expression 1)"
    )
    train.add_argument("--test-faces", type=int, default=600, help="held-out faces for the test MSE (default 600)")
    train.add_argument("--faces", type=int, help="size of the embedded corpus to train on (default 5837)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument(
        "--output",
        metavar="PATH",
        help="checkpoint to write (default: <checkpoints>/<kind>.pt with --checkpoints, else the user folder)",
    )
    train.add_argument("--quiet", action="store_true", help="no progress bar")

    denoise = commands.add_parser("denoise", parents=[common], help="denoise coefficient tables: npz in, npz out")
    denoise.add_argument(
        "input", help=".npz with 'alpha_id' (M,199) and/or 'alpha_exp' (M,29) (or 'shape'/'expression')"
    )
    denoise.add_argument("output", help=".npz to write with the inputs and their denoised versions")

    export = commands.add_parser("export", parents=[common], help="write a face as OBJ or PLY")
    export.add_argument("output", help="mesh file to write (.obj or .ply)")
    export.add_argument(
        "--coefficients", metavar="PATH", help=".json/.npz with alpha_id and alpha_exp (default: the mean face)"
    )
    export.add_argument("--denoised", action="store_true", help="export the face after the denoising networks")
    export.add_argument("--ascii", action="store_true", help="ASCII PLY instead of binary")
    export.add_argument(
        "--landmarks",
        action="store_true",
        help="also write the 68 landmarks (indices and 3-D points) to OUT.landmarks.json",
    )

    generate = commands.add_parser(
        "generate", parents=[common], help="write a synthetic face dataset (coefficients, meshes, images) in shards"
    )
    generate.add_argument("output", help="dataset folder (new or empty; see --resume/--overwrite)")
    generate.add_argument("--count", type=int, default=1000, help="number of faces (default 1000)")
    generate.add_argument("--seed", type=int, default=0)
    generate.add_argument("--shard-size", type=int, default=1000, help="faces per shard (default 1000)")
    generate.add_argument("--distribution", choices=["uniform", "normal"], default="uniform")
    generate.add_argument("--r-shape", type=float, default=10.0, help="uniform range r for identity (paper: 10)")
    generate.add_argument("--r-exp", type=float, default=15.0, help="uniform range r for expression (paper: 15)")
    generate.add_argument(
        "--meshes", nargs="?", const="ply", choices=MESH_FORMATS, help="also write meshes (binary PLY, or obj)"
    )
    generate.add_argument("--images", action="store_true", help="also render a frontal PNG of each face (off-screen)")
    generate.add_argument("--random-views", type=int, default=0, help="extra images per face at random yaw/pitch")
    generate.add_argument("--image-size", type=int, default=256, help="image width and height in pixels (default 256)")
    views = generate.add_argument_group("images: views, variation and ground truth")
    views.add_argument(
        "--format",
        choices=["png", "300w-lp"],
        default="png",
        help="png, or 300w-lp: NAME.jpg + NAME.mat (Shape_Para, Exp_Para, Pose_Para, pt2d) per image (implies --images)",
    )
    views.add_argument(
        "--focal-length",
        type=float,
        default=0.0,
        metavar="PX",
        help="a pinhole camera with this focal length in pixels (at least --image-size); "
        "default 0: 3DDFA's weak perspective, which makes Pose_Para exact",
    )
    views.add_argument("--max-yaw", type=float, default=45.0, help="random views: largest yaw in degrees (default 45)")
    views.add_argument(
        "--max-pitch", type=float, default=20.0, help="random views: largest pitch in degrees (default 20)"
    )
    views.add_argument("--max-roll", type=float, default=0.0, help="random views: largest roll in degrees (default 0)")
    views.add_argument(
        "--light-angle",
        type=float,
        default=0.0,
        help="largest angle in degrees between a view's key light and the default one (default 0)",
    )
    views.add_argument(
        "--light-intensity",
        type=float,
        nargs=2,
        metavar=("MIN", "MAX"),
        default=(1.0, 1.0),
        help="key light intensity drawn in MIN..MAX times the default (default 1 1)",
    )
    views.add_argument(
        "--background",
        default="",
        metavar="COLOUR|FOLDER",
        help="#rrggbb, or a folder of pictures drawn at random behind each view (default: the explorer's)",
    )
    views.add_argument(
        "--colour",
        action="store_true",
        help="per-vertex colour drawn per face: the model's texture (BFM texMU/texPC/texEV), else skin tones",
    )
    views.add_argument(
        "--maps",
        nargs="+",
        choices=["mask", "depth", "normals"],
        default=[],
        help="per-pixel ground truth beside each image: mask (PNG), depth (.npy), normals (PNG)",
    )
    generate.add_argument(
        "--workers",
        type=int,
        help="processes for mesh and image work (default: one per two cores; coefficients alone: 1, "
        "torch already uses every core); with --scheduler local: the LocalCluster's workers",
    )
    generate.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="make the shards as tasks on a Dask cluster: a scheduler address (tcp://host:8786), or "
        "'local' for a LocalCluster; workers write to OUT, which they must share with this machine",
    )
    generate.add_argument("--describe", action="store_true", help="print what the dataset in OUT holds and exit")
    generate.add_argument("--resume", action="store_true", help="finish an interrupted dataset with the same settings")
    generate.add_argument("--overwrite", action="store_true", help="replace the dataset in the folder")
    generate.add_argument("--quiet", action="store_true", help="no progress bar")

    evaluate = commands.add_parser(
        "evaluate", parents=[common], help="run one of the paper's experiments (figure + JSON/Markdown table)"
    )
    evaluate.add_argument(
        "experiment",
        choices=[
            "test-mse",
            "learning-curves",
            "noise-sweep",
            "sigma-grid",
            "diversity",
            "scatter",
            "baselines",
            "plausibility",
            "frontier",
        ],
    )
    evaluate.add_argument(
        "--output",
        default="runs/evaluation",
        help="folder for the PNG, JSON and Markdown files (default runs/evaluation)",
    )
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument(
        "--epochs", type=int, default=2, help="epochs for the nets sigma-grid trains (paper: 10; default 2)"
    )
    evaluate.add_argument(
        "--copies", type=int, help="noisy copies per face when sigma-grid trains (default: the paper's)"
    )
    evaluate.add_argument(
        "--vectors", type=int, default=2000, help="vectors per set for diversity and baselines (paper: 2000)"
    )
    evaluate.add_argument(
        "--scatter-points", type=int, default=70, help="samples per set in the PCA scatter (paper: 70)"
    )
    evaluate.add_argument(
        "--mesh-faces",
        type=int,
        default=500,
        help="faces per condition for the plausibility proxy and per set in frontier (default 500)",
    )

    study = commands.add_parser(
        "rate-study", parents=[common], help="create a reliability study: its faces, stored in a new STUDY.db"
    )
    study.add_argument("output", help="study database to create (never overwritten)")
    study.add_argument(
        "--definition", metavar="JSON", help="study file (name, faces_per_condition, conditions, varies, seed, …)"
    )
    study.add_argument("--name", help="study name")
    study.add_argument("--faces", type=int, help="faces per condition (default 50)")
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
    study.add_argument("--raters", type=int, help="rater slots: how many rater packages rate-package makes (default 1)")
    checks = study.add_argument_group("attention checks (written into the study before anyone rates)")
    checks.add_argument(
        "--catch-trials", type=int, help="catch faces: raw uniform draws at --catch-r that an attentive rater rejects"
    )
    checks.add_argument("--catch-r", type=float, help="uniform range of the catch faces (default 30)")
    checks.add_argument(
        "--repeated-faces",
        type=int,
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

    rate_package = commands.add_parser(
        "rate-package",
        parents=[common],
        help="write one rater package per rater slot, for raters on their own computers",
    )
    rate_package.add_argument("study", help="study database made by rate-study")
    rate_package.add_argument(
        "output", help="folder for the package files (rater-01.db, …); existing packages are never overwritten"
    )
    rate_package.add_argument("--raters", type=int, help="number of packages (default: the study's rater slots)")

    rate_merge = commands.add_parser(
        "rate-merge",
        parents=[common],
        help="bring the votes of rater packages back into their study (refuses other studies' packages)",
    )
    rate_merge.add_argument("study", help="study database the packages were made from")
    rate_merge.add_argument(
        "packages", nargs="+", metavar="PACKAGE", help="package files (merging one again adds only new votes)"
    )

    rate = commands.add_parser("rate", parents=[common], help="open the rater window for a study or a rater package")
    rate.add_argument("study", help="study database made by rate-study, or a rater package made by rate-package")
    rate.add_argument("--rater", help="rater ID (asked in the window when not given)")

    rate_report = commands.add_parser(
        "rate-report",
        parents=[common],
        help="acceptance, paper's rule, Fleiss' kappa, plot and rejected faces of a study",
    )
    rate_report.add_argument("study", help="study database")
    rate_report.add_argument(
        "--output", metavar="DIR", help="report folder (default: STUDY-report next to the database)"
    )
    rate_report.add_argument("--csv", metavar="PATH", help="also export the vote log as CSV")
    rate_report.add_argument(
        "--seed", type=int, default=0, help="seed of the bootstrap and the raters curve (default 0)"
    )

    rate_csv = commands.add_parser("rate-export-csv", parents=[common], help="export a study's vote log as CSV")
    rate_csv.add_argument("study", help="study database")
    rate_csv.add_argument("output", help="CSV file to write")
    rate_csv.add_argument("--standing-only", action="store_true", help="leave out votes that were undone")

    rate_face = commands.add_parser(
        "rate-face", parents=[common], help="write one study face as a face preset for the explorer"
    )
    rate_face.add_argument("study", help="study database")
    rate_face.add_argument("face_id", type=int, help="face id (as listed in the report)")
    rate_face.add_argument("output", help="preset .json to write")
    return parser


def _open_explorer(args: argparse.Namespace) -> int:
    from widgets.explorer import (
        run_explorer,  # Qt is only imported when a window is wanted
    )

    return run_explorer(args)


def _open_rater_window(args: argparse.Namespace) -> int:
    from widgets.rater_window import (
        run_rater,  # Qt is only imported when a window is wanted
    )

    return run_rater(args)


def _command(module: str, function: str) -> Callable[[argparse.Namespace], int]:
    """A command's handler that imports ``app.commands.<module>`` only when it runs.

    Importing every command module made each command pay for all of them (the evaluation's
    matplotlib alone is 0.45 s, and every ``generate --workers`` process paid it again).
    """

    def run(args: argparse.Namespace) -> int:
        return getattr(import_module(f"app.commands.{module}"), function)(args)

    return run


def main(argv: list[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    for option, default in (("model", None), ("data", None), ("checkpoints", None), ("device", "auto")):
        if not hasattr(args, option):
            setattr(args, option, default)
    from app.seeds import check_seed

    handlers = {
        None: _open_explorer,
        "info": _command("core", "info"),
        "train": _command("core", "train"),
        "denoise": _command("core", "denoise"),
        "export": _command("core", "export"),
        "generate": _command("generate", "generate"),
        "evaluate": _command("evaluate", "evaluate"),
        "rate-study": _command("rating", "rate_study"),
        "rate-package": _command("rating", "rate_package"),
        "rate-merge": _command("rating", "rate_merge"),
        "rate": _open_rater_window,
        "rate-report": _command("rating", "rate_report"),
        "rate-export-csv": _command("rating", "rate_export_csv"),
        "rate-face": _command("rating", "rate_face"),
    }
    try:
        if getattr(args, "seed", None) is not None:
            args.seed = check_seed(args.seed, "--seed")
        return handlers[args.command](args) or 0
    except FaceExplorerError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
