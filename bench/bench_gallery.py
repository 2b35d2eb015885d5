"""How long a gallery of 16 faces takes. Run: xvfb-run -a .venv/bin/python bench/bench_gallery.py

Prints, for a 4 × 4 gallery with the paper's sampling and the shipped networks:
- drawing and denoising the 16 faces (``sample_gallery``);
- rendering the 32 thumbnails (each face and its denoised version) with the one reused
  off-screen renderer, synthesis included;
- the whole gallery, and the sheet composed and written as one PNG;
beside the limit of the same work measured in the same run: 32 bare renders of the same mesh
in the same frame and size, its arrays marked modified each time as a new face would (uploading
and rasterising it and reading the pixels back, but no synthesis and no normals): the least any
way of drawing 32 new thumbnails with this GL can cost.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.explorer.gallery import (
    THUMBNAIL_SIZE,
    ThumbnailRenderer,
    sample_gallery,
    save_gallery_png,
    thumbnail_frame,
)
from app.model.sampling_settings import SamplingSettings
from app.rendering.face_renderer import FaceRenderer
from app.workspace import Workspace

FACES = 16
COLUMNS = 4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats (median printed)")
    parser.add_argument("--size", type=int, default=THUMBNAIL_SIZE, help="thumbnail size in pixels")
    args = parser.parse_args()
    workspace = Workspace()
    model, denoiser = workspace.model, workspace.denoiser
    renderer = ThumbnailRenderer(model, args.size)
    limit = FaceRenderer(thumbnail_frame(model), model.triangles, args.size, model.triangle_parts)
    limit.draw(model.mean.reshape(-1, 3), limit.camera())  # the face the bare renders draw again
    sampling, rendering, sheets, bare = [], [], [], []
    try:
        faces = sample_gallery(model, denoiser, SamplingSettings(), FACES)  # warm-up: torch, GL, caches
        pairs = [renderer.pair(face) for face in faces]
        with tempfile.TemporaryDirectory() as folder:
            for repeat in range(args.repeats):
                start = time.perf_counter()
                faces = sample_gallery(model, denoiser, SamplingSettings(seed=1000 * repeat), FACES)
                sampled = time.perf_counter()
                pairs = [renderer.pair(face) for face in faces]
                rendered = time.perf_counter()
                save_gallery_png(Path(folder) / "gallery.png", faces, pairs, COLUMNS)
                written = time.perf_counter()
                for step in range(2 * FACES):
                    limit.mesh.vertices[:, 0] += 1.0 if step % 2 else -1.0  # a new face to upload, no new work
                    limit.mesh.modified()
                    limit.plotter.render()
                    limit.plotter.screenshot(return_img=True)
                bare.append(time.perf_counter() - written)
                sampling.append(sampled - start)
                rendering.append(rendered - sampled)
                sheets.append(written - rendered)
    finally:
        renderer.close()
        limit.close()
    ms = lambda values: 1000.0 * statistics.median(values)  # noqa: E731
    total = [s + r + w for s, r, w in zip(sampling, rendering, sheets, strict=True)]
    print(f"gallery of {FACES} faces ({2 * FACES} thumbnails of {args.size} px), median of {args.repeats}:")
    print(f"  draw + denoise 16 faces      {ms(sampling):8.1f} ms")
    print(f"  render 32 thumbnails         {ms(rendering):8.1f} ms   ({ms(rendering) / (2 * FACES):.1f} ms each)")
    print(f"  compose + write the PNG      {ms(sheets):8.1f} ms")
    print(f"  whole gallery                {ms(total):8.1f} ms")
    print(f"  limit: 32 bare renders       {ms(bare):8.1f} ms   (same mesh, frame and size; arrays re-uploaded)")
    print(f"  rendering / limit            {ms(rendering) / ms(bare):8.2f} ×")


if __name__ == "__main__":
    main()
