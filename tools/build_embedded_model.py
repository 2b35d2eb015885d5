"""Build the embedded face model's data file from ICT-FaceKit's "ICT Face Model Light".

Run:  .venv/bin/python tools/build_embedded_model.py path/to/ICT-FaceKit/FaceXModel
(the folder of https://github.com/ICT-VGL/ICT-FaceKit, MIT licence). It writes
app/model/data/embedded_face.npz and, beside it, the texture layout embedded_face_uv.npz (or
--output and --uv-output), and prints what they hold, their size, and the largest difference
between the decoded file and the OBJs it came from. The product turns the file into the
199 + 29 mode model (app/model/embedded_model.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from app.errors import FaceExplorerError
from app.model.action_units import ACTION_UNITS
from app.model.face_asset import ASSET_PATH, FaceAsset, load_face_asset, save_face_asset
from app.model.face_parts import FacePart
from app.model.ict_facekit import IctShapes, read_ict_folder
from app.model.uv_layout import EMBEDDED_UV_PATH, save_uv_layout

REFERENCE_COUNT = 64  # vertices spread over every part, kept as float64 for checks without the OBJs


def action_unit_shapes(shapes: IctShapes) -> np.ndarray:
    """(29, N, 3): each action unit at full activation, the sum of its ICT shapes."""
    return np.stack([sum(shapes.expression_shape(name) for name in unit.shapes) for unit in ACTION_UNITS])


def build_asset(shapes: IctShapes) -> FaceAsset:
    """ICT's opaque parts (face, head and neck with ears, mouth and eye sockets, gums and tongue, teeth,
    eyeballs), its 100 identity modes, its expression shapes summed into the 29 FACS action units of
    ICT's table, its triangles (quads split) with a part per triangle, and the 68 landmark vertices.
    """
    if shapes.landmarks is None:
        raise FaceExplorerError("the ICT folder's vertex_indices.json lists no landmarks (idx_to_landmark_verts)")
    action_units = action_unit_shapes(shapes)
    reference = np.linspace(0, len(shapes.neutral) - 1, REFERENCE_COUNT).round().astype(np.int64)
    return FaceAsset(
        neutral=shapes.neutral.astype(np.float32),
        identity=shapes.identity,
        expression=action_units,
        expression_names=[unit.label for unit in ACTION_UNITS],
        triangles=shapes.triangles,
        triangle_parts=shapes.triangle_parts,
        landmarks=shapes.landmarks,
        reference_vertices=reference,
        reference_neutral=shapes.neutral[reference],
        reference_identity=shapes.identity[:, reference],
        reference_expression=action_units[:, reference],
        source_digest=shapes.source_digest,
    )


def report(shapes: IctShapes, path: Path) -> None:
    """Print the asset's contents and its float error against the OBJs (as read in float64)."""
    asset = load_face_asset(path)
    parts = np.bincount(asset.triangle_parts, minlength=len(FacePart))
    print(f"wrote {path}: {path.stat().st_size / 1e6:.2f} MB")
    print(
        f"  {len(asset.neutral):,} vertices, {len(asset.triangles):,} triangles "
        f"({', '.join(f'{part.name.lower()} {parts[part]:,}' for part in FacePart)})"
    )
    print(
        f"  {len(asset.identity)} identity modes, {len(asset.expression)} action units "
        f"(from {len(shapes.expression_names)} ICT expression shapes), {len(asset.landmarks)} landmarks"
    )
    print(f"  source sha256 {asset.source_digest}")
    errors = {
        "neutral mesh": np.abs(asset.neutral - shapes.neutral),
        "identity modes": np.abs(asset.identity - shapes.identity),
        "action units": np.abs(asset.expression - action_unit_shapes(shapes)),
    }
    print("  float error of the decoded file against the OBJs (micrometres; 1 µm = 1e-4 of the OBJs' cm):")
    for name, error in errors.items():
        print(f"    {name:15s} max {error.max():.3f}  mean {error.mean():.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="ICT-FaceKit's FaceXModel folder")
    parser.add_argument("--output", type=Path, default=ASSET_PATH, help=f"where to write (default {ASSET_PATH})")
    parser.add_argument(
        "--uv-output",
        type=Path,
        default=EMBEDDED_UV_PATH,
        help=f"where to write the texture layout (default {EMBEDDED_UV_PATH})",
    )
    args = parser.parse_args(argv)
    try:
        shapes = read_ict_folder(args.folder)
        if shapes.uv_layout is None:
            raise FaceExplorerError(f"{args.folder}: the neutral mesh has no texture coordinates for every kept corner")
        save_face_asset(build_asset(shapes), args.output)
        save_uv_layout(shapes.uv_layout, args.uv_output, shapes.source_digest)
        report(shapes, args.output)
        print(
            f"wrote {args.uv_output}: {args.uv_output.stat().st_size / 1e6:.2f} MB, "
            f"{len(shapes.uv_layout.uv):,} texture coordinates for {len(shapes.uv_layout.triangles):,} triangles"
        )
    except FaceExplorerError as failure:
        print(f"error: {failure}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
