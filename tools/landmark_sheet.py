"""Draw the 68 landmarks of a 300W-LP-format dataset over some of its images, in one PNG contact sheet.

Run:  .venv/bin/python tools/landmark_sheet.py DATASET OUT.png [--count 8] [--columns 4] [--scale 2] [--seed 0]

DATASET is a folder made by ``python main.py generate DATASET --format 300w-lp …`` (or any folder
of 300W-LP NAME.jpg + NAME.mat pairs, the real dataset included). ``--count`` pairs are picked at
random (seeded) among its .mat files; each tile is the JPEG enlarged ``--scale`` times with the
.mat's ``pt2d`` drawn as the jaw, brows, nose, eyes and lips.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from app.commands.common import count
from app.dataset.landmark_overlay import contact_sheet, labelled_tile
from app.errors import FaceExplorerError
from app.output_paths import refuse_output_over_input
from app.png_files import write_png


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--count", type=count(1, 1000), default=8)
    parser.add_argument("--columns", type=count(1, 100), default=4)
    parser.add_argument("--scale", type=count(1, 16), default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        refuse_output_over_input(args.output, {"dataset folder": args.dataset})
        labels = sorted(args.dataset.rglob("*.mat"))
        if not labels:
            raise FaceExplorerError(f"{args.dataset}: no 300W-LP .mat files")
        picked = np.random.default_rng(args.seed).choice(len(labels), size=min(args.count, len(labels)), replace=False)
        chosen = [labels[i] for i in sorted(picked)]
        write_png(args.output, contact_sheet([labelled_tile(path, args.scale) for path in chosen], args.columns))
    except FaceExplorerError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    print(
        f"{args.output}: {len(chosen)} images of {args.dataset} with their landmarks: "
        + ", ".join(str(path.relative_to(args.dataset).with_suffix("")) for path in chosen)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
