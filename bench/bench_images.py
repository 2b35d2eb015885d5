"""Dataset images per format and option, each beside the bare off-screen render measured in the same run.

Run: xvfb-run -a .venv/bin/python bench/bench_images.py [--faces 200] [--size 256]   (prints numbers)

The limit is ``FaceRenderer.draw`` of a denoised face in a frontal view: mesh update (positions and
normals), render and read-back, no file (for the run with maps: the same with the depth read and
the normals' second pass). Each row is one ``generate`` run with one worker and one
view per face, so its rate counts synthesis, denoising, rendering, encoding and the synced
writes. Issue 10's target for images is ≥ 0.5× the render.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from PIL import Image

from app.dataset.generation import generate
from app.dataset.settings import GenerationSettings, Provenance
from app.denoising.checkpoint_folders import SHIPPED_CHECKPOINTS
from app.denoising.denoiser import Denoiser
from app.model.embedded_model import embedded_model
from app.model.sampling import sample_coefficients
from app.rendering.face_renderer import FaceRenderer

TARGET = 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=200, help="faces per run (default 200)")
    parser.add_argument("--size", type=int, default=256, help="image size in pixels (default 256)")
    args = parser.parse_args()
    model = embedded_model()
    denoiser = Denoiser.from_folder(model, SHIPPED_CHECKPOINTS, "cpu")
    provenance = Provenance.of(model, denoiser)
    rng = np.random.default_rng(0)
    faces = model.synthesize(
        *denoiser.denoise_face(
            sample_coefficients(model, "shape", "uniform", 20, rng, 10.0),
            sample_coefficients(model, "expression", "uniform", 20, rng, 15.0),
        )
    )
    renderer = FaceRenderer(model.mean.reshape(-1, 3), model.triangles, args.size, model.triangle_parts)
    camera = renderer.camera()

    def draws_per_second(**maps: bool) -> float:
        for face in faces[:3]:
            renderer.draw(face, camera, **maps)
        start = time.perf_counter()
        for face in faces:
            renderer.draw(face, camera, **maps)
        return len(faces) / (time.perf_counter() - start)

    try:
        limit, maps_limit = draws_per_second(), draws_per_second(mask=True, depth=True, normals=True)
    finally:
        renderer.close()
    print(
        f"load {os.getloadavg()[0]:.1f}; {args.size} px; bare render + read-back: {limit:,.1f} faces/s "
        f"({1000 / limit:.1f} ms); with mask, depth and the normals' second pass: {maps_limit:,.1f} faces/s\n"
    )
    print("| run | faces/s | ms/face | vs render | target |\n| --- | ---: | ---: | ---: | --- |")
    with tempfile.TemporaryDirectory() as scratch:
        pictures = Path(scratch, "backgrounds")
        pictures.mkdir()
        for i in range(4):
            Image.fromarray(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8)).save(pictures / f"{i}.jpg")
        runs = {
            "png": {},
            "300w-lp (.jpg + .mat)": {"image_format": "300w-lp"},
            "png + mask, depth, normals": {"maps": "mask,depth,normals"},
            "300w-lp + colour, light, pictures": {
                "image_format": "300w-lp",
                "albedo": True,
                "max_light_angle": 50.0,
                "min_light": 0.6,
                "max_light": 1.3,
                "background": str(pictures),
            },
            "png, pinhole f = 2 × size": {"focal_length": 2.0 * args.size},
        }
        for name, options in runs.items():
            settings = GenerationSettings(count=args.faces, images=True, image_size=args.size, **options)
            summary = generate(
                Path(scratch, name.split()[0] + str(len(os.listdir(scratch)))),
                settings,
                model,
                denoiser,
                provenance,
                workers=1,
                show_progress=False,
            )
            rate = summary.faces / summary.seconds
            bound = maps_limit if settings.maps else limit  # the maps' own render (two passes) is their limit
            verdict = "met" if rate / bound >= TARGET else "NOT met"
            print(f"| {name} | {rate:,.1f} | {1000 / rate:.1f} | {rate / bound:.2f}× | ≥ {TARGET}× {verdict} |")


if __name__ == "__main__":
    main()
