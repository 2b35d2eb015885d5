"""The `export` command: write a face as an OBJ or PLY mesh, optionally with its landmarks."""

from __future__ import annotations

import argparse

from app.commands.common import Subcommands, add_overwrite_option, open_workspace
from app.dataset.mesh_formats import EXPORT_MESH_UNIT, MESH_UNITS, UNIT_HELP
from app.errors import FaceExplorerError


def add_parsers(commands: Subcommands, inputs: argparse.ArgumentParser) -> None:
    """`export OUTPUT` of the mean face or of given coefficients."""
    export = commands.add_parser("export", parents=[inputs], help="write a face as OBJ or PLY")
    export.add_argument(
        "output", help="mesh file to write (.obj or .ply); an OBJ gets a group per face part and OUT.mtl beside it"
    )
    export.add_argument(
        "--coefficients", metavar="PATH", help=".json/.npz with alpha_id and alpha_exp (default: the mean face)"
    )
    export.add_argument("--denoised", action="store_true", help="export the face after the denoising networks")
    export.add_argument("--ascii", action="store_true", help="ASCII PLY instead of binary")
    export.add_argument("--unit", choices=list(MESH_UNITS), default=EXPORT_MESH_UNIT, help=UNIT_HELP)
    export.add_argument(
        "--landmarks",
        action="store_true",
        help="also write the 68 landmarks (indices and 3-D points, in --unit) to OUT.landmarks.json",
    )
    add_overwrite_option(export)
    export.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Write the face's mesh (and landmarks); refused outputs and a model without landmarks write nothing."""
    import numpy as np

    from app.dataset.export import load_coefficients
    from app.dataset.landmark_files import landmarks_path, require_landmarks, save_landmarks
    from app.dataset.mesh_files import export_mesh, material_path
    from app.model.coefficient_limits import check_coefficients
    from app.model.provenance import ModelProvenance, require_same_model
    from app.output_paths import refuse_output_over_input

    workspace = open_workspace(args)
    inputs = {"--coefficients file": args.coefficients, **workspace.inputs()}
    refuse_output_over_input(args.output, inputs, overwrite=args.overwrite)
    if args.landmarks:
        refuse_output_over_input(landmarks_path(args.output), inputs, overwrite=args.overwrite)
    if args.output.lower().endswith(".obj"):  # its groups' materials go to OUT.mtl
        refuse_output_over_input(material_path(args.output), inputs, overwrite=args.overwrite)
    model = workspace.model
    if args.coefficients:
        alpha_id, alpha_exp, info = load_coefficients(args.coefficients)
        if alpha_id.ndim != 1 or alpha_exp.ndim != 1:
            raise FaceExplorerError(
                f"{args.coefficients}: holds a table of faces (alpha_id {alpha_id.shape}, alpha_exp "
                f"{alpha_exp.shape}); export writes one face: give one list per field"
            )
        if "model_digest" in info or "model_identity" in info:  # a file that records its model must match it
            recorded = ModelProvenance.from_record(info, args.coefficients)
            require_same_model(recorded, model.provenance, f"the coefficient file {args.coefficients}")
        alpha_id = check_coefficients(model, "shape", alpha_id, args.coefficients)
        alpha_exp = check_coefficients(model, "expression", alpha_exp, args.coefficients)
    else:
        alpha_id, alpha_exp = np.zeros(model.n_id), np.zeros(model.n_exp)
    if args.denoised:
        alpha_id, alpha_exp = workspace.denoiser.denoise_face(alpha_id, alpha_exp)
    vertices = model.synthesize(alpha_id, alpha_exp)
    # Before the mesh is written: refused means nothing written.
    landmarks = require_landmarks(model) if args.landmarks else None
    path = export_mesh(
        args.output,
        vertices,
        model.triangles,
        binary=not args.ascii,
        uv_layout=model.uv_layout,
        unit=args.unit,
        triangle_parts=model.triangle_parts,
    )
    print(
        f"wrote {path} ({model.n_vertices:,} vertices, {len(model.triangles):,} triangles, "
        f"in {MESH_UNITS[args.unit][0]})"
    )
    if landmarks is not None:
        written = save_landmarks(landmarks_path(path), model, vertices, unit=args.unit)
        print(f"wrote {written} ({len(landmarks)} landmarks)")
    return 0
